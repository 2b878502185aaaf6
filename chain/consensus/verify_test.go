package consensus

import (
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"testing"
	"time"

	bft "github.com/hyperledger-labs/SmartBFT/pkg/types"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
)

// TestVerifyProposalRefusals: a follower refuses (does not sign) a
// proposal with a bad parent, a bad timestamp, a bad header or any
// transaction that fails admission; the leader's own proposal passes.
func TestVerifyProposalRefusals(t *testing.T) {
	g, keys, site := testGenesis(4)
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	led, err := ledger.New(g, st, &state.Executor{Params: ledger.Params(g)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1800000000, 0)
	rep, err := New(Config{SelfID: 2, Key: keys[1], Genesis: g, Ledger: led, WALDir: filepath.Join(dir, "wal"),
		Clock: fixedClock{now}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := [][]byte{anchor(site, 1), anchor(site, 2)}
	base := rep.AssembleProposal(nil, good)
	if _, err := rep.VerifyProposal(base); err != nil {
		t.Fatalf("a well-formed proposal is refused: %v", err)
	}
	header := func(f func(h *block.Header)) func(p *bft.Proposal) {
		return func(p *bft.Proposal) {
			h, err := block.DecodeHeader(p.Header)
			if err != nil {
				t.Fatal(err)
			}
			f(h)
			p.Header = h.Encode()
		}
	}
	withTxs := func(txs ...[]byte) func(p *bft.Proposal) {
		return func(p *bft.Proposal) {
			h, _ := block.DecodeHeader(p.Header)
			h.TxCount, h.TxRoot = uint64(len(txs)), block.TxRoot(txs)
			p.Header, p.Payload = h.Encode(), block.EncodeTxs(txs)
		}
	}
	wrongChain := &block.Tx{ChainID: "other", Nonce: 9, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Label: "x"}).Encode()}
	wrongChain.Sign(site)
	badSig := anchor(site, 3)
	badSig[len(badSig)-1] ^= 1
	stranger := ed25519.NewKeyFromSeed(make([]byte, 32))
	unknown := &block.Tx{ChainID: "test", Nonce: 4, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Label: "x"}).Encode()}
	unknown.Sign(stranger)
	unauthorised := &block.Tx{ChainID: "test", Nonce: 5, Kind: block.KindRegister, GasLimit: 100_000,
		Payload: (&block.RegisterPayload{Key: stranger.Public().(ed25519.PublicKey), Org: "x", Name: "x", Role: block.RoleAdmin}).Encode()}
	unauthorised.Sign(site)

	tests := []struct {
		name   string
		mutate func(p *bft.Proposal)
		want   error
	}{
		{"parent hash", header(func(h *block.Header) { h.PrevHash[0] ^= 1 }), ErrBadParent},
		{"height gap", header(func(h *block.Header) { h.Height = 5 }), ErrBadParent},
		{"timestamp before parent", header(func(h *block.Header) { h.TimeUnixMilli = g.Time.UnixMilli() - 1 }), ErrBadTimestamp},
		{"timestamp ahead of clock", header(func(h *block.Header) { h.TimeUnixMilli = now.Add(time.Minute).UnixMilli() }), ErrBadTimestamp},
		{"state root", header(func(h *block.Header) { h.StateRoot[3] ^= 1 }), ErrBadHeader},
		{"record log", header(func(h *block.Header) { h.LogSize = 7 }), ErrBadHeader},
		{"validator set", header(func(h *block.Header) { h.ValidatorsHash[0] ^= 1 }), ErrBadHeader},
		{"chain id", header(func(h *block.Header) { h.ChainID = "other" }), ErrBadHeader},
		{"proposer", header(func(h *block.Header) { h.Proposer = 99 }), ErrBadHeader},
		{"tx root", header(func(h *block.Header) { h.TxRoot[0] ^= 1 }), ErrBadHeader},
		{"undecodable header", func(p *bft.Proposal) { p.Header = p.Header[:10] }, ErrBadHeader},
		{"undecodable payload", func(p *bft.Proposal) { p.Payload = append(p.Payload, 0) }, ErrBadTx},
		{"bad signature", withTxs(good[0], badSig), ErrBadTx},
		{"wrong chain tx", withTxs(wrongChain.Encode()), ErrBadTx},
		{"replayed nonce in batch", withTxs(good[0], good[0]), ErrBadTx},
		{"unknown sender", withTxs(unknown.Encode()), ErrBadTx},
		{"unauthorised kind", withTxs(unauthorised.Encode()), ErrBadTx},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := bft.Proposal{Header: append([]byte(nil), base.Header...), Payload: append([]byte(nil), base.Payload...), Metadata: base.Metadata}
			tc.mutate(&p)
			if _, err := rep.VerifyProposal(p); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestVerifyConsenterSig: a vote must be by a validator, over this exact
// proposal, with a valid signature.
func TestVerifyConsenterSig(t *testing.T) {
	g, keys, site := testGenesis(4)
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	led, err := ledger.New(g, st, &state.Executor{Params: ledger.Params(g)})
	if err != nil {
		t.Fatal(err)
	}
	reps := make([]*Replica, 2)
	for i := range reps {
		if reps[i], err = New(Config{SelfID: uint64(i + 1), Key: keys[i], Genesis: g, Ledger: led, WALDir: filepath.Join(dir, "wal", string(rune('a'+i)))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	p := reps[0].AssembleProposal(nil, [][]byte{anchor(site, 1)})
	other := reps[0].AssembleProposal(nil, [][]byte{anchor(site, 2)})
	sig := reps[1].SignProposal(p, []byte("aux"))
	if aux, err := reps[0].VerifyConsenterSig(*sig, p); err != nil || string(aux) != "aux" {
		t.Fatalf("valid vote refused: %v", err)
	}
	forged := *sig
	forged.Value = append([]byte(nil), sig.Value...)
	forged.Value[0] ^= 1
	stranger := *sig
	stranger.ID = 42
	for name, tc := range map[string]struct {
		s bft.Signature
		p bft.Proposal
	}{"forged": {forged, p}, "not a validator": {stranger, p}, "other proposal": {*sig, other}} {
		if _, err := reps[0].VerifyConsenterSig(tc.s, tc.p); err == nil {
			t.Errorf("%s: vote accepted", name)
		}
	}
}
