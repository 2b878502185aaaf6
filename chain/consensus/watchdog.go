package consensus

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	smartbft "github.com/hyperledger-labs/SmartBFT/pkg/consensus"
	bft "github.com/hyperledger-labs/SmartBFT/pkg/types"
	"github.com/hyperledger-labs/SmartBFT/pkg/wal"
	protos "github.com/hyperledger-labs/SmartBFT/smartbftprotos"
	"google.golang.org/protobuf/proto"

	"github.com/trialchain/trialchain/chain/block"
)

// SmartBFT v1.0.1 can deadlock its controller: a view aborted while the
// controller delivers a decision leaves Controller.decide blocked on its
// deliver channel (fixed upstream after v1.0.1, PR #622). The replica
// then takes no further part until its process restarts. We do not fork
// SmartBFT; the watchdog below does in-process what a restart does:
//
//   - it notices that the committed height has not moved for stuckAfter
//     (longer than two view changes and a heartbeat timeout, so a healthy
//     replica has synced or changed views by then) while at least f+1
//     peers report a higher head (so at least one honest peer is ahead),
//     not counting the time this replica spends executing a block (a
//     Ledger.Commit in progress: that is not SmartBFT being stuck, see
//     executing);
//   - it fences the stuck SmartBFT instance: every plug point it calls
//     (Deliver, the WAL, Comm, the assembler and signer) carries the
//     instance's generation and does nothing once a newer one exists; the
//     fence is taken under a lock that in-flight Deliver and WAL appends
//     hold, so after it the old instance can neither commit, write its WAL,
//     nor send;
//   - it stops the old instance with a timeout (Stop may wait for the
//     deadlocked goroutine) and abandons what did not stop; abandoned
//     goroutines blocked in a fenced callback wait for the replica's Stop;
//   - it catches up from peers through the ordinary sync, reopens the same
//     WAL directory and starts a fresh instance from the last committed
//     block, exactly as a process restart would (RATIONALE.md argues why
//     keeping the WAL, not resetting it, is what keeps the replica from
//     signing twice for one sequence).

// stuckAfter is how long the committed height may stand still, while f+1
// peers are ahead, before the watchdog restarts SmartBFT.
func (r *Replica) stuckAfter() time.Duration {
	p := r.cfg.Genesis.Params
	return 2*time.Duration(p.ViewChangeTimeout) + time.Duration(p.LeaderHeartbeatTimeout)
}

// stopTimeout bounds the wait for a stuck instance's Stop.
const stopTimeout = 5 * time.Second

// watchdog is the replica's restart state.
type watchdog struct {
	cur atomic.Pointer[smartbft.Consensus]
	// gen is the generation of the running instance; a callback of an
	// older one is fenced. Changed under fence (write), read by fenced
	// callbacks under fence (read) for as long as they act.
	gen   atomic.Uint64
	fence sync.RWMutex
	// restartMu orders a restart against the replica's Stop.
	restartMu sync.Mutex
	restarts  atomic.Uint64
	// ticks carries fanTicks' (pause-adjusted) ticks to the watchdog loop.
	ticks chan time.Time
	// executing counts the Ledger.Commit calls in progress (Deliver's and
	// catch-up's). A block can take longer than stuckAfter to execute:
	// the first call of a new contract waits for its compilation, and the
	// 4.9 MB trial-protocol's took 15-25 s on the loaded 2-core test
	// machine. Peers that finished first are ahead, so a watchdog that
	// counted that time restarted a replica that was only executing (the
	// restart waits for the Deliver under way, then throws away a healthy
	// instance and its queued messages): clients got "consensus is
	// restarting" and the peers waited on the lost votes of the next
	// sequence until a view change. A restart cannot shorten an execution
	// either, so the watchdog counts stuck time from when none runs.
	executing atomic.Int32
	// deliverHook, if set (tests), runs at the start of every Deliver with
	// the calling instance's generation: a test blocks it to simulate the
	// deadlocked controller.
	deliverHook atomic.Pointer[func(gen uint64)]
}

// cons is the running SmartBFT instance (nil before Start).
func (r *Replica) cons() *smartbft.Consensus { return r.wd.cur.Load() }

// Restarts returns how many times the watchdog restarted SmartBFT.
func (r *Replica) Restarts() uint64 { return r.wd.restarts.Load() }

// gate is one generation's view of the replica: SmartBFT's plug points,
// fenced once a newer generation runs.
type gate struct {
	*Replica
	gen uint64
}

// stale waits, for a fenced instance, until the replica stops (its
// goroutine is abandoned) and reports true.
func (g gate) stale() bool {
	if g.wd.gen.Load() == g.gen {
		return false
	}
	<-g.stopped
	return true
}

