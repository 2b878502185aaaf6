package state

import (
	"encoding/hex"
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
	entries map[block.Hash]txEntry
	order   []orderSlot // the entries in the order they came, oldest first from order[head]
	head    int
	seq     uint64 // the last entry's sequence number
	bytes   int64
	hits    uint64
	misses  uint64
	// senders holds the hex forms IDs made of senders' keys: a sender
	// sends many transactions. Emptied when it reaches maxSenders.
	senders map[string]string
}

// maxSenders bounds TxCache.senders.
const maxSenders = 4096

type txEntry struct {
	tx   *block.Tx
	size int64
	seq  uint64 // its slot in order is the one with this seq (Forget leaves stale slots)
	// id and sender are the hex forms of the hash and of tx.Sender, made
	// by the first IDs call.
	id, sender string
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
	return &TxCache{p: p, maxCount: max(maxCount, 1), maxBytes: max(maxBytes, 1), entries: make(map[block.Hash]txEntry)}
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
		return e.tx, true
	}
	c.misses++
	return nil, false
}

// IDs returns the lower-case hex forms of h and of the sender of the
// remembered transaction with hash h, if there is one: what SmartBFT
// names a request by (consensus.Replica.RequestID), made once per entry
// instead of at each of the several times a request is named.
func (c *TxCache) IDs(h block.Hash) (id, sender string, ok bool) {
	if c == nil {
		return "", "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[h]
	if !ok {
		return "", "", false
	}
	if e.id == "" {
		e.id, e.sender = hex.EncodeToString(h[:]), c.senderHex(e.tx.Sender)
		c.entries[h] = e
	}
	return e.id, e.sender, true
}

// senderHex returns the hex form of key, made once per sender while it
// stays in c.senders. Callers hold c.mu.
func (c *TxCache) senderHex(key []byte) string {
	if s, ok := c.senders[string(key)]; ok {
		return s
	}
	if c.senders == nil || len(c.senders) >= maxSenders {
		c.senders = make(map[string]string)
	}
	s := hex.EncodeToString(key)
	c.senders[string(key)] = s
	return s
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
	c.seq++
	c.entries[h] = txEntry{tx: tx, size: size, seq: c.seq}
	c.order = append(c.order, orderSlot{h, c.seq})
	c.bytes += size
	for len(c.entries) > c.maxCount || c.bytes > c.maxBytes {
		old := c.order[c.head]
		c.head++
		if e, ok := c.entries[old.h]; ok && e.seq == old.seq { // else forgotten (and maybe added again since)
			c.bytes -= e.size
			delete(c.entries, old.h)
		}
	}
	c.compactLocked()
}

// orderSlot is an entry's place in TxCache.order.
type orderSlot struct {
	h   block.Hash
	seq uint64
}

// compactLocked drops the slots of evicted and forgotten entries once
// they are the larger part of order, so order holds at most about twice
// the entries (amortised O(1) per add or Forget). Callers hold c.mu.
func (c *TxCache) compactLocked() {
	if len(c.order) <= 64 || len(c.order) < 2*len(c.entries) {
		return
	}
	n := 0
	for _, s := range c.order[c.head:] {
		if e, ok := c.entries[s.h]; ok && e.seq == s.seq {
			c.order[n] = s
			n++
		}
	}
	clear(c.order[n:])
	c.order, c.head = c.order[:n], 0
}

// Forget drops the transactions with these hashes, if remembered. The
// ledger calls it with a block's transactions once the block is stored:
// a committed transaction is not checked again on this node (a copy
// that comes back fails on its nonce, after one more check of its
// signature), so its entry only held memory. Without it the cache stayed
// at its bounds under load, full of committed transactions (32,768
// anchors, ~15 MB of a validator's live heap, twice that in RSS at
// GOGC=100), where it needs only the pending ones.
func (c *TxCache) Forget(hashes []block.Hash) {
	if c == nil || len(hashes) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range hashes {
		if e, ok := c.entries[h]; ok {
			c.bytes -= e.size
			delete(c.entries, h) // its slot in order goes stale
		}
	}
	c.compactLocked()
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
// would, with the transactions not yet remembered verified in batches
// (block.VerifySignatures) by up to workers goroutines: a proposal's or a
// synced block's new signatures cost a fraction of single verifications
// and use every core. It returns the decoded transactions and their
// hashes, and bad, the index of the first transaction that fails with its
// error (len(raws) and nil if none does). The result does not depend on
// the workers or on how the batches fall: bad is always the lowest failing
// index and err its CheckTx error, and only transactions that pass are
// remembered. Entries at and after bad may be nil (unchecked, or failed).
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
	if len(miss) == 0 {
		return txs, hashes, n, nil
	}
	// The new transactions are cut into contiguous chunks of at most
	// maxSigBatch, about one per worker; each worker takes chunks in
	// increasing order and checks each whole (checkChunk). errs is indexed
	// like miss. Once a chunk holds a failure, the chunks after it are not
	// checked: every chunk before it was taken before it and is checked
	// whole, so the lowest failing index is still found (and a faulty
	// proposal costs little more than the part before its first fault).
	errs := make([]error, len(miss))
	workers = max(1, min(workers, len(miss)))
	size := min(maxSigBatch, (len(miss)+workers-1)/workers)
	chunks := (len(miss) + size - 1) / size
	var failedChunk atomic.Int64 // the lowest chunk with a failure so far
	failedChunk.Store(int64(chunks))
	run := func(k int) {
		if int64(k) > failedChunk.Load() {
			return
		}
		lo, hi := k*size, min((k+1)*size, len(miss))
		if c.checkChunk(p, useCache, raws, hashes, miss[lo:hi], txs, errs[lo:hi]) {
			return
		}
		for {
			f := failedChunk.Load()
			if int64(k) >= f || failedChunk.CompareAndSwap(f, int64(k)) {
				break
			}
		}
	}
	if workers = min(workers, chunks); workers == 1 {
		for k := range chunks {
			run(k)
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := int(next.Add(1) - 1); k < chunks; k = int(next.Add(1) - 1) {
					run(k)
				}
			}()
		}
		wg.Wait()
	}
	for k, e := range errs {
		if e != nil {
			return txs, hashes, miss[k], e
		}
	}
	return txs, hashes, n, nil
}

