// Package store owns the node's Pebble databases (their only importer):
// committed blocks with their certificates, receipts, the transaction
// index, chain state and the nodes of its sparse Merkle tree (chain/smt),
// the record log (leaves, tree nodes, per-block positions), the chain head,
// and the encrypted off-chain payloads with their data keys, which
// redaction shreds (payloads.go).
//
// # Durability
//
// Commit writes a block and all its effects — block, receipts, transaction
// index, state writes and state-tree nodes, record-log leaves and tree
// nodes, the deletion of redacted payloads, and the new head — in one
// synced Pebble batch. A crash leaves either all of a block or none of it; the head never
// names a block that is not fully stored.
//
// # Usage
//
//	s, err := store.Open(dir)
//	if s.Head().Height == 0 && !s.Initialised() { s.Init(genesisHash, writes, root) }
//	... s.Commit(committed, result, newHead, leaves) // per block, in height order
//	p, err := proof.Inclusion(s, index, size)        // s is a proof.NodeReader
//	s.Close()
//
// # Repair
//
// A store found damaged (chain/doctor) is not patched in place: a new one
// is written beside it and swapped in by renames a crash cannot leave
// half-done (RepairDir, CommitRepair, FinishRepair in repair.go).
//
// # Record log
//
// Besides the leaf hashes (L), Commit stores every perfect-subtree node of
// the record log's tree that the block's leaves complete (N, levels ≥ 1;
// level 0 is L) and the log size before each block (P). Perfect nodes
// never change, so inclusion and consistency proofs for any size up to the
// head read O(log n) keys (see chain/proof). The nodes are recomputed from
// the previous head's frontier and the leaves, and Commit refuses a head
// whose log disagrees with them.
package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
)

// Key prefixes (one byte each).
const (
	pHead    = 'H' // H → head
	pBlock   = 'B' // B height8 → committed block
	pReceipt = 'R' // R height8 index8 → receipt
	pTx      = 'T' // T txhash32 → height8 index8 [‖ the raw transaction, if at most inlineTxBytes]
	pState   = 'S' // S statekey → value
	pLeaf    = 'L' // L index8 → record-log leaf hash (tree level 0)
	pNode    = 'N' // N level1 index8 → record-log tree node: root of the perfect subtree over leaves [index·2^level, (index+1)·2^level), level ≥ 1
	pLogPos  = 'P' // P height8 → log size before the block = leaf index of its first receipt (8 bytes)
	pSMT     = 'M' // M nodehash32 → state tree node record (chain/smt), immutable, never deleted
)

// ErrNotFound is returned for a missing block, receipt or transaction.
var ErrNotFound = errors.New("store: not found")

// Head is the last committed block and what it committed.
type Head struct {
	GenesisHash   block.Hash
	Height        uint64
	Hash          block.Hash // block hash at Height (zero at genesis)
	TimeUnixMilli int64
	StateRoot     block.Hash // state after Height
	Log           proof.Frontier
}

func (h *Head) encode() []byte {
	var w block.Writer
	w.Fixed(h.GenesisHash[:])
	w.Uint64(h.Height)
	w.Fixed(h.Hash[:])
	w.Int64(h.TimeUnixMilli)
	w.Fixed(h.StateRoot[:])
	w.VarBytes(h.Log.Encode())
	return w.Bytes()
}

func decodeHead(b []byte) (Head, error) {
	r := block.NewReader(b)
	h := Head{GenesisHash: r.Hash("genesis"), Height: r.Uint64("height"), Hash: r.Hash("hash"),
		TimeUnixMilli: r.Int64("time"), StateRoot: r.Hash("state root")}
	lb := r.VarBytes(4096, "log")
	if err := r.Done(); err != nil {
		return Head{}, fmt.Errorf("store: head: %w", err)
	}
	f, err := proof.DecodeFrontier(lb)
	if err != nil {
		return Head{}, fmt.Errorf("store: head: %w", err)
	}
	h.Log = f
	return h, nil
}

// Store is a node's database. Methods are safe for concurrent use; Commit
// calls must be serialised by the caller (one writer).
type Store struct {
	db    *pebble.DB
	keys  *pebble.DB // payload data keys, no WAL (payloads.go)
	mu    sync.RWMutex
	payMu sync.Mutex // orders PutPayload against the commit of a redaction
	wrap  KeyWrapper // wraps payload data keys; nil: no payloads (wrap.go)
	head  Head
	init  bool
	state *stateCache // recent Get answers (statecache.go)
}

