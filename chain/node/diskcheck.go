package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consensus"
	"github.com/trialchain/trialchain/chain/doctor"
	"github.com/trialchain/trialchain/chain/store"
	"github.com/trialchain/trialchain/transport"
)

// A node checks its own disk (chain/doctor): the whole store — blocks,
// receipts, record log and state — when it is opened, before anything is
// served or executed on it, and its blocks, receipts and record log again
// every Config.DiskCheckInterval while it runs, paced by diskCheckPause.
//
// A store found damaged is never served: the API answers 503
// store_damaged to everything but /v1/status, which lists the damage; the
// node takes no part in consensus (a node executing blocks on altered
// state would diverge) and answers no peer's block request. It repairs
// itself (repairLoop): it rebuilds the chain from genesis into DATA/db.repair
// (doctor.Rebuild: its own blocks that verify, the others fetched from its
// peers over the mesh and checked against their certificates; a peer that
// sends a block that does not verify is refused and the next one asked),
// checks the result in full, and commits it (store.CommitRepair, one
// rename). Then Done is closed with ErrRepaired: the owner (Run) stops the
// node and opens it again, which swaps the repaired store in
// (store.FinishRepair), checks it once more at open and, when it passes,
// starts consensus. A crash at any point leaves either the damaged store
// (found again at the next start) or the repaired one. After
// Config.RepairAttempts failed attempts (no peer reachable, or none with a
// verifiable copy) Done is closed with the error, and Run returns it: the
// process exits non-zero.

// ErrRepaired is Err of a node that has rebuilt its damaged store: open
// the node again (Run does) to use the repaired store.
var ErrRepaired = errors.New("node: store repaired: reopen the node to use it")

// repairState is the node's side of a repair.
type repairState struct {
	wrap  store.KeyWrapper
	peers []uint64 // whom to ask, in id order
	once  sync.Once
	done  chan struct{}
	err   error // set before done is closed
}

func (r *repairState) init(w store.KeyWrapper) { r.wrap, r.done = w, make(chan struct{}) }

// Done is closed when the node's store has been repaired (Err is
// ErrRepaired) or the node gave up repairing it (Err says why): either
// way the node serves nothing more, and its owner stops it.
func (n *Node) Done() <-chan struct{} { return n.repair.done }

// Err is why Done was closed (nil before).
func (n *Node) Err() error {
	select {
	case <-n.repair.done:
		return n.repair.err
	default:
		return nil
	}
}

func (n *Node) finish(err error) {
	n.repair.once.Do(func() {
		n.repair.err = err
		close(n.repair.done)
	})
}

// Damage returns the problems found in the node's store (nil: none).
func (n *Node) Damage() []doctor.Problem {
	if p := n.damage.Load(); p != nil {
		return *p
	}
	return nil
}

func (n *Node) markDamaged(rep *doctor.Report, when string) {
	ps := append([]doctor.Problem(nil), rep.Problems...)
	n.damage.Store(&ps)
	for _, p := range ps {
		n.log.Error("store damaged: "+p.String(), "found", when)
	}
	n.log.Error("the store does not match the certified chain: refusing to serve it and to take part in consensus; repairing it from the peers",
		"found", when, "problems", len(ps))
}

// refuseDamaged wraps the API: while the store is damaged, every request
// but GET /v1/status is answered 503 store_damaged.
func (n *Node) refuseDamaged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ps := n.Damage(); len(ps) > 0 && r.URL.Path != "/v1/status" {
			writeErr(w, http.StatusServiceUnavailable, "store_damaged",
				fmt.Errorf("this node's store does not match the certified chain (%d problems, first: %s): it serves nothing until repaired; ask another node", len(ps), ps[0]))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// refuseRequestsDamaged wraps the peers' requests (block sync): a damaged
// store serves them nothing.
func (n *Node) refuseRequestsDamaged(h transport.RequestHandler) transport.RequestHandler {
	return func(ctx context.Context, from uint64, req []byte) ([]byte, error) {
		if len(n.Damage()) > 0 {
			return nil, errors.New("node: store damaged: serving no blocks until repaired")
		}
		return h(ctx, from, req)
	}
}

// diskCheckPause is the pause after each block in the background check:
// at most about 1000 blocks a second, so the check never competes with
// consensus for the disk (a 100 000-block chain takes about 100 s).
const diskCheckPause = time.Millisecond

// diskCheckLoop re-checks the immutable part of the store every interval
// until the node stops; on damage it stops consensus, the API refuses, and
// the repair starts.
func (n *Node) diskCheckLoop(every time.Duration) {
	defer n.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-n.quit:
			return
		case <-t.C:
		}
		start := time.Now()
		rep := doctor.CheckChainPaced(n.gen, n.store, func() bool {
			select {
			case <-n.quit:
				return false
			case <-time.After(diskCheckPause):
				return true
			}
		})
		if rep.Abandoned {
			return
		}
		if rep.OK() {
			n.log.Debug("disk check passed", "blocks", rep.Blocks, "receipts", rep.Receipts, "took", time.Since(start))
			continue
		}
		n.markDamaged(rep, "background check")
		n.replica.Stop()
		n.wg.Add(1)
		go n.repairLoop()
		return
	}
}