// Deliver commits only for the running generation.
func (g gate) Deliver(p bft.Proposal, sigs []bft.Signature) bft.Reconfig {
	if h := g.wd.deliverHook.Load(); h != nil {
		(*h)(g.gen)
	}
	g.wd.fence.RLock()
	defer g.wd.fence.RUnlock()
	if g.wd.gen.Load() != g.gen {
		g.log.Warn("fenced: a replaced SmartBFT instance delivered a decision; dropped", "generation", g.gen)
		return bft.Reconfig{}
	}
	return g.Replica.Deliver(p, sigs)
}

// SendConsensus sends only for the running generation.
func (g gate) SendConsensus(to uint64, m *protos.Message) {
	if g.wd.gen.Load() != g.gen {
		return
	}
	g.Replica.SendConsensus(to, m)
}

// SendTransaction forwards only for the running generation.
func (g gate) SendTransaction(to uint64, req []byte) {
	if g.wd.gen.Load() != g.gen {
		return
	}
	g.Replica.SendTransaction(to, req)
}

// AssembleProposal blocks a fenced instance (its proposal could not be sent).
func (g gate) AssembleProposal(metadata []byte, requests [][]byte) bft.Proposal {
	g.stale()
	return g.Replica.AssembleProposal(metadata, requests)
}

// SignProposal: a fenced instance signs nothing.
func (g gate) SignProposal(p bft.Proposal, aux []byte) *bft.Signature {
	if g.stale() {
		return nil
	}
	return g.Replica.SignProposal(p, aux)
}

// fencedWAL appends for the running generation only; the fence's lock
// makes the fence wait for an append in progress.
type fencedWAL struct {
	g gate
	w *wal.WriteAheadLogFile
}

func (f fencedWAL) Append(entry []byte, truncateTo bool) error {
	f.g.wd.fence.RLock()
	if f.g.wd.gen.Load() != f.g.gen {
		f.g.wd.fence.RUnlock()
		f.g.stale()
		// The replica stopped. SmartBFT panics on a failed WAL append
		// (a process of the fenced instance would crash at shutdown), so
		// the abandoned goroutine ends here instead, running its defers.
		runtime.Goexit()
	}
	defer f.g.wd.fence.RUnlock()
	return f.w.Append(entry, truncateTo)
}

// walBufferBytes is the WAL's initial encoding buffer per record: a
// prepare or commit record fits, a proposal grows it once.
const walBufferBytes = 4 << 10

// newInstance opens the WAL and builds a SmartBFT instance of generation
// gen from the last committed block, fed by sched and vct.
func (r *Replica) newInstance(gen uint64, sched, vct chan time.Time) (*smartbft.Consensus, *wal.WriteAheadLogFile, error) {
	lg := &bftLogger{l: r.log}
	opts := wal.DefaultOptions()
	// The WAL allocates a buffer of BufferSizeBytes (default 1 MiB) for
	// each record it appends, whatever the record's size, a few per block:
	// under the anchors bench that was a third of a validator's allocated
	// bytes (GC work). Records outgrow a small buffer by one allocation of
	// their own size (protobuf sizes the message before encoding).
	opts.BufferSizeBytes = walBufferBytes
	w, entries, err := wal.InitializeAndReadAll(lg, filepath.Clean(r.cfg.WALDir), opts)
	if err != nil {
		return nil, nil, fmt.Errorf("consensus: WAL: %w", err)
	}
	md := &protos.ViewMetadata{}
	var lastProp bft.Proposal
	var lastSigs []bft.Signature
	head := r.cfg.Ledger.Head()
	if head.Height > 0 {
		c, err := r.cfg.Ledger.Block(head.Height)
		if err != nil {
			w.Close()
			return nil, nil, fmt.Errorf("consensus: last block: %w", err)
		}
		if err := proto.Unmarshal(c.Metadata, md); err != nil {
			w.Close()
			return nil, nil, fmt.Errorf("consensus: last block metadata: %w", err)
		}
		lastProp, lastSigs = toProposal(c)
		r.view.Store(md.ViewId)
	}
	g := gate{Replica: r, gen: gen}
	return &smartbft.Consensus{
		Config:             r.bftConfig(),
		Application:        g,
		Assembler:          g,
		WAL:                fencedWAL{g: g, w: w},
		WALInitialContent:  entries,
		Comm:               g,
		Signer:             g,
		Verifier:           g,
		MembershipNotifier: g,
		RequestInspector:   g,
		Synchronizer:       g,
		Logger:             lg,
		Metadata:           md,
		LastProposal:       lastProp,
		LastSignatures:     lastSigs,
		Scheduler:          sched,
		ViewChangerTicker:  vct,
	}, w, nil
}

