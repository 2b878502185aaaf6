package smt

import (
	"sync"

	"github.com/trialchain/trialchain/chain/block"
)

// Cache keeps the nodes of the upper levels of the tree in memory, by
// position: for each depth below its number of levels, one slot per path
// prefix, holding the last node Cache.Apply read or created there (an
// inner node's children; a leaf's key hash and value hash, which is all
// Apply reads of a leaf it does not rewrite). Successive batches on a
// growing tree read the same upper paths again, and insert new keys
// down paths last touched many batches ago; from a store each node is a
// lookup. The cache serves them without a read, and without hashing a
// record again.
//
// A slot is used only for the hash asked for: a node is named by its
// hash, and a slot's hash is always the hash of what it holds (computed
// by Apply, or checked when the node was read), so whatever the slots
// hold — nodes of a batch whose result was never stored, of another
// branch, of an older root — the cache changes how fast Apply runs, never
// its result. It may serve a node the reader does not hold (one Apply
// created): through a cache, Apply from a root whose nodes were never
// stored can succeed where Apply fails with ErrMissingNode, with the
// result Apply would give had they been stored. Apply from stored roots.
//
// The upper levels are arrays of their 2^depth slots. A deeper level is
// an index of its positions (4 bytes each, made when the level is first
// reached) into slots allocated in chunks as positions fill, so memory
// follows the tree: 97 bytes per node held and the index, at most
// (2^levels − 1)·101 bytes. Before, a deep level was a map (~130 bytes
// per node) until half full, then an array of every position, empty ones
// too: 18 levels over 2·10^4 / 6·10^4 / 1.1·10^5 keys took 7.1 / 17.5 /
// 21.0 MB, now 5.9 / 13.1 / 19.0 MB (of a validator's live heap, twice
// that in its RSS at GOGC=100).
//
// A Cache is safe for concurrent use; Apply calls through the same Cache
// run one at a time.
type Cache struct {
	mu     sync.Mutex
	levels []cacheLevel
}

// cacheLevel is the slots at one depth: every position's (dense) at the
// depths below denseLevels; deeper, those of the positions filled so
// far, pos[i] − 1 being position i's slot number in chunks (0: none).
type cacheLevel struct {
	dense  []cacheSlot
	pos    []uint32
	chunks [][]cacheSlot // of slotChunk slots each
	n      uint32        // slots used
}

// slotChunk is the number of slots a deep level allocates at once (24 KB).
const slotChunk = 256

// cacheSlot is an inner node (a, b: left, right) or a leaf (a, b: key
// hash, value hash); a zero h is an empty slot.
type cacheSlot struct {
	h, a, b block.Hash
	leaf    bool
}

// MaxCacheLevels bounds NewCache's levels (2^24 slots are 1.6 GB).
const MaxCacheLevels = 24

// denseLevels are the depths kept as arrays from the start (2^10 slots,
// 97 KB, at the deepest).
const denseLevels = 11

// NewCache returns a cache of the nodes at depths below levels (clamped
// to [0, MaxCacheLevels]).
func NewCache(levels int) *Cache {
	levels = min(max(levels, 0), MaxCacheLevels)
	return &Cache{levels: make([]cacheLevel, levels)}
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
	if c == nil || depth >= len(c.levels) {
		return node{}, false
	}
	var s *cacheSlot
	switch l := &c.levels[depth]; {
	case l.dense != nil:
		s = &l.dense[idx]
	case l.pos != nil && l.pos[idx] != 0:
		k := l.pos[idx] - 1
		s = &l.chunks[k/slotChunk][k%slotChunk]
	default:
		return node{}, false
	}
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
	s := cacheSlot{h: h, a: a, b: b, leaf: leaf}
	l := &c.levels[depth]
	switch {
	case l.dense != nil:
		l.dense[idx] = s
		return
	case depth < denseLevels:
		l.dense = make([]cacheSlot, 1<<depth)
		l.dense[idx] = s
		return
	case l.pos == nil:
		l.pos = make([]uint32, 1<<depth)
	}
	k := l.pos[idx]
	if k == 0 {
		if l.n%slotChunk == 0 {
			l.chunks = append(l.chunks, make([]cacheSlot, slotChunk))
		}
		l.n++
		k = l.n
		l.pos[idx] = k
	}
	k--
	l.chunks[k/slotChunk][k%slotChunk] = s
}
