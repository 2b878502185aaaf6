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

// TestCacheDeepLevel: a level below denseLevels holds slots only for the
// positions put so far (one each, a position put again keeps its slot),
// allocated a chunk at a time, and serves each position its own node.
func TestCacheDeepLevel(t *testing.T) {
	const depth = denseLevels + 1
	c := NewCache(depth + 1)
	hash := func(i, v uint64) block.Hash { return block.Sum([]byte{byte(i), byte(i >> 8), byte(v)}) }
	var order []uint64 // the even positions, then the odd ones
	for i := uint64(0); i < 1<<depth; i += 2 {
		order = append(order, i)
	}
	for i := uint64(1); i < 1<<depth; i += 2 {
		order = append(order, i)
	}
	l := &c.levels[depth]
	for k, i := range order {
		if _, ok := c.get(hash(i, 0), depth, i); ok {
			t.Fatalf("slot %d served before it was put", i)
		}
		c.put(hash(i, 0), depth, i, i%4 == 0, hash(i+1, 0), hash(i+2, 0))
		if l.dense != nil || int(l.n) != k+1 || len(l.chunks) != (k+slotChunk)/slotChunk {
			t.Fatalf("after %d positions: dense %v, %d slots in %d chunks", k+1, l.dense != nil, l.n, len(l.chunks))
		}
		for _, j := range []uint64{order[0], order[k/2], i} {
			n, ok := c.get(hash(j, 0), depth, j)
			if !ok || (n.kind == kindLeaf) != (j%4 == 0) || (n.kind == kindLeaf && (n.keyHash != hash(j+1, 0) || n.valueHash != hash(j+2, 0))) ||
				(n.kind == kindInner && (n.left != hash(j+1, 0) || n.right != hash(j+2, 0))) {
				t.Fatalf("after %d positions: slot %d: %+v, %v", k+1, j, n, ok)
			}
		}
		if _, ok := c.get(hash(i, 0), depth, i^1); ok {
			t.Fatalf("slot %d serves the node of slot %d", i^1, i)
		}
	}
	// Another node at a filled position replaces the old one in its slot.
	for _, i := range order[:3*slotChunk/2] {
		c.put(hash(i, 1), depth, i, false, hash(i, 2), hash(i, 3))
	}
	if int(l.n) != len(order) {
		t.Fatalf("positions put again took new slots: %d for %d positions", l.n, len(order))
	}
	for _, i := range order[:3*slotChunk/2] {
		if _, ok := c.get(hash(i, 0), depth, i); ok {
			t.Fatalf("slot %d still serves the node it held before", i)
		}
		if n, ok := c.get(hash(i, 1), depth, i); !ok || n.kind != kindInner || n.left != hash(i, 2) || n.right != hash(i, 3) {
			t.Fatalf("slot %d: %+v, %v after a new put", i, n, ok)
		}
	}
	if up := &c.levels[depth-1]; up.dense != nil || up.pos != nil || up.chunks != nil {
		t.Fatal("a level never reached holds memory")
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
