package ledger

import (
	"sync"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/store"
)

// nodeCache keeps recently written and read state-tree nodes in memory.
// Each block rewrites the paths from its changed leaves to the root, and
// the next block reads most of the upper part of those paths again; from
// Pebble that is a lookup through every level per node, the largest cost
// of executing a block of anchors once signatures are checked once
// (chain/consensus/RATIONALE.md, "Where the time goes").
//
// Nodes are content-addressed and the tree checks that every record it
// loads hashes to the hash it asked for (smt.load), so a cached node is
// the stored node: the cache changes how fast a block executes, never its
// result. It holds two generations of at most max nodes each; when the
// current one is full it becomes the old one and the old one is dropped.
type nodeCache struct {
	mu       sync.Mutex
	max      int
	cur, old map[block.Hash][]byte
}

// nodeCacheGeneration bounds a generation: a block of 1,000 anchors
// writes about 2,000 leaves and 20,000 nodes; two generations of 32,768
// records of at most ~100 bytes stay under 10 MB.
const nodeCacheGeneration = 1 << 15

// treeCacheLevels is the depth of the state tree kept in memory by
// position (smt.Cache): every inner node above depth 18, at most 25 MB.
// A block of anchors inserts each key below the levels its predecessors
// rewrote, down a path last touched many blocks ago: the node cache
// above, which keeps the most recent nodes, misses most of those reads
// once the tree holds some 10^4 keys (7.6 Pebble reads per anchor at 4·10^4
// keys), while the positions of the upper levels stay few and reused.
const treeCacheLevels = 18

func newNodeCache(max int) *nodeCache {
	return &nodeCache{max: max, cur: make(map[block.Hash][]byte, max)}
}

func (c *nodeCache) get(h block.Hash) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rec, ok := c.cur[h]; ok {
		return rec, true
	}
	rec, ok := c.old[h]
	if ok {
		c.putLocked(h, rec) // keep what is still used
	}
	return rec, ok
}

func (c *nodeCache) put(h block.Hash, rec []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(h, rec)
}

// putNodes puts a block's new nodes, under one lock.
func (c *nodeCache) putNodes(nodes []smt.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range nodes {
		c.putLocked(n.Hash, n.Record)
	}
}

func (c *nodeCache) putLocked(h block.Hash, rec []byte) {
	if len(c.cur) >= c.max {
		c.old, c.cur = c.cur, make(map[block.Hash][]byte, c.max)
	}
	c.cur[h] = rec
}

// cachedStore is the committed state execution reads: the store, with
// the state tree's nodes read through the cache. Records are shared and
// read-only (the tree never modifies a record it loads).
type cachedStore struct {
	*store.Store
	nodes *nodeCache
}

// Node returns the record of node h, from the cache or the store.
func (s cachedStore) Node(h block.Hash) ([]byte, error) {
	if rec, ok := s.nodes.get(h); ok {
		return rec, nil
	}
	rec, err := s.Store.Node(h)
	if err == nil {
		s.nodes.put(h, rec)
	}
	return rec, err
}
