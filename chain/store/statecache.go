package store

import (
	"bytes"
	"sync"

	"github.com/trialchain/trialchain/chain/state"
)

// stateCache remembers recent reads of committed state (Store.Get), found
// or absent. Admission reads the same keys at several steps for every
// transaction — the sender's member record at each, its nonce key (absent)
// at the API or a forwarded request, in the proposal and in execution —
// and each was a Pebble lookup through every level (under the anchors
// bench a tenth of a validator's CPU).
//
// A cached answer is the stored one: Commit (and every other writer of
// state keys) drops the keys it wrote after writing them and before the
// new head is visible, and bumps gen; a read fills the cache only if no
// such write happened between its lookup in the cache and its Pebble
// read finishing (the generation it saw is still current), so a value
// read before a commit is never kept after it. Two generations of at most
// max keys each bound it; the current one full, it becomes the old one.
type stateCache struct {
	mu       sync.Mutex
	gen      uint64
	max      int
	cur, old map[string]cachedState
}

type cachedState struct {
	v     []byte
	found bool
}

// stateCacheGeneration bounds a generation: a few blocks of transactions'
// nonce keys and the members that send them (~100 bytes each, ~3 MB for
// both generations).
const stateCacheGeneration = 1 << 13

// stateCacheMaxValue is the largest value the cache keeps. The keys it
// pays for (members, nonces, groups) hold ~100 bytes; a contract's code
// (up to 8 MB) is read once per node to compile it, and kept here it
// stayed on the heap until two generations of other keys went by (5 MB of
// a validator's 47 MB live heap after the CRF bench's deploy), and every
// later read would copy it whole.
const stateCacheMaxValue = 16 << 10

func newStateCache(max int) *stateCache {
	return &stateCache{max: max, cur: make(map[string]cachedState)}
}

// get returns the cached answer for key (a copy of the value), if any,
// and the generation to hand to put after a Pebble read.
func (c *stateCache) get(key []byte) (v []byte, found, hit bool, gen uint64) {
	v, found, hit, gen = c.getShared(key)
	return bytes.Clone(v), found, hit, gen
}

// getShared is get without the copy: v is the cache's own, which nobody
// may modify.
func (c *stateCache) getShared(key []byte) (v []byte, found, hit bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cur[string(key)]
	if !ok {
		if e, ok = c.old[string(key)]; ok {
			c.putLocked(string(key), e)
		}
	}
	if !ok {
		return nil, false, false, c.gen
	}
	return e.v, e.found, true, c.gen
}

// put remembers what a Pebble read of key returned, unless state was
// written since get returned gen or v is larger than stateCacheMaxValue.
func (c *stateCache) put(key, v []byte, found bool, gen uint64) {
	if len(v) > stateCacheMaxValue {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	c.putLocked(string(key), cachedState{v: bytes.Clone(v), found: found})
}

func (c *stateCache) putLocked(key string, e cachedState) {
	if len(c.cur) >= c.max {
		c.old, c.cur = c.cur, make(map[string]cachedState, c.max)
	}
	c.cur[key] = e
}

// wrote drops the keys of ws; called after they are written to Pebble.
func (c *stateCache) wrote(ws []state.Write) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, w := range ws {
		delete(c.cur, string(w.Key))
		delete(c.old, string(w.Key))
	}
}

// reset drops everything; called after a write of state keys not
// described by a []state.Write (genesis, tampering in tests).
func (c *stateCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.cur, c.old = make(map[string]cachedState), nil
}
