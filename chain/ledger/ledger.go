package ledger

import (
	"context"
	"fmt"
	"sync"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
)

// Ledger executes committed blocks and persists them: the single writer of
// a node's store. The consensus adapter's Deliver and its catch-up both
// commit through it, serialised by its lock.
type Ledger struct {
	Genesis  *genesis.Genesis
	Store    *store.Store
	Executor *state.Executor

	mu      sync.Mutex // serialises commits and speculations
	tree    *smt.Cache // the state tree's upper levels, for an Executor without its own (nil: none)
	notify  chan struct{}
	notifMu sync.Mutex
	// waiters are the registrations (Watch, WaitReceipt) by transaction
	// hash; Commit hands each the encoded receipt of its transaction and
	// wakes it (guarded by notifMu).
	waiters map[block.Hash][]*Watch
	// recent holds the summaries of the last recentBlocks commits, the
	// one of height h at h % recentBlocks (guarded by notifMu).
	recent [recentBlocks]Summary
	// spec is the execution of a block Speculate ran ahead of its commit
	// (nil: none); guarded by mu.
	spec *speculation
	// specUsed counts the commits that stored a speculation's result
	// (guarded by mu).
	specUsed uint64
}

// recentBlocks is how many of the last committed blocks' summaries the
// ledger keeps in memory (Recent): enough for a follower woken at each
// commit that lags by a few blocks. It bounds their memory to
// recentBlocks × BatchMaxCount × 40 bytes (1.3 MB at the default 1000).
const recentBlocks = 32

// Summary is what a commit tells the ledger's followers (the node's
// metrics) about a committed block: its header time and, in block order,
// each transaction's hash and the gas it used — what its receipts say,
// without reading them back from the store.
type Summary struct {
	Height        uint64
	TimeUnixMilli int64
	Txs           []TxSummary
}

// TxSummary is a committed transaction in a Summary.
type TxSummary struct {
	Hash    block.Hash
	GasUsed uint64
}

// New opens the ledger, writing genesis state on first use.
func New(g *genesis.Genesis, s *store.Store, ex *state.Executor) (*Ledger, error) {
	l := &Ledger{Genesis: g, Store: s, Executor: ex, notify: make(chan struct{}), tree: smt.NewCache(treeCacheLevels)}
	members := make([]state.Member, len(g.Members))
	for i, m := range g.Members {
		members[i] = state.Member{Key: []byte(m.Key), Org: m.Org, Name: m.Name, Role: m.Role}
	}
	writes := state.Genesis(members)
	root, nodes, err := state.GenesisRoot(writes)
	if err != nil {
		return nil, fmt.Errorf("ledger: genesis state: %w", err)
	}
	if err := s.Init(g.Hash(), writes, root, nodes); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return l, nil
}

// Params returns the admission parameters of this chain.
func Params(g *genesis.Genesis) state.Params {
	return state.Params{ChainID: g.ChainID, MaxTxBytes: int(g.Params.RequestMaxBytes), MaxTxGas: g.Params.MaxTxGas,
		BlockGasLimit: g.Params.BlockGasLimit}
}

// Head returns the last committed head.
func (l *Ledger) Head() store.Head { return l.Store.Head() }

// speculation is the execution of the block of hash block over the head
// of hash parent.
type speculation struct {
	block, parent block.Hash
	ex            *executed
}

// executed is what a block's execution gives Commit to store: the state
// changes and receipts, each receipt encoded and its record-log leaf, and
// the record log with the leaves appended.
type executed struct {
	res     *state.Result
	encoded [][]byte
	leaves  []block.Hash
	log     proof.Frontier
	nodes   []store.LogNode // the log's nodes the leaves completed, for the store
}

// Speculate executes b, if it is the next block over the head, and keeps
// the result for the Commit of the same block over the same head, which
// then only stores it. The consensus adapter calls it for a proposal it
// has verified, so that the block's execution overlaps the consensus
// rounds that decide it instead of following them. Execution is a pure
// function of the head's state and the block (and b's hash covers its
// header and, through the transaction root, its transactions), so the
// stored result is the one Commit would compute. A block that is not
// decided costs its execution and is replaced by the next speculation;
// nothing of it is stored. Speculate holds the commit lock while it runs:
// a Commit of the same block waits for it rather than executing it again.
func (l *Ledger) Speculate(b *block.Block) {
	l.mu.Lock()
	defer l.mu.Unlock()
	head := l.Store.Head()
	if b.Header.Height != head.Height+1 || b.Header.PrevHash != head.Hash {
		return
	}
	h := b.Hash()
	if l.spec != nil && l.spec.block == h && l.spec.parent == head.Hash {
		return
	}
	l.spec = nil
	e, err := l.execute(head, b)
	if err != nil {
		return // Commit executes it again and reports the error
	}
	l.spec = &speculation{block: h, parent: head.Hash, ex: e}
}

