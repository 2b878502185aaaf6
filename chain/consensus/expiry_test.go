package consensus

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bft "github.com/hyperledger-labs/SmartBFT/pkg/types"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
)

func boundedAnchor(site ed25519.PrivateKey, nonce, validUntil uint64) []byte {
	tx := &block.Tx{ChainID: "test", Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000, ValidUntil: validUntil,
		Payload: (&block.AnchorPayload{Hash: block.Sum([]byte(fmt.Sprint(nonce))), Label: "doc"}).Encode()}
	tx.Sign(site)
	return tx.Encode()
}

// TestValidUntilInProposals: the leader's assembler leaves a request past
// its bound at the block's time out (and asks for its removal from the
// pool); a follower refuses a proposal that carries one, and takes one
// at its bound; a forwarded request already past its bound is refused.
func TestValidUntilInProposals(t *testing.T) {
	g, keys, site := testGenesis(4)
	led, dir := testLedger(t, g)
	now := time.Unix(1800000000, 0)
	ms := uint64(now.UnixMilli())
	rep, err := New(Config{SelfID: 2, Key: keys[1], Genesis: g, Ledger: led, WALDir: filepath.Join(dir, "wal"),
		Clock: fixedClock{now}}, nil)
	if err != nil {
		t.Fatal(err)
	}

	// The assembler: the block's time is the clock's (now).
	expired, atBound, later := boundedAnchor(site, 1, ms-1), boundedAnchor(site, 2, ms), boundedAnchor(site, 3, ms+60_000)
	p := rep.AssembleProposal(nil, [][]byte{anchor(site, 4), expired, atBound, later})
	txs, err := block.DecodeTxs(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != 3 || block.Sum(txs[1]) != block.Sum(atBound) || block.Sum(txs[2]) != block.Sum(later) {
		t.Fatalf("proposal carries %d transactions, want the 3 within their bounds", len(txs))
	}
	select {
	case info := <-rep.removal:
		if h := block.Sum(expired); info.ID != hex.EncodeToString(h[:]) {
			t.Fatalf("removal of %s, want the expired request %s", info.ID, h)
		}
	default:
		t.Fatal("the expired request was not sent for removal from the pool")
	}
	if _, err := rep.VerifyProposal(p); err != nil {
		t.Fatalf("the assembled proposal is refused: %v", err)
	}

	// The follower: the same header with the expired request in it.
	withTxs := func(txs ...[]byte) bft.Proposal {
		h, _ := block.DecodeHeader(p.Header)
		h.TxCount, h.TxRoot = uint64(len(txs)), block.TxRoot(txs)
		return bft.Proposal{Header: h.Encode(), Payload: block.EncodeTxs(txs), Metadata: p.Metadata}
	}
	for _, c := range []struct {
		name string
		txs  [][]byte
		want error
	}{
		{"at its bound", [][]byte{atBound}, nil},
		{"no bound", [][]byte{anchor(site, 4)}, nil},
		{"one millisecond past its bound", [][]byte{expired}, state.ErrExpired},
		{"past its bound after a good one", [][]byte{later, expired}, state.ErrExpired},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := rep.VerifyProposal(withTxs(c.txs...))
			if !errors.Is(err, c.want) || (c.want != nil && !errors.Is(err, ErrBadTx)) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}

	// A forwarded request: the head is the genesis, so the next block's
	// time is at least the genesis time.
	gms := uint64(g.Time.UnixMilli())
	if _, err := rep.VerifyRequest(boundedAnchor(site, 5, gms-1)); !errors.Is(err, state.ErrExpired) {
		t.Fatalf("request past its bound at the genesis time: %v", err)
	}
	if _, err := rep.VerifyRequest(boundedAnchor(site, 6, gms)); err != nil {
		t.Fatalf("request within its bound: %v", err)
	}
}
