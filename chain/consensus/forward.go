package consensus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/transport"
)

// Forwarding client transactions to the leader in batches.
//
// A follower's Submit forwards each client transaction to the leader at
// once, so it need not wait for the request pool's forward timeout. Sent
// one frame per transaction, three quarters of all transactions reached
// the leader (the busiest node) one by one: a frame's transport overhead
// and one signature verification each. Submit now queues the forward;
// the replica's forwardLoop sends what is queued as one frameRequests
// frame when forwardBatch transactions wait or when the first has waited
// forwardDelay, and the leader verifies a frame's new signatures in one
// batch (TxCache.CheckAll) before it hands each transaction to SmartBFT,
// whose VerifyRequest then finds it in the cache.
//
// The single-transaction frameRequest stays: SmartBFT's pool re-forwards
// a pending request with it (SendTransaction), a lone queued transaction
// is sent with it (so a peer that predates frameRequests still takes
// forwards under light load), and the leader still takes it.
//
// What Submit promises is unchanged: it refuses with ErrBusy, keeping
// nothing, while the link to the leader is saturated (the last frame the
// loop tried to send found the leader's send queue full) or the forward
// queue is at its bound. A queued forward that cannot be sent is kept and
// tried again after forwardRetry while the link is full or no leader is
// known; one the leader will not take is dropped safely: the transaction
// is in this replica's request pool, whose timers forward it again after
// the request forward timeout (to the leader of the moment, restarted on a
// view change) and complain if it is not ordered.
const (
	// frameRequests is a batch of client transactions forwarded to the
	// leader: a count, then each transaction with its length
	// (encodeRequests).
	frameRequests = 3

	// forwardBatch is the most transactions in one frame; a frame is sent
	// as soon as that many wait.
	forwardBatch = 64
	// forwardDelay is how long the first queued forward waits for others.
	forwardDelay = 2 * time.Millisecond
	// forwardRetry is how long forwards held back (the link to the leader
	// full, no leader known) wait before they are tried again.
	forwardRetry = 20 * time.Millisecond
	// forwardFrameBytes bounds the transaction bytes of one frame; a
	// larger transaction goes alone. A frame is sent as soon as that many
	// bytes wait.
	forwardFrameBytes = 1 << 20
	// forwardQueueMax and forwardQueueBytes bound the forward queue
	// (Submit refuses with ErrBusy past them); one transaction is always
	// taken into an empty queue.
	forwardQueueMax   = 1024
	forwardQueueBytes = 16 << 20
	// maxForwardBatch is the most transactions a received frameRequests
	// may hold (the decoder's cap; above forwardBatch so that a sender
	// may batch more without a new frame type).
	maxForwardBatch = 256
)

// errMalformedRequests refuses a frameRequests body that is not a strict
// encoding within the caps.
var errMalformedRequests = errors.New("consensus: malformed batch of forwarded requests")

// encodeRequests returns the frameRequests frame (type byte included) of
// txs: a minimal uvarint count, then each transaction as a minimal uvarint
// length and its bytes.
func encodeRequests(txs [][]byte) []byte {
	n := 1 + binary.MaxVarintLen64
	for _, tx := range txs {
		n += binary.MaxVarintLen64 + len(tx)
	}
	b := make([]byte, 0, n)
	b = append(b, frameRequests)
	b = binary.AppendUvarint(b, uint64(len(txs)))
	for _, tx := range txs {
		b = binary.AppendUvarint(b, uint64(len(tx)))
		b = append(b, tx...)
	}
	return b
}

