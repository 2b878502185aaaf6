package ledger

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
)

// TestSpeculate: whatever was speculated before a commit — the block
// itself, a rival block at the same height, a block over another head,
// nothing — the ledger stores what a ledger that never speculates stores
// (head, state root, record log, receipts), and a commit uses a
// speculation only of its own block over its own head.
func TestSpeculate(t *testing.T) {
	ac := newAnchorChain()
	open := func(name string) (*Ledger, *store.Store) {
		st, err := store.Open(filepath.Join(t.TempDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		l, err := New(ac.g, st, &state.Executor{Params: Params(ac.g), Cache: ac.cache})
		if err != nil {
			t.Fatal(err)
		}
		return l, st
	}
	plain, plainSt := open("plain")
	spec, specSt := open("spec")
	rival := func(c *block.Committed) *block.Block { // the first half of c's transactions
		txs := c.Block.Txs[:len(c.Block.Txs)/2]
		h := c.Block.Header
		h.TxCount, h.TxRoot = uint64(len(txs)), block.TxRoot(txs)
		return &block.Block{Header: h, Txs: txs}
	}
	var stale *block.Block // a block over the previous head
	tests := []struct {
		name     string
		before   func(c *block.Committed)
		wantUsed bool
	}{
		{"none", func(*block.Committed) {}, false},
		{"itself", func(c *block.Committed) { spec.Speculate(&c.Block) }, true},
		{"itself twice", func(c *block.Committed) { spec.Speculate(&c.Block); spec.Speculate(&c.Block) }, true},
		{"a rival", func(c *block.Committed) { spec.Speculate(rival(c)) }, false},
		{"a rival, then itself", func(c *block.Committed) { spec.Speculate(rival(c)); spec.Speculate(&c.Block) }, true},
		{"itself, then a rival", func(c *block.Committed) { spec.Speculate(&c.Block); spec.Speculate(rival(c)) }, false},
		{"a block over the previous head", func(*block.Committed) { spec.Speculate(stale) }, false},
		{"itself, then one over the previous head", func(c *block.Committed) { spec.Speculate(&c.Block); spec.Speculate(stale) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ac.next(t, plainSt, 20)
			tt.before(c)
			used := spec.specUsed
			for _, l := range []*Ledger{plain, spec} {
				if ok, err := l.Commit(c); !ok || err != nil {
					t.Fatalf("commit %d: %v, %v", c.Block.Header.Height, ok, err)
				}
			}
			if got := spec.specUsed > used; got != tt.wantUsed {
				t.Errorf("speculation used: %v, want %v", got, tt.wantUsed)
			}
			if spec.spec != nil {
				t.Errorf("a speculation is kept after the commit")
			}
			if p, s := plainSt.Head(), specSt.Head(); !reflect.DeepEqual(p, s) {
				t.Fatalf("heads differ:\n plain %+v\n spec  %+v", p, s)
			}
			for i, raw := range c.Block.Txs {
				_, prc, err := plainSt.Tx(block.Sum(raw))
				if err != nil {
					t.Fatal(err)
				}
				_, src, err := specSt.Tx(block.Sum(raw))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(prc, src) {
					t.Fatalf("receipt %d differs:\n plain %+v\n spec  %+v", i, prc, src)
				}
			}
			stale = &c.Block
		})
	}
}
