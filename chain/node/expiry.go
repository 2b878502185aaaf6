package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
	"github.com/trialchain/trialchain/chain/view"
)

// A transaction may carry a ValidUntil bound (block.Tx): no block later
// than it may carry the transaction, and block times never go back. So
// once the committed head is later than the bound, a transaction that is
// not committed never will be: it has expired, for good. The node
// refuses at admission a transaction already expired, and remembers the
// bound of each one it accepted so that GET /v1/tx/{hash} can answer
// "expired" (410, view.TxExpired) rather than "not found" forever.

// boundsCap bounds the accepted transactions whose bound the node
// remembers; beyond it (after dropping expired ones) new ones are not
// remembered and their senders rely on the bound they signed (the SDK
// compares it with the head time of GET /v1/status).
const boundsCap = 1 << 16

// boundsKeepMilli is how long past its bound an expired transaction
// keeps its place once the map is full and no answered one can go.
const boundsKeepMilli = 10 * 60 * 1000

// bounds maps the hash of each bounded transaction this node accepted,
// not yet committed, to its ValidUntil.
type bounds struct {
	mu sync.Mutex
	m  map[block.Hash]bound
}

type bound struct {
	validUntil uint64
	answered   bool // GET /v1/tx answered "expired"
}

// add remembers an accepted transaction's bound (none for 0); headTime
// is the head's, to make room among expired entries.
func (b *bounds) add(h block.Hash, validUntil uint64, headTime int64) {
	if validUntil == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = make(map[block.Hash]bound)
	}
	if len(b.m) >= boundsCap {
		b.sweep(headTime)
	}
	if len(b.m) < boundsCap {
		b.m[h] = bound{validUntil: validUntil}
	}
}

// sweep drops the expired entries already answered or long expired, and
// if that frees nothing, every expired entry.
func (b *bounds) sweep(headTime int64) {
	before := func(t int64, vu uint64) bool { return t > 0 && uint64(t) > vu } // t is past vu
	n := len(b.m)
	for h, e := range b.m {
		if before(headTime, e.validUntil) && (e.answered || before(headTime-boundsKeepMilli, e.validUntil)) {
			delete(b.m, h)
		}
	}
	if len(b.m) < n {
		return
	}
	for h, e := range b.m {
		if before(headTime, e.validUntil) {
			delete(b.m, h)
		}
	}
}

// lookup returns the bound of an accepted transaction, and marks it
// answered if expired says so.
func (b *bounds) lookup(h block.Hash, expired func(validUntil uint64) bool) (uint64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.m[h]
	if ok && expired(e.validUntil) && !e.answered {
		e.answered = true
		b.m[h] = e
	}
	return e.validUntil, ok
}

// committed forgets a committed transaction.
func (b *bounds) committed(h block.Hash) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, h)
}

func (b *bounds) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}

// nextBlockTime is the earliest time the next block may carry: the
// head's, or the genesis time before the first block.
func (n *Node) nextBlockTime() int64 {
	head := n.ledger.Head()
	if head.Height == 0 {
		return n.gen.Time.UnixMilli()
	}
	return head.TimeUnixMilli
}

// checkNotExpired refuses at admission a transaction that no block can
// carry any more.
func (n *Node) checkNotExpired(tx *block.Tx) error {
	t := n.nextBlockTime()
	if !tx.Expired(t) {
		return nil
	}
	return fmt.Errorf("%w: it is valid until %s (%d ms) and the head block's time is already %s (%d ms): no block may carry it; sign it again with a later valid-until",
		state.ErrExpired, view.FormatMilli(int64(min(tx.ValidUntil, 1<<62))), tx.ValidUntil, view.FormatMilli(t), t)
}

// expiredView is the answer for transaction h, valid until validUntil,
// not committed at a head of that height and time.
func expiredView(h block.Hash, validUntil, height uint64, headTime int64) view.TxExpired {
	return view.TxExpired{
		Error: fmt.Sprintf("transaction %s expired: not committed by its valid-until time %s (%d ms); the head (height %d) is at time %s (%d ms), so it never will be",
			h, view.FormatMilli(int64(min(validUntil, 1<<62))), validUntil, height, view.FormatMilli(headTime), headTime),
		Code: view.StatusExpired, Status: view.StatusExpired, Hash: h, ValidUntil: validUntil, HeadHeight: height, HeadTime: headTime}
}

// answerUncommitted answers GET /v1/tx/{hash} for a transaction the store
// does not hold at head (read before the store was): 410 expired if this
// node accepted it and head is past its bound, 404 otherwise.
func (n *Node) answerUncommitted(w http.ResponseWriter, h block.Hash, headHeight uint64, headTime int64) {
	tx := block.Tx{}
	vu, ok := n.bounds.lookup(h, func(vu uint64) bool { tx.ValidUntil = vu; return headHeight > 0 && tx.Expired(headTime) })
	tx.ValidUntil = vu
	switch {
	case ok && headHeight > 0 && tx.Expired(headTime):
		writeJSON(w, http.StatusGone, expiredView(h, vu, headHeight, headTime))
	case ok:
		writeErr(w, http.StatusNotFound, "not_found", fmt.Errorf("transaction %s is not committed on this node yet; it is valid until %s, the head is at %s",
			h, view.FormatMilli(int64(min(vu, 1<<62))), view.FormatMilli(headTime)))
	default:
		writeErr(w, http.StatusNotFound, "not_found", fmt.Errorf("transaction %s is not committed on this node", h))
	}
}

// waitReceipt waits for the receipt of tx (hash h, watched by watch since
// before its admission) until ctx ends or, for a bounded transaction, the
// head passes its bound. expired reports the latter (with the head it
// saw), when the receipt is then still absent.
func (n *Node) waitReceipt(ctx context.Context, tx *block.Tx, h block.Hash, watch *ledger.Watch) (rc *block.Receipt, expired *view.TxExpired, err error) {
	if tx.ValidUntil == 0 {
		rc, err = watch.Wait(ctx)
		return rc, nil, err
	}
	// One loop, no goroutine: woken by the receipt or by each commit, to
	// compare the head's time with the bound.
	for {
		changed := n.ledger.Changed()
		if head := n.ledger.Head(); head.Height > 0 && tx.Expired(head.TimeUnixMilli) {
			return n.receiptOrExpired(h, tx.ValidUntil, watch, head)
		}
		select {
		case <-watch.Done():
			rc, err = watch.Receipt()
			return rc, nil, err
		case <-changed:
		case <-ctx.Done():
			watch.Stop()
			return nil, nil, fmt.Errorf("waiting for transaction %s: %w", h, ctx.Err())
		}
	}
}

// receiptOrExpired answers the wait for transaction h once head is past
// its bound validUntil: the receipt, if any, is in a block at or below
// the head, handed to watch or (should its hand-over still be under
// way) in the store; else the transaction expired.
func (n *Node) receiptOrExpired(h block.Hash, validUntil uint64, watch *ledger.Watch, head store.Head) (*block.Receipt, *view.TxExpired, error) {
	select {
	case <-watch.Done():
		rc, err := watch.Receipt()
		return rc, nil, err
	default:
	}
	if rc, err := n.store.Receipt(h); err == nil {
		return rc, nil, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, nil, err
	}
	e := expiredView(h, validUntil, head.Height, head.TimeUnixMilli)
	return nil, &e, fmt.Errorf("transaction %s expired: %s", h, e.Error)
}
