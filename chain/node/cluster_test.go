package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
)

// cluster is an in-process network of real nodes: real QUIC on 127.0.0.1,
// real Pebble in temp dirs.
type cluster struct {
	t     testing.TB
	tn    *Testnet
	mu    sync.Mutex
	nodes []*Node // nil when stopped
	site  ed25519.PrivateKey
	tune  func(i int, cfg *Config) // optional, before each start
}

func testParams() *genesis.Params {
	p := genesis.DefaultParams()
	p.LeaderHeartbeatTimeout = genesis.Duration(2 * time.Second)
	p.ViewChangeResendInterval = genesis.Duration(500 * time.Millisecond)
	p.ViewChangeTimeout = genesis.Duration(3 * time.Second)
	p.RequestForwardTimeout = genesis.Duration(1 * time.Second)
	p.RequestComplainTimeout = genesis.Duration(4 * time.Second)
	p.BatchMaxCount = 200
	return &p
}

func newCluster(t testing.TB, n int) *cluster { t.Helper(); return newClusterWith(t, n, nil) }

// newClusterWith is newCluster with tune applied to each node's config.
func newClusterWith(t testing.TB, n int, tune func(i int, cfg *Config)) *cluster {
	t.Helper()
	return newClusterParams(t, n, testParams(), tune)
}

// newClusterParams is newClusterWith with the genesis parameters p.
func newClusterParams(t testing.TB, n int, p *genesis.Params, tune func(i int, cfg *Config)) *cluster {
	t.Helper()
	tn, err := NewTestnet(t.TempDir(), TestnetOptions{Validators: n, Params: p})
	if err != nil {
		t.Fatal(err)
	}
	site, err := keys.Ring{Dir: tn.Keyring}.Get("site")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, tn: tn, nodes: make([]*Node, n), site: site.Private, tune: tune}
	for i := range tn.Homes {
		c.start(i)
	}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.stop(i)
		}
	})
	return c
}

func testLogger() *slog.Logger {
	lvl := slog.LevelError
	if os.Getenv("TC_DEBUG") != "" {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

func (c *cluster) start(i int) {
	c.t.Helper()
	cfg, err := LoadConfig(c.tn.Homes[i])
	if err != nil {
		c.t.Fatal(err)
	}
	f := false
	cfg.HTTP3 = &f
	if c.tune != nil {
		c.tune(i, cfg)
	}
	n, err := New(cfg, Options{Logger: testLogger()})
	if err != nil {
		c.t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.nodes[i] = n
	c.mu.Unlock()
}

func (c *cluster) stop(i int) {
	c.mu.Lock()
	n := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if n != nil {
		n.Stop()
	}
}

func (c *cluster) live() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Node
	for _, n := range c.nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

func (c *cluster) anchorTx(nonce uint64) []byte {
	tx := &block.Tx{ChainID: c.tn.Genesis.ChainID, Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Hash: block.Sum([]byte(fmt.Sprint("doc", nonce))), Label: "doc"}).Encode()}
	tx.Sign(c.site)
	return tx.Encode()
}

// submit sends txs with nonces [from, to) round-robin to the live nodes.
func (c *cluster) submit(from, to uint64) {
	c.t.Helper()
	live := c.live()
	for nonce := from; nonce < to; nonce++ {
		n := live[int(nonce)%len(live)]
		raw := c.anchorTx(nonce)
		if _, err := n.Admit(raw); err != nil {
			c.t.Fatalf("admit %d: %v", nonce, err)
		}
		for {
			err := n.replica.Submit(raw)
			if err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond) // pool full: back off (bounded by the test timeout)
		}
	}
}

// waitTx waits until every live node has committed the tx with nonce.
func (c *cluster) waitTx(nonce uint64, d time.Duration) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	h := block.Sum(c.anchorTx(nonce))
	for _, n := range c.live() {
		if _, err := n.ledger.WaitReceipt(ctx, h); err != nil {
			c.t.Fatalf("node %d (head %d): %v", n.cfg.ID, n.ledger.Head().Height, err)
		}
	}
}

// sameChain checks every live node holds identical blocks (hash and
// state root) up to the lowest head, and that each certificate verifies.
func (c *cluster) sameChain() uint64 {
	c.t.Helper()
	live := c.live()
	min := live[0].ledger.Head().Height
	for _, n := range live[1:] {
		if h := n.ledger.Head().Height; h < min {
			min = h
		}
	}
	for x := uint64(1); x <= min; x++ {
		b0, err := live[0].store.Block(x)
		if err != nil {
			c.t.Fatal(err)
		}
		if err := c.tn.Genesis.VerifyCertificate(b0); err != nil {
			c.t.Fatalf("block %d: %v", x, err)
		}
		for _, n := range live[1:] {
			b, err := n.store.Block(x)
			if err != nil {
				c.t.Fatalf("node %d block %d: %v", n.cfg.ID, x, err)
			}
			if b.Block.Hash() != b0.Block.Hash() || b.Block.Header.StateRoot != b0.Block.Header.StateRoot {
				c.t.Fatalf("node %d block %d differs from node %d", n.cfg.ID, x, live[0].cfg.ID)
			}
		}
	}
	return min
}

func (c *cluster) waitSameHead(d time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		live := c.live()
		h := live[0].ledger.Head()
		same := true
		for _, n := range live[1:] {
			if n.ledger.Head().Hash != h.Hash {
				same = false
			}
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			for _, n := range live {
				c.t.Logf("node %d head %d", n.cfg.ID, n.ledger.Head().Height)
			}
			c.t.Fatal("nodes did not converge")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClusterCommitsThousandTransactions(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 4)
	c.submit(1, 1001)
	c.waitTx(1000, 90*time.Second)
	c.waitSameHead(30 * time.Second)
	h := c.sameChain()
	// Every transaction is committed exactly once, on every node.
	for _, n := range c.live() {
		for nonce := uint64(1); nonce <= 1000; nonce++ {
			rc, err := n.store.Receipt(block.Sum(c.anchorTx(nonce)))
			if err != nil || rc.Status != block.StatusOK {
				t.Fatalf("node %d tx %d: %v %+v", n.cfg.ID, nonce, err, rc)
			}
		}
	}
	t.Logf("1000 transactions in %d blocks, identical on 4 nodes", h)
}

func TestClusterFollowerStopAndCatchUp(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 4)
	c.submit(1, 21)
	c.waitTx(20, 30*time.Second)
	leader, _ := c.live()[0].replica.Leader()
	victim := 0
	for i, n := range c.nodes {
		if n.cfg.ID != leader {
			victim = i
			break
		}
	}
	c.stop(victim)
	c.submit(21, 61)
	c.waitTx(60, 30*time.Second) // three of four keep committing
	c.start(victim)
	c.submit(61, 71)
	c.waitTx(70, 60*time.Second) // includes the restarted node
	c.waitSameHead(30 * time.Second)
	c.sameChain()
}

func TestClusterLeaderStopViewChange(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 4)
	c.submit(1, 11)
	c.waitTx(10, 30*time.Second)
	leader, view := c.live()[0].replica.Leader()
	idx := int(leader - 1)
	c.stop(idx)
	c.submit(11, 31)
	c.waitTx(30, 60*time.Second)
	newLeader, newView := c.live()[0].replica.Leader()
	if newLeader == leader || newView <= view {
		t.Fatalf("leader %d view %d → leader %d view %d: no view change", leader, view, newLeader, newView)
	}
	c.start(idx)
	c.submit(31, 41)
	c.waitTx(40, 60*time.Second)
	c.waitSameHead(30 * time.Second)
	c.sameChain()
}

var _ = filepath.Join
