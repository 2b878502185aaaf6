package consensus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	bft "github.com/hyperledger-labs/SmartBFT/pkg/types"

	"github.com/trialchain/trialchain/chain/block"
)

// Block-sync requests on the mesh (request/response streams).
const (
	reqHead   = 'H' // → height 8 ‖ hash 32
	reqBlocks = 'B' // from 8 ‖ max 4 → uvarint n ‖ committed blocks as bytes
	// syncMaxBlocks and syncMaxBytes bound one sync response.
	// Catch-up moves blocks in large batches (a paused follower hundreds of
	// blocks behind needs a few round trips, not hundreds).
	syncMaxBlocks = 512
	syncMaxBytes  = 8 << 20 // below the transport's default frame cap (16 MiB)
)

// HandleRequest serves block sync to peers (transport RequestHandler).
func (r *Replica) HandleRequest(ctx context.Context, from uint64, req []byte) ([]byte, error) {
	if len(req) == 0 {
		return nil, errors.New("consensus: empty request")
	}
	switch req[0] {
	case reqHead:
		head := r.cfg.Ledger.Head()
		out := binary.BigEndian.AppendUint64(nil, head.Height)
		return append(out, head.Hash[:]...), nil
	case reqBlocks:
		if len(req) != 1+8+4 {
			return nil, errors.New("consensus: malformed block request")
		}
		from := binary.BigEndian.Uint64(req[1:9])
		max := uint64(binary.BigEndian.Uint32(req[9:13]))
		if max > syncMaxBlocks {
			max = syncMaxBlocks
		}
		head := r.cfg.Ledger.Head()
		var w block.Writer
		var blocks [][]byte
		size := 0
		for h := from; h <= head.Height && uint64(len(blocks)) < max; h++ {
			raw, err := r.cfg.Ledger.BlockRaw(h)
			if err != nil {
				return nil, fmt.Errorf("consensus: serve block %d: %w", h, err)
			}
			if size+len(raw) > syncMaxBytes && len(blocks) > 0 {
				break
			}
			size += len(raw)
			blocks = append(blocks, raw)
		}
		w.Uvarint(uint64(len(blocks)))
		for _, b := range blocks {
			w.VarBytes(b)
		}
		return w.Bytes(), nil
	}
	return nil, fmt.Errorf("consensus: unknown request type %d", req[0])
}

// Sync implements api.Synchronizer: fetch missing blocks from peers, check
// each one's certificate against the validator set in force at its height
// and its parent link, execute and store it, and report the latest
// decision (and the set in force, if a fetched block changed it).
//
// A node that has just started (or resumed from a pause) may have no live
// link yet: Sync first waits, briefly, for links to a quorum of peers, so
// its first catch-up does not fail with "not connected" and leave the node
// behind until SmartBFT's next sync.
func (r *Replica) Sync() bft.SyncResponse {
	ctx, cancel := context.WithTimeout(context.Background(), syncRoundTimeout)
	defer cancel()
	go func() {
		select {
		case <-r.stopped:
			cancel()
		case <-ctx.Done():
		}
	}()
	// Waiting for links delays SmartBFT's heartbeat monitor, which judges
	// the leader's silence by ticks taken before the sync: a wait near the
	// heartbeat timeout makes a freshly started follower complain about a
	// healthy leader at once. Keep it well below.
	r.waitLinks(ctx, min(linkWait, time.Duration(r.cfg.Genesis.Params.LeaderHeartbeatTimeout)/4))
	before := r.cfg.Ledger.Head().Height
	ahead := r.syncBlocks(ctx, 0)
	r.noteSync(r.cfg.Ledger.Head().Height > before || ahead)
	resp := bft.SyncResponse{Latest: r.latestDecision()}
	r.syncMu.Lock()
	if r.syncedChange {
		r.syncedChange = false
		r.setReconfiguring(true)
		resp.Reconfig = bft.ReconfigSync{InReplicatedDecisions: true, CurrentNodes: r.currentSet().IDs(), CurrentConfig: r.bftConfig()}
	}
	r.syncMu.Unlock()
	return resp
}

// noteSync counts catch-ups that found nothing to fetch. SmartBFT asks for
// one every half second while the leader's heartbeats name a sequence
// ahead of this follower's; when no peer has a block we lack, that never
// ends — the case of a leader restarted from its WAL into the view it led,
// whose followers' views are one sequence behind its own (measured: 14 s of
// such syncs until a request's complaint timeout forced a view change).
// After fruitlessSyncs of them in a row, spread over at least half the
// heartbeat timeout and within two heartbeat timeouts, the replica complains about the leader itself: with
// f+1 such followers the view changes within a round trip.
func (r *Replica) noteSync(progress bool) {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	now := r.cfg.Clock.Now()
	if progress || r.cons() == nil {
		r.fruitless, r.fruitlessSince = 0, time.Time{}
		return
	}
	hb := time.Duration(r.cfg.Genesis.Params.LeaderHeartbeatTimeout)
	if r.fruitless == 0 || now.Sub(r.fruitlessSince) > 2*hb {
		r.fruitless, r.fruitlessSince = 0, now // only a run of them counts
	}
	r.fruitless++
	if r.fruitless < fruitlessSyncs || now.Sub(r.fruitlessSince) < hb/2 {
		return
	}
	r.fruitless, r.fruitlessSince = 0, time.Time{}
	view := max(r.view.Load(), r.resend.currentView())
	r.log.Warn("catch-up keeps finding nothing to fetch while the leader claims to be ahead: complaining about the leader", "view", view)
	r.cons().Complain(view, false)
}

