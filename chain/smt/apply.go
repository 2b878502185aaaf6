package smt

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"sort"

	"github.com/trialchain/trialchain/chain/block"
)

// entry is one leaf-to-be of a batch, in key-hash order.
type entry struct {
	keyHash   block.Hash
	valueHash block.Hash
	value     []byte // the caller's; copied into the leaf record
	del       bool
	fresh     bool // its leaf record is not known to be stored yet
}

// ref is a subtree: its hash and, when known, what the hash names.
type ref struct {
	h block.Hash
	k kind
}

type applier struct {
	nr    NodeReader
	c     *Cache // nil: none
	out   []Node
	arena []byte  // records are cut from it (one allocation per arenaBytes)
	live  []entry // scratch of update's leaf cases
}

// arenaBytes is the size of the chunks node records are cut from: one
// allocation for some 60 inner records instead of one each.
const arenaBytes = 4096

// record returns a zeroed slice of n bytes whose capacity is n, cut from
// the arena.
func (a *applier) record(n int) []byte {
	if n > arenaBytes/4 {
		return make([]byte, n)
	}
	if len(a.arena) < n {
		a.arena = make([]byte, arenaBytes)
	}
	rec := a.arena[:n:n]
	a.arena = a.arena[n:]
	return rec
}

// Apply applies ups to the tree whose root is root and returns the new root
// and the records of the nodes it created, which the caller must store
// (under their hashes) before reading the new root. The old root and every
// node under it stay valid: nothing is modified or freed.
//
// The updates may come in any order; Apply sorts them by key hash, so the
// result depends only on the set of updates. Deleting an absent key is a
// no-op, and so is setting a key to its current value: a batch that changes
// nothing returns root and no nodes. Apply reads only the nodes on the paths
// of the updated keys, plus a sibling where a deletion may collapse a
// subtree onto it, sharing the upper path among the whole batch.
//
// The returned nodes are deduplicated and sorted by hash, so equal batches on
// equal trees give equal byte-for-byte output. Values are copied.
//
// # Errors
//
// ErrDuplicateKey if two updates name the same key; an error wrapping
// ErrMissingNode or ErrBadNode if a node on a path cannot be read or is
// corrupt. On error nothing is returned to store.
func Apply(nr NodeReader, root block.Hash, ups []Update) (block.Hash, []Node, error) {
	return apply(nr, nil, root, ups)
}

func apply(nr NodeReader, c *Cache, root block.Hash, ups []Update) (block.Hash, []Node, error) {
	if len(ups) == 0 {
		return root, nil, nil
	}
	es := make([]entry, len(ups))
	for i := range ups {
		u := &ups[i]
		e := &es[i]
		e.keyHash, e.del, e.fresh = KeyHash(u.Key), u.Delete, true
		if !u.Delete {
			e.value = u.Value
			e.valueHash = sha256.Sum256(u.Value)
		}
	}
	slices.SortFunc(es, func(a, b entry) int { return compareHash(&a.keyHash, &b.keyHash) })
	for i := 1; i < len(es); i++ {
		if es[i].keyHash == es[i-1].keyHash {
			return Empty, nil, fmt.Errorf("smt: key hash %s: %w", es[i].keyHash, ErrDuplicateKey)
		}
	}
	// A batch of n keys writes about n leaves and n·(depth below the
	// shared top) inner nodes: ~10 a key for a block on a tree of 10^5
	// keys, ~2 for a batch as large as the tree. The estimate only saves
	// regrowth.
	est := 10*len(es) + 16
	if len(es) > 1<<12 {
		est = 3 * len(es)
	}
	a := applier{nr: nr, c: c, out: make([]Node, 0, est)}
	r, err := a.update(ref{h: root}, 0, 0, es)
	if err != nil {
		return Empty, nil, err
	}
	return r.h, sortNodes(a.out), nil
}

