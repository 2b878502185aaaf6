// Package store owns the node's Pebble database (its only importer): committed
// blocks with their certificates, receipts, the transaction index, chain
// state, the record-log leaves and the chain head.
//
// # Durability
//
// Commit writes a block and all its effects — block, receipts, transaction
// index, state writes, log leaves and the new head — in one synced Pebble
// batch. A crash leaves either all of a block or none of it; the head never
// names a block that is not fully stored.
//
// # Usage
//
//	s, err := store.Open(dir)
//	if s.Head().Height == 0 && !s.Initialised() { s.Init(genesisHash, writes, root) }
//	... s.Commit(committed, result, newHead) // per block, in height order
//	s.Close()
package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/state"
)

// Key prefixes (one byte each).
const (
	pHead    = 'H' // H → head
	pBlock   = 'B' // B height8 → committed block
	pReceipt = 'R' // R height8 index8 → receipt
	pTx      = 'T' // T txhash32 → height8 index8
	pState   = 'S' // S statekey → value
	pLeaf    = 'L' // L index8 → record-log leaf hash
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
	db   *pebble.DB
	mu   sync.RWMutex
	head Head
	init bool
}

// Open opens (or creates) the store in dir.
func Open(dir string) (*Store, error) { return open(dir, nil) }

func open(dir string, fs vfs.FS) (*Store, error) {
	opts := &pebble.Options{Logger: quietLogger{}}
	if fs != nil {
		opts.FS = fs
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	s := &Store{db: db}
	v, closer, err := db.Get([]byte{pHead})
	switch {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		db.Close()
		return nil, fmt.Errorf("store: read head: %w", err)
	default:
		h, derr := decodeHead(v)
		closer.Close()
		if derr != nil {
			db.Close()
			return nil, derr
		}
		s.head, s.init = h, true
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
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
func (s *Store) Init(genesisHash block.Hash, writes []state.Write, root block.Hash) error {
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
	h := Head{GenesisHash: genesisHash, StateRoot: root}
	if err := b.Set([]byte{pHead}, h.encode(), nil); err != nil {
		return fmt.Errorf("store: genesis: %w", err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: genesis commit: %w", err)
	}
	s.head, s.init = h, true
	return nil
}

// Commit stores a committed block with its execution result and the new
// head, in one synced batch.
func (s *Store) Commit(c *block.Committed, res *state.Result, head Head, leaves []block.Hash) error {
	height := c.Block.Header.Height
	s.mu.RLock()
	prev := s.head
	s.mu.RUnlock()
	if height != prev.Height+1 || head.Height != height {
		return fmt.Errorf("store: commit of block %d onto head %d", height, prev.Height)
	}
	b := s.db.NewBatch()
	defer b.Close()
	set := func(k, v []byte) error { return b.Set(k, v, nil) }
	if err := set(heightKey(pBlock, height), c.Encode()); err != nil {
		return fmt.Errorf("store: block %d: %w", height, err)
	}
	for i, rc := range res.Receipts {
		if err := set(receiptKey(height, uint64(i)), rc.Encode()); err != nil {
			return fmt.Errorf("store: receipt: %w", err)
		}
		loc := binary.BigEndian.AppendUint64(nil, height)
		loc = binary.BigEndian.AppendUint64(loc, uint64(i))
		if err := set(append([]byte{pTx}, rc.TxHash[:]...), loc); err != nil {
			return fmt.Errorf("store: tx index: %w", err)
		}
	}
	for _, w := range res.Writes {
		var err error
		if w.Delete {
			err = b.Delete(stateKey(w.Key), nil)
		} else {
			err = set(stateKey(w.Key), w.Value)
		}
		if err != nil {
			return fmt.Errorf("store: state: %w", err)
		}
	}
	for i, l := range leaves {
		if err := set(heightKey(pLeaf, prev.Log.Size+uint64(i)), l[:]); err != nil {
			return fmt.Errorf("store: log leaf: %w", err)
		}
	}
	if err := set([]byte{pHead}, head.encode()); err != nil {
		return fmt.Errorf("store: head: %w", err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: commit block %d: %w", height, err)
	}
	s.mu.Lock()
	s.head = head
	s.mu.Unlock()
	return nil
}

// BlockRaw returns the stored encoding of the committed block at height.
func (s *Store) BlockRaw(height uint64) ([]byte, error) {
	return s.get(heightKey(pBlock, height), fmt.Sprintf("block %d", height))
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

// Receipt returns the receipt of the transaction with hash h.
func (s *Store) Receipt(h block.Hash) (*block.Receipt, error) {
	loc, err := s.get(append([]byte{pTx}, h[:]...), "transaction "+h.String())
	if err != nil {
		return nil, err
	}
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

// Tx returns the raw transaction with hash h and its receipt.
func (s *Store) Tx(h block.Hash) ([]byte, *block.Receipt, error) {
	rc, err := s.Receipt(h)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.Block(rc.Height)
	if err != nil {
		return nil, nil, err
	}
	if rc.Index >= uint64(len(c.Block.Txs)) {
		return nil, nil, fmt.Errorf("store: receipt index %d beyond block %d", rc.Index, rc.Height)
	}
	return c.Block.Txs[rc.Index], rc, nil
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

// Get implements state.Reader over committed state.
func (s *Store) Get(key []byte) ([]byte, bool, error) {
	v, err := s.get(stateKey(key), "")
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	return v, err == nil, err
}

// Iterate implements state.Reader over committed state.
func (s *Store) Iterate(prefix []byte, fn func(k, v []byte) bool) error {
	lo := stateKey(prefix)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: upperBound(lo)})
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

func receiptKey(h, i uint64) []byte {
	return binary.BigEndian.AppendUint64(heightKey(pReceipt, h), i)
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
