package witness_test

import (
	"testing"

	"github.com/trialchain/trialchain/chain/witness"
	"github.com/trialchain/trialchain/chain/witness/witnesstest"
)

// BenchmarkAdd is one add-checkpoint that moves the witness on: the
// certificate (3 ed25519 verifications), a consistency proof, a
// signature, the log append (fsync) and the state file (fsync, rename,
// fsync dir).
func BenchmarkAdd(b *testing.B) {
	c := witnesstest.New(b, "trial-net", 7)
	var reqs []*witness.Request
	var prev uint64
	for i := 0; i < b.N; i++ {
		cp := c.Commit(b, "a", "b", "c")
		reqs = append(reqs, &witness.Request{OldSize: prev, Proof: c.Consistency(b, prev, cp.Header.LogSize), Checkpoint: cp})
		if prev == 0 {
			reqs[i].Proof = nil
		}
		prev = cp.Header.LogSize
	}
	dir := b.TempDir()
	if _, err := witness.Init(dir, "regulator"); err != nil {
		b.Fatal(err)
	}
	key, pk, _ := witness.LoadKey(dir)
	st, err := witness.Open(dir, pk)
	if err != nil {
		b.Fatal(err)
	}
	w, err := witness.New(st, key, pk.Name, c.G, clock)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := w.Add(reqs[i]); err != nil {
			b.Fatal(err)
		}
	}
}