// blockCacheBytes is Pebble's block cache per store (its default is 8
// MB): the state tree's nodes are read by hash, without locality, and the
// nodes a block touches outgrow 8 MB after some 10^4 transactions (the
// bench profile showed a third of a validator's CPU in block reads and
// their snappy decoding). The cache is filled only as blocks are read.
const blockCacheBytes = 32 << 20

// memTableBytes is Pebble's memtable size (its default is 4 MB) on
// average (memTableSize); up to memTablesHeld are held at once while one
// flushes.
//
// Both stay resident: the arena is malloc'd (cgo) and filled before it
// flushes, and Pebble keeps the flushed one to recycle as the next
// (DB.memTableRecycle), so a validator holds 2 × memTableBytes from its
// second flush on. At 16 MB that was 32 of the 166-176 MiB RSS of a
// validator after 30,000 anchors. At 8 MB, with l0CompactionThreshold
// doubled to keep the bytes flushed between two L0 compactions (48 MB)
// and with them the compaction work per transaction, it is 16 MB.
const memTableBytes = 8 << 20

// memTableSize draws this opening's memtable size uniformly from
// [¾, 1¼] × memTableBytes.
//
// Validators commit the same blocks, so with one size they all filled
// their memtables at the same moment, flushed at the same moment, and
// started the L0 compaction that every few flushes make at the same
// moment: the whole network stalled at once, although a quorum (3 of 4)
// needs only three of them. Four validators on 2 cores, anchors offered
// at 1,200/s, 16 MB memtables: the four flushes began within 130 ms of
// each other (0.2–0.6 s each), the four L0 → L6 compactions within 350 ms
// (1.6–1.9 s each), and the latency of the transactions submitted during
// those compactions rose from ~50 ms to 1.7–2.3 s. Sizes drawn apart make the flush intervals
// differ, so the nodes' flushes and compactions drift apart after the
// first: one node at a time is slow while the others keep a quorum.
func memTableSize() uint64 {
	return minMemTableBytes + rand.Uint64N(maxMemTableBytes-minMemTableBytes+1)
}

// The bounds of memTableSize.
const (
	minMemTableBytes = memTableBytes * 3 / 4
	maxMemTableBytes = memTableBytes * 5 / 4
)

// memTablesHeld is Pebble's MemTableStopWritesThreshold (its default):
// writes wait while this many memtables' worth of bytes are queued.
const memTablesHeld = 2

// cacheBytes is the size of Pebble's cache for memtables of memTable
// bytes. Pebble charges every memtable's arena to the block cache while
// it lives (Cache.Reserve), so a cache of blockCacheBytes alone was left
// with nothing for blocks once the memtables reached their size (0
// entries and a 5% hit rate after 30,000 anchors: every read of a table's
// filter, index and data block was a pread and a checksum). The
// memtables' share is added on top; they take that memory whatever the
// cache's size.
func cacheBytes(memTable uint64) int64 {
	return blockCacheBytes + memTablesHeld*int64(memTable)
}

// l0CompactionThreshold is Pebble's L0CompactionThreshold (its default is
// 4). Pebble compacts L0 into the base level once L0 holds
// threshold/2 sublevels (one a flush, here), and since every flushed
// table holds state-tree nodes under random hashes it overlaps the whole
// base level, which each such compaction rewrites. At 6 it waits for
// three flushes instead of two: a third fewer L0 compactions for the
// same data (after 1000 blocks of 164 anchors, 2.1 GB compacted instead
// of 2.4 GB), for reads that may look in one more L0 sublevel (a bloom
// filter check for most). With 8 MB memtables it is 12: the same
// 48 MB flushed between two compactions, in six flushes.
const l0CompactionThreshold = 12

// l0StopWritesThreshold is Pebble's L0StopWritesThreshold (its default
// is 12): writes stop while L0 holds this many sublevels. With 16 MB
// memtables compacted at 3 sublevels, 12 left room for 9 flushes (144
// MB) while a slow compaction ran; with 8 MB ones compacted at 6, 24
// leaves the same 144 MB.
const l0StopWritesThreshold = 24

// Options configure Open.
type Options struct {
	// KeyWrapper wraps the payloads' data keys (NodeKeyWrapper). Without
	// one the store serves the chain but refuses to store or read a
	// payload (ErrNoKeyWrapper).
	KeyWrapper KeyWrapper
	fs         vfs.FS // tests: an in-memory or crash-injecting FS
}

// Open opens (or creates) the store in dir, without payloads (see
// OpenWith).
func Open(dir string) (*Store, error) { return OpenWith(dir, Options{}) }

func open(dir string, fs vfs.FS) (*Store, error) { return OpenWith(dir, Options{fs: fs}) }

