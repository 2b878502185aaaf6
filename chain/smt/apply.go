package smt

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"sort"

	"github.com/trialchain/trialchain/chain/block"
)

// entry is one leaf-to-be of a batch, in key-hash order.
type entry struct {
	keyHash   block.Hash
	valueHash block.Hash
	value     []byte
	del       bool
	fresh     bool // its leaf record is not known to be stored yet
}

// ref is a subtree: its hash and, when known, what the hash names.
type ref struct {
	h block.Hash
	k kind
}

type applier struct {
	nr  NodeReader
	out map[block.Hash][]byte
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
	if len(ups) == 0 {
		return root, nil, nil
	}
	es := make([]entry, len(ups))
	for i, u := range ups {
		e := entry{keyHash: KeyHash(u.Key), del: u.Delete, fresh: true}
		if !u.Delete {
			e.value = bytes.Clone(u.Value)
			if e.value == nil {
				e.value = []byte{}
			}
			e.valueHash = sha256.Sum256(e.value)
		}
		es[i] = e
	}
	slices.SortFunc(es, func(a, b entry) int { return bytes.Compare(a.keyHash[:], b.keyHash[:]) })
	for i := 1; i < len(es); i++ {
		if es[i].keyHash == es[i-1].keyHash {
			return Empty, nil, fmt.Errorf("smt: key hash %s: %w", es[i].keyHash, ErrDuplicateKey)
		}
	}
	a := applier{nr: nr, out: make(map[block.Hash][]byte)}
	r, err := a.update(ref{h: root}, 0, es)
	if err != nil {
		return Empty, nil, err
	}
	nodes := make([]Node, 0, len(a.out))
	for h, rec := range a.out {
		nodes = append(nodes, Node{Hash: h, Record: rec})
	}
	slices.SortFunc(nodes, func(x, y Node) int { return bytes.Compare(x.Hash[:], y.Hash[:]) })
	return r.h, nodes, nil
}

// split returns the index of the first entry going right at depth. The
// entries share their first depth bits and are sorted, so those going left
// come first.
func split(es []entry, depth int) int {
	return sort.Search(len(es), func(i int) bool { return bit(&es[i].keyHash, depth) == 1 })
}

// update applies es, whose key hashes all lie under the subtree at, found at
// depth, and returns the new subtree.
func (a *applier) update(at ref, depth int, es []entry) (ref, error) {
	if len(es) == 0 {
		return at, nil
	}
	n, err := load(a.nr, at.h)
	if err != nil {
		return ref{}, err
	}
	switch n.kind {
	case kindEmpty:
		live := make([]entry, 0, len(es))
		for _, e := range es {
			if !e.del {
				live = append(live, e)
			}
		}
		return a.build(depth, live), nil
	case kindLeaf:
		if d := firstDiff(&n.keyHash, &es[0].keyHash); d < depth {
			return ref{}, fmt.Errorf("smt: leaf %s at depth %d is off its path at bit %d: %w", at.h, depth, d, ErrBadNode)
		}
		old := entry{keyHash: n.keyHash, valueHash: n.valueHash}
		live := make([]entry, 0, len(es)+1)
		placed := false
		for _, e := range es {
			c := bytes.Compare(e.keyHash[:], old.keyHash[:])
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
		return a.build(depth, live), nil
	case kindInner:
		if depth >= Depth {
			return ref{}, fmt.Errorf("smt: inner node %s below depth %d: %w", at.h, Depth, ErrBadNode)
		}
		i := split(es, depth)
		l, err := a.update(ref{h: n.left}, depth+1, es[:i])
		if err != nil {
			return ref{}, err
		}
		r, err := a.update(ref{h: n.right}, depth+1, es[i:])
		if err != nil {
			return ref{}, err
		}
		if l.h == n.left && r.h == n.right {
			return ref{h: at.h, k: kindInner}, nil
		}
		return a.combine(l, r)
	}
	panic("smt: unreachable node kind")
}

// combine returns the canonical parent of l and r: Empty over two empty
// children, a lone leaf over itself and Empty, else an inner node.
func (a *applier) combine(l, r ref) (ref, error) {
	switch {
	case l.h == Empty && r.h == Empty:
		return ref{h: Empty, k: kindEmpty}, nil
	case l.h == Empty || r.h == Empty:
		other := l
		if l.h == Empty {
			other = r
		}
		if other.k == kindUnknown {
			n, err := load(a.nr, other.h)
			if err != nil {
				return ref{}, err
			}
			other.k = n.kind
		}
		if other.k == kindLeaf {
			return other, nil
		}
	}
	return a.inner(l.h, r.h), nil
}

func (a *applier) inner(l, r block.Hash) ref {
	h := InnerHash(l, r)
	a.out[h] = innerRecord(l, r)
	return ref{h: h, k: kindInner}
}

// build returns the canonical subtree at depth over live, which are sorted,
// distinct and share their first depth bits.
func (a *applier) build(depth int, live []entry) ref {
	switch len(live) {
	case 0:
		return ref{h: Empty, k: kindEmpty}
	case 1:
		e := &live[0]
		h := LeafHash(e.keyHash, e.valueHash)
		if e.fresh {
			a.out[h] = leafRecord(e.keyHash, e.value)
		}
		return ref{h: h, k: kindLeaf}
	}
	if depth >= Depth {
		panic("smt: two distinct key hashes share all 256 bits")
	}
	i := split(live, depth)
	l := a.build(depth+1, live[:i])
	r := a.build(depth+1, live[i:])
	return a.inner(l.h, r.h)
}