// Bounds of one catch-up.
const (
	syncRoundTimeout = 30 * time.Second       // one Sync call
	fruitlessSyncs   = 4                      // catch-ups without progress before complaining
	linkWait         = 3 * time.Second        // for links before syncing
	headTimeout      = 2 * time.Second        // one head query
	headGrace        = 200 * time.Millisecond // for the other heads once a quorum answered
	blocksTimeout    = 10 * time.Second       // one batch of blocks
	linkPoll         = 20 * time.Millisecond  // how often links are checked
)

// connected is implemented by networks that know which links are up
// (transport.Mesh).
type connected interface{ Connected() []uint64 }

// waitLinks waits up to d until links to at least quorum-1 peers are up
// (with ourselves, a quorum), if the network can tell.
func (r *Replica) waitLinks(ctx context.Context, d time.Duration) {
	c, ok := r.net.(connected)
	if !ok {
		return
	}
	need := r.cfg.Genesis.Quorum() - 1
	// The wait is measured on the replica's clock, like the heartbeat
	// timeout it must stay below (a virtual clock in in-process tests).
	deadline := r.cfg.Clock.Now().Add(d)
	tick := time.NewTicker(linkPoll)
	defer tick.Stop()
	for len(c.Connected()) < need {
		if r.cfg.Clock.Now().After(deadline) {
			r.log.Info("syncing with fewer links than a quorum", "connected", c.Connected())
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (r *Replica) latestDecision() bft.Decision {
	head := r.cfg.Ledger.Head()
	if head.Height == 0 {
		return bft.Decision{}
	}
	c, err := r.cfg.Ledger.Block(head.Height)
	if err != nil {
		r.log.Error("reading the last block", "err", err)
		return bft.Decision{}
	}
	p, sigs := toProposal(c)
	return bft.Decision{Proposal: p, Signatures: sigs}
}

// peerHead is one peer's answer to a head query.
type peerHead struct {
	peer   uint64
	height uint64
	err    error
}

// heads asks every peer for its head at once and returns the answers,
// highest first. It waits for every peer, up to headTimeout, unless
// quorum-1 peers have answered (with ourselves, a quorum): it then waits
// only headGrace more for the rest. A dead peer whose link still looks
// alive (a killed process, until the transport notices) otherwise cost
// every catch-up the full head timeout — measured in the crash loop, where
// some peer is nearly always down, as 2 s per sync. The peers that did not
// answer in time are reported with ctx's error.
func (r *Replica) heads(ctx context.Context) []peerHead {
	var peers []uint64
	for _, p := range r.currentSet().IDs() {
		if p != r.cfg.SelfID {
			peers = append(peers, p)
		}
	}
	hctx, cancel := context.WithTimeout(ctx, headTimeout)
	defer cancel()
	answers := make(chan peerHead, len(peers))
	for _, p := range peers {
		go func() {
			h, err := r.peerHeight(hctx, p)
			answers <- peerHead{peer: p, height: h, err: err}
		}()
	}
	need := r.cfg.Genesis.Quorum() - 1
	out := make([]peerHead, 0, len(peers))
	got := map[uint64]bool{}
	ok := 0
	var grace <-chan time.Time
collect:
	for len(out) < len(peers) {
		select {
		case a := <-answers:
			out = append(out, a)
			got[a.peer] = true
			if a.err == nil {
				ok++
			}
			if ok >= need && grace == nil {
				t := time.NewTimer(headGrace)
				defer t.Stop()
				grace = t.C
			}
		case <-grace:
			break collect
		case <-hctx.Done():
			break collect
		}
	}
	for _, p := range peers {
		if !got[p] {
			out = append(out, peerHead{peer: p, err: fmt.Errorf("head: no answer in time: %w", context.DeadlineExceeded)})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].height > out[b].height })
	return out
}

func (r *Replica) peerHeight(ctx context.Context, peer uint64) (uint64, error) {
	rctx, cancel := context.WithTimeout(ctx, headTimeout)
	defer cancel()
	resp, err := r.net.Request(rctx, peer, []byte{reqHead})
	if err != nil {
		return 0, fmt.Errorf("head: %w", err)
	}
	if len(resp) != 40 {
		return 0, fmt.Errorf("head: reply of %d bytes", len(resp))
	}
	return binary.BigEndian.Uint64(resp[:8]), nil
}

// syncBlocks catches up to the highest head any peer reports, from the
// highest peer first, falling back to the next when one fails.
// It reports whether some peer was ahead of us.
func (r *Replica) syncBlocks(ctx context.Context, target uint64) (ahead bool) {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	_ = target
	for _, ph := range r.heads(ctx) {
		if ph.err != nil {
			r.log.Info("sync: no head from peer", "peer", ph.peer, "err", ph.err)
			continue
		}
		if ph.height <= r.cfg.Ledger.Head().Height {
			return ahead // sorted: no later peer is ahead of us
		}
		ahead = true
		if err := r.syncFrom(ctx, ph.peer, ph.height); err != nil {
			r.log.Info("sync from peer stopped", "peer", ph.peer, "err", err)
		}
		if ctx.Err() != nil {
			return ahead
		}
	}
	return ahead
}

// syncProgressEvery is the interval of catch-up progress lines.
const syncProgressEvery = 2 * time.Second

// syncFrom fetches and commits the blocks peer has beyond our head, up to
// at least theirs (the height it reported), in batches of up to
// syncMaxBlocks.
func (r *Replica) syncFrom(ctx context.Context, peer, theirs uint64) error {
	start := r.cfg.Ledger.Head().Height
	began := time.Now()
	defer func() {
		if got := r.cfg.Ledger.Head().Height; got > start {
			r.log.Info("synced blocks", "from", peer, "first", start+1, "last", got, "took", time.Since(began).Round(time.Millisecond))
		}
	}()
	logged, loggedAt := began, start // a progress line every syncProgressEvery of a long catch-up
	for {
		head := r.cfg.Ledger.Head()
		if now := time.Now(); now.Sub(logged) >= syncProgressEvery {
			rate := float64(head.Height-loggedAt) / now.Sub(logged).Seconds()
			r.log.Info("catching up", "from", peer, "height", head.Height, "to", theirs, "rate", fmt.Sprintf("%.0f blocks/s", rate))
			logged, loggedAt = now, head.Height
		}
		if head.Height >= theirs {
			// The peer may have moved on meanwhile: ask again.
			h, err := r.peerHeight(ctx, peer)
			if err != nil || h <= head.Height {
				return err
			}
			theirs = h
		}
		req := []byte{reqBlocks}
		req = binary.BigEndian.AppendUint64(req, head.Height+1)
		req = binary.BigEndian.AppendUint32(req, syncMaxBlocks)
		rctx, cancel := context.WithTimeout(ctx, blocksTimeout)
		resp, err := r.net.Request(rctx, peer, req)
		cancel()
		if err != nil {
			return fmt.Errorf("blocks from %d: %w", head.Height+1, err)
		}
		rd := block.NewReader(resp)
		n := rd.Count(syncMaxBlocks, "blocks")
		if n == 0 {
			return fmt.Errorf("peer %d claims height %d but sent no blocks", peer, theirs)
		}
		for i := 0; i < n; i++ {
			raw := rd.VarBytes(block.MaxBlockBytes, "block")
			if rd.Err() != nil {
				return rd.Err()
			}
			c, err := block.DecodeCommitted(raw)
			if err != nil {
				return fmt.Errorf("block from peer %d: %w", peer, err)
			}
			// The set in force at the block's height: its header must name
			// it and a quorum of it must have signed.
			if err := r.verifyCertified(c); err != nil {
				return fmt.Errorf("block %d from peer %d: %w", c.Block.Header.Height, peer, err)
			}
			if c.Block.Header.ChainID != r.cfg.Genesis.ChainID {
				return fmt.Errorf("block %d from peer %d: wrong chain %q", c.Block.Header.Height, peer, c.Block.Header.ChainID)
			}
			if _, err := r.commit(c); err != nil {
				return fmt.Errorf("commit synced block: %w", err)
			}
			r.dropFromPool(c.Block.Txs)
			if r.applyChanges(c) {
				r.syncedChange = true
			}
			r.log.Debug("synced block", "height", c.Block.Header.Height, "from", peer)
		}
		if err := rd.Done(); err != nil {
			return err
		}
	}
}

// dropFromPool removes the transactions of a block committed by catch-up
// from SmartBFT's request pool. SmartBFT removes the requests of blocks it
// decides itself, but not of blocks the Synchronizer stored: left there,
// they are forwarded to the leader again (which refuses them: nonce
// already used), and after RequestComplainTimeout the follower complains
// about a healthy leader and forces a view change.
func (r *Replica) dropFromPool(txs [][]byte) {
	for _, raw := range txs {
		h := block.Sum(raw)
		r.committed.add(h)
		r.pool.release(r.hashKey(h)) // committed: no longer pending here
	}
	if r.cons() == nil || r.cons().Pool == nil {
		return
	}
	for _, raw := range txs {
		_ = r.cons().Pool.RemoveRequest(r.RequestID(raw))
	}
}

func timeDur[T ~int64](d T) time.Duration { return time.Duration(d) }
