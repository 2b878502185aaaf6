package client_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/proof/bundle"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/sdk/client/clienttest"
)

// network is a real 4-validator network in this process (real QUIC on
// 127.0.0.1, real Pebble in temp dirs) with a lying proxy in front of
// node0.
type network struct {
	g       *genesis.Genesis
	nodes   []*node.Node
	real    []*client.Client // node0..node3, direct
	liar    *clienttest.Liar
	valKeys []ed25519.PrivateKey
	anchors []block.Hash // anchored document hashes, one per block 1..len
	txs     []block.Hash // their transactions
}

func startNetwork(t *testing.T, blocks int) *network {
	t.Helper()
	p := genesis.DefaultParams()
	p.LeaderHeartbeatTimeout = genesis.Duration(2 * time.Second)
	p.ViewChangeResendInterval = genesis.Duration(500 * time.Millisecond)
	p.ViewChangeTimeout = genesis.Duration(3 * time.Second)
	p.RequestForwardTimeout = genesis.Duration(time.Second)
	p.RequestComplainTimeout = genesis.Duration(4 * time.Second)
	tn, err := node.NewTestnet(t.TempDir(), node.TestnetOptions{Validators: 4, Params: &p})
	if err != nil {
		t.Fatal(err)
	}
	n := &network{g: tn.Genesis}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i, home := range tn.Homes {
		cfg, err := node.LoadConfig(home)
		if err != nil {
			t.Fatal(err)
		}
		off := false
		cfg.HTTP3 = &off
		nd, err := node.New(cfg, node.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := nd.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		n.nodes = append(n.nodes, nd)
		c := client.New(nd.APIURL())
		c.Name = fmt.Sprintf("node%d", i)
		n.real = append(n.real, c)
		k, err := keys.Load(filepath.Join(home, "node.key"))
		if err != nil {
			t.Fatal(err)
		}
		n.valKeys = append(n.valKeys, k.Private)
	}
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, nd := range n.nodes {
			wg.Add(1)
			go func() { defer wg.Done(); nd.Stop() }()
		}
		wg.Wait()
	})
	site, err := keys.Ring{Dir: tn.Keyring}.Get("site")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := 0; i < blocks; i++ {
		doc := block.Sum([]byte(fmt.Sprint("document ", i)))
		tx := client.Sign(site.Private, n.g.ChainID, block.KindAnchor, (&block.AnchorPayload{Hash: doc, Label: fmt.Sprint("doc ", i)}).Encode(), 100_000)
		res, err := n.real[0].Submit(ctx, tx, true)
		if err != nil || res.Receipt == nil {
			t.Fatalf("anchor %d: %v %+v", i, err, res)
		}
		n.anchors, n.txs = append(n.anchors, doc), append(n.txs, tx.Hash())
	}
	n.settle(t)
	n.liar = clienttest.NewLiar(t, n.real[0].Base)
	return n
}

