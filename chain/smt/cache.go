package smt

import (
	"sync"

	"github.com/trialchain/trialchain/chain/block"
)

// Cache keeps the nodes of the upper levels of the tree in memory, by
// position: for each depth below its number of levels, one slot per path
// prefix, holding the last node Cache.Apply read or created there (an
// inner node's children; a leaf's key hash and value hash, which is all
// Apply reads of a leaf it does not rewrite). Successive batches on a growing tree read the same upper paths
// again, and from a store each is a lookup: the cache serves them without
// a read, and without hashing a record again.
//
// A slot is used only for the hash asked for: a node is named by its
// hash, and a slot's hash is always the hash of its children (computed by
// Apply, or checked when the node was read), so whatever the slots hold —
// nodes of a batch whose result was never stored, of another branch, of
// an older root — the cache changes how fast Apply runs, never its result.
// It holds at most 2^levels − 1 slots of 96 bytes, allocated a level at a
// time as the tree reaches it.
//
// A Cache is safe for concurrent use; Apply calls through the same Cache
// run one at a time.
type Cache struct {
	mu     sync.Mutex
	levels [][]cacheSlot // levels[d]: 2^d slots, nil until used
}

// cacheSlot is an inner node (a, b: left, right) or a leaf (a, b: key
// hash, value hash); a zero h is an empty slot.
type cacheSlot struct {
	h, a, b block.Hash
	leaf    bool
}

// MaxCacheLevels bounds NewCache's levels (2^24 slots are 1.5 GB).
const MaxCacheLevels = 24

// NewCache returns a cache of the inner nodes at depths below levels
// (clamped to [0, MaxCacheLevels]): at most (2^levels − 1)·97 bytes, 25
// MB for 18 levels.
func NewCache(levels int) *Cache {
	levels = min(max(levels, 0), MaxCacheLevels)
	return &Cache{levels: make([][]cacheSlot, levels)}
}

// Apply is Apply (the same root and nodes, byte for byte), reading the
// upper levels through the cache and keeping there the nodes it reads or
// creates at those levels.
func (c *Cache) Apply(nr NodeReader, root block.Hash, ups []Update) (block.Hash, []Node, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return apply(nr, c, root, ups)
}

// get returns the node h if the slot at depth and idx holds it; a leaf
// without its value. Callers hold c.mu; a nil c holds nothing.
func (c *Cache) get(h block.Hash, depth int, idx uint64) (node, bool) {
	if c == nil || depth >= len(c.levels) || c.levels[depth] == nil {
		return node{}, false
	}
	s := &c.levels[depth][idx]
	switch {
	case s.h != h:
		return node{}, false
	case s.leaf:
		return node{kind: kindLeaf, keyHash: s.a, valueHash: s.b}, true
	}
	return node{kind: kindInner, left: s.a, right: s.b}, true
}

// put keeps node h in the slot at depth and idx: the inner node
// InnerHash(a, b), or with leaf the leaf LeafHash(a, b). Callers hold
// c.mu and vouch for h.
func (c *Cache) put(h block.Hash, depth int, idx uint64, leaf bool, a, b block.Hash) {
	if c == nil || depth >= len(c.levels) {
		return
	}
	if c.levels[depth] == nil {
		c.levels[depth] = make([]cacheSlot, 1<<depth)
	}
	c.levels[depth][idx] = cacheSlot{h: h, a: a, b: b, leaf: leaf}
}
