package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
)

// Source gives a repair the certified blocks its damaged store cannot:
// a node's peers over the block-sync protocol (consensus.FetchBlocks).
// Nothing it returns is trusted: every block is checked before use.
type Source interface {
	// Peers lists whom to ask, in order of preference.
	Peers() []uint64
	// Blocks returns up to max committed blocks of peer from height from on.
	Blocks(ctx context.Context, peer, from uint64, max int) ([]*block.Committed, error)
}

// Rebuild re-executes the certified chain into a new store: the repair
// of a damaged one. See the package documentation for why.
type Rebuild struct {
	Genesis *genesis.Genesis
	// Damaged is the store found damaged; it is only read. Its blocks that
	// verify are used, the others fetched from Source.
	Damaged *store.Store
	// Executor executes the blocks (the node's, with its contract runtime).
	Executor *state.Executor
	// FollowSets applies the validator-set changes the blocks make (a
	// genesis naming a validator group), so each certificate is checked
	// against the set in force at its height.
	FollowSets bool
	// Source is asked for the blocks the damaged store cannot give (nil:
	// no peers).
	Source Source
	// Batch is how many blocks one request asks for (default 64).
	Batch int
	Log   *slog.Logger
}

// RebuildReport says what a rebuild used.
type RebuildReport struct {
	Head    uint64 `json:"head"`
	Local   uint64 `json:"local_blocks"`
	Fetched uint64 `json:"fetched_blocks"`
	// Refused lists what peers sent that did not verify, and peers that
	// could not be reached.
	Refused []string `json:"refused,omitempty"`
}

// ErrNoVerifiableCopy is returned when no peer gave a block that verifies.
var ErrNoVerifiableCopy = errors.New("doctor: no peer gave a verifiable copy")

// ErrDiverged is returned when executing certified blocks does not give
// the roots their successors certify: no peer can repair that.
var ErrDiverged = errors.New("doctor: re-execution does not reproduce the certified roots")

// Run replays blocks 1..Damaged's head into dst, a new empty store, and
// checks the result with Check. Each block is taken from the damaged store
// if it verifies, else from the first peer whose copy does: its
// certificate (a quorum of the set in force at its height), chain, height
// and parent hash, its transaction root (decoding checks it), and, once
// executed, the state root and record log its successor's certified
// header commits to. A peer whose block does not verify is refused and not
// asked again in this run. dst is left holding a store that passed Check,
// or the error says why not; the caller swaps it in (store.CommitRepair).
func (r *Rebuild) Run(ctx context.Context, dst *store.Store) (*RebuildReport, error) {
	lg := r.Log
	if lg == nil {
		lg = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	g := r.Genesis
	target := r.Damaged.Head().Height
	rep := &RebuildReport{}
	led, err := ledger.New(g, dst, r.Executor)
	if err != nil {
		return rep, fmt.Errorf("doctor: rebuild: %w", err)
	}
	if h := dst.Head().Height; h != 0 {
		return rep, fmt.Errorf("doctor: rebuild into a store at height %d, not a new one", h)
	}
	b := &rebuilder{r: r, lg: lg, dst: dst, rep: rep, hist: genesis.NewHistory(g), bad: map[uint64]bool{}}
	for h := uint64(1); h <= target; h++ {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("doctor: rebuild stopped at block %d: %w", h, err)
		}
		c, err := b.next(ctx, h)
		if err != nil {
			return rep, err
		}
		if err := b.checkRoots(c); err != nil {
			return rep, err
		}
		if _, err := led.Commit(c); err != nil {
			return rep, fmt.Errorf("doctor: rebuild: %w", err)
		}
		if r.FollowSets {
			for _, ch := range led.SetChanges(c) {
				if err := b.hist.Apply(ch, h); err != nil {
					return rep, fmt.Errorf("doctor: rebuild: %w", err)
				}
			}
		}
		rep.Head = h
	}
	// The head's own results are certified by its successor's header: use
	// it if a peer has it (a node at the head of the chain has none).
	if succ := b.successor(ctx, target+1); succ != nil {
		if err := b.checkRoots(succ); err != nil {
			return rep, err
		}
	}
	if err := r.Damaged.CopyPayloadsTo(dst); err != nil {
		return rep, fmt.Errorf("doctor: rebuild: %w", err)
	}
	if chk := Check(g, dst); !chk.OK() {
		return rep, fmt.Errorf("doctor: the rebuilt store fails the check (%d problems, first: %s)", len(chk.Problems), chk.Problems[0])
	}
	return rep, nil
}

type rebuilder struct {
	r       *Rebuild
	lg      *slog.Logger
	dst     *store.Store
	rep     *RebuildReport
	hist    *genesis.History
	bad     map[uint64]bool // peers refused in this run
	pending []*block.Committed
	from    uint64 // peer pending came from
}