// settle waits until every node is at node0's height.
func (n *network) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := n.real[0].Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range n.real {
		for {
			s, err := c.Status(ctx)
			if err == nil && s.Height >= st.Height {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s did not reach height %d", c.Label(), st.Height)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// liarClient is a client of the lying proxy, named for reports.
func (n *network) liarClient() *client.Client {
	c := client.New(n.liar.URL())
	c.Name = "liar"
	return c
}

// TestLyingNode runs every lying-node behaviour of issue 11 against the
// real client code: a block with a transaction left out (header
// recomputed), an older but genuine checkpoint, a forged header, a
// different history certified by a Byzantine quorum, and lies about a
// transaction, an anchor and a state value. Each is refused or reported.
func TestLyingNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node network")
	}
	n := startNetwork(t, 5)
	ctx := context.Background()
	liar := n.liarClient()
	latest, err := n.real[1].VerifiedCheckpoint(ctx, n.g, 0)
	if err != nil {
		t.Fatal(err)
	}
	top := latest.Height()
	if top < 5 {
		t.Fatalf("latest checkpoint at %d, want ≥ 5", top)
	}
	// The honest network: every node newest, the export verifies.
	n.liar.Set(nil)
	s, err := client.SurveyCheckpoints(ctx, n.g, client.NodesOf(n.g, liar))
	if err != nil || !s.Fresh() || s.Count(client.NodeNewest) != 5 || s.Source != liar {
		t.Fatalf("honest survey: %v %+v", err, s)
	}

	t.Run("omits a transaction", func(t *testing.T) {
		n.liar.Set(clienttest.OmitTx(2))
		t.Cleanup(func() { n.liar.Set(nil) })
		// Export reads the blocks from the liar: refused by the hash chain.
		_, err := bundle.Export(ctx, &client.Source{Node: liar, Vals: n.g, Latest: latest}, n.g.ChainID, n.g.Hash(), bundle.Options{})
		if !errors.Is(err, bundle.ErrChain) || !strings.Contains(err.Error(), "block 2 hashes to") {
			t.Fatalf("export: got %v", err)
		}
		// The block by itself: its certificate does not cover the recomputed header.
		if _, err := liar.VerifiedBlock(ctx, n.g, 2); !errors.Is(err, client.ErrBlock) || !errors.Is(err, proof.ErrCheckpoint) {
			t.Fatalf("block get: got %v", err)
		}
		// The omitted transaction: the certified block the liar names does not hold it.
		if _, err := liar.VerifiedTx(ctx, n.g, n.txs[1]); !errors.Is(err, client.ErrBlock) {
			t.Fatalf("tx get: got %v", err)
		}
		// An honest block from the same liar still verifies.
		if _, err := liar.VerifiedBlock(ctx, n.g, 3); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("serves an old but genuine checkpoint", func(t *testing.T) {
		n.liar.Set(clienttest.OldCheckpoint(2))
		t.Cleanup(func() { n.liar.Set(nil) })
		s, err := client.SurveyCheckpoints(ctx, n.g, client.NodesOf(n.g, liar))
		if err != nil {
			t.Fatal(err)
		}
		if s.Checkpoint.Height() != top || s.Source == liar || s.Nodes[0].State != client.NodeLagging || s.Nodes[0].Behind != top-2 {
			t.Fatalf("survey: %+v (source %s)", s.Nodes, s.Source.Label())
		}
		if !strings.Contains(s.Summary(), fmt.Sprintf("lagging: liar (block 2, %d behind)", top-2)) {
			t.Fatalf("summary: %s", s.Summary())
		}
		// Asked alone, the liar cannot vouch for freshness.
		s, err = client.SurveyCheckpoints(ctx, n.g, []*client.Client{liar})
		if err != nil || s.Fresh() || s.Checkpoint.Height() != 2 {
			t.Fatalf("survey of the liar alone: %v fresh=%v", err, s.Fresh())
		}
		// An export from the survey's checkpoint has every record; from the liar's, it lacks the newest.
		s, _ = client.SurveyCheckpoints(ctx, n.g, client.NodesOf(n.g, liar))
		b, err := bundle.Export(ctx, &client.Source{Node: s.Source, Vals: n.g, Latest: s.Checkpoint}, n.g.ChainID, n.g.Hash(), bundle.Options{})
		if err != nil || len(b.Records) != int(top-1) {
			t.Fatalf("export: %v, %d records, want %d", err, len(b.Records), top-1)
		}
	})

	t.Run("forges a header", func(t *testing.T) {
		n.liar.Set(clienttest.AlterCheckpoint(0, clienttest.ForgeHeader))
		t.Cleanup(func() { n.liar.Set(nil) })
		s, err := client.SurveyCheckpoints(ctx, n.g, client.NodesOf(n.g, liar))
		if err != nil || s.Nodes[0].State != client.NodeInvalid || s.Source == liar || s.Checkpoint.Height() != top || s.Verified != 4 {
			t.Fatalf("survey: %v %+v", err, s.Nodes)
		}
		if _, err := liar.VerifiedCheckpoint(ctx, n.g, 0); !errors.Is(err, proof.ErrCheckpoint) {
			t.Fatalf("checkpoint: got %v", err)
		}
		// A forged block header (its time moved) is refused too.
		n.liar.Set(clienttest.AlterBlock(3, func(c *block.Committed) { c.Block.Header.TimeUnixMilli -= 3600_000 }))
		if _, err := liar.VerifiedBlock(ctx, n.g, 3); !errors.Is(err, client.ErrBlock) {
			t.Fatalf("block: got %v", err)
		}
	})

	t.Run("answers a different history", func(t *testing.T) {
		// Certified by three validators' keys: a Byzantine quorum.
		n.liar.Set(clienttest.AlterCheckpoint(0, clienttest.Resign(n.valKeys, 1, 2, 3)))
		t.Cleanup(func() { n.liar.Set(nil) })
		forged, err := liar.VerifiedCheckpoint(ctx, n.g, 0)
		if err != nil {
			t.Fatalf("the forged checkpoint should verify on its own (a Byzantine quorum signed it): %v", err)
		}
		s, err := client.SurveyCheckpoints(ctx, n.g, client.NodesOf(n.g, liar))
		if !errors.Is(err, client.ErrFork) || !strings.Contains(err.Error(), "FORK") || s.Count(client.NodeDisagrees) < 2 {
			t.Fatalf("survey: %v %+v", err, s)
		}
		// At a lower height, found by comparing with the newest chain.
		n.liar.Set(clienttest.AlterCheckpoint(3, clienttest.Resign(n.valKeys, 2, 3, 4)))
		s, err = client.SurveyCheckpoints(ctx, n.g, client.NodesOf(n.g, liar))
		if !errors.Is(err, client.ErrFork) || s.Nodes[0].State != client.NodeDisagrees || !strings.Contains(err.Error(), "liar shows certified block 3") {
			t.Fatalf("survey (lower height): %v %+v", err, s)
		}
		// A saved honest checkpoint is not extended by the liar's history.
		if _, err := liar.ProveExtends(ctx, n.g, latest); err == nil || forged.Hash() == latest.Hash() {
			t.Fatalf("ProveExtends: got %v", err)
		}
	})

	t.Run("lies about a transaction, an anchor and a state value", func(t *testing.T) {
		t.Cleanup(func() { n.liar.Set(nil) })
		// The transaction is said to be in another block.
		n.liar.Set(clienttest.AlterJSON("/v1/tx/", func(v *view.TxWithReceipt) { v.Receipt.Height = 1 }))
		if _, err := liar.VerifiedTx(ctx, n.g, n.txs[2]); !errors.Is(err, client.ErrTxNotInBlock) {
			t.Fatalf("tx: got %v", err)
		}
		// An anchor listed under another label.
		n.liar.Set(clienttest.AlterJSON("/v1/anchors/", func(v *[]view.Anchor) { (*v)[0].Label = "protocol v1 (final)" }))
		if _, err := liar.VerifiedAnchors(ctx, n.g, n.anchors[0]); !errors.Is(err, client.ErrTxNotInBlock) {
			t.Fatalf("anchors: got %v", err)
		}
		// A state value changed.
		n.liar.Set(clienttest.AlterJSON("/v1/proof/state", func(v *view.StateProof) { v.Value = "00" + v.Value }))
		if _, err := liar.ProveState(ctx, n.g, memberKey(n.g, "site"), -1); !errors.Is(err, smt.ErrProof) {
			t.Fatalf("state: got %v", err)
		}
		// Told the truth, all three verify.
		n.liar.Set(nil)
		vt, err := liar.VerifiedTx(ctx, n.g, n.txs[2])
		if err != nil || vt.Receipt == nil || vt.Block.Block.Header.Height != 3 {
			t.Fatalf("honest tx: %v %+v", err, vt)
		}
		as, err := liar.VerifiedAnchors(ctx, n.g, n.anchors[0])
		if err != nil || len(as) != 1 || as[0].Label != "doc 0" || as[0].Member == nil || as[0].Member.Name != "site" {
			t.Fatalf("honest anchors: %v %+v", err, as)
		}
	})
}

func memberKey(g *genesis.Genesis, name string) []byte {
	for _, m := range g.Members {
		if m.Name == name {
			return state.MemberKey(ed25519.PublicKey(m.Key))
		}
	}
	panic("no member " + name)
}