// sortNodes sorts nodes by hash, dropping repeats, or returns nil for
// none. A hash is created once per batch (distinct key hashes make
// distinct subtrees), but the output stays a set whatever happens.
//
// It sorts one word per node — the hash's first 64−b bits above the
// node's index in the low b bits, b the bits of the largest index — as
// plain integers, orders by whole hash each run of words that share
// their hash bits (rare: uniform hashes of a block's few thousand nodes
// differ in their first 50 bits), and then moves each node once, in
// place, instead of moving 56-byte nodes at every step of the sort. With
// a comparison function per step, sorting a block's nodes was a third of
// Apply.
func sortNodes(nodes []Node) []Node {
	if len(nodes) == 0 {
		return nil
	}
	mask := uint64(1)<<bits.Len(uint(len(nodes)-1)) - 1
	keys := make([]uint64, len(nodes))
	for i := range nodes {
		keys[i] = binary.BigEndian.Uint64(nodes[i].Hash[:])&^mask | uint64(i)
	}
	slices.Sort(keys)
	for lo := 0; lo < len(keys); {
		hi := lo + 1
		for hi < len(keys) && keys[hi]&^mask == keys[lo]&^mask {
			hi++
		}
		if hi-lo > 1 {
			slices.SortFunc(keys[lo:hi], func(x, y uint64) int { return compareHash(&nodes[x&mask].Hash, &nodes[y&mask].Hash) })
		}
		lo = hi
	}
	// Put nodes[keys[j]&mask] at j, one cycle of the permutation at a
	// time; a visited position's key becomes done (no index is).
	const done = ^uint64(0)
	for j := range keys {
		keys[j] &= mask
	}
	for j := range keys {
		if keys[j] == done {
			continue
		}
		tmp, cur := nodes[j], j
		for {
			src := int(keys[cur])
			keys[cur] = done
			if src == j {
				nodes[cur] = tmp
				break
			}
			nodes[cur] = nodes[src]
			cur = src
		}
	}
	return slices.CompactFunc(nodes, func(x, y Node) bool { return x.Hash == y.Hash })
}

