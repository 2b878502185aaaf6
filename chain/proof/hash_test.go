package proof

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestHashChildren checks the log's own node and leaf hashing against the
// rfc6962 package's, for every leaf size around the stack buffer's.
func TestHashChildren(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 100 {
		l, r := make([]byte, 32), make([]byte, 32)
		for j := range l {
			l[j], r[j] = byte(rng.Uint32()), byte(rng.Uint32())
		}
		if got, want := hashChildren(l, r), hasher.HashChildren(l, r); !bytes.Equal(got, want) {
			t.Fatalf("case %d: hashChildren = %x, rfc6962 %x", i, got, want)
		}
	}
	if got, want := hashChildren([]byte{1}, []byte{2, 3}), hasher.HashChildren([]byte{1}, []byte{2, 3}); !bytes.Equal(got, want) {
		t.Fatalf("short children: %x, want %x", got, want)
	}
	for n := 0; n < 1100; n++ {
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		if got, want := LeafHash(data), hasher.HashLeaf(data); !bytes.Equal(got[:], want) {
			t.Fatalf("LeafHash of %d bytes = %x, rfc6962 %x", n, got, want)
		}
	}
}
