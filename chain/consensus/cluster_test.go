package consensus

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
)

// chanNet is a minimal in-memory Network for unit tests of the adapter;
// cluster tests over real QUIC live in chain/node.
type chanNet struct {
	mu       sync.Mutex
	replicas map[uint64]*Replica
	down     map[uint64]bool
}

type endpoint struct {
	n    *chanNet
	self uint64
}

func (e endpoint) Send(to uint64, frame []byte) error {
	e.n.mu.Lock()
	r, ok := e.n.replicas[to]
	down := e.n.down[to] || e.n.down[e.self]
	e.n.mu.Unlock()
	if !ok || down {
		return errors.New("unreachable")
	}
	f := append([]byte(nil), frame...)
	go r.HandleFrame(e.self, f)
	return nil
}

func (e endpoint) Request(ctx context.Context, to uint64, req []byte) ([]byte, error) {
	e.n.mu.Lock()
	r, ok := e.n.replicas[to]
	down := e.n.down[to] || e.n.down[e.self]
	e.n.mu.Unlock()
	if !ok || down {
		return nil, errors.New("unreachable")
	}
	return r.HandleRequest(ctx, e.self, req)
}

type testNode struct {
	id   uint64
	dir  string
	key  ed25519.PrivateKey
	st   *store.Store
	led  *Ledger
	rep  *Replica
	gen  *genesis.Genesis
	cnet *chanNet
}

func seedKey(s string) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte(s[:1]), 32)[:32])
}

func testGenesis(n int) (*genesis.Genesis, []ed25519.PrivateKey, ed25519.PrivateKey) {
	g := &genesis.Genesis{ChainID: "test", Time: time.Unix(1700000000, 0).UTC(), Params: genesis.DefaultParams()}
	g.Params.LeaderHeartbeatTimeout = genesis.Duration(2 * time.Second)
	g.Params.ViewChangeTimeout = genesis.Duration(3 * time.Second)
	g.Params.ViewChangeResendInterval = genesis.Duration(500 * time.Millisecond)
	g.Params.RequestForwardTimeout = genesis.Duration(1 * time.Second)
	g.Params.RequestComplainTimeout = genesis.Duration(4 * time.Second)
	var keys []ed25519.PrivateKey
	for i := 0; i < n; i++ {
		k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(100 + i)}, 32))
		keys = append(keys, k)
		g.Validators = append(g.Validators, genesis.Validator{ID: uint64(i + 1), Name: fmt.Sprintf("node%d", i),
			Key: genesis.Key(k.Public().(ed25519.PublicKey)), Addr: "mem"})
	}
	site := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	admin := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32))
	g.Members = []genesis.Member{
		{Name: "admin", Org: "Net", Role: block.RoleAdmin, Key: genesis.Key(admin.Public().(ed25519.PublicKey))},
		{Name: "site", Org: "Site A", Role: block.RoleSite, Key: genesis.Key(site.Public().(ed25519.PublicKey))},
	}
	if err := g.Validate(); err != nil {
		panic(err)
	}
	return g, keys, site
}

func startNode(t *testing.T, cn *chanNet, g *genesis.Genesis, key ed25519.PrivateKey, id uint64, dir string) *testNode {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	led, err := NewLedger(g, st, &state.Executor{Params: Params(g)})
	if err != nil {
		t.Fatal(err)
	}
	lvl := slog.LevelError
	if os.Getenv("TC_DEBUG") != "" {
		lvl = slog.LevelDebug
	}
	lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	rep, err := New(Config{SelfID: id, Key: key, Genesis: g, Ledger: led, WALDir: filepath.Join(dir, "wal"), Logger: lg}, endpoint{n: cn, self: id})
	if err != nil {
		t.Fatal(err)
	}
	cn.mu.Lock()
	cn.replicas[id] = rep
	cn.mu.Unlock()
	if err := rep.Start(); err != nil {
		t.Fatal(err)
	}
	return &testNode{id: id, dir: dir, key: key, st: st, led: led, rep: rep, gen: g, cnet: cn}
}

func (n *testNode) stop() {
	n.cnet.mu.Lock()
	delete(n.cnet.replicas, n.id)
	n.cnet.mu.Unlock()
	n.rep.Stop()
	n.st.Close()
}

func anchor(site ed25519.PrivateKey, nonce uint64) []byte {
	tx := &block.Tx{ChainID: "test", Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Hash: block.Sum([]byte(fmt.Sprint(nonce))), Label: "doc"}).Encode()}
	tx.Sign(site)
	return tx.Encode()
}

func TestChanNetClusterCommits(t *testing.T) {
	g, keys, site := testGenesis(4)
	cn := &chanNet{replicas: map[uint64]*Replica{}, down: map[uint64]bool{}}
	var nodes []*testNode
	for i, k := range keys {
		nodes = append(nodes, startNode(t, cn, g, k, uint64(i+1), t.TempDir()))
	}
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
	}()
	const total = 50
	for i := 0; i < total; i++ {
		if err := nodes[i%4].rep.Submit(anchor(site, uint64(i+1))); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	last := block.Sum(anchor(site, total))
	for _, n := range nodes {
		if _, err := n.led.WaitReceipt(ctx, last); err != nil {
			t.Fatalf("node %d: %v (head %d)", n.id, err, n.led.Head().Height)
		}
	}
	h := nodes[0].led.Head().Height
	for _, n := range nodes {
		if err := n.led.WaitHeight(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	for x := uint64(1); x <= h; x++ {
		b0, _ := nodes[0].st.Block(x)
		for _, n := range nodes[1:] {
			b, err := n.st.Block(x)
			if err != nil || b.Block.Hash() != b0.Block.Hash() {
				t.Fatalf("node %d block %d differs: %v", n.id, x, err)
			}
			if err := g.VerifyCertificate(b); err != nil {
				t.Fatalf("node %d block %d: %v", n.id, x, err)
			}
		}
	}
}
