package consensus

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bft "github.com/hyperledger-labs/SmartBFT/pkg/types"
	"github.com/hyperledger-labs/SmartBFT/pkg/wal"
	protos "github.com/hyperledger-labs/SmartBFT/smartbftprotos"
	"google.golang.org/protobuf/proto"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
	"github.com/trialchain/trialchain/transport"
)

// Ledger is what the replica needs from the node's ledger
// (chain/ledger.Ledger provides it): the committed head and blocks, the
// committed state for admission, and Commit, which executes the next
// block and stores it durably before it returns.
type Ledger interface {
	Head() store.Head
	Block(height uint64) (*block.Committed, error)
	BlockRaw(height uint64) ([]byte, error)
	State() state.Reader
	Commit(c *block.Committed) (bool, error)
}

// Clock is the replica's source of time: proposal timestamps and the
// ticks that drive SmartBFT's heartbeat, view-change and resend timers.
// WallClock is the default; an in-process cluster injects a virtual one.
type Clock interface {
	Now() time.Time
	// NewTicker delivers the clock's time about every d (dropping ticks
	// the reader is not ready for, like time.Ticker) until stop is called.
	NewTicker(d time.Duration) (c <-chan time.Time, stop func())
}

// WallClock is the real clock.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// NewTicker wraps time.NewTicker.
func (WallClock) NewTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Network is what the replica needs from the transport (transport.Mesh and
// transport/memnet provide it).
type Network interface {
	// Send queues frame for peer to; it never blocks.
	Send(to uint64, frame []byte) error
	// Request sends req to peer to and waits for its reply.
	Request(ctx context.Context, to uint64, req []byte) ([]byte, error)
}

// Frame types on the validator mesh.
const (
	frameConsensus = 1 // a SmartBFT protocol message (protobuf)
	frameRequest   = 2 // a client transaction forwarded to the leader
	// frameRequests (3), a batch of them, is in forward.go.
)

// Config configures a Replica.
type Config struct {
	SelfID  uint64
	Key     ed25519.PrivateKey
	Genesis *genesis.Genesis
	Ledger  Ledger
	WALDir  string
	Logger  *slog.Logger
	// Clock stamps and checks proposal times and drives SmartBFT's
	// timers (default WallClock).
	Clock Clock
	// Tick is the period of SmartBFT's timer ticks (default 50ms).
	Tick time.Duration
	// Fault makes this replica a Byzantine test double (fault-injection
	// tests only; "" in production): FaultWrongParent proposes blocks whose
	// header names a wrong parent hash, which honest followers refuse;
	// FaultEquivocate, as leader, sends peers with an even id another
	// proposal for the same sequence than the others (its header time one
	// millisecond later, so another block hash); FaultWithholdVotes never
	// sends its prepare and commit votes.
	Fault string
	// Precompile, if set, is told of every deploy and upgrade the replica
	// sees (a forwarded request, a proposal it assembles or verifies) so
	// the node can compile the code in the background before the block
	// that runs it. It must return at once.
	Precompile func(tx *block.Tx)
	// PoolMaxBytes bounds the bytes of pending transactions in the request
	// pool (default DefaultPoolMaxBytes); genesis's RequestPoolSize bounds
	// their count. Submit refuses with ErrBusy past either bound.
	PoolMaxBytes int64
	// MaxPendingAge: Submit refuses with ErrBusy while the oldest pending
	// transaction here has waited longer (0: half the genesis's
	// request_complain_timeout, well before followers complain about the
	// leader for it; negative: no age bound, for in-process clusters on a
	// virtual clock that runs ahead of the work).
	MaxPendingAge time.Duration
	// SetChanges returns the validator-set changes block c carried, in
	// order (nil for none); they are in force from the next block. It
	// must be a deterministic function of the committed chain. nil keeps
	// the genesis set for good.
	SetChanges func(c *block.Committed) []genesis.Change
	// OnSet, if set, is told of every new validator set as it comes in
	// force (before SmartBFT restarts with it): the node admits the new
	// validators' pinned keys on the mesh. It must return at once.
	OnSet func(s *genesis.Set)
	// TxCache remembers the transactions this node has verified (shared
	// with the node's API admission and its executor), so a transaction
	// is signature-checked once per node. nil: a private cache of the
	// default size.
	TxCache *state.TxCache
}

// Byzantine behaviours a replica can be told to show (Config.Fault).
const (
	FaultWrongParent   = "wrong-parent"
	FaultEquivocate    = "equivocate"
	FaultWithholdVotes = "withhold-votes"
)

// Replica is one validator's consensus: the SmartBFT instance and our
// implementations of its plug points (Comm, Assembler, Verifier, Signer,
// RequestInspector, Synchronizer, Application). It owns the goroutines it
// starts; Stop ends them.
type Replica struct {
	cfg    Config
	net    Network
	log    *slog.Logger
	params state.Params
	// sets is the validator sets by height, walked from the genesis; every
	// certificate, proposer and consensus signature is checked against the
	// set in force at its height. walked is the last block whose changes
	// sets holds. Guarded by setMu.
	setMu  sync.RWMutex
	sets   *genesis.History
	walked uint64
	// synced records that a catch-up brought a set change (Sync reports
	// it to SmartBFT); guarded by syncMu.
	syncedChange bool
	// wd holds the running SmartBFT instance (cons) and restarts it when
	// it is stuck (watchdog.go).
	wd      watchdog
	wal     *wal.WriteAheadLogFile
	stopped chan struct{}
	running atomic.Bool
	tickers []func()
	removal chan bft.RequestInfo
	wg      sync.WaitGroup
	syncMu  sync.Mutex
	view    atomic.Uint64
	resend  resender
	// fruitless counts catch-ups in a row that found nothing (noteSync);
	// guarded by syncMu.
	fruitless      int
	fruitlessSince time.Time
	// pool accounts the request pool's bytes (SmartBFT counts requests only).
	pool poolBytes
	// committed remembers the last committed request ids (see recentIDs).
	committed recentIDs
	// forwardDrops counts transactions that could not be forwarded to the
	// leader: the pool's timers' forwards the transport refused (its send
	// queue full), and Submit's queued forwards it refused for another
	// reason than a full queue (forward.go); the pool forwards them again.
	forwardDrops atomic.Uint64
	// fwd queues Submit's forwards to the leader; forwardLoop sends them
	// in batches (forward.go).
	fwd forwarder
	// spec holds the last verified proposal for speculateLoop to execute
	// ahead of its decision (speculate.go).
	spec chan *block.Block
	// reconfiguring keeps our calls of SmartBFT's GetLeaderID away from
	// its reconfiguration: v1.0.1 reads its controller there without the
	// lock its reconfiguration holds while it replaces the controller (a
	// data race, seen under -race). It is set by the Deliver or Sync that
	// hands SmartBFT a Reconfig, before SmartBFT starts reconfiguring, and
	// cleared by the next Deliver, which the new controller makes;
	// meanwhile leader() computes the leader from the view and the set in
	// force (exact without leader rotation). An atomic, not a lock: a lock
	// held across GetLeaderID (which takes the controller's locks) and
	// taken in Deliver (which the controller calls) wedged a replica.
	reconfiguring atomic.Bool
}

// leader is SmartBFT's current leader (0 if unknown), kept away from a
// reconfiguration (see reconfiguring).
func (r *Replica) leader() uint64 {
	if !r.reconfiguring.Load() {
		return r.cons().GetLeaderID()
	}
	s := r.currentSet()
	if _, ok := s.Validator(r.cfg.SelfID); !ok {
		return 0 // removed: our instance shuts down
	}
	return leaderOf(s, r.view.Load())
}

// leaderOf is the leader of view under set s without leader rotation
// (SmartBFT's choice: the set's ids in order, one view each).
func leaderOf(s *genesis.Set, view uint64) uint64 {
	ids := s.IDs()
	return ids[view%uint64(len(ids))]
}

// setReconfiguring marks whether SmartBFT is (about to be) reconfiguring.
func (r *Replica) setReconfiguring(on bool) { r.reconfiguring.Store(on) }

// New prepares a replica; Start runs it.
func New(cfg Config, net Network) (*Replica, error) {
	if cfg.Clock == nil {
		cfg.Clock = WallClock{}
	}
	if cfg.Tick == 0 {
		cfg.Tick = 50 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	switch cfg.Fault {
	case "", FaultWrongParent, FaultEquivocate, FaultWithholdVotes:
	default:
		return nil, fmt.Errorf("consensus: unknown fault %q (known: %s, %s, %s)", cfg.Fault, FaultWrongParent, FaultEquivocate, FaultWithholdVotes)
	}
	// A validator added after the genesis (SetChanges) is checked when
	// it starts, once it has walked the chain to its joining.
	if v, ok := cfg.Genesis.Validator(cfg.SelfID); !ok && cfg.SetChanges == nil {
		return nil, fmt.Errorf("consensus: node id %d is not a validator in genesis", cfg.SelfID)
	} else if ok && !ed25519.PublicKey(v.Key).Equal(cfg.Key.Public()) {
		return nil, fmt.Errorf("consensus: node key does not match validator %d's key in genesis", cfg.SelfID)
	}
	if cfg.TxCache == nil {
		cfg.TxCache = state.NewTxCache(ledger.Params(cfg.Genesis), state.DefaultTxCacheCount, state.DefaultTxCacheBytes)
	}
	if cfg.PoolMaxBytes <= 0 {
		cfg.PoolMaxBytes = DefaultPoolMaxBytes
	}
	if min := int64(cfg.Genesis.Params.RequestMaxBytes); cfg.PoolMaxBytes < min {
		cfg.PoolMaxBytes = min // the pool must hold at least one maximal transaction
	}
	p := cfg.Genesis.Params
	// A pooled transaction SmartBFT drops unseen by us (auto-remove after
	// its forward and complain timeouts) stops counting after maxAge.
	maxAge := time.Duration(p.RequestForwardTimeout+p.RequestComplainTimeout+p.RequestAutoRemoveTimeout) + time.Minute
	return &Replica{cfg: cfg, net: net, log: cfg.Logger.With("node", cfg.SelfID),
		params: ledger.Params(cfg.Genesis), sets: genesis.NewHistory(cfg.Genesis),
		stopped: make(chan struct{}), removal: make(chan bft.RequestInfo, 4096),
		pool: poolBytes{max: cfg.PoolMaxBytes, maxAge: maxAge}, fwd: newForwarder(), spec: make(chan *block.Block, 1)}, nil
}

// Start opens the WAL and starts SmartBFT from the last stored block. A
// validator added after the genesis first catches up to the block that
// added it; Start fails if the chain its peers have does not (yet) hold
// it as a validator.
func (r *Replica) Start() error {
	if err := r.walkSets(); err != nil {
		return err
	}
	if _, ok := r.currentSet().Validator(r.cfg.SelfID); !ok {
		// Catch up in rounds while they make progress (a long chain takes
		// more than one round) until the set in force holds us.
		for first := true; ; first = false {
			before := r.cfg.Ledger.Head().Height
			ctx, cancel := context.WithTimeout(context.Background(), syncRoundTimeout)
			if first {
				r.waitLinks(ctx, linkWait)
			}
			r.syncBlocks(ctx, 0)
			cancel()
			if _, ok := r.currentSet().Validator(r.cfg.SelfID); ok || r.cfg.Ledger.Head().Height == before {
				break
			}
		}
		r.syncMu.Lock()
		r.syncedChange = false // SmartBFT starts with the set in force
		r.syncMu.Unlock()
	}
	s := r.currentSet()
	v, ok := s.Validator(r.cfg.SelfID)
	if !ok {
		return fmt.Errorf("consensus: node id %d is not a validator after block %d", r.cfg.SelfID, r.cfg.Ledger.Head().Height)
	}
	if !ed25519.PublicKey(v.Key).Equal(r.cfg.Key.Public()) {
		return fmt.Errorf("consensus: node key does not match validator %d's key in the set in force", r.cfg.SelfID)
	}
	sched, vct, resendTicks := make(chan time.Time, 1), make(chan time.Time, 1), make(chan time.Time, 1)
	c, w, err := r.newInstance(0, sched, vct)
	if err != nil {
		return err
	}
	r.wal = w
	r.wd.cur.Store(c)
	r.wd.ticks = make(chan time.Time, 1)
	// One ticker drives SmartBFT's two tick channels, the resend loop and
	// the watchdog, with the time the process was paused taken out (pause.go).
	raw, stopTicks := r.cfg.Clock.NewTicker(r.cfg.Tick)
	r.tickers = []func(){stopTicks}
	r.wg.Add(1)
	go r.fanTicks(raw, sched, vct, resendTicks, r.wd.ticks)
	if err := c.Start(); err != nil {
		close(r.stopped)
		stopTicks()
		r.wg.Wait()
		w.Close()
		return fmt.Errorf("consensus: start: %w", err)
	}
	r.running.Store(true)
	r.wg.Add(4)
	go r.removeLoop()
	go r.forwardLoop()
	go r.resendLoop(resendTicks)
	go r.watchLoop(sched, vct)
	if s, ok := r.cfg.Ledger.(Speculator); ok {
		r.wg.Add(1)
		go r.speculateLoop(s)
	}
	return nil
}

func (r *Replica) bftConfig() bft.Configuration {
	p := r.cfg.Genesis.Params
	c := bft.DefaultConfig
	c.SelfID = r.cfg.SelfID
	c.RequestBatchMaxCount = p.BatchMaxCount
	c.RequestBatchMaxBytes = p.BatchMaxBytes
	c.RequestBatchMaxInterval = time.Duration(p.BatchMaxInterval)
	c.RequestPoolSize = p.RequestPoolSize
	c.RequestForwardTimeout = time.Duration(p.RequestForwardTimeout)
	c.RequestComplainTimeout = time.Duration(p.RequestComplainTimeout)
	c.RequestAutoRemoveTimeout = time.Duration(p.RequestAutoRemoveTimeout)
	c.ViewChangeResendInterval = time.Duration(p.ViewChangeResendInterval)
	c.ViewChangeTimeout = time.Duration(p.ViewChangeTimeout)
	c.LeaderHeartbeatTimeout = time.Duration(p.LeaderHeartbeatTimeout)
	c.LeaderHeartbeatCount = p.LeaderHeartbeatCount
	c.CollectTimeout = time.Duration(p.CollectTimeout)
	c.RequestMaxBytes = p.RequestMaxBytes
	c.LeaderRotation = p.DecisionsPerLeader > 0
	c.DecisionsPerLeader = p.DecisionsPerLeader
	c.SyncOnStart = true
	c.IncomingMessageBufferSize = 2000
	c.RequestPoolSubmitTimeout = time.Second
	return c
}

// Stop stops SmartBFT and every goroutine the replica started.
func (r *Replica) Stop() {
	if !r.running.Swap(false) {
		return
	}
	close(r.stopped)
	r.wd.restartMu.Lock() // no restart after this: cons() is the last instance
	defer r.wd.restartMu.Unlock()
	r.cons().Stop()
	for _, stop := range r.tickers {
		stop()
	}
	r.wg.Wait()
	r.wal.Close()
}

// Submit hands a client transaction (already admitted by the caller) to
// consensus: to the leader (queued, and sent within forwardDelay in a
// batch with others: forward.go; so it need not wait for the pool's
// forward timeout), then into the local request pool, whose timers forward
// it again and complain if the leader does not order it.
//
// Submit refuses with ErrBusy, at once and keeping nothing, when the pool
// is full (by count or bytes), the link to the leader is saturated (its
// send queue was full) or the forward queue is at its bound: a client told
// "accepted" must not depend on a forward that could not be queued. The
// forward goes first because a pooled request cannot be withdrawn (SmartBFT
// remembers removed requests and would refuse the client's retry). The
// pool and the forward queue keep raw: the caller must not modify it.
func (r *Replica) Submit(raw []byte) error {
	if !r.running.Load() {
		return errors.New("consensus: not running")
	}
	if size := r.cons().Pool.Size(); uint64(size) >= r.cfg.Genesis.Params.RequestPoolSize {
		return fmt.Errorf("%w: request pool holds %d transactions (limit %d); try again shortly",
			ErrBusy, size, r.cfg.Genesis.Params.RequestPoolSize)
	}
	if err := r.checkBacklog(len(raw)); err != nil {
		return err
	}
	info := r.RequestID(raw)
	added, err := r.pool.reserve(info.ID, len(raw), r.cfg.Clock.Now())
	if err != nil {
		return err
	}
	if leader := r.leader(); leader != 0 && leader != r.cfg.SelfID {
		if err := r.fwd.push(raw); err != nil {
			if added {
				r.pool.release(info.ID)
			}
			return fmt.Errorf("%w: forward to leader %d: %w; try again shortly", ErrBusy, leader, err)
		}
	}
	if err := r.cons().SubmitRequest(raw); err != nil {
		if alreadyPooled(err) {
			// The leader ordered the forwarded copy before the local pool
			// took it (its block removed it), or a peer's copy is pooled.
			return nil
		}
		if added {
			r.pool.release(info.ID)
		}
		if poolClosed(err) {
			// The watchdog is replacing this node's SmartBFT instance
			// (watchdog.go): the client may retry here in a moment.
			return fmt.Errorf("%w: consensus is restarting on this node; try again shortly (the transaction was already sent to the leader and may still commit)", ErrBusy)
		}
		return fmt.Errorf("consensus: submit (it was already sent to the leader and may still commit; ask for its receipt): %w", err)
	}
	if tx, ok := r.cfg.TxCache.Lookup(block.Sum(raw)); ok {
		r.precompile(tx) // admitted by the caller through the same cache
	} else if tx, err := block.DecodeTx(raw); err == nil {
		r.precompile(tx)
	}
	return nil
}

// checkBacklog refuses with ErrBusy a transaction of size bytes while
// this replica's pending transactions (its clients' and, on the leader,
// those its peers forwarded) are more than the network commits well
// within the request timeouts of the genesis: a block's worth
// (batch_max_count transactions or batch_max_bytes bytes), or an oldest
// pending transaction that has waited longer than MaxPendingAge (the
// network is not keeping up). Past those, a flood of admissions (the
// request pool alone takes 20,000 transactions or 64 MiB) left requests
// pending until followers complained about a live leader, and the view
// changes that followed stalled the network (issue 15). A transaction
// pending longer than the forward and complain timeouts is left out of
// the age: a view change, not admission, deals with it (and one SmartBFT
// dropped unseen must not hold admission back).
func (r *Replica) checkBacklog(size int) error {
	p := r.cfg.Genesis.Params
	n, b := r.pool.pending()
	switch {
	case uint64(n) >= p.BatchMaxCount:
		return fmt.Errorf("%w: %d transactions pending here, a block's worth (batch_max_count); try again shortly", ErrBusy, n)
	case b > 0 && uint64(b)+uint64(size) > p.BatchMaxBytes:
		return fmt.Errorf("%w: %d bytes of transactions pending here, a block's worth with this one's %d (batch_max_bytes %d); try again shortly",
			ErrBusy, b, size, p.BatchMaxBytes)
	}
	limit := r.cfg.MaxPendingAge
	if limit == 0 {
		limit = time.Duration(p.RequestComplainTimeout) / 2
	}
	if limit < 0 {
		return nil
	}
	if age := r.pool.oldest(r.cfg.Clock.Now(), time.Duration(p.RequestForwardTimeout+p.RequestComplainTimeout)); age > limit {
		return fmt.Errorf("%w: the oldest pending transaction here has waited %v (limit %v): the network is behind; try again shortly",
			ErrBusy, age.Round(time.Millisecond), limit)
	}
	return nil
}

// alreadyPooled reports SmartBFT's refusals of a request it holds or has
// just removed as ordered (ErrReqAlreadyExists and ErrReqAlreadyProcessed
// of its internal request pool, which cannot be imported; matched by text).
func alreadyPooled(err error) bool {
	s := err.Error()
	return s == "request already exists" || s == "request already processed"
}

// poolClosed reports SmartBFT's refusals by a stopped instance: its
// request pool's "pool closed, request rejected: …" and SubmitRequest's
// "no leader" (GetLeaderID is 0 while the instance is not running);
// matched by text as above.
func poolClosed(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "pool closed") || s == "no leader"
}

// PoolBytes returns the bytes of pending transactions the replica accounts
// in its request pool, and how many transactions could not be forwarded
// to the leader (see forwardDrops) since start.
func (r *Replica) PoolBytes() (bytes int64, forwardDrops uint64) {
	return r.pool.bytes(), r.forwardDrops.Load()
}

// Leader returns the current leader's id (0 if unknown) and the view.
func (r *Replica) Leader() (uint64, uint64) {
	if !r.running.Load() {
		return 0, r.view.Load()
	}
	return r.leader(), r.view.Load()
}

// HandleFrame dispatches a frame received from a peer on the mesh.
func (r *Replica) HandleFrame(from uint64, frame []byte) {
	if !r.running.Load() || len(frame) == 0 {
		return
	}
	switch frame[0] {
	case frameConsensus:
		m := &protos.Message{}
		if err := proto.Unmarshal(frame[1:], m); err != nil {
			r.log.Warn("dropping malformed consensus message", "from", from, "err", err)
			return
		}
		r.cons().HandleMessage(from, m)
	case frameRequest:
		r.handleRequest(from, frame[1:], block.Sum(frame[1:]))
	case frameRequests:
		r.handleRequests(from, frame[1:])
	default:
		r.log.Warn("dropping frame of unknown type", "from", from, "type", frame[0])
	}
}

// handleRequest takes a transaction peer from forwarded, of hash h. A peer's
// transaction is always taken (refusing it here would stall it until a
// view change); its bytes count against this node's own admissions. Each
// peer bounds what it admits, so the pool holds at most a few times
// PoolMaxBytes.
func (r *Replica) handleRequest(from uint64, raw []byte, h block.Hash) {
	if !r.committed.has(h) {
		r.pool.track(r.hashKey(h), len(raw), r.cfg.Clock.Now())
	}
	r.cons().HandleRequest(from, raw)
}

// removeLoop drops requests the assembler found invalid from the pool, so
// they do not make followers complain about the leader.
func (r *Replica) removeLoop() {
	defer r.wg.Done()
	for {
		select {
		case <-r.stopped:
			return
		case info := <-r.removal:
			r.pool.release(info.ID)
			if r.cons().Pool != nil {
				_ = r.cons().Pool.RemoveRequest(info)
			}
		}
	}
}

// --- Comm ---

// SendConsensus implements api.Comm.
func (r *Replica) SendConsensus(to uint64, m *protos.Message) {
	if m = r.byzantine(to, m); m == nil {
		return
	}
	b, err := proto.Marshal(m)
	if err != nil {
		r.log.Error("marshal consensus message", "err", err)
		return
	}
	frame := append([]byte{frameConsensus}, b...)
	r.resend.sent(r.cfg.Clock.Now(), to, m, frame)
	if err := r.net.Send(to, frame); err != nil {
		r.log.Debug("consensus message not sent", "to", to, "bytes", len(b), "err", err)
		if errors.Is(err, transport.ErrFrameTooLarge) {
			r.log.Error("consensus message over the frame cap: raise the transport's MaxFrameBytes", "to", to, "bytes", len(b))
		}
	}
}

// byzantine is what a Byzantine test double (Config.Fault) sends to peer
// to instead of m: nil for nothing. An honest replica sends m.
func (r *Replica) byzantine(to uint64, m *protos.Message) *protos.Message {
	switch r.cfg.Fault {
	case FaultWithholdVotes:
		if m.GetPrepare() != nil || m.GetCommit() != nil {
			return nil
		}
	case FaultEquivocate:
		pp := m.GetPrePrepare()
		if pp == nil || pp.Proposal == nil || to%2 != 0 {
			return m
		}
		h, err := block.DecodeHeader(pp.Proposal.Header)
		if err != nil {
			return m
		}
		h.TimeUnixMilli++
		other := proto.Clone(m).(*protos.Message)
		other.GetPrePrepare().Proposal.Header = h.Encode()
		return other
	}
	return m
}

// SendTransaction implements api.Comm.
// SmartBFT calls it when a pooled request's forward timeout expires; a
// frame that cannot be queued is counted and logged, and the request stays
// in the pool, whose next timeout complains about the leader (a view change
// then hands it to the next leader).
func (r *Replica) SendTransaction(to uint64, req []byte) {
	if err := r.net.Send(to, append([]byte{frameRequest}, req...)); err != nil {
		n := r.forwardDrops.Add(1)
		r.log.Warn("pooled transaction not forwarded to the leader; it stays pooled",
			"to", to, "bytes", len(req), "drops", n, "err", err)
	}
}

// Nodes implements api.Comm: the validators in force after the committed head.
func (r *Replica) Nodes() []uint64 { return r.currentSet().IDs() }

// currentSet is the validator set in force for the block after the committed head.
func (r *Replica) currentSet() *genesis.Set { return r.setAt(r.cfg.Ledger.Head().Height + 1) }

// setAt is the validator set in force at block height.
func (r *Replica) setAt(height uint64) *genesis.Set {
	r.setMu.RLock()
	defer r.setMu.RUnlock()
	return r.sets.At(height)
}

// verifyCertified checks c's header names the set in force at its height
// and a quorum of that set signed it.
func (r *Replica) verifyCertified(c *block.Committed) error {
	r.setMu.RLock()
	defer r.setMu.RUnlock()
	return r.sets.VerifyCertificate(c)
}

// walkSets applies the set changes of the blocks already stored (a
// restart) to the history.
func (r *Replica) walkSets() error {
	if r.cfg.SetChanges == nil {
		return nil
	}
	for h := r.walkedThrough() + 1; h <= r.cfg.Ledger.Head().Height; h++ {
		c, err := r.cfg.Ledger.Block(h)
		if err != nil {
			return fmt.Errorf("consensus: walk validator sets: block %d: %w", h, err)
		}
		r.applyChanges(c)
	}
	return nil
}

func (r *Replica) walkedThrough() uint64 {
	r.setMu.RLock()
	defer r.setMu.RUnlock()
	return r.walked
}

// applyChanges records the set changes committed block c carried, once
// per block, and reports whether the set changed. A change that does not
// fit the set in force is skipped (every replica skips it alike).
func (r *Replica) applyChanges(c *block.Committed) bool {
	if r.cfg.SetChanges == nil {
		return false
	}
	h := c.Block.Header.Height
	r.setMu.Lock()
	if h != r.walked+1 {
		r.setMu.Unlock()
		return false // already walked (Deliver after a catch-up), or out of order
	}
	r.walked = h
	changed := false
	for _, ch := range r.cfg.SetChanges(c) {
		if err := r.sets.Apply(ch, h); err != nil {
			r.log.Error("skipping a validator-set change", "height", h, "err", err)
			continue
		}
		changed = true
	}
	s := r.sets.Latest()
	r.setMu.Unlock()
	if changed {
		r.log.Info("validator set changes", "after", h, "validators", s.IDs(), "quorum", s.Quorum())
		if r.cfg.OnSet != nil {
			r.cfg.OnSet(s)
		}
	}
	return changed
}

// MembershipChange implements api.MembershipNotifier: the set changes only by reconfiguration.
func (r *Replica) MembershipChange() bool { return false }

// --- RequestInspector ---

// RequestID implements api.RequestInspector: the request id is the
// transaction hash, the client id its sender. SmartBFT calls it several
// times per request; a verified transaction's sender comes from the cache.
func (r *Replica) RequestID(raw []byte) bft.RequestInfo {
	return r.requestInfo(block.Sum(raw), raw, nil)
}

// requestInfo is RequestID for the transaction raw of hash h, or for the
// decoded tx (raw is then not read). A transaction in the TxCache gets
// the cache's strings, formatted once for all the times SmartBFT names it.
func (r *Replica) requestInfo(h block.Hash, raw []byte, tx *block.Tx) bft.RequestInfo {
	if id, sender, ok := r.cfg.TxCache.IDs(h); ok {
		return bft.RequestInfo{ID: id, ClientID: sender}
	}
	info := bft.RequestInfo{ID: hex.EncodeToString(h[:])}
	if tx == nil {
		if d, err := block.DecodeTx(raw); err == nil {
			tx = d
		}
	}
	if tx != nil {
		info.ClientID = hex.EncodeToString(tx.Sender)
	}
	return info
}

// requestKey is a request's id: its transaction hash in hex.
func requestKey(raw []byte) string {
	id := block.Sum(raw)
	return hex.EncodeToString(id[:])
}

// hashKey is the request id of the transaction of hash h (requestKey),
// the TxCache's string if it holds the transaction.
func (r *Replica) hashKey(h block.Hash) string {
	if id, _, ok := r.cfg.TxCache.IDs(h); ok {
		return id
	}
	return hex.EncodeToString(h[:])
}

// --- Assembler ---

// AssembleProposal implements api.Assembler: the header of the next block
// over the committed head, and the requests that pass admission in order.
func (r *Replica) AssembleProposal(metadata []byte, requests [][]byte) bft.Proposal {
	head := r.cfg.Ledger.Head()
	now := r.cfg.Clock.Now().UnixMilli()
	if floor := r.minTime(head.Height, head.TimeUnixMilli); now < floor {
		now = floor
	}
	// The block's time is chosen first: a request past its ValidUntil at
	// that time is left out (state.ErrExpired) and removed from the pool.
	batch := state.NewBatch(r.params, r.cfg.Ledger.State(), now)
	batch.Cache = r.cfg.TxCache // the pool's requests were verified when they came in
	txs := make([][]byte, 0, len(requests))
	for _, raw := range requests {
		if tx, err := batch.Add(raw); errors.Is(err, state.ErrBlockFull) {
			break // the rest stay in the pool for the next block
		} else if err == nil {
			r.precompile(tx)
		} else {
			r.log.Info("leaving transaction out of proposal", "tx", block.Sum(raw), "err", err)
			select {
			case r.removal <- r.RequestID(raw):
			default:
			}
			continue
		}
		txs = append(txs, raw)
	}
	h := block.Header{ChainID: r.cfg.Genesis.ChainID, Height: head.Height + 1, PrevHash: head.Hash,
		Proposer: r.cfg.SelfID, TimeUnixMilli: now, TxCount: uint64(len(txs)), TxRoot: block.TxRoot(txs),
		StateRoot: head.StateRoot, LogSize: head.Log.Size, LogRoot: head.Log.Root(), ValidatorsHash: r.setAt(head.Height + 1).Hash()}
	if r.cfg.Fault == FaultWrongParent {
		h.PrevHash = block.Sum(append([]byte("byzantine "), h.PrevHash[:]...))
	}
	// The leader never verifies its own proposal: it executes it here,
	// during the rounds, as followers do from VerifyProposal (speculate.go).
	r.speculate(&block.Block{Header: h, Txs: txs})
	return bft.Proposal{Header: h.Encode(), Payload: block.EncodeTxs(txs), Metadata: metadata}
}

// precompile hands a deploy or upgrade to Config.Precompile.
func (r *Replica) precompile(tx *block.Tx) {
	if r.cfg.Precompile != nil && (tx.Kind == block.KindDeploy || tx.Kind == block.KindUpgrade) {
		r.cfg.Precompile(tx)
	}
}

// --- Application ---

// Deliver implements api.Application: execute the block and store it with
// its certificate in one synced batch before returning.
func (r *Replica) Deliver(p bft.Proposal, sigs []bft.Signature) bft.Reconfig {
	r.setReconfiguring(false) // a decision of the (new) controller: SmartBFT's reconfiguration is over
	c, err := fromProposal(p, sigs)
	if err != nil {
		r.log.Error("cannot decode a decided proposal", "err", err)
		panic(fmt.Sprintf("consensus: decided proposal is undecodable: %v", err))
	}
	if md := (&protos.ViewMetadata{}); proto.Unmarshal(p.Metadata, md) == nil {
		r.view.Store(md.ViewId)
	}
	r.resend.decided(r.cfg.Clock.Now(), c.Block.Header.Height)
	for _, raw := range c.Block.Txs {
		h := block.Sum(raw)
		r.committed.add(h)
		r.pool.release(r.hashKey(h))
	}
	if _, err := r.commit(c); err != nil {
		// Behind (a gap): catch up, then retry once.
		r.syncBlocks(context.Background(), c.Block.Header.Height-1)
		if _, err2 := r.commit(c); err2 != nil {
			panic(fmt.Sprintf("consensus: cannot store decided block %d: %v", c.Block.Header.Height, err2))
		}
	}
	if r.applyChanges(c) {
		// At this block boundary SmartBFT restarts with the new set (a
		// removed validator's instance shuts itself down).
		r.setReconfiguring(true)
		return bft.Reconfig{InLatestDecision: true, CurrentNodes: r.currentSet().IDs(), CurrentConfig: r.bftConfig()}
	}
	return bft.Reconfig{}
}

func toProposal(c *block.Committed) (bft.Proposal, []bft.Signature) {
	p := bft.Proposal{Header: c.Block.Header.Encode(), Payload: block.EncodeTxs(c.Block.Txs),
		Metadata: c.Metadata, VerificationSequence: int64(c.VerSeq)}
	sigs := make([]bft.Signature, len(c.Cert.Sigs))
	for i, s := range c.Cert.Sigs {
		sigs[i] = bft.Signature{ID: s.Validator, Value: s.Sig, Msg: s.Msg}
	}
	return p, sigs
}

func fromProposal(p bft.Proposal, sigs []bft.Signature) (*block.Committed, error) {
	h, err := block.DecodeHeader(p.Header)
	if err != nil {
		return nil, err
	}
	txs, err := block.DecodeTxsShared(p.Payload) // shared like Metadata and the signatures below
	if err != nil {
		return nil, err
	}
	c := &block.Committed{Block: block.Block{Header: *h, Txs: txs}, Metadata: p.Metadata, VerSeq: uint64(p.VerificationSequence)}
	for _, s := range sigs {
		c.Cert.Sigs = append(c.Cert.Sigs, block.CommitSig{Validator: s.ID, Msg: s.Msg, Sig: s.Value})
	}
	return c, c.Block.CheckBody()
}