// execute runs block b over head's state and appends its receipts to the
// record log.
func (l *Ledger) execute(head store.Head, b *block.Block) (*executed, error) {
	ex := *l.Executor
	if ex.Tree == nil {
		ex.Tree = l.tree
	}
	res, err := ex.Apply(l.Store, head.StateRoot, b)
	if err != nil {
		return nil, fmt.Errorf("ledger: execute block %d: %w", b.Header.Height, err)
	}
	e := &executed{res: res, leaves: make([]block.Hash, len(res.Receipts)),
		encoded: make([][]byte, len(res.Receipts))} // for the waiters: what the store holds
	for i, rc := range res.Receipts {
		e.encoded[i] = rc.Encode()
		e.leaves[i] = proof.LeafHash(e.encoded[i])
	}
	e.nodes = make([]store.LogNode, 0, len(e.leaves)+64) // an append of n leaves completes < n + 64 nodes
	visit := func(level uint, index uint64, h block.Hash) {
		if level > 0 { // the leaves are stored apart
			e.nodes = append(e.nodes, store.LogNode{Level: level, Index: index, Hash: h})
		}
	}
	if e.log, err = head.Log.Append(e.leaves, visit); err != nil {
		return nil, fmt.Errorf("ledger: record log: %w", err)
	}
	return e, nil
}

// Commit executes c (the next block), or takes the result Speculate kept
// for it, and stores it with its effects in one synced batch. A block at
// or below the head is ignored (already stored); a gap is an error.
func (l *Ledger) Commit(c *block.Committed) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	head := l.Store.Head()
	h := c.Block.Header.Height
	switch {
	case h <= head.Height:
		return false, nil
	case h != head.Height+1:
		return false, fmt.Errorf("ledger: block %d does not follow head %d", h, head.Height)
	case c.Block.Header.PrevHash != head.Hash:
		return false, fmt.Errorf("ledger: block %d names parent %s, head is %s", h, c.Block.Header.PrevHash, head.Hash)
	}
	var e *executed
	if sp := l.spec; sp != nil && sp.parent == head.Hash && sp.block == c.Block.Hash() {
		e = sp.ex
		l.specUsed++
	} else {
		var err error
		if e, err = l.execute(head, &c.Block); err != nil {
			return false, err
		}
	}
	l.spec = nil // over the old head: of no use after this commit
	res, encoded, leaves, log := e.res, e.encoded, e.leaves, e.log
	nodes := e.nodes
	e.nodes = nil // the store sorts them: a retried commit recomputes them
	nh := store.Head{GenesisHash: head.GenesisHash, Height: h, Hash: c.Block.Hash(),
		TimeUnixMilli: c.Block.Header.TimeUnixMilli, StateRoot: res.StateRoot, Log: log}
	if err := l.Store.CommitLog(c, res, nh, leaves, nodes); err != nil {
		return false, fmt.Errorf("ledger: %w", err)
	}
	sum := Summary{Height: h, TimeUnixMilli: c.Block.Header.TimeUnixMilli, Txs: make([]TxSummary, len(res.Receipts))}
	hashes := make([]block.Hash, len(res.Receipts))
	for i, rc := range res.Receipts {
		sum.Txs[i] = TxSummary{Hash: rc.TxHash, GasUsed: rc.GasUsed}
		hashes[i] = rc.TxHash
	}
	// Stored: its transactions' checks are of no further use here.
	l.Executor.Cache.Forget(hashes)
	l.notifMu.Lock()
	l.recent[h%recentBlocks] = sum // before the wake-up: a follower woken by it finds it
	close(l.notify)
	l.notify = make(chan struct{})
	if len(l.waiters) > 0 {
		for i, rc := range res.Receipts {
			ws, ok := l.waiters[rc.TxHash]
			if !ok {
				continue
			}
			for _, w := range ws {
				w.rc = encoded[i]
				close(w.ch)
			}
			delete(l.waiters, rc.TxHash)
		}
	}
	l.notifMu.Unlock()
	return true, nil
}

// Block returns the committed block at height with its certificate.
func (l *Ledger) Block(height uint64) (*block.Committed, error) { return l.Store.Block(height) }

// BlockRaw returns the stored encoding of the committed block at height.
func (l *Ledger) BlockRaw(height uint64) ([]byte, error) { return l.Store.BlockRaw(height) }

// State returns the committed state (admission reads it).
func (l *Ledger) State() state.Reader { return l.Store }

// Changed returns a channel closed at the next commit.
func (l *Ledger) Changed() <-chan struct{} {
	l.notifMu.Lock()
	defer l.notifMu.Unlock()
	return l.notify
}