// compareHash is bytes.Compare of two hashes, a word at a time (sorting
// a block's nodes was a tenth of Apply).
func compareHash(a, b *block.Hash) int {
	for i := 0; i < block.HashSize; i += 8 {
		x, y := binary.BigEndian.Uint64(a[i:]), binary.BigEndian.Uint64(b[i:])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// split returns the index of the first entry going right at depth. The
// entries share their first depth bits and are sorted, so those going left
// come first.
func split(es []entry, depth int) int {
	return sort.Search(len(es), func(i int) bool { return bit(&es[i].keyHash, depth) == 1 })
}

// load reads the node h standing at depth with path index idx (its
// first depth path bits), from the cache when it holds it (a leaf from
// the cache comes without its value, which Apply reads only from the
// updates).
func (a *applier) load(h block.Hash, depth int, idx uint64) (node, error) {
	if h == Empty {
		return node{kind: kindEmpty}, nil
	}
	if n, ok := a.c.get(h, depth, idx); ok {
		return n, nil
	}
	n, err := load(a.nr, h)
	switch {
	case err != nil:
	case n.kind == kindInner:
		a.c.put(h, depth, idx, false, n.left, n.right)
	case n.kind == kindLeaf:
		a.c.put(h, depth, idx, true, n.keyHash, n.valueHash)
	}
	return n, err
}

// update applies es, whose key hashes all lie under the subtree at, found at
// depth with path index idx, and returns the new subtree.
func (a *applier) update(at ref, depth int, idx uint64, es []entry) (ref, error) {
	if len(es) == 0 {
		return at, nil
	}
	n, err := a.load(at.h, depth, idx)
	if err != nil {
		return ref{}, err
	}
	switch n.kind {
	case kindEmpty:
		live := a.live[:0]
		for _, e := range es {
			if !e.del {
				live = append(live, e)
			}
		}
		a.live = live
		return a.build(depth, idx, live), nil
	case kindLeaf:
		if d := firstDiff(&n.keyHash, &es[0].keyHash); d < depth {
			return ref{}, fmt.Errorf("smt: leaf %s at depth %d is off its path at bit %d: %w", at.h, depth, d, ErrBadNode)
		}
		old := entry{keyHash: n.keyHash, valueHash: n.valueHash}
		live := a.live[:0]
		placed := false
		for _, e := range es {
			c := compareHash(&e.keyHash, &old.keyHash)
			if c > 0 && !placed {
				live = append(live, old)
				placed = true
			}
			if c == 0 {
				placed = true
				if !e.del && e.valueHash == old.valueHash {
					e.fresh = false
				}
			}
			if !e.del {
				live = append(live, e)
			}
		}
		if !placed {
			live = append(live, old)
		}
		a.live = live
		return a.build(depth, idx, live), nil
	case kindInner:
		if depth >= Depth {
			return ref{}, fmt.Errorf("smt: inner node %s below depth %d: %w", at.h, Depth, ErrBadNode)
		}
		i := split(es, depth)
		l, err := a.update(ref{h: n.left}, depth+1, idx<<1, es[:i])
		if err != nil {
			return ref{}, err
		}
		r, err := a.update(ref{h: n.right}, depth+1, idx<<1|1, es[i:])
		if err != nil {
			return ref{}, err
		}
		if l.h == n.left && r.h == n.right {
			return ref{h: at.h, k: kindInner}, nil
		}
		return a.combine(l, r, depth, idx)
	}
	panic("smt: unreachable node kind")
}

// combine returns the canonical parent of l and r at depth and idx: Empty
// over two empty children, a lone leaf over itself and Empty, else an
// inner node.
func (a *applier) combine(l, r ref, depth int, idx uint64) (ref, error) {
	switch {
	case l.h == Empty && r.h == Empty:
		return ref{h: Empty, k: kindEmpty}, nil
	case l.h == Empty || r.h == Empty:
		other, side := l, uint64(0)
		if l.h == Empty {
			other, side = r, 1
		}
		if other.k == kindUnknown {
			n, err := a.load(other.h, depth+1, idx<<1|side)
			if err != nil {
				return ref{}, err
			}
			other.k = n.kind
		}
		if other.k == kindLeaf {
			return other, nil
		}
	}
	return a.inner(l.h, r.h, depth, idx), nil
}

// inner creates the inner node over l and r at depth and idx.
func (a *applier) inner(l, r block.Hash, depth int, idx uint64) ref {
	rec := a.record(1 + 2*block.HashSize)
	rec[0] = tagInner
	copy(rec[1:], l[:])
	copy(rec[1+block.HashSize:], r[:])
	h := block.Hash(sha256.Sum256(rec))
	a.out = append(a.out, Node{Hash: h, Record: rec})
	a.c.put(h, depth, idx, false, l, r)
	return ref{h: h, k: kindInner}
}

// build returns the canonical subtree at depth and idx over live, which
// are sorted, distinct and share their first depth bits.
func (a *applier) build(depth int, idx uint64, live []entry) ref {
	switch len(live) {
	case 0:
		return ref{h: Empty, k: kindEmpty}
	case 1:
		e := &live[0]
		h := LeafHash(e.keyHash, e.valueHash)
		if e.fresh {
			rec := a.record(1 + block.HashSize + len(e.value))
			rec[0] = tagLeaf
			copy(rec[1:], e.keyHash[:])
			copy(rec[1+block.HashSize:], e.value)
			a.out = append(a.out, Node{Hash: h, Record: rec})
		}
		a.c.put(h, depth, idx, true, e.keyHash, e.valueHash)
		return ref{h: h, k: kindLeaf}
	}
	if depth >= Depth {
		panic("smt: two distinct key hashes share all 256 bits")
	}
	i := split(live, depth)
	l := a.build(depth+1, idx<<1, live[:i])
	r := a.build(depth+1, idx<<1|1, live[i:])
	return a.inner(l.h, r.h, depth, idx)
}