// repairLinkWait bounds the wait for a first link to a peer before each
// repair attempt (the mesh dials its peers when it starts), and
// repairAllLinksWait the wait after it for links to the other peers: a
// rebuild asks the peers in order and skips one not linked yet, so a
// peer whose link came a moment late (a loaded machine) would not be
// asked at all, however good its copy.
const (
	repairLinkWait     = 5 * time.Second
	repairAllLinksWait = 2 * time.Second
)

// repairLoop rebuilds the damaged store, up to Config.RepairAttempts
// times, and closes Done with the outcome. It ends early when the node
// stops.
func (n *Node) repairLoop() {
	defer n.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-n.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	attempts := n.cfg.RepairAttempts
	var last error
	for a := 1; a <= attempts; a++ {
		n.waitPeer(ctx)
		start := time.Now()
		rep, err := n.repairOnce(ctx)
		if ctx.Err() != nil {
			return // stopped
		}
		if err == nil {
			n.log.Info("store rebuilt from the certified chain and checked; reopening on it",
				"head", rep.Head, "own_blocks", rep.Local, "fetched_blocks", rep.Fetched, "refused", len(rep.Refused), "took", time.Since(start).Round(time.Millisecond))
			n.finish(ErrRepaired)
			return
		}
		last = err
		n.log.Error("store repair failed", "attempt", a, "of", attempts, "err", err)
		if errors.Is(err, doctor.ErrDiverged) {
			break // no peer can mend what this node's own execution makes
		}
		if a < attempts {
			select {
			case <-ctx.Done():
				return
			case <-time.After(n.cfg.RepairRetry):
			}
		}
	}
	err := fmt.Errorf("node: the store is damaged and no repair succeeded (%d attempts; restore the data directory, see `trialchain doctor --home DIR`): %w", attempts, last)
	n.log.Error("giving up", "err", err)
	n.finish(err)
}

// waitPeer waits until the mesh has a link to some peer (or
// repairLinkWait passes), then until it has links to all of them (or
// repairAllLinksWait more passes).
func (n *Node) waitPeer(ctx context.Context) {
	if len(n.repair.peers) == 0 {
		return
	}
	wait := func(until time.Time, done func(linked int) bool) {
		for !done(len(n.mesh.Connected())) && time.Now().Before(until) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	wait(time.Now().Add(repairLinkWait), func(linked int) bool { return linked > 0 })
	wait(time.Now().Add(repairAllLinksWait), func(linked int) bool { return linked >= len(n.repair.peers) })
}

// repairOnce rebuilds the store into DATA/db.repair and, when the rebuilt
// store passes the full check, commits it.
func (n *Node) repairOnce(ctx context.Context) (*doctor.RebuildReport, error) {
	db := filepath.Join(n.cfg.Path(n.cfg.DataDir), "db")
	tmp, err := store.RepairDir(db)
	if err != nil {
		return nil, err
	}
	dst, err := store.OpenWith(tmp, store.Options{KeyWrapper: n.repair.wrap})
	if err != nil {
		return nil, fmt.Errorf("node: repair: %w", err)
	}
	rb := &doctor.Rebuild{Genesis: n.gen, Damaged: n.store, Executor: n.exec,
		FollowSets: n.gen.Params.ValidatorGroup != "" && n.contracts != nil,
		Source:     meshSource{mesh: n.mesh, peers: n.repair.peers}, Log: n.log}
	rep, err := rb.Run(ctx, dst)
	if cerr := dst.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("node: repair: %w", cerr)
	}
	if err != nil {
		return rep, err
	}
	return rep, store.CommitRepair(db)
}

// meshSource fetches blocks from the node's peers over the block-sync
// protocol (doctor.Source).
type meshSource struct {
	mesh  consensus.Requester
	peers []uint64
}

func (s meshSource) Peers() []uint64 { return s.peers }

func (s meshSource) Blocks(ctx context.Context, peer, from uint64, max int) ([]*block.Committed, error) {
	return consensus.FetchBlocks(ctx, s.mesh, peer, from, max)
}

// Run opens and starts a node on cfg and runs it until ctx ends (then it
// stops the node and returns nil). A node that repairs its damaged store
// is stopped and opened again on the repaired store; one that cannot
// repair it is stopped and its error returned. started, if not nil, is
// called with each node once it has started. opts must not carry
// listeners or a socket (a node reopened after a repair binds its
// addresses again).
func Run(ctx context.Context, cfg *Config, opts Options, started func(*Node)) error {
	if opts.PacketConn != nil || opts.APIListener != nil || opts.MetricsListener != nil {
		return errors.New("node: Run binds its own addresses: Options must not carry listeners")
	}
	for {
		n, err := New(cfg, opts)
		if err != nil {
			return err
		}
		if err := n.Start(ctx); err != nil {
			n.Stop()
			return err
		}
		if started != nil {
			started(n)
		}
		select {
		case <-ctx.Done():
			n.Stop()
			return nil
		case <-n.Done():
		}
		err = n.Err()
		n.Stop()
		if !errors.Is(err, ErrRepaired) {
			return err
		}
	}
}
