package state

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

func boundedAnchorTx(k ed25519.PrivateKey, nonce uint64, label string, validUntil uint64) *block.Tx {
	tx := anchorTx(k, nonce, label)
	tx.ValidUntil = validUntil
	tx.Sign(k)
	return tx
}

// TestBatchValidUntil: a block admits a bounded transaction up to and at
// its bound, and refuses it after; an unbounded one at any time.
func TestBatchValidUntil(t *testing.T) {
	cases := []struct {
		name      string
		bound     uint64
		blockTime int64
		want      error
	}{
		{"no bound, any time", 0, 1 << 50, nil},
		{"before the bound", 5000, 4999, nil},
		{"at the bound", 5000, 5000, nil},
		{"one millisecond after", 5000, 5001, ErrExpired},
		{"long after", 5000, 1 << 50, ErrExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := NewBatch(params, genesisKV(), c.blockTime)
			_, err := b.Add(boundedAnchorTx(siteKey, 1, "a", c.bound).Encode())
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if err != nil {
				// A refused transaction leaves nothing: its nonce is free.
				if _, err := b.Add(anchorTx(siteKey, 1, "b").Encode()); err != nil {
					t.Fatalf("after the refusal, the same nonce: %v", err)
				}
			}
		})
	}
}

// TestApplyRefusesExpired: execution keeps to the rule too, so a block
// carrying an expired transaction (which verification refuses) records a
// failed receipt and consumes no nonce.
func TestApplyRefusesExpired(t *testing.T) {
	ex := &Executor{Params: params}
	b := mkBlock(boundedAnchorTx(siteKey, 1, "late", 999), boundedAnchorTx(siteKey, 2, "in time", 1000), anchorTx(siteKey, 1, "same nonce"))
	g := genesisState(t)
	res, err := ex.Apply(g, g.Root, b) // mkBlock's time is 1000
	if err != nil {
		t.Fatal(err)
	}
	want := []block.Status{block.StatusFailed, block.StatusOK, block.StatusOK}
	for i, rc := range res.Receipts {
		if rc.Status != want[i] {
			t.Errorf("tx %d: status %s (%s), want %s", i, rc.Status, rc.Error, want[i])
		}
	}
}
