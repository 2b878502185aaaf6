package proof

import (
	"fmt"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

// TestFrontierMatchesBlockMerkleRoot cross-checks the library-backed log
// against block.MerkleRoot (the literal RFC 9162 definition) at every size,
// appending in uneven chunks.
func TestFrontierMatchesBlockMerkleRoot(t *testing.T) {
	var data []block.Hash
	f := Frontier{}
	for step := 1; len(data) < 300; step = step%7 + 1 {
		var add []block.Hash
		for i := 0; i < step; i++ {
			d := block.Sum([]byte(fmt.Sprint(len(data) + i)))
			add = append(add, LeafHash(d[:]))
			data = append(data, d)
		}
		var err error
		if f, err = f.Append(add, nil); err != nil {
			t.Fatal(err)
		}
		if got, want := f.Root(), block.MerkleRoot(data); got != want {
			t.Fatalf("size %d: root %s, want %s", len(data), got, want)
		}
		back, err := DecodeFrontier(f.Encode())
		if err != nil || back.Root() != f.Root() {
			t.Fatalf("frontier round trip: %v", err)
		}
	}
	if (Frontier{}).Root() != block.MerkleRoot(nil) {
		t.Fatal("empty root differs")
	}
}

func FuzzDecodeFrontier(f *testing.F) {
	fr, _ := Frontier{}.Append([]block.Hash{{1}, {2}, {3}}, nil)
	f.Add(fr.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeFrontier(b)
		if err != nil {
			return
		}
		_ = fr.Root()
	})
}
