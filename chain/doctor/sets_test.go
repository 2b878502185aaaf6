package doctor

import (
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
)

// addFive executes validator transactions as chain/contracts would after
// checking their consent: it accepts the add of validator 5.
type addFive struct{}

func (addFive) Execute(_ state.BlockContext, _ *state.Overlay, tx *block.Tx, _ block.Hash, _ *state.Member, _ uint64) ([]byte, []block.Event, uint64, error) {
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

// TestCheckFollowsSetChanges: block 1 adds validator 5, so block 2 needs
// a quorum of the five (4 signatures). Check and Rebuild accept block 2
// signed by four of them, and Check refuses it signed by the three
// genesis validators that were a quorum before the change.
func TestCheckFollowsSetChanges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		signers []uint64
		ok      bool
	}{
		{"quorum of the new set", []uint64{1, 2, 3, 5}, true},
		{"quorum of the old set only", []uint64{1, 2, 3}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			admin := ed25519.NewKeyFromSeed(make([]byte, 32))
			g := testGenesis()
			g.Params.ValidatorGroup = "validators"
			g.Members = append(g.Members, genesis.Member{Name: "admin", Org: "Net", Role: block.RoleAdmin, Key: genesis.Key(admin.Public().(ed25519.PublicKey))})
			dir := t.TempDir()
			s, err := store.Open(filepath.Join(dir, "db"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ex := &state.Executor{Params: ledger.Params(g), Contracts: addFive{}}
			led, err := ledger.New(g, s, ex)
			if err != nil {
				t.Fatal(err)
			}
			five := genesis.Change{Op: genesis.ChangeAdd, Validator: genesis.Validator{ID: 5, Name: "node5",
				Key: genesis.Key(valKey(5).Public().(ed25519.PublicKey)), Addr: "127.0.0.1:7005"}}
			tx := &block.Tx{ChainID: g.ChainID, Nonce: 1, Kind: block.KindValidator, GasLimit: 1_000_000,
				Payload: (&block.ValidatorPayload{Change: five.Encode(), Consent: []byte{1}}).Encode()}
			tx.Sign(admin)
			hist := genesis.NewHistory(g)
			certify := func(h uint64, txs [][]byte, signers []uint64) *block.Committed {
				head := s.Head()
				c := &block.Committed{Block: block.Block{Header: block.Header{ChainID: g.ChainID, Height: h, PrevHash: head.Hash,
					TimeUnixMilli: g.Time.UnixMilli() + int64(h), TxCount: uint64(len(txs)), TxRoot: block.TxRoot(txs),
					StateRoot: head.StateRoot, LogSize: head.Log.Size, LogRoot: head.Log.Root(), ValidatorsHash: hist.At(h).Hash()}, Txs: txs}}
				v := block.Vote{ChainID: g.ChainID, Height: h, BlockHash: c.Block.Hash(), MetadataHash: block.Sum(c.Metadata)}
				msg := v.Encode()
				for _, id := range signers {
					c.Cert.Sigs = append(c.Cert.Sigs, block.CommitSig{Validator: id, Msg: msg, Sig: ed25519.Sign(valKey(id), msg)})
				}
				if _, err := led.Commit(c); err != nil {
					t.Fatal(err)
				}
				return c
			}
			c1 := certify(1, [][]byte{tx.Encode()}, []uint64{1, 2, 3})
			if ch := led.SetChanges(c1); len(ch) != 1 {
				t.Fatalf("block 1 made changes %v", ch)
			}
			if err := hist.Apply(five, 1); err != nil {
				t.Fatal(err)
			}
			certify(2, nil, tc.signers)
			rep := Check(g, s)
			if !tc.ok {
				if rep.OK() || !strings.Contains(rep.Problems[0].What, "quorum") {
					t.Fatalf("want a quorum problem, got %+v", rep.Problems)
				}
				return
			}
			if !rep.OK() {
				t.Fatalf("check: %v", rep.Problems)
			}
			dst, err := store.Open(filepath.Join(dir, "rebuilt"))
			if err != nil {
				t.Fatal(err)
			}
			defer dst.Close()
			if _, err := (&Rebuild{Genesis: g, Damaged: s, Executor: ex, FollowSets: true}).Run(context.Background(), dst); err != nil {
				t.Fatal(err)
			}
		})
	}
}
