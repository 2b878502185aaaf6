package consensus

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
)

// Requester sends a request to a peer on the mesh and waits for its reply
// (transport.Mesh).
type Requester interface {
	Request(ctx context.Context, to uint64, req []byte) ([]byte, error)
}

// FetchBlocks asks peer for up to max committed blocks from height from on,
// over the block-sync protocol the replicas' catch-up uses (HandleRequest),
// and returns them decoded, unverified: the caller checks each one's
// certificate, parent and roots (a peer may lie). A store repair
// (chain/doctor) fetches the blocks it lacks through it.
func FetchBlocks(ctx context.Context, net Requester, peer, from uint64, max int) ([]*block.Committed, error) {
	if max <= 0 || max > syncMaxBlocks {
		max = syncMaxBlocks
	}
	req := []byte{reqBlocks}
	req = binary.BigEndian.AppendUint64(req, from)
	req = binary.BigEndian.AppendUint32(req, uint32(max))
	rctx, cancel := context.WithTimeout(ctx, blocksTimeout)
	defer cancel()
	resp, err := net.Request(rctx, peer, req)
	if err != nil {
		return nil, fmt.Errorf("consensus: blocks from %d of peer %d: %w", from, peer, err)
	}
	raws, err := DecodeBlocksReply(resp)
	if err != nil {
		return nil, fmt.Errorf("consensus: blocks from %d of peer %d: %w", from, peer, err)
	}
	out := make([]*block.Committed, 0, len(raws))
	for _, raw := range raws {
		c, err := block.DecodeCommitted(raw)
		if err != nil {
			return nil, fmt.Errorf("consensus: block from peer %d: %w", peer, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// IsBlocksRequest reports whether req is a block-sync request for blocks
// (whose reply DecodeBlocksReply reads).
func IsBlocksRequest(req []byte) bool { return len(req) == 1+8+4 && req[0] == reqBlocks }

// DecodeBlocksReply splits the reply to a block request into the encoded
// committed blocks it carries (at most syncMaxBlocks).
func DecodeBlocksReply(resp []byte) ([][]byte, error) {
	rd := block.NewReader(resp)
	n := rd.Count(syncMaxBlocks, "blocks")
	out := make([][]byte, 0, n)
	for i := 0; i < n && rd.Err() == nil; i++ {
		out = append(out, rd.VarBytes(block.MaxBlockBytes, "block"))
	}
	if err := rd.Done(); err != nil {
		return nil, fmt.Errorf("blocks reply: %w", err)
	}
	return out, nil
}

// EncodeBlocksReply is the reply to a block request carrying raws.
func EncodeBlocksReply(raws [][]byte) []byte {
	var w block.Writer
	w.Uvarint(uint64(len(raws)))
	for _, b := range raws {
		w.VarBytes(b)
	}
	return w.Bytes()
}
