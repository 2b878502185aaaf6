package consensus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bft "github.com/hyperledger-labs/SmartBFT/pkg/types"

	"github.com/trialchain/trialchain/chain/block"
)

// Block-sync requests on the mesh (request/response streams).
const (
	reqHead   = 'H' // → height 8 ‖ hash 32
	reqBlocks = 'B' // from 8 ‖ max 4 → uvarint n ‖ committed blocks as bytes
	// syncMaxBlocks and syncMaxBytes bound one sync response.
	syncMaxBlocks = 64
	syncMaxBytes  = 8 << 20
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
			raw, err := r.cfg.Ledger.Store.BlockRaw(h)
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
// each one's certificate against the genesis validators and its parent
// link, execute and store it, and report the latest decision.
func (r *Replica) Sync() bft.SyncResponse {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		select {
		case <-r.stopped:
			cancel()
		case <-ctx.Done():
		}
	}()
	r.syncBlocks(ctx, 0)
	return bft.SyncResponse{Latest: r.latestDecision()}
}

func (r *Replica) latestDecision() bft.Decision {
	head := r.cfg.Ledger.Head()
	if head.Height == 0 {
		return bft.Decision{}
	}
	c, err := r.cfg.Ledger.Store.Block(head.Height)
	if err != nil {
		r.log.Error("reading the last block", "err", err)
		return bft.Decision{}
	}
	p, sigs := toProposal(c)
	return bft.Decision{Proposal: p, Signatures: sigs}
}

// syncBlocks catches up to the highest head any peer reports (or at least
// to target), peer by peer, until no peer has more.
func (r *Replica) syncBlocks(ctx context.Context, target uint64) {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	for _, peer := range r.cfg.Genesis.IDs() {
		if peer == r.cfg.SelfID {
			continue
		}
		if err := r.syncFrom(ctx, peer); err != nil {
			r.log.Info("sync from peer stopped", "peer", peer, "err", err)
		}
		if ctx.Err() != nil {
			return
		}
	}
	_ = target
}

// SyncFrom fetches and commits every block peer has beyond our head.
func (r *Replica) syncFrom(ctx context.Context, peer uint64) error {
	for {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		resp, err := r.net.Request(rctx, peer, []byte{reqHead})
		cancel()
		if err != nil {
			return fmt.Errorf("head: %w", err)
		}
		if len(resp) != 40 {
			return fmt.Errorf("head: reply of %d bytes", len(resp))
		}
		theirs := binary.BigEndian.Uint64(resp[:8])
		head := r.cfg.Ledger.Head()
		if theirs <= head.Height {
			return nil
		}
		req := []byte{reqBlocks}
		req = binary.BigEndian.AppendUint64(req, head.Height+1)
		req = binary.BigEndian.AppendUint32(req, syncMaxBlocks)
		rctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		resp, err = r.net.Request(rctx, peer, req)
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
			if err := r.cfg.Genesis.VerifyCertificate(c); err != nil {
				return fmt.Errorf("block %d from peer %d: %w", c.Block.Header.Height, peer, err)
			}
			if c.Block.Header.ChainID != r.cfg.Genesis.ChainID || c.Block.Header.ValidatorsHash != r.valHash {
				return fmt.Errorf("block %d from peer %d: wrong chain or validator set", c.Block.Header.Height, peer)
			}
			if _, err := r.cfg.Ledger.Commit(c); err != nil {
				return fmt.Errorf("commit synced block: %w", err)
			}
			r.log.Info("synced block", "height", c.Block.Header.Height, "from", peer)
		}
		if err := rd.Done(); err != nil {
			return err
		}
	}
}

func timeDur[T ~int64](d T) time.Duration { return time.Duration(d) }
