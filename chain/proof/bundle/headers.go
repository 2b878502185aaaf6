package bundle

import (
	"context"
	"sync"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
)

// HeaderLog is a Source that keeps the header of every block it serves
// (Export reads every block its checkpoint covers), so that the block
// times of the exported records can be proven afterwards: a header
// belongs to the certified chain if the hash chain (PrevHash) leads from
// the checkpoint's header down to it. A bundle carries no headers but its
// checkpoints', so this is how an exporter that talked to a node shows
// when each record was committed.
type HeaderLog struct {
	Source
	mu      sync.Mutex
	headers map[uint64]block.Header
}

// NewHeaderLog wraps src.
func NewHeaderLog(src Source) *HeaderLog {
	return &HeaderLog{Source: src, headers: map[uint64]block.Header{}}
}

// Block serves src's block and keeps its header.
func (l *HeaderLog) Block(ctx context.Context, height uint64) (*block.Committed, error) {
	c, err := l.Source.Block(ctx, height)
	if err == nil && c != nil && c.Block.Header.Height == height {
		l.mu.Lock()
		l.headers[height] = c.Block.Header
		l.mu.Unlock()
	}
	return c, err
}

// BlockTimes returns the time (Unix milliseconds) of cp's block and of
// every kept block below it that the hash chain from cp's header reaches,
// stopping at the first block not kept or whose header does not hash to
// its successor's PrevHash. The times are exactly as trustworthy as cp:
// use them only with a checkpoint that verified against the genesis (e.g.
// one of Result.Checkpoints, by its BlockHash).
func (l *HeaderLog) BlockTimes(cp *proof.Checkpoint) map[uint64]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	times := map[uint64]int64{cp.Height(): cp.Header.TimeUnixMilli}
	want := cp.Header.PrevHash
	for h := cp.Height() - 1; h >= 1; h-- {
		hdr, ok := l.headers[h]
		if !ok || hdr.Hash() != want {
			break
		}
		times[h] = hdr.TimeUnixMilli
		want = hdr.PrevHash
	}
	return times
}
