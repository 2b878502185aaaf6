package bundle

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

// lyingSource serves a genuine checkpoint and a block altered by alter.
type lyingSource struct {
	*fakeChain
	height uint64
	alter  func(c *block.Committed) *block.Committed
}

func (s lyingSource) Block(ctx context.Context, height uint64) (*block.Committed, error) {
	c, err := s.fakeChain.Block(ctx, height)
	if err != nil || height != s.height {
		return c, err
	}
	cp := *c
	cp.Block.Txs = append([][]byte(nil), c.Block.Txs...)
	return s.alter(&cp), nil
}

// TestExportRefusesUnchainedBlock: a source that serves a block other than
// the one the certified checkpoint's hash chain names (a transaction left
// out with the header recomputed, a header changed, another block's
// height) is refused, whatever block it is.
func TestExportRefusesUnchainedBlock(t *testing.T) {
	f := newTrialFixture(t, 7, 0)
	omit := func(c *block.Committed) *block.Committed {
		c.Block.Txs = c.Block.Txs[1:]
		c.Block.Header.TxCount, c.Block.Header.TxRoot = uint64(len(c.Block.Txs)), block.TxRoot(c.Block.Txs)
		return c
	}
	for _, tc := range []struct {
		name   string
		height uint64
		alter  func(c *block.Committed) *block.Committed
		want   string
	}{
		{"omit a transaction, header recomputed (first block)", 1, omit, "block 1 hashes to"},
		{"omit a transaction, header recomputed (middle block)", 2, omit, "block 2 hashes to"},
		{"omit a transaction, header recomputed (last block below the checkpoint)", 4, omit, "block 4 hashes to"},
		{"omit a transaction, header kept", 2, func(c *block.Committed) *block.Committed { c.Block.Txs = c.Block.Txs[1:]; return c }, "header counts"},
		{"forged header time", 3, func(c *block.Committed) *block.Committed { c.Block.Header.TimeUnixMilli++; return c }, "block 3 hashes to"},
		{"another height", 3, func(c *block.Committed) *block.Committed { c.Block.Header.Height = 4; return c }, "asked for block 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := lyingSource{fakeChain: f.fc, height: tc.height, alter: tc.alter}
			_, err := Export(context.Background(), src, f.fc.g.ChainID, f.fc.g.Hash(), Options{})
			if !errors.Is(err, ErrChain) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrChain with %q", err, tc.want)
			}
		})
	}
	// The honest source passes.
	if _, err := Export(context.Background(), f.fc, f.fc.g.ChainID, f.fc.g.Hash(), Options{}); err != nil {
		t.Fatal(err)
	}
}