// verify checks that c is the certified block at height h following the
// rebuilt head.
func (b *rebuilder) verify(c *block.Committed, h uint64) error {
	hd := c.Block.Header
	switch {
	case hd.Height != h:
		return fmt.Errorf("block %d: header names height %d", h, hd.Height)
	case hd.ChainID != b.r.Genesis.ChainID:
		return fmt.Errorf("block %d: chain %q", h, hd.ChainID)
	}
	if err := b.hist.VerifyCertificate(c); err != nil {
		return fmt.Errorf("block %d: %w", h, err)
	}
	if head := b.dst.Head(); hd.PrevHash != head.Hash {
		return fmt.Errorf("block %d: parent %s, the certified block %d hashes to %s", h, hd.PrevHash, head.Height, head.Hash)
	}
	return nil
}

// checkRoots compares the rebuilt state root and record log with those c's
// certified header commits to (c follows the rebuilt head).
func (b *rebuilder) checkRoots(c *block.Committed) error {
	hd, head := c.Block.Header, b.dst.Head()
	if hd.StateRoot != head.StateRoot || hd.LogSize != head.Log.Size || hd.LogRoot != head.Log.Root() {
		return fmt.Errorf("%w: after block %d: state root %s, log %d/%s; block %d certifies %s, %d/%s",
			ErrDiverged, head.Height, head.StateRoot, head.Log.Size, head.Log.Root(), hd.Height, hd.StateRoot, hd.LogSize, hd.LogRoot)
	}
	return nil
}

// next returns the verified block at height h: the damaged store's, or a
// peer's.
func (b *rebuilder) next(ctx context.Context, h uint64) (*block.Committed, error) {
	c, err := b.r.Damaged.Block(h)
	if err == nil {
		err = b.verify(c, h)
	}
	if err == nil {
		b.rep.Local++
		b.dropPending(h)
		return c, nil
	}
	b.lg.Warn("repair: stored block does not verify: fetching it from peers", "height", h, "err", err)
	if len(b.pending) > 0 && b.pending[0].Block.Header.Height == h {
		c := b.pending[0]
		b.pending = b.pending[1:]
		err := b.verify(c, h)
		if err == nil {
			b.rep.Fetched++
			return c, nil
		}
		b.refuse(b.from, err)
	}
	b.pending = nil
	if b.r.Source == nil {
		return nil, fmt.Errorf("%w for block %d: no peers", ErrNoVerifiableCopy, h)
	}
	batch := b.r.Batch
	if batch <= 0 {
		batch = 64
	}
	for _, p := range b.r.Source.Peers() {
		if b.bad[p] {
			continue
		}
		blocks, err := b.r.Source.Blocks(ctx, p, h, batch)
		if err != nil {
			b.note(fmt.Sprintf("peer %d: %v", p, err))
			b.lg.Info("repair: no blocks from peer", "peer", p, "height", h, "err", err)
			continue
		}
		if len(blocks) == 0 {
			b.note(fmt.Sprintf("peer %d: no block %d", p, h))
			continue
		}
		if err := b.verify(blocks[0], h); err != nil {
			b.refuse(p, err)
			continue
		}
		b.rep.Fetched++
		b.pending, b.from = blocks[1:], p
		return blocks[0], nil
	}
	return nil, fmt.Errorf("%w for block %d (%d refusals: %v)", ErrNoVerifiableCopy, h, len(b.rep.Refused), b.rep.Refused)
}

// dropPending forgets pending blocks at or below h.
func (b *rebuilder) dropPending(h uint64) {
	for len(b.pending) > 0 && b.pending[0].Block.Header.Height <= h {
		b.pending = b.pending[1:]
	}
}

// refuse records that peer sent a block that does not verify: it is not
// asked again in this run.
func (b *rebuilder) refuse(peer uint64, err error) {
	b.bad[peer] = true
	b.note(fmt.Sprintf("peer %d sent a block that does not verify: %v", peer, err))
	b.lg.Warn("repair: refusing a peer's block that does not verify; asking another peer", "peer", peer, "err", err)
}

func (b *rebuilder) note(s string) {
	if len(b.rep.Refused) < maxProblems {
		b.rep.Refused = append(b.rep.Refused, s)
	}
}

// successor returns the verified block at height h from a peer, if one
// has it (nil otherwise; not finding it is no error).
func (b *rebuilder) successor(ctx context.Context, h uint64) *block.Committed {
	if c, err := b.r.Damaged.Block(h); err == nil && b.verify(c, h) == nil {
		return c
	}
	if b.r.Source == nil {
		return nil
	}
	for _, p := range b.r.Source.Peers() {
		if b.bad[p] {
			continue
		}
		blocks, err := b.r.Source.Blocks(ctx, p, h, 1)
		if err != nil || len(blocks) == 0 {
			continue
		}
		if err := b.verify(blocks[0], h); err != nil {
			b.refuse(p, err)
			continue
		}
		return blocks[0]
	}
	return nil
}
