package bundle

import (
	"context"
	"errors"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

// forgingSource serves fc's blocks, but block forge with another time
// (a lying node backdating a block).
type forgingSource struct {
	*fakeChain
	forge uint64
}

func (s forgingSource) Block(ctx context.Context, h uint64) (*block.Committed, error) {
	c, err := s.fakeChain.Block(ctx, h)
	if err != nil || h != s.forge {
		return c, err
	}
	forged := *c
	forged.Block.Header.TimeUnixMilli -= 86_400_000
	return &forged, nil
}

// TestHeaderLog: the block times an export saw are proven by the hash
// chain from the certified checkpoint; a node that forges a header (here,
// backdates a block) is refused by Export itself (ErrChain), so no
// unproven time reaches a report.
func TestHeaderLog(t *testing.T) {
	f := newTrialFixture(t, 1, 0)
	cases := []struct {
		name  string
		forge uint64 // 0: none
		want  []uint64
	}{
		{"honest node", 0, []uint64{1, 2, 3, 4, 5}},
		{"block 3 backdated", 3, nil},
		{"newest block below the checkpoint backdated", 4, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hl := NewHeaderLog(forgingSource{f.fc, tc.forge})
			b, err := Export(context.Background(), hl, f.fc.g.ChainID, f.fc.g.Hash(), Options{Scope: "trial:T1"})
			if tc.forge != 0 {
				if !errors.Is(err, ErrChain) {
					t.Fatalf("a backdated block: %v, want ErrChain", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			times := hl.BlockTimes(b.Latest())
			if len(times) != len(tc.want) {
				t.Fatalf("times of %d blocks %v, want blocks %v", len(times), times, tc.want)
			}
			for _, h := range tc.want {
				if got, want := times[h], f.fc.blocks[h-1].Block.Header.TimeUnixMilli; got != want {
					t.Errorf("block %d: time %d, want %d", h, got, want)
				}
			}
		})
	}
}