// decodeRequests decodes a frameRequests body (the frame without its type
// byte). It refuses, whole, anything but the strict encoding of 1 to
// maxForwardBatch transactions of 1 to maxTx bytes each, at most
// max(forwardFrameBytes, maxTx) bytes of them in all, with nothing after.
// The transactions are copies (the frame is not kept).
func decodeRequests(b []byte, maxTx int) ([][]byte, error) {
	r := block.NewReader(b)
	n := r.Count(maxForwardBatch, "forwarded requests")
	if r.Err() == nil && n == 0 {
		return nil, fmt.Errorf("%w: no transaction", errMalformedRequests)
	}
	budget := max(forwardFrameBytes, maxTx)
	txs := make([][]byte, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		tx := r.VarBytesAt(maxTx, "forwarded request", i)
		switch {
		case r.Err() != nil:
		case len(tx) == 0:
			return nil, fmt.Errorf("%w: request %d is empty", errMalformedRequests, i)
		case len(tx) > budget:
			return nil, fmt.Errorf("%w: more than %d bytes of transactions", errMalformedRequests, max(forwardFrameBytes, maxTx))
		}
		budget -= len(tx)
		txs = append(txs, tx)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformedRequests, err)
	}
	return txs, nil
}

// forwarder is the queue of client transactions Submit forwards to the
// leader; forwardLoop sends it.
type forwarder struct {
	mu    sync.Mutex
	queue [][]byte
	bytes int
	// saturated: the last flush ended on a frame the leader's send queue
	// had no room for; push refuses until the next flush.
	saturated bool
	// wake is signalled when the queue stops being empty, full when it
	// holds a frame's worth (forwardBatch transactions or
	// forwardFrameBytes bytes). Both hold at most one signal.
	wake, full chan struct{}
}

func newForwarder() forwarder {
	return forwarder{wake: make(chan struct{}, 1), full: make(chan struct{}, 1)}
}

// errForwardBusy refuses a forward the queue cannot take now (wrapped in
// ErrBusy by Submit).
var errForwardBusy = errors.New("forward queue")

// push queues raw for the leader, or refuses while the link is saturated
// or the queue is at its bound.
func (f *forwarder) push(raw []byte) error {
	f.mu.Lock()
	switch {
	case f.saturated:
		f.mu.Unlock()
		return fmt.Errorf("%w: the link to the leader is saturated", errForwardBusy)
	case len(f.queue) > 0 && (len(f.queue) >= forwardQueueMax || f.bytes+len(raw) > forwardQueueBytes):
		n, b := len(f.queue), f.bytes
		f.mu.Unlock()
		return fmt.Errorf("%w: %d transactions (%d bytes) wait to be forwarded to the leader", errForwardBusy, n, b)
	}
	f.queue = append(f.queue, raw)
	f.bytes += len(raw)
	n, b := len(f.queue), f.bytes
	f.mu.Unlock()
	if n == 1 {
		signal(f.wake)
	}
	if n >= forwardBatch || b >= forwardFrameBytes {
		signal(f.full)
	}
	return nil
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// ready reports whether a frame's worth waits.
func (f *forwarder) ready() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue) >= forwardBatch || f.bytes >= forwardFrameBytes
}

// takeAll empties the queue and returns what it held; the link is no
// longer taken to be saturated until putBack says so again.
func (f *forwarder) takeAll() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queue
	f.queue, f.bytes, f.saturated = nil, 0, false
	return q
}

// putBack returns txs, which were not sent, to the front of the queue;
// saturated records why.
func (f *forwarder) putBack(txs [][]byte, saturated bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, tx := range txs {
		f.bytes += len(tx)
	}
	f.queue = append(txs[:len(txs):len(txs)], f.queue...)
	f.saturated = saturated
}

// pending returns how many transactions wait to be forwarded.
func (f *forwarder) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}

// cutFrame returns how many of txs (at least one) go in the next frame.
func cutFrame(txs [][]byte) int {
	n, b := 1, len(txs[0])
	for n < len(txs) && n < forwardBatch && b+len(txs[n]) <= forwardFrameBytes {
		b += len(txs[n])
		n++
	}
	return n
}

// forwardLoop sends the queued forwards (see forwarder) until the replica
// stops.
func (r *Replica) forwardLoop() {
	defer r.wg.Done()
	r.fwd.run(r.stopped, r.cfg.Clock, r.flushForwards)
}