// CheckEach runs the cache's CheckHashed(p, hashes[i], raws[i]) for each
// of raws and returns each one's own result: txs[i] and errs[i] are what
// that call would return. The signatures not yet remembered are verified
// in batches (block.VerifySignatures) on the caller's goroutine; a batch
// that fails is verified again one signature at a time, so a bad
// transaction gets its own error and changes nothing for the others.
// Only transactions that pass are remembered.
//
// It is what a node uses to check together the transactions concurrent
// API requests submit. hashes[i] must be block.Sum(raws[i]) (see
// CheckHashed).
func (c *TxCache) CheckEach(p Params, raws [][]byte, hashes []block.Hash) (txs []*block.Tx, errs []error) {
	n := len(raws)
	txs, errs = make([]*block.Tx, n), make([]error, n)
	useCache := c != nil && p == c.p
	miss := make([]int, 0, n)
	for i := range raws {
		if useCache {
			if tx, ok := c.lookup(hashes[i]); ok {
				txs[i] = tx
				continue
			}
		}
		miss = append(miss, i)
	}
	for lo := 0; lo < len(miss); lo += maxSigBatch {
		idx := miss[lo:min(lo+maxSigBatch, len(miss))]
		chunkErrs := make([]error, len(idx))
		c.checkChunk(p, useCache, raws, hashes, idx, txs, chunkErrs)
		for k, i := range idx {
			errs[i] = chunkErrs[k]
		}
	}
	return txs, errs
}

// maxSigBatch bounds one signature batch: past a few hundred the saving
// per signature barely grows (block.BenchmarkVerifySignatures) while the
// batch's tables (about 3 KB a signature) do.
const maxSigBatch = 256

// checkChunk runs CheckTx's stages over the transactions raws[i] for i in
// idx, the signatures of the decoded ones in one batch, and sets txs[i]
// (and the cache, if useCache) for each that passes and errs[k] to the
// CheckTx error of idx[k] for each that fails. It reports whether all
// passed.
func (c *TxCache) checkChunk(p Params, useCache bool, raws [][]byte, hashes []block.Hash, idx []int, txs []*block.Tx, errs []error) bool {
	decoded := make([]*block.Tx, 0, len(idx))
	at := make([]int, 0, len(idx)) // positions in idx of decoded
	for k, i := range idx {
		tx, err := decodeTx(p, raws[i])
		if err != nil {
			errs[k] = err
			continue
		}
		decoded, at = append(decoded, tx), append(at, k)
	}
	sigErrs := block.VerifySignatures(decoded)
	for j, tx := range decoded {
		k := at[j]
		if sigErrs != nil && sigErrs[j] != nil {
			errs[k] = badSignature(tx)
			continue
		}
		if errs[k] = checkDecoded(p, tx); errs[k] != nil {
			continue
		}
		i := idx[k]
		if useCache {
			c.add(hashes[i], tx, int64(len(raws[i])))
		}
		txs[i] = tx
	}
	for _, err := range errs {
		if err != nil {
			return false
		}
	}
	return true
}
