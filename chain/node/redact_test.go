package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/store"
	"github.com/trialchain/trialchain/sdk/client"
)

// send admits tx at a live node, hands it to consensus and waits until
// every live node committed it; it returns the receipt.
func (c *cluster) send(tx *block.Tx) *block.Receipt {
	c.t.Helper()
	n := c.live()[0]
	raw := tx.Encode()
	if _, err := n.Admit(raw); err != nil {
		c.t.Fatalf("admit %s: %v", tx.Kind, err)
	}
	for n.replica.Submit(raw) != nil {
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var rc *block.Receipt
	for _, n := range c.live() {
		r, err := n.ledger.WaitReceipt(ctx, tx.Hash())
		if err != nil {
			c.t.Fatalf("node %d: %v", n.cfg.ID, err)
		}
		rc = r
	}
	return rc
}

// TestRedactionAcrossNodes: a payload anchored by a site and held by all
// four nodes is redacted while one node is down. The three live nodes
// shred it at once; proofs made before the redaction still verify and
// the log still extends the old checkpoint; the node that was down
// shreds its copy as it catches up, and no node takes the payload back.
func TestRedactionAcrossNodes(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 4)
	g := c.tn.Genesis
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ring := keys.Ring{Dir: c.tn.Keyring}
	key := func(name string) ed25519.PrivateKey {
		k, err := ring.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		return k.Private
	}
	sponsor, regulator := key("sponsor"), key("regulator")
	sign := func(k ed25519.PrivateKey, kind block.Kind, payload []byte) *block.Tx {
		return client.Sign(k, g.ChainID, kind, payload, 1_000_000)
	}
	clients := make([]*client.Client, len(c.nodes))
	for i, n := range c.nodes {
		srv := httptest.NewServer(n.Handler()) // the handler reads the node's store; restarts reopen it below
		defer srv.Close()
		clients[i] = client.Pinned(srv.URL, n.key.Public().(ed25519.PublicKey))
	}

	phi := []byte(`{"subject":"3f2a…","form":"ae","narrative":"Mr John Smith, MRN 0042317, fell at home"}`)
	h := block.Sum(phi)
	if _, err := clients[0].PutPayload(ctx, c.site, g.ChainID, phi); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("payload accepted before its hash is anchored: %v", err)
	}
	anchor := sign(c.site, block.KindAnchor, (&block.AnchorPayload{Hash: h, Label: "ae-narrative"}).Encode())
	if rc := c.send(anchor); rc.Status != block.StatusOK {
		t.Fatalf("anchor: %s", rc.Error)
	}
	if n, err := client.Replicate(ctx, clients, c.site, g.ChainID, phi); n != 4 || err != nil {
		t.Fatalf("replicated to %d nodes: %v", n, err)
	}
	for _, who := range []struct {
		name string
		key  ed25519.PrivateKey
		ok   bool
	}{{"site (anchored it)", c.site, true}, {"regulator", regulator, true}, {"sponsor (another organisation)", sponsor, false}} {
		got, err := clients[3].Payload(ctx, who.key, g.ChainID, h)
		if ok := err == nil && bytes.Equal(got, phi); ok != who.ok {
			t.Fatalf("%s reads the payload: %v (%v), want %v", who.name, ok, err, who.ok)
		}
	}
	c.send(sign(c.site, block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte("next")), Label: "x"}).Encode()))
	before, err := clients[0].ProveTx(ctx, g, anchor.Hash())
	if err != nil {
		t.Fatalf("inclusion of the anchor before redaction: %v", err)
	}

	// Node 4 goes down holding its copy.
	late := 3
	if has, err := c.nodes[late].store.HasPayloadKey(h); !has || err != nil {
		t.Fatalf("node 4 does not hold the payload before the redaction: %v", err)
	}
	c.stop(late)

	redact := sign(c.site, block.KindRedact, (&block.RedactPayload{Targets: []block.Hash{h}, Basis: block.BasisMistakenPHI,
		Reason: "patient name and MRN typed into the narrative", Meaning: "approval of redaction"}).Encode())
	if rc := c.send(redact); rc.Status != block.StatusOK {
		t.Fatalf("redaction: %s", rc.Error)
	}
	c.send(sign(c.site, block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte("after")), Label: "x"}).Encode()))
	for i, n := range c.live() {
		if has, err := n.store.HasPayloadKey(h); has || err != nil {
			t.Fatalf("node %d still holds the data key: %v", n.cfg.ID, err)
		}
		if _, err := clients[i].Payload(ctx, c.site, g.ChainID, h); !errors.Is(err, client.ErrGone) {
			t.Fatalf("node %d serves the redacted payload: %v", n.cfg.ID, err)
		}
		if _, err := clients[i].PutPayload(ctx, c.site, g.ChainID, phi); !errors.Is(err, client.ErrGone) {
			t.Fatalf("node %d takes the redacted payload back: %v", n.cfg.ID, err)
		}
	}
	x, err := clients[0].Redaction(ctx, h)
	if err != nil || x.Basis != block.BasisMistakenPHI || x.TxHash != redact.Hash() {
		t.Fatalf("redaction record: %+v %v", x, err)
	}

	// Evidence stays: the old proof still verifies against its checkpoint,
	// the log extends that checkpoint, and the anchor is still proved.
	if _, err := client.VerifyRecord(before.Checkpoint, before.Proof, anchor.Hash()); err != nil {
		t.Fatalf("pre-redaction proof: %v", err)
	}
	if _, err := clients[0].ProveExtends(ctx, g, before.Checkpoint); err != nil {
		t.Fatalf("log after redaction does not extend the earlier checkpoint: %v", err)
	}
	if _, err := clients[1].ProveTx(ctx, g, anchor.Hash()); err != nil {
		t.Fatalf("anchor after redaction: %v", err)
	}
	if _, err := clients[2].ProveTx(ctx, g, redact.Hash()); err != nil {
		t.Fatalf("the redaction itself is not in the record log: %v", err)
	}

	// The late node catches up and shreds its copy.
	c.start(late)
	c.send(sign(c.site, block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte("rejoined")), Label: "x"}).Encode()))
	c.waitSameHead(time.Minute)
	ln := c.nodes[late]
	if has, err := ln.store.HasPayloadKey(h); has || err != nil {
		t.Fatalf("late node kept the data key after syncing: %v", err)
	}
	if _, err := ln.store.Payload(h); !errors.Is(err, store.ErrRedacted) {
		t.Fatalf("late node: %v", err)
	}
	if err := ln.store.PutPayload(h, phi); !errors.Is(err, store.ErrRedacted) {
		t.Fatalf("late node takes the payload back: %v", err)
	}
	c.sameChain()
	// What the node wrote holding payloads is private: 0700 directories, 0600 files.
	data := ln.cfg.Path(ln.cfg.DataDir)
	err = filepath.WalkDir(filepath.Join(data, "db"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Stat(p)
		if err == nil && (d.IsDir() && st.Mode().Perm() != 0o700 || !d.IsDir() && st.Mode().Perm() != 0o600) {
			t.Errorf("%s is %v", p, st.Mode().Perm())
		}
		return err
	})
	if st, serr := os.Stat(data); err != nil || serr != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("data directory: %v %v", err, serr)
	}
}
