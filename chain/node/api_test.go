package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
)

// TestAPIRefusesBadTransactions: each bad transaction is refused at
// admission with its own code, is never proposed, and leaves nothing
// behind (no receipt, no nonce consumed, no state).
func TestAPIRefusesBadTransactions(t *testing.T) {
	c := newCluster(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n0 := c.live()[0]
	cl := client.New(n0.APIURL())
	chain := c.tn.Genesis.ChainID
	sponsor, err := keys.Ring{Dir: c.tn.Keyring}.Get("sponsor")
	if err != nil {
		t.Fatal(err)
	}
	anchorTx := func(key ed25519.PrivateKey, chainID string, nonce uint64) *block.Tx {
		tx := &block.Tx{ChainID: chainID, Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000,
			Payload: (&block.AnchorPayload{Hash: block.Sum([]byte{byte(nonce)}), Label: "doc"}).Encode()}
		tx.Sign(key)
		return tx
	}
	good := anchorTx(sponsor.Private, chain, 1)
	if res, err := cl.Submit(ctx, good, true); err != nil || res.Receipt == nil || res.Receipt.Status != "ok" {
		t.Fatalf("good transaction: %v %+v", err, res)
	}

	badSig := anchorTx(sponsor.Private, chain, 2)
	badSig.Signature[0] ^= 1
	stranger := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	unauthorised := &block.Tx{ChainID: chain, Nonce: 3, Kind: block.KindRegister, GasLimit: 100_000,
		Payload: (&block.RegisterPayload{Key: stranger.Public().(ed25519.PublicKey), Org: "x", Name: "x", Role: block.RoleAdmin}).Encode()}
	unauthorised.Sign(sponsor.Private)
	lowGas := anchorTx(sponsor.Private, chain, 4)
	lowGas.GasLimit = 1
	lowGas.Sign(sponsor.Private)

	raw := func(tx *block.Tx) []byte { return tx.Encode() }
	tests := []struct {
		name string
		body []byte
		code string
	}{
		{"malformed", []byte{1, 2, 3}, "malformed"},
		{"trailing bytes", append(raw(anchorTx(sponsor.Private, chain, 5)), 0), "malformed"},
		{"oversized", make([]byte, block.MaxTxBytes+1), "too_large"},
		{"wrongly signed", raw(badSig), "bad_signature"},
		{"replayed nonce", raw(good), "nonce_used"},
		{"wrong chain id", raw(anchorTx(sponsor.Private, "other-chain", 6)), "wrong_chain"},
		{"unknown sender", raw(anchorTx(stranger, chain, 7)), "unknown_sender"},
		{"unauthorised kind", raw(unauthorised), "forbidden"},
		{"gas below intrinsic", raw(lowGas), "gas_limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(n0.APIURL()+"/v1/tx", "application/octet-stream", bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e view.Error
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode < 400 || e.Code != tc.code {
				t.Fatalf("status %d, code %q (%s), want code %s", resp.StatusCode, e.Code, e.Error, tc.code)
			}
		})
	}
	// Commit one more good transaction: refused ones were never proposed.
	if _, err := cl.Submit(ctx, anchorTx(sponsor.Private, chain, 8), true); err != nil {
		t.Fatal(err)
	}
	c.waitSameHead(30 * time.Second)
	for _, n := range c.live() {
		for _, tc := range tests {
			if tc.code == "nonce_used" {
				continue // the same bytes as the committed transaction
			}
			if _, err := n.store.Receipt(block.Sum(tc.body)); err == nil {
				t.Fatalf("node %d holds a receipt for refused %q", n.cfg.ID, tc.name)
			}
		}
		for h := uint64(1); h <= n.ledger.Head().Height; h++ {
			b, _ := n.store.Block(h)
			for _, tx := range b.Block.Txs {
				if s := block.Sum(tx); s != block.Sum(raw(good)) && s != block.Sum(raw(anchorTx(sponsor.Private, chain, 8))) {
					t.Fatalf("node %d block %d holds an unexpected transaction %s", n.cfg.ID, h, s)
				}
			}
		}
	}
}
