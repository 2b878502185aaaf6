package state

import (
	"container/list"
	"sync"
	"sync/atomic"

	"github.com/trialchain/trialchain/chain/block"
)

// TxCache remembers the transactions that passed CheckTx on this node, so
// that a transaction is decoded and signature-checked once per node rather
// than at every step it passes (API admission, a forwarded request, the
// leader's proposal, a follower's proposal verification, execution).
//
// An entry is keyed by the SHA-256 of the exact signed bytes — the
// transaction hash, signature included — and holds the decoded
// transaction; only a transaction that passed CheckTx with the cache's
// Params is ever stored. CheckTx is a pure function of (Params, bytes), so
// a hit returns what a fresh check would return: the cache changes how fast
// a node answers, never what it answers. A miss (never seen, evicted, other
// bytes with the same payload, another Params) is a full check. Failures
// are not remembered.
//
// The cache is bounded by count and by the bytes of the transactions it
// holds; past either bound it forgets the oldest entries first. Eviction
// depends on this node's traffic, which is why it may only ever cost speed.
//
// A *TxCache is safe for concurrent use. A nil *TxCache caches nothing.
// The transactions it returns are shared: callers must not modify them.
type TxCache struct {
	p        Params
	maxCount int
	maxBytes int64

	mu      sync.Mutex
	entries map[block.Hash]*list.Element // of *txEntry
	order   list.List                    // oldest first
	bytes   int64
	hits    uint64
	misses  uint64
}

type txEntry struct {
	hash block.Hash
	tx   *block.Tx
	size int64
}

// Default bounds of a node's TxCache: enough for the request pool's
// default 20,000 pending transactions and a block in flight, and at most
// 32 MiB of transaction bytes (a validator's memory goal is 150 MB under
// load; a few large deploys evict anchors, which then cost one
// verification more each).
const (
	DefaultTxCacheCount = 32768
	DefaultTxCacheBytes = 32 << 20
)

// entryOverhead approximates the memory of an entry beyond the
// transaction's own bytes (the map slot, the list element, the decoded
// struct's headers), so a cache of tiny transactions is bounded too.
const entryOverhead = 256

// NewTxCache returns a cache of transactions that pass CheckTx with p,
// holding at most maxCount transactions and maxBytes of their encodings
// (each ≥ 1).
func NewTxCache(p Params, maxCount int, maxBytes int64) *TxCache {
	c := &TxCache{p: p, maxCount: max(maxCount, 1), maxBytes: max(maxBytes, 1), entries: make(map[block.Hash]*list.Element)}
	c.order.Init()
	return c
}

// CheckTx is CheckTx(p, raw) remembered: a transaction whose exact bytes
// passed before (with the same p) is returned without decoding or
// verifying it again; anything else is checked in full and, if it passes,
// remembered. It also returns the transaction hash, block.Sum(raw).
func (c *TxCache) CheckTx(p Params, raw []byte) (*block.Tx, block.Hash, error) {
	h := block.Sum(raw)
	tx, err := c.CheckHashed(p, h, raw)
	return tx, h, err
}

// CheckHashed is CheckTx for a caller that already computed h =
// block.Sum(raw). Passing another h is a bug that makes the cache lie: it
// is the caller's duty to hash the bytes it checks.
func (c *TxCache) CheckHashed(p Params, h block.Hash, raw []byte) (*block.Tx, error) {
	if c == nil || p != c.p {
		return CheckTx(p, raw)
	}
	if tx, ok := c.lookup(h); ok {
		return tx, nil
	}
	tx, err := CheckTx(p, raw)
	if err != nil {
		return nil, err
	}
	c.add(h, tx, int64(len(raw)))
	return tx, nil
}

// Lookup returns the remembered transaction with hash h, if any.
func (c *TxCache) Lookup(h block.Hash) (*block.Tx, bool) {
	if c == nil {
		return nil, false
	}
	return c.lookup(h)
}

func (c *TxCache) lookup(h block.Hash) (*block.Tx, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[h]; ok {
		c.hits++
		return e.Value.(*txEntry).tx, true
	}
	c.misses++
	return nil, false
}

func (c *TxCache) add(h block.Hash, tx *block.Tx, n int64) {
	size := n + entryOverhead
	if size > c.maxBytes {
		return // would evict everything for one entry
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[h]; ok {
		return // checked twice concurrently: keep the first
	}
	c.entries[h] = c.order.PushBack(&txEntry{hash: h, tx: tx, size: size})
	c.bytes += size
	for len(c.entries) > c.maxCount || c.bytes > c.maxBytes {
		old := c.order.Remove(c.order.Front()).(*txEntry)
		delete(c.entries, old.hash)
		c.bytes -= old.size
	}
}

// TxCacheStats describes a TxCache.
type TxCacheStats struct {
	Entries      int
	Bytes        int64 // the held transactions' bytes plus a fixed overhead each
	Hits, Misses uint64
}

// Stats returns the cache's size and its hits and misses since it was made.
func (c *TxCache) Stats() TxCacheStats {
	if c == nil {
		return TxCacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return TxCacheStats{Entries: len(c.entries), Bytes: c.bytes, Hits: c.hits, Misses: c.misses}
}

// CheckAll runs CheckTx(p, raw) for each of raws, as the cache's CheckTx
// would, with the transactions not yet remembered verified in parallel by
// up to workers goroutines (a proposal's new signatures use every core).
// It returns the decoded transactions and their hashes, and bad, the index
// of the first transaction that fails with its error (len(raws) and nil if
// none does). The result does not depend on the order in which workers
// finish: bad is always the lowest failing index and err its CheckTx
// error. Entries after bad may be left unchecked (nil).
func (c *TxCache) CheckAll(p Params, raws [][]byte, workers int) (txs []*block.Tx, hashes []block.Hash, bad int, err error) {
	n := len(raws)
	txs, hashes = make([]*block.Tx, n), make([]block.Hash, n)
	useCache := c != nil && p == c.p
	var miss []int
	for i, raw := range raws {
		hashes[i] = block.Sum(raw)
		if useCache {
			if tx, ok := c.lookup(hashes[i]); ok {
				txs[i] = tx
				continue
			}
		}
		miss = append(miss, i)
	}
	check := func(i int) error {
		tx, err := CheckTx(p, raws[i])
		if err != nil {
			return err
		}
		if useCache {
			c.add(hashes[i], tx, int64(len(raws[i])))
		}
		txs[i] = tx
		return nil
	}
	errs := make([]error, len(miss))
	workers = min(workers, len(miss))
	if workers <= 1 {
		for k, i := range miss {
			if errs[k] = check(i); errs[k] != nil {
				return txs, hashes, i, errs[k]
			}
		}
		return txs, hashes, n, nil
	}
	// Positions in miss are handed out in increasing order; a worker that
	// finds a failure lowers failAt and no position past it is handed out
	// any more. Every position below the final failAt was handed out and
	// passed, so miss[failAt] is the lowest failing index.
	var next, failAt atomic.Int64
	failAt.Store(int64(len(miss)))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := next.Add(1) - 1
				if k >= failAt.Load() {
					return
				}
				if errs[k] = check(miss[k]); errs[k] != nil {
					for {
						f := failAt.Load()
						if k >= f || failAt.CompareAndSwap(f, k) {
							break
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if f := failAt.Load(); f < int64(len(miss)) {
		return txs, hashes, miss[f], errs[f]
	}
	return txs, hashes, n, nil
}
