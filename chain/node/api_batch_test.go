package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
)

// postBatch posts body to POST /v1/txs?wait=1 and decodes the answer.
func postBatch(t *testing.T, n *Node, body []byte) (*http.Response, view.SubmittedBatch, view.Error) {
	t.Helper()
	resp, err := http.Post(n.APIURL()+"/v1/txs?wait=1&timeout=30s", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb view.SubmittedBatch
	var e view.Error
	if resp.StatusCode == http.StatusOK {
		err = json.NewDecoder(resp.Body).Decode(&sb)
	} else {
		err = json.NewDecoder(resp.Body).Decode(&e)
	}
	if err != nil {
		t.Fatal(err)
	}
	return resp, sb, e
}

// TestSubmitBatch: each transaction of a batch gets the answer POST /v1/tx
// would give it alone, in the batch's order; the good ones commit on every
// node and the refused ones leave nothing behind; a body that is not a
// batch is refused whole.
func TestSubmitBatch(t *testing.T) {
	c := newCluster(t, 4)
	n0 := c.live()[0]
	chain := c.tn.Genesis.ChainID
	stranger := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	badSig := c.anchorTx(3)
	badSig[len(badSig)-1] ^= 1
	strangers := &block.Tx{ChainID: chain, Nonce: 1, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Hash: block.Sum([]byte("x")), Label: "doc"}).Encode()}
	strangers.Sign(stranger)
	items := []struct {
		name   string
		raw    []byte
		status int
		code   string
	}{
		{"good 1", c.anchorTx(1), http.StatusOK, ""},
		{"good 2", c.anchorTx(2), http.StatusOK, ""},
		{"bad signature", badSig, http.StatusUnauthorized, "bad_signature"},
		{"unknown sender", strangers.Encode(), http.StatusForbidden, "unknown_sender"},
		{"malformed", []byte{1, 2, 3}, http.StatusBadRequest, "malformed"},
		{"good 2 again", c.anchorTx(2), http.StatusOK, ""},
		{"good 4", c.anchorTx(4), http.StatusOK, ""},
	}
	var body []byte
	for _, it := range items {
		body = view.AppendTxBatch(body, it.raw)
	}
	resp, sb, e := postBatch(t, n0, body)
	if resp.StatusCode != http.StatusOK || len(sb.Results) != len(items) {
		t.Fatalf("status %d (%s), %d results", resp.StatusCode, e.Error, len(sb.Results))
	}
	for i, it := range items {
		r := sb.Results[i]
		if r.Hash != block.Sum(it.raw) || r.Status != it.status || r.Code != it.code {
			t.Errorf("%s: result %+v, want status %d code %q", it.name, r, it.status, it.code)
		}
		if it.status == http.StatusOK && (r.Receipt == nil || r.Receipt.Status != "ok") {
			t.Errorf("%s: receipt %+v", it.name, r.Receipt)
		}
	}
	c.waitSameHead(30 * time.Second)
	for _, n := range c.live() {
		for _, it := range items {
			_, err := n.store.Receipt(block.Sum(it.raw))
			if (err == nil) != (it.status == http.StatusOK) {
				t.Errorf("node %d, %s: receipt lookup %v", n.cfg.ID, it.name, err)
			}
		}
	}
	// Bodies that are not batches, refused whole.
	var tooMany []byte
	for i := range view.MaxBatchTxs + 1 {
		tooMany = view.AppendTxBatch(tooMany, c.anchorTx(uint64(100+i)))
	}
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"empty", nil, http.StatusBadRequest, "malformed"},
		{"truncated", view.AppendTxBatch(nil, c.anchorTx(9))[:20], http.StatusBadRequest, "malformed"},
		{"length past the end", binary.BigEndian.AppendUint32(nil, 1<<30), http.StatusBadRequest, "malformed"},
		{"too many", tooMany, http.StatusBadRequest, "malformed"},
		{"too large", make([]byte, block.MaxTxBytes+1), http.StatusRequestEntityTooLarge, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _, e := postBatch(t, n0, tc.body)
			if resp.StatusCode != tc.status || e.Code != tc.code {
				t.Fatalf("status %d code %q (%s), want %d %q", resp.StatusCode, e.Code, e.Error, tc.status, tc.code)
			}
		})
	}
	// Nothing of the refused batches was taken.
	if _, err := n0.store.Receipt(block.Sum(c.anchorTx(100))); err == nil {
		t.Fatal("a transaction of a refused batch committed")
	}
}