// flushForwards sends the queued forwards to the leader of the moment and
// reports whether some were held back.
func (r *Replica) flushForwards() (held bool) {
	if r.fwd.pending() == 0 {
		return false
	}
	leader := r.leader()
	held, dropped, err := r.fwd.flush(r.cfg.SelfID, leader, r.net.Send)
	if dropped > 0 {
		d := r.forwardDrops.Add(uint64(dropped))
		r.log.Warn("forwarded transactions not sent to the leader; they stay pooled", "to", leader,
			"transactions", dropped, "drops", d, "err", err)
	}
	return held
}

// run calls flush until stopped is closed: when a frame's worth is
// queued, or d of clock after the first forward was queued (forwardDelay);
// while flush reports forwards held back, again every forwardRetry. It
// sleeps while the queue is empty.
func (f *forwarder) run(stopped <-chan struct{}, clock Clock, flush func() (held bool)) {
	sleep := func(d time.Duration, early <-chan struct{}) bool {
		tick, stop := clock.NewTicker(d)
		defer stop()
		select {
		case <-stopped:
			return false
		case <-tick:
		case <-early:
		}
		return true
	}
	for {
		select {
		case <-stopped:
			return
		case <-f.wake:
		}
		for held := false; ; {
			if held {
				if !sleep(forwardRetry, nil) {
					return
				}
			} else {
				select { // a signal left from a frame already sent
				case <-f.full:
				default:
				}
				if !f.ready() && !sleep(forwardDelay, f.full) {
					return
				}
			}
			if held = flush(); !held {
				break
			}
		}
	}
}

// flush sends every queued forward to leader, a frame at a time (a lone
// transaction as a frameRequest), through send. It reports whether some
// were held back (put back at the front of the queue): no leader is known
// (0), or send found the leader's queue full (then push refuses until a
// frame goes out). Forwards are dropped when self leads (its own pool
// holds them: Submit pools a transaction after queueing its forward), and
// those of a frame send refuses for another reason (dropped counts them,
// err is the last such refusal; the pool forwards them again).
func (f *forwarder) flush(self, leader uint64, send func(to uint64, frame []byte) error) (held bool, dropped int, err error) {
	txs := f.takeAll()
	switch {
	case len(txs) == 0 || leader == self:
		return false, 0, nil
	case leader == 0:
		f.putBack(txs, false)
		return true, 0, nil
	}
	for len(txs) > 0 {
		n := cutFrame(txs)
		var frame []byte
		if n == 1 {
			frame = append([]byte{frameRequest}, txs[0]...)
		} else {
			frame = encodeRequests(txs[:n])
		}
		switch e := send(leader, frame); {
		case e == nil:
		case errors.Is(e, transport.ErrQueueFull):
			f.putBack(txs, true)
			return true, dropped, err
		default:
			dropped += n
			err = fmt.Errorf("consensus: forward %d transactions to leader %d: %w", n, leader, e)
		}
		txs = txs[n:]
	}
	return false, dropped, err
}

// handleRequests takes a batch of transactions peer from forwarded: as
// the leader, their new signatures are verified in one batch first (the
// cache then answers VerifyRequest); a transaction that fails is refused
// alone, by VerifyRequest, as a single forward would be.
func (r *Replica) handleRequests(from uint64, body []byte) {
	txs, err := decodeRequests(body, int(r.cfg.Genesis.Params.RequestMaxBytes))
	if err != nil {
		r.log.Warn("dropping a malformed batch of forwarded requests", "from", from, "bytes", len(body), "err", err)
		return
	}
	var hashes []block.Hash
	if r.leader() == r.cfg.SelfID {
		// One worker: a batch of at most maxForwardBatch (≤ maxSigBatch)
		// is one chunk, so every transaction is checked whatever fails;
		// the peers' links run in parallel already.
		_, hashes, _, _ = r.cfg.TxCache.CheckAll(r.params, txs, 1)
	}
	for i, raw := range txs {
		var h block.Hash
		if hashes != nil {
			h = hashes[i]
		} else {
			h = block.Sum(raw)
		}
		r.handleRequest(from, raw, h)
	}
}
