package smt

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"slices"
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

// TestSortNodes: sortNodes returns the nodes sorted by hash, each hash
// once, including hashes that share their first 8 bytes.
func TestSortNodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var nodes []Node
	for i := range 500 {
		var h block.Hash
		for j := range h {
			h[j] = byte(rng.Uint32())
		}
		if i%5 == 0 && i > 0 { // the first 8 bytes of an earlier hash
			copy(h[:8], nodes[rng.IntN(len(nodes))].Hash[:8])
		}
		nodes = append(nodes, Node{Hash: h, Record: h[:1]})
		if i%7 == 0 { // a repeat
			nodes = append(nodes, nodes[rng.IntN(len(nodes))])
		}
	}
	got := sortNodes(slices.Clone(nodes))
	want := slices.Clone(nodes)
	slices.SortFunc(want, func(x, y Node) int { return bytes.Compare(x.Hash[:], y.Hash[:]) })
	want = slices.CompactFunc(want, func(x, y Node) bool { return x.Hash == y.Hash })
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sortNodes: %d nodes, want %d sorted and distinct", len(got), len(want))
	}
	if sortNodes(nil) != nil || sortNodes([]Node{}) != nil {
		t.Fatal("sortNodes of none is not nil")
	}
}