// watchLoop restarts SmartBFT when the replica is stuck (see above). Its
// time is fanTicks' (pauses of the process taken out).
func (r *Replica) watchLoop(sched, vct chan time.Time) {
	defer r.wg.Done()
	after := r.stuckAfter()
	var height uint64
	var since time.Time
	for {
		var now time.Time
		select {
		case <-r.stopped:
			return
		case now = <-r.wd.ticks:
		}
		if h := r.cfg.Ledger.Head().Height; h != height || since.IsZero() || r.wd.executing.Load() > 0 {
			height, since = h, now
			continue
		}
		if now.Sub(since) < after {
			continue
		}
		since = now // at most one check per stuckAfter
		if _, ok := r.currentSet().Validator(r.cfg.SelfID); !ok {
			continue // removed from the set: no consensus to restart
		}
		ctx, cancel := context.WithTimeout(context.Background(), syncRoundTimeout)
		ahead := 0
		for _, ph := range r.heads(ctx) {
			if ph.err == nil && ph.height > height {
				ahead++
			}
		}
		cancel()
		s := r.currentSet()
		if f1 := len(s.IDs()) - s.Quorum() + 1; ahead < f1 {
			continue
		}
		r.log.Error("consensus stuck: no commit while peers are ahead; restarting SmartBFT in-process",
			"height", height, "stuck_for", r.stuckAfter(), "peers_ahead", ahead, "generation", r.wd.gen.Load())
		if err := r.restart(sched, vct); err != nil {
			r.log.Error("SmartBFT restart failed; retrying after the next stuck period", "err", err)
		}
	}
}

// restart fences the running instance, stops it (abandoning it after
// stopTimeout), catches up from peers and starts a fresh instance.
func (r *Replica) restart(sched, vct chan time.Time) error {
	r.wd.restartMu.Lock()
	defer r.wd.restartMu.Unlock()
	select {
	case <-r.stopped:
		return nil
	default:
	}
	old, oldWAL := r.cons(), r.wal
	r.wd.fence.Lock()
	gen := r.wd.gen.Add(1)
	r.wd.fence.Unlock()
	pending := drainPool(old)
	done := make(chan struct{})
	go func() { old.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		r.log.Warn("the stuck SmartBFT instance did not stop; abandoning its goroutines (fenced)", "generation", gen-1)
	}
	oldWAL.Close() // fenced: the old instance cannot append any more
	ctx, cancel := context.WithTimeout(context.Background(), syncRoundTimeout)
	go func() {
		select {
		case <-r.stopped: // the replica's Stop waits for this restart
			cancel()
		case <-ctx.Done():
		}
	}()
	r.syncBlocks(ctx, 0)
	cancel()
	c, w, err := r.newInstance(gen, sched, vct)
	if err != nil {
		return err
	}
	if err := c.Start(); err != nil {
		w.Close()
		return fmt.Errorf("consensus: restart generation %d: %w", gen, err)
	}
	r.wal = w
	r.wd.cur.Store(c)
	// The transactions the old pool held (admitted, some acknowledged to
	// clients) go into the new pool, less those committed meanwhile.
	kept := 0
	for _, raw := range pending {
		if _, err := r.VerifyRequest(raw); err != nil {
			r.pool.release(requestKey(raw))
			continue
		}
		if err := c.SubmitRequest(raw); err == nil || alreadyPooled(err) {
			kept++
		} else {
			r.pool.release(requestKey(raw))
			r.log.Warn("a pooled transaction could not be carried into the restarted instance", "tx", requestKey(raw), "err", err)
		}
	}
	n := r.wd.restarts.Add(1)
	r.log.Warn("SmartBFT restarted in-process", "generation", gen, "height", r.cfg.Ledger.Head().Height,
		"restarts", n, "pooled_carried", kept, "pooled_dropped", len(pending)-kept)
	return nil
}

// commit executes and stores c (Ledger.Commit), counted in executing
// meanwhile.
func (r *Replica) commit(c *block.Committed) (bool, error) {
	r.wd.executing.Add(1)
	defer r.wd.executing.Add(-1)
	return r.cfg.Ledger.Commit(c)
}

// drainPool returns the requests in c's pool (none if the pool does not
// answer within a second: it belongs to a stuck instance).
func drainPool(c *smartbft.Consensus) [][]byte {
	if c.Pool == nil {
		return nil
	}
	out := make(chan [][]byte, 1)
	go func() {
		reqs, _ := c.Pool.NextRequests(math.MaxInt32, math.MaxUint64, false)
		out <- reqs
	}()
	select {
	case reqs := <-out:
		return reqs
	case <-time.After(time.Second):
		return nil
	}
}
