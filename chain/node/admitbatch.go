package node

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trialchain/trialchain/chain/block"
)

// Admission batching. A transaction a client submits (POST /v1/tx) is
// checked by state.CheckTx before anything else; its ed25519 signature
// costs about 2.5 times more verified alone than in a batch
// (block.VerifySignatures). sigBatcher verifies together the transactions
// of the requests that reach admission at about the same time:
//
//   - There is no goroutine of its own. The request that finds nobody
//     checking becomes the combiner: it checks the batch at the head of
//     the queue, its own transaction first among them, answers the others,
//     and hands the next batch (if any is waiting) to the request at its
//     head, which does the same. Every request is answered by a goroutine
//     the HTTP server owns and waits for (Node.Stop), and a request never
//     waits for more than the batch before its own and its own batch.
//   - Before it checks, the combiner may wait for more, at most
//     batchWindow in all and no longer once maxAdmitBatch are queued:
//     while requests already in the handler are still reading their
//     bodies ("coming"), and, if its request came while others were
//     arriving (less than batchIdle after the one before), until none has
//     queued for batchQuiet. A request that finds nobody coming after an
//     idle batchIdle does not wait: on a quiet node a lone request costs
//     what it did before (a batch of one is a single verification). Under
//     load (a validator of a 4-node bench receives some 600 requests a
//     second, in bursts: the clients answered by a commit submit again at
//     once) batches hold 5 to 10 signatures on average.
//   - Each transaction gets exactly the answer state.CheckTx gives it
//     alone (state.TxCache.CheckEach): a failing batch is verified again
//     one signature at a time. Those that pass are remembered in the
//     node's TxCache, as before.
type sigBatcher struct {
	// check returns each transaction's CheckTx result
	// (state.TxCache.CheckEach with the node's Params).
	check func(raws [][]byte, hashes []block.Hash) ([]*block.Tx, []error)
	epoch time.Time // of now
	// window bounds a combiner's wait for the coming requests
	// (batchWindow; tests set others).
	window time.Duration
	quiet  time.Duration // batchQuiet (tests set others)

	coming atomic.Int64  // requests in handleSubmit not yet queued
	last   atomic.Int64  // when the last request queued (ns since epoch)
	kick   chan struct{} // (1) the combiner may stop waiting

	mu    sync.Mutex
	queue []*admitReq // oldest first
	busy  bool        // a combiner runs; false implies an empty queue
}

// The admission batch's bounds: a combiner waits at most batchWindow for
// more requests (small beside a block interval, which a submitted
// transaction waits anyway), only if the traffic was not idle for
// batchIdle, and stops once none has come for batchQuiet; it checks at
// most maxAdmitBatch at once (past it the saving per signature barely
// grows, while the wait of the batch's first request does).
const (
	batchWindow   = time.Millisecond
	batchQuiet    = 500 * time.Microsecond
	batchIdle     = 10 * time.Millisecond
	maxAdmitBatch = 128
)

type admitReq struct {
	raw   []byte
	h     block.Hash
	burst bool // another request queued less than batchIdle before it
	tx    *block.Tx
	err   error
	// done receives true when the request is answered (tx, err set), or
	// false when it is to combine the batch it heads.
	done chan bool
}

func newSigBatcher(check func(raws [][]byte, hashes []block.Hash) ([]*block.Tx, []error)) *sigBatcher {
	b := &sigBatcher{check: check, window: batchWindow, quiet: batchQuiet, kick: make(chan struct{}, 1), epoch: time.Now()}
	b.last.Store(-int64(batchIdle)) // no burst before the first request
	return b
}

// arrive counts a request that will call checkTx (after reading its
// body); it must call the returned function once, at the latest when it
// queues, or when it gives up before.
func (b *sigBatcher) arrive() (leave func()) {
	b.coming.Add(1)
	var once sync.Once
	return func() { once.Do(b.leave) }
}

func (b *sigBatcher) leave() {
	if b.coming.Add(-1) == 0 {
		b.wake()
	}
}

func (b *sigBatcher) wake() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// checkTx returns state.CheckTx's result for raw, h = block.Sum(raw),
// checked in a batch with the requests queued at about the same time.
// leave, if not nil, is the request's arrive result, called once it is
// queued.
func (b *sigBatcher) checkTx(raw []byte, h block.Hash, leave func()) (*block.Tx, error) {
	r := &admitReq{raw: raw, h: h, done: make(chan bool, 1)}
	now := b.now()
	r.burst = now-b.last.Swap(now) < int64(batchIdle)
	b.mu.Lock()
	b.queue = append(b.queue, r)
	full := len(b.queue) >= maxAdmitBatch
	combine := !b.busy
	b.busy = true
	b.mu.Unlock()
	if leave != nil {
		leave()
	}
	if full {
		b.wake()
	}
	if !combine && <-r.done {
		return r.tx, r.err
	}
	b.combine(r)
	return r.tx, r.err
}

// combine checks the batch at the head of the queue, which self heads,
// answers its requests and hands the next batch to its head.
func (b *sigBatcher) combine(self *admitReq) {
	b.waitComing(self)
	b.mu.Lock()
	k := min(len(b.queue), maxAdmitBatch)
	batch := make([]*admitReq, k)
	copy(batch, b.queue)
	rest := copy(b.queue, b.queue[k:])
	clear(b.queue[rest:]) // no pointers kept to answered requests
	b.queue = b.queue[:rest]
	b.mu.Unlock()
	if batch[0] != self {
		panic("node: admission batch not headed by its combiner")
	}

	answered := false
	defer func() {
		if !answered { // check panicked: no request of the batch or after it may wait forever
			for _, r := range batch {
				if r != self {
					r.tx, r.err = nil, errAdmitCheckFailed
					r.done <- true
				}
			}
		}
		b.handOff()
	}()
	raws, hashes := make([][]byte, k), make([]block.Hash, k)
	for i, r := range batch {
		raws[i], hashes[i] = r.raw, r.h
	}
	txs, errs := b.check(raws, hashes)
	for i, r := range batch {
		r.tx, r.err = txs[i], errs[i]
		if r != self {
			r.done <- true
		}
	}
	answered = true
}

// errAdmitCheckFailed answers the requests of a batch whose check
// panicked (a bug; the combiner's own request carries the panic): 503.
var errAdmitCheckFailed = errors.New("node: admission check failed; try again")

// handOff ends a combiner's turn: the request at the head of the queue
// combines the next batch, or nobody if none waits.
func (b *sigBatcher) handOff() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		b.busy = false
	} else {
		b.queue[0].done <- false
	}
}

// waitComing waits, at most b.window, until the batch headed by self is
// full, or no request is coming and (if self came in a burst) none has
// queued for batchQuiet.
func (b *sigBatcher) waitComing(self *admitReq) {
	var timer *time.Timer
	deadline := b.now() + int64(b.window)
	for {
		b.mu.Lock()
		n := len(b.queue)
		b.mu.Unlock()
		if n >= maxAdmitBatch {
			return
		}
		now := b.now()
		wait := deadline - now
		if b.coming.Load() == 0 {
			if !self.burst {
				return
			}
			wait = min(wait, b.last.Load()+int64(b.quiet)-now)
		}
		if wait <= 0 {
			return
		}
		if timer == nil {
			timer = time.NewTimer(time.Duration(wait))
			defer timer.Stop()
		} else {
			timer.Reset(time.Duration(wait))
		}
		select {
		case <-b.kick:
		case <-timer.C:
		}
	}
}

// now is the monotonic clock in nanoseconds.
func (b *sigBatcher) now() int64 { return int64(time.Since(b.epoch)) }