// Recent returns the summary of the committed block at height if it is
// one of the last recentBlocks blocks this ledger committed since it was
// opened; ok is false otherwise (an older block, a block committed before
// a restart or written by a repair): the caller reads the store
// (store.Header, store.BlockReceipts). The summary is shared: its Txs are
// read-only.
func (l *Ledger) Recent(height uint64) (s Summary, ok bool) {
	l.notifMu.Lock()
	defer l.notifMu.Unlock()
	s = l.recent[height%recentBlocks]
	if height == 0 || s.Height != height {
		return Summary{}, false
	}
	return s, true
}

// WaitReceipt waits until the transaction with hash h is committed, or ctx ends.
// It is woken by the commit of that transaction only (not by every block),
// which hands it the receipt it stored: many waiters cost one store read
// each (the one that finds a transaction committed before the wait).
func (l *Ledger) WaitReceipt(ctx context.Context, h block.Hash) (*block.Receipt, error) {
	w := l.Watch(h)
	// Registered before the read: a commit after the read wakes w.
	if rc, err := l.Store.Receipt(h); err == nil {
		w.Stop()
		return rc, nil
	}
	return w.Wait(ctx)
}

// Watch registers for the receipt of the transaction with hash h: the
// commit of a block carrying it after this call hands it to the Watch.
// Unlike WaitReceipt it does not read the store for a transaction
// committed before the call; a caller that knows none was (it watches
// before its own admission check finds the nonce unused) saves that read.
// Call Wait or Stop, once.
func (l *Ledger) Watch(h block.Hash) *Watch {
	w := &Watch{l: l, h: h, ch: make(chan struct{})}
	l.notifMu.Lock()
	if l.waiters == nil {
		l.waiters = make(map[block.Hash][]*Watch)
	}
	l.waiters[h] = append(l.waiters[h], w)
	l.notifMu.Unlock()
	return w
}

// Watch is a registration for a transaction's receipt (Ledger.Watch).
type Watch struct {
	l  *Ledger
	h  block.Hash
	ch chan struct{} // closed by the commit, after it set rc
	rc []byte        // the receipt's encoding, as stored (shared, read-only)
}

// Wait waits for the commit of the watched transaction and returns its
// receipt, or returns ctx's error (the registration is then removed).
func (w *Watch) Wait(ctx context.Context) (*block.Receipt, error) {
	select {
	case <-w.ch:
	case <-ctx.Done():
		w.Stop()
		return nil, fmt.Errorf("waiting for transaction %s: %w", w.h, ctx.Err())
	}
	return w.Receipt()
}

// Done is closed when a commit has handed the receipt over (Receipt).
func (w *Watch) Done() <-chan struct{} { return w.ch }

// Receipt returns the receipt a commit handed over; call it once Done is
// closed.
func (w *Watch) Receipt() (*block.Receipt, error) {
	rc, err := block.DecodeReceipt(w.rc)
	if err != nil {
		return nil, fmt.Errorf("ledger: receipt of transaction %s: %w", w.h, err)
	}
	return rc, nil
}

// Stop removes the registration, if no commit consumed it.
func (w *Watch) Stop() { w.l.unwait(w.h, w) }

// unwait removes a registration (Watch) that no commit consumed.
func (l *Ledger) unwait(h block.Hash, w *Watch) {
	l.notifMu.Lock()
	defer l.notifMu.Unlock()
	ws := l.waiters[h]
	for i, c := range ws {
		if c == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(l.waiters, h)
	} else {
		l.waiters[h] = ws
	}
}

// WaitHeight waits until the head reaches height, or ctx ends.
func (l *Ledger) WaitHeight(ctx context.Context, height uint64) error {
	for {
		ch := l.Changed()
		if l.Store.Head().Height >= height {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for height %d: %w", height, ctx.Err())
		}
	}
}

// SetChanges returns the validator-set changes committed block c made:
// those of its validator transactions that succeeded (execution checked
// their consent and that they fit the set in force), in block order. It is
// consensus.Config.SetChanges for a chain whose genesis names the
// validator organisations' group. c must be committed in this ledger.
func (l *Ledger) SetChanges(c *block.Committed) []genesis.Change { return StoredSetChanges(l.Store, c) }

// StoredSetChanges is Ledger.SetChanges of block c stored (with its
// receipts) in s: what a check of a stored chain (chain/doctor) walks the
// validator sets with.
func StoredSetChanges(s *store.Store, c *block.Committed) []genesis.Change {
	var out []genesis.Change
	for _, raw := range c.Block.Txs {
		tx, err := block.DecodeTx(raw)
		if err != nil || tx.Kind != block.KindValidator {
			continue
		}
		rc, err := s.Receipt(block.Sum(raw))
		if err != nil || rc.Status != block.StatusOK {
			continue
		}
		p, err := block.DecodeValidator(tx.Payload)
		if err != nil {
			continue
		}
		if ch, err := genesis.DecodeChange(p.Change); err == nil {
			out = append(out, ch)
		}
	}
	return out
}
