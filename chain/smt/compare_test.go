package smt

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

// TestCompareHash: compareHash orders hashes as bytes.Compare does,
// including hashes differing only in the last byte of a word.
func TestCompareHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 10_000 {
		var a block.Hash
		for j := range a {
			a[j] = byte(rng.Uint32())
		}
		b := a
		if i%4 != 0 { // else equal
			j := rng.IntN(block.HashSize)
			b[j] = byte(rng.Uint32())
		}
		if got, want := compareHash(&a, &b), bytes.Compare(a[:], b[:]); got != want {
			t.Fatalf("compareHash(%x, %x) = %d, want %d", a, b, got, want)
		}
	}
}
