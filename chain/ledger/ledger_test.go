package ledger

import (
	"bytes"
	"errors"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/state"
)

// validatorsOnly executes validator transactions as chain/contracts would
// after checking their consent: it accepts those whose change adds
// validator 5 and refuses the others.
type validatorsOnly struct{}

func (validatorsOnly) Execute(_ state.BlockContext, _ *state.Overlay, tx *block.Tx, _ block.Hash, _ *state.Member, _ uint64) ([]byte, []block.Event, uint64, error) {
	p, err := block.DecodeValidator(tx.Payload)
	if err != nil {
		return nil, nil, 0, err
	}
	ch, err := genesis.DecodeChange(p.Change)
	if err != nil || ch.Op != genesis.ChangeAdd || ch.Validator.ID != 5 {
		return nil, nil, 0, errors.New("refused")
	}
	return nil, nil, 0, nil
}

// TestSetChanges: only the validator transactions that succeeded are
// changes of the set.
func TestSetChanges(t *testing.T) {
	l, _, g := newTestLedger(t, validatorsOnly{})
	key := testAdmin()
	five := genesis.Change{Op: genesis.ChangeAdd, Validator: genesis.Validator{ID: 5, Key: genesis.Key(bytes.Repeat([]byte{5}, 32)), Addr: "mem"}}
	rm := genesis.Change{Op: genesis.ChangeRemove, Validator: genesis.Validator{ID: 1}}
	var txs [][]byte
	for i, ch := range []genesis.Change{rm, five} {
		tx := &block.Tx{ChainID: g.ChainID, Nonce: uint64(i + 1), Kind: block.KindValidator, GasLimit: 1_000_000,
			Payload: (&block.ValidatorPayload{Change: ch.Encode(), Consent: []byte{1}}).Encode()}
		tx.Sign(key)
		txs = append(txs, tx.Encode())
	}
	head := l.Head()
	c := &block.Committed{Block: block.Block{Header: block.Header{ChainID: g.ChainID, Height: 1, PrevHash: head.Hash,
		TxCount: uint64(len(txs)), TxRoot: block.TxRoot(txs)}, Txs: txs}}
	if _, err := l.Commit(c); err != nil {
		t.Fatal(err)
	}
	got := l.SetChanges(c)
	if len(got) != 1 || got[0].Hash() != five.Hash() {
		t.Fatalf("set changes %+v, want only the add of validator 5", got)
	}
}

// TestCommitForgetsCheckedTxs: once a block is stored, its transactions
// leave the executor's transaction cache (they are not checked again on
// this node); a pending one, checked but not in the block, stays.
func TestCommitForgetsCheckedTxs(t *testing.T) {
	l, _, g := newTestLedger(t, nil)
	l.Executor.Cache = state.NewTxCache(Params(g), 100, 1<<20)
	in, inHash := anchorTx(t, g, 1)
	pending, pendingHash := anchorTx(t, g, 2)
	for _, raw := range [][]byte{in, pending} {
		if _, _, err := l.Executor.Cache.CheckTx(Params(g), raw); err != nil {
			t.Fatal(err)
		}
	}
	commitTx(t, l, g, in)
	if _, ok := l.Executor.Cache.Lookup(inHash); ok {
		t.Error("committed transaction still cached")
	}
	if _, ok := l.Executor.Cache.Lookup(pendingHash); !ok {
		t.Error("pending transaction forgotten")
	}
	if st := l.Executor.Cache.Stats(); st.Entries != 1 {
		t.Errorf("cache holds %d entries, want 1", st.Entries)
	}
	if rc, err := l.Store.Receipt(inHash); err != nil || rc.Status != block.StatusOK {
		t.Fatalf("committed transaction's receipt: %+v, %v", rc, err)
	}
}