// TestSubmitBatchPoolFull: once the node holds a block's worth pending, the rest
// of the batch is answered 429 busy (not taken; the answer carries
// Retry-After) and every transaction answered 200 commits; the SDK sends
// the busy ones again until all are in.
func TestSubmitBatchPoolFull(t *testing.T) {
	p := testParams()
	p.BatchMaxCount = 20 // a node takes a block's worth pending (checkBacklog)
	c := newClusterParams(t, 4, p, nil)
	n0 := c.live()[0]
	const k = 2 * 20
	var body []byte
	for i := range k {
		body = view.AppendTxBatch(body, c.anchorTx(uint64(1+i)))
	}
	resp, sb, e := postBatch(t, n0, body)
	if resp.StatusCode != http.StatusOK || len(sb.Results) != k {
		t.Fatalf("status %d (%s), %d results", resp.StatusCode, e.Error, len(sb.Results))
	}
	busy := -1
	for i, r := range sb.Results {
		switch {
		case r.Status == http.StatusTooManyRequests:
			if busy < 0 {
				busy = i
			}
		case busy >= 0:
			t.Fatalf("result %d is %d after a busy one at %d", i, r.Status, busy)
		case r.Status != http.StatusOK || r.Receipt == nil:
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if busy <= 0 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("first busy result %d, Retry-After %q: want some taken, then busy with Retry-After", busy, resp.Header.Get("Retry-After"))
	}
	for _, n := range c.live() {
		for i := range busy {
			if _, err := n.ledger.WaitReceipt(t.Context(), block.Sum(c.anchorTx(uint64(1+i)))); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The SDK resends the busy ones of a batch until all are in.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	txs := make([]*block.Tx, 0, k)
	for i := range k {
		tx, err := block.DecodeTx(c.anchorTx(uint64(1000 + i)))
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	res, err := client.New(n0.APIURL()).SubmitBatch(ctx, txs, true)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if err := client.BatchErr(r); err != nil || r.Receipt == nil || r.Receipt.Status != "ok" {
			t.Fatalf("transaction %d: %v, %+v", i, err, r)
		}
	}
}

// TestSubmitAll: the SDK's SubmitAll splits any number of transactions
// into batches by count and size, halves a batch the node finds too large
// (a chain whose transactions are bounded at 1 MiB, below the default the
// SDK assumes), sends a transaction too large alone, and gives every
// transaction its own result in order; every accepted one commits.
func TestSubmitAll(t *testing.T) {
	p := testParams()
	p.RequestMaxBytes = 1 << 20
	c := newClusterParams(t, 4, p, nil)
	n0 := c.live()[0]
	sponsor, err := keys.Ring{Dir: c.tn.Keyring}.Get("sponsor")
	if err != nil {
		t.Fatal(err)
	}
	deploy := func(size int) *block.Tx {
		tx := &block.Tx{ChainID: c.tn.Genesis.ChainID, Nonce: client.Nonce(), Kind: block.KindDeploy,
			Payload: (&block.DeployPayload{Code: bytes.Repeat([]byte{0x5a}, size), Policy: block.PolicyImmutable, Label: "large"}).Encode()}
		tx.GasLimit = state.IntrinsicGas(tx) + 1_000_000
		tx.Sign(sponsor.Private)
		return tx
	}
	fits, over := deploy(1<<20-4096), deploy(1<<20+4096) // under and over the chain's 1 MiB
	// More anchors than one batch holds, the two deploys among them, and
	// one the node refuses (a bad signature).
	const k = view.MaxBatchTxs + 60
	var txs []*block.Tx
	for i := range k {
		tx, err := block.DecodeTx(c.anchorTx(uint64(5000 + i)))
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	bad := *txs[7]
	bad.Signature = append([]byte(nil), bad.Signature...)
	bad.Signature[0] ^= 1
	txs[7] = &bad
	txs = slices.Insert(txs, 100, fits)
	txs = slices.Insert(txs, 200, over)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := client.New(n0.APIURL()).SubmitAll(ctx, txs, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(txs) {
		t.Fatalf("%d results for %d transactions", len(res), len(txs))
	}
	for i, r := range res {
		if r.Hash != txs[i].Hash() {
			t.Fatalf("result %d is for %s, not %s", i, r.Hash, txs[i].Hash())
		}
		switch i {
		case 7:
			if r.Status != http.StatusUnauthorized || r.Code != "bad_signature" {
				t.Errorf("bad signature: %+v", r)
			}
		case 100: // junk code under the limit: taken, and it fails in its block
			if r.Status != http.StatusOK || r.Receipt == nil || r.Receipt.Status == "ok" {
				t.Errorf("deploy under the limit: %+v", r)
			}
		case 200:
			if r.Status != http.StatusRequestEntityTooLarge || r.Code != "too_large" {
				t.Errorf("deploy over the limit: %+v", r)
			}
		default:
			if err := client.BatchErr(r); err != nil || r.Receipt == nil || r.Receipt.Status != "ok" {
				t.Fatalf("transaction %d: %v, %+v", i, err, r)
			}
		}
	}
	c.waitSameHead(30 * time.Second)
	for _, n := range c.live() {
		if _, err := n.store.Receipt(txs[len(txs)-1].Hash()); err != nil {
			t.Errorf("node %d: the last anchor: %v", n.cfg.ID, err)
		}
	}
}
