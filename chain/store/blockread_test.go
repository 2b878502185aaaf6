package store

import (
	"errors"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
)

// Header and BlockReceipts answer what Block and Receipt do, for the
// block asked and no other.
func TestHeaderAndBlockReceipts(t *testing.T) {
	s := initStore(t, []state.Write{{Key: []byte("m"), Value: []byte("x")}})
	for h := uint64(1); h <= 3; h++ {
		commitBlock(t, s, h)
	}
	for h := uint64(1); h <= 3; h++ {
		c, err := s.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		hd, err := s.Header(h)
		if err != nil {
			t.Fatal(err)
		}
		if hd.Hash() != c.Block.Header.Hash() {
			t.Fatalf("block %d: Header differs from Block's header", h)
		}
		var got []*block.Receipt
		if err := s.BlockReceipts(h, func(rc *block.Receipt) error { got = append(got, rc); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(c.Block.Txs) {
			t.Fatalf("block %d: %d receipts for %d transactions", h, len(got), len(c.Block.Txs))
		}
		for i, raw := range c.Block.Txs {
			want, err := s.Receipt(block.Sum(raw))
			if err != nil {
				t.Fatal(err)
			}
			if string(got[i].Encode()) != string(want.Encode()) || got[i].Height != h || got[i].Index != uint64(i) {
				t.Fatalf("block %d: receipt %d differs from Receipt's", h, i)
			}
		}
	}
	if _, err := s.Header(4); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Header of an absent block: %v, want ErrNotFound", err)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.BlockReceipts(2, func(*block.Receipt) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("BlockReceipts returned %v after %d receipts, want fn's error after 1", err, n)
	}
}
