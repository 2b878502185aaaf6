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
// once, including hashes that share their first 8 bytes, or their first 7
// (which sortNodes's integer keys do not tell apart).
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
		if i%11 == 0 && i > 0 {
			copy(h[:7], nodes[rng.IntN(len(nodes))].Hash[:7])
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

// TestCacheLevelTurnsDense: a deep level is a map until it holds more
// than half of its positions, then an array, and serves the same slots
// either way.
func TestCacheLevelTurnsDense(t *testing.T) {
	const depth = denseLevels + 1
	c := NewCache(depth + 1)
	hash := func(i uint64) block.Hash { return block.Sum([]byte{byte(i), byte(i >> 8), 1}) }
	var order []uint64 // the even positions, then the odd ones
	for i := uint64(0); i < 1<<depth; i += 2 {
		order = append(order, i)
	}
	for i := uint64(1); i < 1<<depth; i += 2 {
		order = append(order, i)
	}
	for k, i := range order {
		if _, ok := c.get(hash(i), depth, i); ok {
			t.Fatalf("slot %d served before it was put", i)
		}
		c.put(hash(i), depth, i, i%4 == 0, hash(i+1), hash(i+2))
		l := &c.levels[depth]
		if dense := k+1 > 1<<(depth-1); (l.dense != nil) != dense || (l.sparse != nil) == dense {
			t.Fatalf("after %d slots: dense %v, sparse %v", k+1, l.dense != nil, l.sparse != nil)
		}
		for _, j := range []uint64{order[0], order[k/2], i} {
			n, ok := c.get(hash(j), depth, j)
			if !ok || (n.kind == kindLeaf) != (j%4 == 0) || (n.kind == kindLeaf && (n.keyHash != hash(j+1) || n.valueHash != hash(j+2))) ||
				(n.kind == kindInner && (n.left != hash(j+1) || n.right != hash(j+2))) {
				t.Fatalf("after %d slots: slot %d: %+v, %v", k+1, j, n, ok)
			}
		}
		if _, ok := c.get(hash(i), depth, i^1); ok {
			t.Fatalf("slot %d serves the node of slot %d", i^1, i)
		}
	}
}

// BenchmarkSortNodes sorts the nodes of a block of ~160 anchors (2300).
func BenchmarkSortNodes(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	nodes := make([]Node, 2300)
	for i := range nodes {
		for j := range nodes[i].Hash {
			nodes[i].Hash[j] = byte(rng.Uint32())
		}
	}
	work := make([]Node, len(nodes))
	for b.Loop() {
		copy(work, nodes)
		sortNodes(work)
	}
}