// OpenWith opens (or creates) the store in dir. On disk every file it
// writes is 0600 and every directory 0700 (an existing store's modes are
// tightened at open).
func OpenWith(dir string, o Options) (*Store, error) {
	fs := o.fs
	if fs == nil {
		if err := makePrivate(dir); err != nil {
			return nil, err
		}
		fs = privateFS{vfs.Default}
	}
	fs = tableFS{fs}
	memTable := memTableSize()
	opts := &pebble.Options{Logger: quietLogger{}, FS: fs, CacheSize: cacheBytes(memTable), MemTableStopWritesThreshold: memTablesHeld}
	// Admission reads a key that is absent for every transaction (its
	// nonce, at up to five places per node) and the state tree reads
	// nodes by hash, which have no locality: a bloom filter per table
	// lets a lookup skip the tables that do not hold the key instead of
	// reading their index and data blocks. Set on L0, it applies to
	// every level; tables written before keep none until compacted.
	opts.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	// Except on L6: Pebble's Get never reads an L6 table's filter
	// (IterOptions.UseL6Filters, which Get does not set; filter blocks of
	// the last level are large and most keys asked for are there), so
	// building one cost every compaction into L6 a hash per key and
	// wrote 10 bits per key for nothing. Tables written before keep
	// theirs.
	opts.Levels[6].FilterPolicy = pebble.NoFilterPolicy
	// Most of what a block writes is hashes (state-tree nodes, the
	// transaction index, record-log leaves and nodes, signatures), which
	// Snappy cannot shrink: compressing every table block on each flush
	// and compaction, and decompressing every block read, cost CPU for a
	// few percent of disk. Tables written before stay readable (the
	// compression is recorded per block).
	opts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	// A block of anchors writes ~2 KB per transaction of state-tree nodes
	// with random keys, so each flushed table overlaps the whole base
	// level, and each L0 → Lbase compaction rewrites it. Larger memtables
	// mean fewer, larger flushes and fewer such rewrites.
	opts.MemTableSize = memTable
	opts.L0CompactionThreshold = l0CompactionThreshold
	opts.L0StopWritesThreshold = l0StopWritesThreshold
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	kopts := &pebble.Options{Logger: quietLogger{}, DisableWAL: true, FS: fs}
	keys, err := pebble.Open(filepath.Join(dir, keyStoreDir), kopts)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open payload key store: %w", err)
	}
	s := &Store{db: db, keys: keys, wrap: o.KeyWrapper, state: newStateCache(stateCacheGeneration)}
	v, closer, err := db.Get([]byte{pHead})
	switch {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		s.Close()
		return nil, fmt.Errorf("store: read head: %w", err)
	default:
		h, derr := decodeHead(v)
		closer.Close()
		if derr != nil {
			s.Close()
			return nil, derr
		}
		s.head, s.init = h, true
	}
	if err := s.ensureLogNodes(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.reconcilePayloads(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.wrapLegacyKeys(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// ensureLogNodes checks at open that the stored tree nodes rebuild the
// head's record-log root, and rebuilds missing nodes from the stored leaves
// (a store written before nodes were kept, or whose rebuild was
// interrupted: nodes are written in leaf order, so the head's frontier
// nodes are the last to exist).
func (s *Store) ensureLogNodes() error {
	size, want := s.head.Log.Size, s.head.Log.Root()
	if size == 0 {
		return nil
	}
	got, err := proof.RootAt(s, size)
	switch {
	case err == nil && got == want:
		return nil
	case err == nil:
		return fmt.Errorf("store: record-log nodes make root %s, head says %s", got, want)
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("store: check record-log nodes: %w", err)
	}
	lo := heightKey(pLeaf, 0)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: heightKey(pLeaf, size)})
	if err != nil {
		return fmt.Errorf("store: rebuild record-log nodes: %w", err)
	}
	defer it.Close()
	var f proof.Frontier
	const chunk = 1 << 16
	leaves := make([]block.Hash, 0, chunk)
	flush := func(opts *pebble.WriteOptions) error {
		b := s.db.NewBatch()
		defer b.Close()
		var setErr error
		nf, err := f.Append(leaves, func(level uint, index uint64, h block.Hash) {
			if level > 0 && setErr == nil {
				setErr = b.Set(nodeKey(level, index), h[:], nil)
			}
		})
		if err == nil {
			err = setErr
		}
		if err == nil {
			err = b.Commit(opts)
		}
		if err != nil {
			return fmt.Errorf("store: rebuild record-log nodes: %w", err)
		}
		f, leaves = nf, leaves[:0]
		return nil
	}
	for ok := it.First(); ok; ok = it.Next() {
		if idx := binary.BigEndian.Uint64(it.Key()[1:]); idx != f.Size+uint64(len(leaves)) || len(it.Value()) != block.HashSize {
			return fmt.Errorf("store: record-log leaf %d is missing or corrupt", f.Size+uint64(len(leaves)))
		}
		leaves = append(leaves, block.Hash(it.Value()))
		if len(leaves) == chunk {
			if err := flush(pebble.NoSync); err != nil {
				return err
			}
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("store: rebuild record-log nodes: %w", err)
	}
	if err := flush(pebble.Sync); err != nil {
		return err
	}
	if f.Size != size || f.Root() != want {
		return fmt.Errorf("store: record-log leaves make %d/%s, head says %d/%s", f.Size, f.Root(), size, want)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	kerr := s.keys.Close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	if kerr != nil {
		return fmt.Errorf("store: close payload key store: %w", kerr)
	}
	return nil
}

// Initialised reports whether genesis has been written.
func (s *Store) Initialised() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.init
}

// Head returns the last committed head.
func (s *Store) Head() Head {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.head
}

// Init writes the genesis state once. It fails if the store holds another chain.
func (s *Store) Init(genesisHash block.Hash, writes []state.Write, root block.Hash, nodes []smt.Node) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.init {
		if s.head.GenesisHash != genesisHash {
			return fmt.Errorf("store: holds chain with genesis %s, not %s", s.head.GenesisHash, genesisHash)
		}
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, w := range writes {
		if err := b.Set(stateKey(w.Key), w.Value, nil); err != nil {
			return fmt.Errorf("store: genesis: %w", err)
		}
	}
	for _, n := range nodes {
		if err := b.Set(smtKey(n.Hash), n.Record, nil); err != nil {
			return fmt.Errorf("store: genesis: %w", err)
		}
	}
	h := Head{GenesisHash: genesisHash, StateRoot: root}
	if err := b.Set([]byte{pHead}, h.encode(), nil); err != nil {
		return fmt.Errorf("store: genesis: %w", err)
	}
	err := b.Commit(pebble.Sync)
	s.state.reset() // even after an error: the batch may be applied
	if err != nil {
		return fmt.Errorf("store: genesis commit: %w", err)
	}
	s.head, s.init = h, true
	return nil
}

// Commit stores a committed block with its execution result and the new
// head, in one synced batch.
func (s *Store) Commit(c *block.Committed, res *state.Result, head Head, leaves []block.Hash) error {
	return s.CommitLog(c, res, head, leaves, nil)
}

// LogNode is a node of the record log's tree that an append of leaves
// completed, as proof.Frontier.Append visits it (level > 0: leaves are
// stored apart).
type LogNode struct {
	Level uint
	Index uint64
	Hash  block.Hash
}

// CommitLog is Commit for a caller that appended leaves to the head's
// log itself (head.Log is the result) and collected the nodes the append
// completed above the leaves: they are stored as given, in any order,
// instead of hashed again. With nodes nil it is Commit, which appends the
// leaves here and checks the result against head.Log. The store sorts
// nodes in place.
func (s *Store) CommitLog(c *block.Committed, res *state.Result, head Head, leaves []block.Hash, nodes []LogNode) error {
	height := c.Block.Header.Height
	s.mu.RLock()
	prev := s.head
	s.mu.RUnlock()
	if height != prev.Height+1 || head.Height != height {
		return fmt.Errorf("store: commit of block %d onto head %d", height, prev.Height)
	}
	b, redacted, err := s.commitBatch(c, res, prev, head, leaves, nodes)
	if err != nil {
		return err
	}
	defer b.Close()
	s.payMu.Lock()
	defer s.payMu.Unlock()
	err = b.Commit(pebble.Sync)
	// Before the new head is visible, and even after an error (the batch
	// may be applied whatever its sync's fate).
	s.state.wrote(res.Writes)
	if err != nil {
		return fmt.Errorf("store: commit block %d: %w", height, err)
	}
	s.mu.Lock()
	s.head = head
	s.mu.Unlock()
	if err := s.shred(redacted); err != nil {
		return fmt.Errorf("store: block %d is committed, but: %w (the keys are shredded at the next open)", height, err)
	}
	return nil
}

// commitBatch builds the batch that commits block c onto prev, and returns
// it with the payloads that the block redacts. The records go in by key
// prefix, each run in key order where it costs nothing (receipts, log
// leaves and log nodes; the state-tree nodes come sorted from chain/smt):
// Pebble's memtable insert reuses the previous insert's position when the
// next key follows it, so a run of adjacent new keys skips the search from
// the top of the skiplist that an alternation of prefixes forces on each.
func (s *Store) commitBatch(c *block.Committed, res *state.Result, prev, head Head, leaves []block.Hash, nodes []LogNode) (*pebble.Batch, []block.Hash, error) {
	height := c.Block.Header.Height
	enc := c.Encode()
	b := s.db.NewBatchWithSize(commitBatchSize(len(enc), c.Block.Txs, res, len(leaves)))
	ok := false
	defer func() {
		if !ok {
			b.Close()
		}
	}()
	set := func(k, v []byte) error { return b.Set(k, v, nil) }
	if err := set(heightKey(pBlock, height), enc); err != nil {
		return nil, nil, fmt.Errorf("store: block %d: %w", height, err)
	}
	// Set copies key and value into the batch: one buffer each serves
	// every record of the block.
	var kb, vb []byte
	for i, rc := range res.Receipts {
		kb = appendReceiptKey(kb[:0], height, uint64(i))
		vb = rc.AppendEncode(vb[:0])
		if err := set(kb, vb); err != nil {
			return nil, nil, fmt.Errorf("store: receipt: %w", err)
		}
	}
	for i, rc := range res.Receipts {
		vb = binary.BigEndian.AppendUint64(vb[:0], height)
		vb = binary.BigEndian.AppendUint64(vb, uint64(i))
		if i < len(c.Block.Txs) && len(c.Block.Txs[i]) <= inlineTxBytes {
			vb = append(vb, c.Block.Txs[i]...)
		}
		kb = append(append(kb[:0], pTx), rc.TxHash[:]...)
		if err := set(kb, vb); err != nil {
			return nil, nil, fmt.Errorf("store: tx index: %w", err)
		}
	}
	redacted := redactedIn(res.Writes)
	for _, h := range redacted {
		if err := b.Delete(payloadKey(h), nil); err != nil {
			return nil, nil, fmt.Errorf("store: redact payload: %w", err)
		}
	}
	for _, w := range res.Writes {
		var err error
		kb = append(append(kb[:0], pState), w.Key...)
		if w.Delete {
			err = b.Delete(kb, nil)
		} else {
			err = set(kb, w.Value)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("store: state: %w", err)
		}
	}
	for _, n := range res.Nodes {
		kb = append(append(kb[:0], pSMT), n.Hash[:]...)
		if err := set(kb, n.Record); err != nil {
			return nil, nil, fmt.Errorf("store: state tree: %w", err)
		}
	}
	for i, l := range leaves {
		kb = binary.BigEndian.AppendUint64(append(kb[:0], pLeaf), prev.Log.Size+uint64(i))
		if err := set(kb, l[:]); err != nil {
			return nil, nil, fmt.Errorf("store: log leaf: %w", err)
		}
	}
	// Append visits a new node of each level in turn as leaves complete
	// it; they are written level by level, each level in index order.
	if nodes == nil {
		var err error
		if nodes, err = appendLog(prev.Log, leaves, head.Log); err != nil {
			return nil, nil, fmt.Errorf("store: block %d: %w", height, err)
		}
	}
	slices.SortFunc(nodes, func(x, y LogNode) int {
		if x.Level != y.Level {
			return cmp.Compare(x.Level, y.Level)
		}
		return cmp.Compare(x.Index, y.Index)
	})
	for _, n := range nodes {
		kb = binary.BigEndian.AppendUint64(append(kb[:0], pNode, byte(n.Level)), n.Index) // nodeKey
		if err := set(kb, n.Hash[:]); err != nil {
			return nil, nil, fmt.Errorf("store: log node: %w", err)
		}
	}
	if err := set(heightKey(pLogPos, height), binary.BigEndian.AppendUint64(nil, prev.Log.Size)); err != nil {
		return nil, nil, fmt.Errorf("store: log position: %w", err)
	}
	if err := set([]byte{pHead}, head.encode()); err != nil {
		return nil, nil, fmt.Errorf("store: head: %w", err)
	}
	ok = true
	return b, redacted, nil
}

// appendLog appends leaves to log and returns the nodes the append
// completes above the leaves; the result must be want.
func appendLog(log proof.Frontier, leaves []block.Hash, want proof.Frontier) ([]LogNode, error) {
	var nodes []LogNode
	got, err := log.Append(leaves, func(level uint, index uint64, h block.Hash) {
		if level > 0 { // leaves are stored under L
			nodes = append(nodes, LogNode{level, index, h})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("record log: %w", err)
	}
	if got.Size != want.Size || got.Root() != want.Root() {
		return nil, fmt.Errorf("new head has log %d/%s, its leaves make %d/%s", want.Size, want.Root(), got.Size, got.Root())
	}
	return nodes, nil
}

// commitBatchSize estimates the bytes of a block's commit batch (its
// records, their keys and Pebble's per-record overhead), so that the
// batch is allocated once instead of doubling its buffer a dozen times
// for a block of thousands of state-tree nodes. An estimate off either
// way costs only an allocation.
func commitBatchSize(blockBytes int, txs [][]byte, res *state.Result, leaves int) int {
	const perRecord = 2*binary.MaxVarintLen64 + 1 // Pebble's kind and two lengths
	n := blockBytes + 64
	for i, rc := range res.Receipts {
		n += 2*perRecord + 17 + 96 + len(rc.Result) + len(rc.Error) + 33 + 16
		for _, e := range rc.Events {
			n += 64 + len(e.Type) + len(e.Data)
		}
		if i < len(txs) && len(txs[i]) <= inlineTxBytes {
			n += len(txs[i]) // the transaction index's copy
		}
	}
	for _, w := range res.Writes {
		n += perRecord + 1 + len(w.Key) + len(w.Value)
	}
	for _, nd := range res.Nodes {
		n += perRecord + 33 + len(nd.Record)
	}
	// Leaves, and the log nodes they complete: about one a leaf, plus at
	// most one a level where the block's leaves end.
	n += leaves*(perRecord+9+32) + (leaves+64)*(perRecord+10+32)
	n += 2*perRecord + 17 + 8 + 256 + 64*block.HashSize // position, head (a log frontier: at most 64 hashes)
	return n
}

// Header returns the header of the committed block at height, decoded
// without the block's transactions (which are neither copied nor hashed).
func (s *Store) Header(height uint64) (*block.Header, error) {
	var h *block.Header
	err := s.ReadBlockRaw(height, func(raw []byte) error {
		r := block.NewReader(raw)
		if v := r.Byte("version"); r.Err() == nil && v != 1 {
			return fmt.Errorf("store: block %d: version %d: %w", height, v, block.ErrBadVersion)
		}
		hb := r.VarBytes(4096, "header")
		if err := r.Err(); err != nil {
			return fmt.Errorf("store: block %d is corrupt: %w", height, err)
		}
		var err error
		if h, err = block.DecodeHeader(hb); err != nil {
			return fmt.Errorf("store: block %d is corrupt: %w", height, err)
		}
		return nil
	})
	return h, err
}

// BlockReceipts calls fn with each receipt of the block at height, in
// block order, read by one scan (not by transaction hash). It stops at
// fn's first error and returns it.
func (s *Store) BlockReceipts(height uint64, fn func(rc *block.Receipt) error) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: heightKey(pReceipt, height), UpperBound: heightKey(pReceipt, height+1)})
	if err != nil {
		return fmt.Errorf("store: receipts of block %d: %w", height, err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		rc, err := block.DecodeReceipt(it.Value())
		if err != nil {
			return fmt.Errorf("store: a receipt of block %d is corrupt: %w", height, err)
		}
		if err := fn(rc); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("store: receipts of block %d: %w", height, err)
	}
	return nil
}

// BlockRaw returns the stored encoding of the committed block at height.
func (s *Store) BlockRaw(height uint64) ([]byte, error) {
	return s.get(heightKey(pBlock, height), fmt.Sprintf("block %d", height))
}

// ReadBlockRaw calls fn with the stored encoding of the committed block at
// height, read once and not copied: raw is Pebble's own buffer, valid only
// during fn, never to be modified or kept. It serves large blocks without
// holding them twice. An error of fn is returned as is.
//
// # Errors
//
// ErrNotFound (wrapped) when there is no block at height.
func (s *Store) ReadBlockRaw(height uint64, fn func(raw []byte) error) error {
	v, closer, err := s.db.Get(heightKey(pBlock, height))
	if errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("block %d: %w", height, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: read: %w", err)
	}
	defer closer.Close()
	return fn(v)
}

// Block returns the committed block at height.
func (s *Store) Block(height uint64) (*block.Committed, error) {
	raw, err := s.BlockRaw(height)
	if err != nil {
		return nil, err
	}
	c, err := block.DecodeCommitted(raw)
	if err != nil {
		return nil, fmt.Errorf("store: block %d is corrupt: %w", height, err)
	}
	return c, nil
}

// inlineTxBytes is the largest transaction whose bytes the transaction
// index also holds (beside its block's copy), so that looking it up reads
// a few hundred bytes instead of its block (up to block.MaxBlockBytes):
// anchors and case-report forms are polled for their receipts one by one,
// often from blocks that also carry multi-megabyte deploys.
const inlineTxBytes = 4 << 10

// txIndex reads the index entry of transaction h: its location (height8
// index8, the suffix of its receipt's key) and, for a small transaction,
// its bytes, checked against h.
func (s *Store) txIndex(h block.Hash) (loc, inline []byte, err error) {
	v, err := s.get(append([]byte{pTx}, h[:]...), "transaction "+h.String())
	if err != nil {
		return nil, nil, err
	}
	if len(v) < 16 {
		return nil, nil, fmt.Errorf("store: index of transaction %s is corrupt: %d bytes", h, len(v))
	}
	loc, inline = v[:16], v[16:]
	if len(inline) > 0 && block.Sum(inline) != h {
		return nil, nil, fmt.Errorf("store: index of transaction %s is corrupt: its copy hashes to %s", h, block.Sum(inline))
	}
	return loc, inline, nil
}

// Receipt returns the receipt of the transaction with hash h.
func (s *Store) Receipt(h block.Hash) (*block.Receipt, error) {
	loc, _, err := s.txIndex(h)
	if err != nil {
		return nil, err
	}
	return s.receiptAt(loc)
}

func (s *Store) receiptAt(loc []byte) (*block.Receipt, error) {
	raw, err := s.get(append([]byte{pReceipt}, loc...), "receipt")
	if err != nil {
		return nil, err
	}
	rc, err := block.DecodeReceipt(raw)
	if err != nil {
		return nil, fmt.Errorf("store: receipt is corrupt: %w", err)
	}
	return rc, nil
}

// Tx returns the raw transaction with hash h and its receipt. A small
// transaction comes from the index (inlineTxBytes); a larger one is read
// alone out of its block. Either is served only if it hashes to h.
func (s *Store) Tx(h block.Hash) ([]byte, *block.Receipt, error) {
	loc, inline, err := s.txIndex(h)
	if err != nil {
		return nil, nil, err
	}
	rc, err := s.receiptAt(loc)
	if err != nil {
		return nil, nil, err
	}
	if len(inline) > 0 {
		return inline, rc, nil
	}
	var raw []byte
	err = s.ReadBlockRaw(rc.Height, func(b []byte) error {
		var err error
		raw, err = block.CommittedTx(b, rc.Index)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: transaction %s in block %d: %w", h, rc.Height, err)
	}
	if got := block.Sum(raw); got != h {
		return nil, nil, fmt.Errorf("store: block %d is corrupt: transaction %d hashes to %s, not %s", rc.Height, rc.Index, got, h)
	}
	return raw, rc, nil
}

// LeafHash returns the record-log leaf hash at index.
func (s *Store) LeafHash(index uint64) (block.Hash, error) {
	var h block.Hash
	v, err := s.get(heightKey(pLeaf, index), fmt.Sprintf("log leaf %d", index))
	if err != nil {
		return h, err
	}
	copy(h[:], v)
	return h, nil
}

// LogNode returns the stored record-log tree node at level and index
// (level 0: the leaf hash). It implements proof.NodeReader; nodes exist for
// every perfect subtree within the head's log.
func (s *Store) LogNode(level uint, index uint64) (block.Hash, error) {
	if level == 0 {
		return s.LeafHash(index)
	}
	var h block.Hash
	if level > 63 {
		return h, fmt.Errorf("log node level %d: %w", level, ErrNotFound)
	}
	v, err := s.get(nodeKey(level, index), fmt.Sprintf("log node (level %d, index %d)", level, index))
	if err != nil {
		return h, err
	}
	if len(v) != block.HashSize {
		return h, fmt.Errorf("store: log node (level %d, index %d) is corrupt: %d bytes", level, index, len(v))
	}
	copy(h[:], v)
	return h, nil
}

// LogStart returns the log size before the block at height: the leaf index
// of the record of its first transaction. Leaf of transaction i is
// LogStart(height)+i.
func (s *Store) LogStart(height uint64) (uint64, error) {
	v, err := s.get(heightKey(pLogPos, height), fmt.Sprintf("log position of block %d", height))
	if errors.Is(err, ErrNotFound) && height >= 1 && height <= s.Head().Height {
		// Blocks stored before positions were recorded: the header says it.
		c, berr := s.Block(height)
		if berr != nil {
			return 0, berr
		}
		return c.Block.Header.LogSize, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("store: log position of block %d is corrupt", height)
	}
	return binary.BigEndian.Uint64(v), nil
}

// Record returns the record at a leaf index: its receipt (whose encoding is
// the leaf data). The block holding it is found by binary search over the
// stored log positions.
func (s *Store) Record(index uint64) (*block.Receipt, error) {
	head := s.Head()
	if index >= head.Log.Size {
		return nil, fmt.Errorf("log leaf %d (log size %d): %w", index, head.Log.Size, ErrNotFound)
	}
	// Largest height in [1, head] whose start ≤ index.
	lo, hi := uint64(1), head.Height
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		start, err := s.LogStart(mid)
		if err != nil {
			return nil, err
		}
		if start <= index {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	start, err := s.LogStart(lo)
	if err != nil {
		return nil, err
	}
	raw, err := s.get(receiptKey(lo, index-start), fmt.Sprintf("receipt of log leaf %d", index))
	if err != nil {
		return nil, err
	}
	rc, err := block.DecodeReceipt(raw)
	if err != nil {
		return nil, fmt.Errorf("store: receipt is corrupt: %w", err)
	}
	return rc, nil
}

// Get implements state.Reader over committed state.
func (s *Store) Get(key []byte) ([]byte, bool, error) { return s.getState(key, false) }

// GetShared implements state.SharedReader: Get without the copy of a
// cached value, which the caller must not modify.
func (s *Store) GetShared(key []byte) ([]byte, bool, error) { return s.getState(key, true) }

func (s *Store) getState(key []byte, shared bool) ([]byte, bool, error) {
	v, found, hit, gen := s.state.getShared(key)
	if hit {
		if !shared {
			v = bytes.Clone(v)
		}
		return v, found, nil
	}
	v, err := s.get(stateKey(key), "")
	if errors.Is(err, ErrNotFound) {
		s.state.put(key, nil, false, gen)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	s.state.put(key, v, true, gen)
	return v, true, nil
}

// Iterate implements state.Reader over committed state.
func (s *Store) Iterate(prefix []byte, fn func(k, v []byte) bool) error {
	return s.IterateFrom(prefix, nil, fn)
}

// IterateFrom implements state.Seeker: Pebble seeks to start, so the keys
// below it cost nothing.
func (s *Store) IterateFrom(prefix, start []byte, fn func(k, v []byte) bool) error {
	lo := stateKey(prefix)
	hi := upperBound(lo)
	if start != nil && bytes.Compare(start, prefix) > 0 {
		lo = stateKey(start)
	}
	if hi != nil && bytes.Compare(lo, hi) >= 0 {
		return nil
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("store: iterate: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		if !fn(bytes.Clone(it.Key()[1:]), bytes.Clone(it.Value())) {
			break
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("store: iterate: %w", err)
	}
	return nil
}

func (s *Store) get(key []byte, what string) ([]byte, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		if what == "" {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read: %w", err)
	}
	out := bytes.Clone(v)
	closer.Close()
	return out, nil
}

func stateKey(k []byte) []byte { return append([]byte{pState}, k...) }

func heightKey(p byte, h uint64) []byte { return binary.BigEndian.AppendUint64([]byte{p}, h) }

func nodeKey(level uint, index uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{pNode, byte(level)}, index)
}

func receiptKey(h, i uint64) []byte { return appendReceiptKey(nil, h, i) }

func appendReceiptKey(b []byte, h, i uint64) []byte {
	b = binary.BigEndian.AppendUint64(append(b, pReceipt), h)
	return binary.BigEndian.AppendUint64(b, i)
}

// upperBound returns the smallest key greater than every key with prefix p.
func upperBound(p []byte) []byte {
	u := bytes.Clone(p)
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] < 0xff {
			u[i]++
			return u[:i+1]
		}
	}
	return nil
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

func smtKey(h block.Hash) []byte { return append([]byte{pSMT}, h[:]...) }

// Node implements smt.NodeReader over the stored state tree nodes.
func (s *Store) Node(h block.Hash) ([]byte, error) {
	v, err := s.get(smtKey(h), "")
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", smt.ErrMissingNode, h)
	}
	return v, err
}

// StateRootAt returns the state root after block height (0 = genesis
// state): the head's for the head, else the one the next block's header
// carries (and its certificate certifies).
func (s *Store) StateRootAt(height uint64) (block.Hash, error) {
	head := s.Head()
	switch {
	case height == head.Height:
		return head.StateRoot, nil
	case height > head.Height:
		return block.Hash{}, fmt.Errorf("state after block %d (head is %d): %w", height, head.Height, ErrNotFound)
	}
	c, err := s.Block(height + 1)
	if err != nil {
		return block.Hash{}, err
	}
	return c.Block.Header.StateRoot, nil
}
