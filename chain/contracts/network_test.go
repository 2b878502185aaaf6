package contracts_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/sdk/client"
)

// netChain is an in-process network of real nodes (real QUIC on
// 127.0.0.1, real Pebble, each with its own VM engine) driven through
// node 0's client API, one transaction per block.
type netChain struct {
	chainID string
	dir     string
	nodes   []*node.Node
	cl      *client.Client
	keys    map[string]ed25519.PrivateKey
	txs     []*block.Tx // executed, in order
}

const netTimeout = 60 * time.Second

// startNetwork starts the validators of the testnet in dir. Each node's VM
// cache is seeded from the test's warm cache, as after a restart, so the
// network does not compile every contract once per validator.
func startNetwork(t testing.TB, dir string, validators int) *netChain {
	t.Helper()
	g, err := genesis.Load(filepath.Join(dir, "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := &netChain{chainID: g.ChainID, dir: dir, keys: map[string]ed25519.PrivateKey{}}
	for _, r := range node.TestnetRoles {
		k, err := keys.Ring{Dir: filepath.Join(dir, "keys")}.Get(r.String())
		if err != nil {
			t.Fatal(err)
		}
		c.keys[r.String()] = k.Private
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("TC_DEBUG") != "" {
		quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for i := 0; i < validators; i++ {
		home := filepath.Join(dir, "node"+string(rune('0'+i)))
		cfg, err := node.LoadConfig(home)
		if err != nil {
			t.Fatal(err)
		}
		if err := copyDir(cacheDir, filepath.Join(cfg.Path(cfg.DataDir), "vm")); err != nil {
			t.Fatal(err)
		}
		off := false
		cfg.HTTP3 = &off
		// Query limits small enough to test (checkQueryLimits): gas high
		// enough that the deadline, not the gas, stops a loop (2e10: about
		// 20 s of a loop, the bound if the query could not be stopped).
		cfg.Limits.QueryGas = 20_000_000_000
		cfg.Limits.QueryTimeout = netQueryTimeout
		cfg.Limits.MaxQueries = netMaxQueries
		n, err := node.New(cfg, node.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, n)
	}
	c.cl = client.New(c.nodes[0].APIURL())
	return c
}

func (c *netChain) stop() {
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Add(1)
		go func() { defer wg.Done(); n.Stop() }()
	}
	wg.Wait()
}

func (c *netChain) ChainID() string                    { return c.chainID }
func (c *netChain) Key(role string) ed25519.PrivateKey { return c.keys[role] }
func (c *netChain) State() state.Reader                { return c.nodes[0].Ledger().Store }

func (c *netChain) Exec(t testing.TB, tx *block.Tx) *block.Receipt {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), netTimeout)
	defer cancel()
	if _, err := c.cl.Submit(ctx, tx, false); err != nil {
		t.Fatalf("submit %s: %v", tx.Kind, err)
	}
	rc, err := c.nodes[0].Ledger().WaitReceipt(ctx, tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	c.txs = append(c.txs, tx)
	if rc.Status == block.StatusOK && (tx.Kind == block.KindDeploy || tx.Kind == block.KindUpgrade) {
		time.Sleep(netActivation + 50*time.Millisecond) // the code runs from block time + the delay
	}
	return rc
}

// Refuse submits tx that must not succeed: the error is the node's
// refusal at admission, or the failed receipt's error (nil if it succeeded).
func (c *netChain) Refuse(t testing.TB, tx *block.Tx) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), netTimeout)
	defer cancel()
	if _, err := c.cl.Submit(ctx, tx, false); err != nil {
		return err
	}
	rc, err := c.nodes[0].Ledger().WaitReceipt(ctx, tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	c.txs = append(c.txs, tx)
	if rc.Status == block.StatusOK {
		return nil
	}
	return errors.New(rc.Error)
}

// netActivation is the test networks' code_activation_delay: short, so the
// scenario waits little, but not 0, so the two-step activation runs.
const netActivation = 300 * time.Millisecond

// netTestnet creates a testnet in dir with netActivation.
func netTestnet(t testing.TB, dir string) {
	t.Helper()
	p := genesis.DefaultParams()
	// These networks test execution (identical receipts and state on every
	// validator), not failover: timers long enough that a slow start or a
	// loaded machine (race detector, 2 cores) never changes the leader. A
	// follower that missed the last block while the chain is idle waits
	// for the next one to catch up (SmartBFT sees no lag by heartbeats
	// then), which a test that settles at the end would report as a hang.
	p.LeaderHeartbeatTimeout = genesis.Duration(60 * time.Second)
	p.RequestComplainTimeout = genesis.Duration(60 * time.Second)
	p.ViewChangeTimeout = genesis.Duration(60 * time.Second)
	p.ViewChangeResendInterval = genesis.Duration(5 * time.Second)
	p.CodeActivationDelay = genesis.Duration(netActivation)
	if _, err := node.NewTestnet(dir, node.TestnetOptions{Validators: 4, Params: &p}); err != nil {
		t.Fatal(err)
	}
}

func (c *netChain) Query(t testing.TB, addr block.Hash, method string, args []byte) ([]byte, string) {
	t.Helper()
	res, err := c.cl.Query(context.Background(), addr, method, args, 0)
	if err != nil {
		t.Fatalf("query %s: %v", method, err)
	}
	if res.Status != "ok" {
		return nil, res.Error
	}
	out, err := hex.DecodeString(res.Result)
	if err != nil {
		t.Fatal(err)
	}
	return out, ""
}

func (c *netChain) Methods(t testing.TB, addr block.Hash) []string {
	t.Helper()
	info, err := c.cl.Contract(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return info.Methods
}

// settle waits until every node has the same head as node 0 and returns
// it; every node must have executed every transaction alike.
func (c *netChain) settle(t testing.TB) (height uint64, root block.Hash) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), netTimeout)
	defer cancel()
	h := c.nodes[0].Ledger().Head()
	for i, n := range c.nodes {
		if err := n.Ledger().WaitHeight(ctx, h.Height); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		if got := n.Ledger().Head(); got.Height != h.Height || got.StateRoot != h.StateRoot {
			t.Fatalf("node %d: head %d root %s, node 0: %d %s", i, got.Height, got.StateRoot, h.Height, h.StateRoot)
		}
	}
	return h.Height, h.StateRoot
}

// stateSnapshot is node 0's whole state, key → value.
func (c *netChain) stateSnapshot(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := c.nodes[0].Ledger().Store.Iterate(nil, func(k, v []byte) bool {
		out[string(k)] = append([]byte(nil), v...)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameStateBut compares two states key by key, contract records with their
// block-time-derived activation time left out; "" if they agree.
func sameStateBut(a, b map[string][]byte) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d keys, the other %d", len(b), len(a))
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok {
			return fmt.Sprintf("key %x is missing", k)
		}
		if bytes.Equal(va, vb) {
			continue
		}
		ck := state.ContractKey(block.Hash{})
		if len(k) == len(ck) && k[0] == ck[0] {
			var addr block.Hash
			copy(addr[:], k[1:])
			ra, errA := contracts.DecodeContract(addr, va)
			rb, errB := contracts.DecodeContract(addr, vb)
			if errA == nil && errB == nil {
				ra.Active, rb.Active = 0, 0
				if bytes.Equal(ra.Encode(), rb.Encode()) {
					continue
				}
			}
		}
		return fmt.Sprintf("key %x: %x, the other %x", k, vb, va)
	}
	return ""
}

// receipts returns the receipts of the executed transactions as node i
// stored them.
func (c *netChain) receipts(t testing.TB, i int) [][]byte {
	t.Helper()
	out := make([][]byte, len(c.txs))
	for j, tx := range c.txs {
		rc, err := c.nodes[i].Ledger().Store.Receipt(tx.Hash())
		if err != nil {
			t.Fatalf("node %d, tx %d: %v", i, j, err)
		}
		out[j] = rc.Encode()
	}
	return out
}

// TestNetwork runs the scenario on a fresh 4-validator network: every
// validator must store the same receipts (status, result, events, gas) and
// reach the same state root. Then it replays the same signed transactions
// on a second fresh network from the same genesis: receipts and state
// roots must be identical.
func TestNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process network")
	}
	// The replay on the second network comes minutes after signing: the
	// transactions carry no ValidUntil bound, or they would expire.
	defer func(d time.Duration) { client.DefaultValidity = d }(client.DefaultValidity)
	client.DefaultValidity = 0
	warmCache(t)
	dirA := filepath.Join(t.TempDir(), "net")
	netTestnet(t, dirA)
	dirB := filepath.Join(t.TempDir(), "net")
	if err := copyDir(dirA, dirB); err != nil {
		t.Fatal(err)
	}

	a := startNetwork(t, dirA, 4)
	s := runScenario(t, a, false)
	heightA, rootA := a.settle(t)
	stateA := a.stateSnapshot(t)
	want := a.receipts(t, 0)
	for i := 1; i < len(a.nodes); i++ {
		got := a.receipts(t, i)
		for j := range want {
			if !bytes.Equal(got[j], want[j]) {
				rc, _ := block.DecodeReceipt(got[j])
				t.Errorf("node %d, tx %d (%s): receipt differs from node 0's: %+v", i, j, a.txs[j].Kind, rc)
			}
		}
	}
	for _, hc := range hostileCases {
		rc := s.hostileReceipts[hc.method]
		if rc == nil {
			t.Fatalf("hostile %s did not run", hc.method)
		}
		for i, n := range a.nodes {
			got, err := n.Ledger().Store.Receipt(rc.TxHash)
			if err != nil || got.Status != block.StatusFailed || got.GasUsed != rc.GasUsed || got.Error != rc.Error {
				t.Errorf("hostile %s on node %d: %+v, %v; node 0: %s %d %q", hc.method, i, got, err, rc.Status, rc.GasUsed, rc.Error)
			}
		}
	}
	checkAPI(t, a, s)
	a.stop()
	if t.Failed() {
		return
	}

	// The same transactions on a second fresh network (the same genesis,
	// so the same ports: after the first has stopped).
	b := startNetwork(t, dirB, 4)
	defer b.stop()
	for j, tx := range a.txs {
		rc := b.Exec(t, tx)
		if !bytes.Equal(rc.Encode(), want[j]) {
			t.Fatalf("tx %d (%s): receipt on the second network %+v differs", j, tx.Kind, rc)
		}
	}
	heightB, rootB := b.settle(t)
	if heightA != heightB {
		t.Fatalf("second network: height %d, first: %d", heightB, heightA)
	}
	// The same transactions give the same state, except what derives from
	// the block time, which differs between the two networks: a contract's
	// activation time (its deploy block's time + code_activation_delay).
	// Within one network every validator has the same root (settle).
	if rootA != rootB {
		if diff := sameStateBut(stateA, b.stateSnapshot(t)); diff != "" {
			t.Fatalf("second network: root %s, first %s: %s", rootB, rootA, diff)
		}
		t.Logf("state roots differ only in contract activation times (block times differ between the networks)")
	}
	t.Logf("%d transactions, %d blocks, state root %s on 2 × 4 validators", len(a.txs), heightA, rootA)
}

// warmCache compiles every valid test contract into the shared cache dir.
var warmOnce sync.Once

func warmCache(t testing.TB) {
	warmOnce.Do(func() {
		e := newEngine(t, false)
		for _, name := range []string{"counter", "hostile", "minimal", "consented", "trial-protocol"} {
			if _, err := e.Compile(context.Background(), wasmCode[name]); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func copyDir(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, info.Mode().Perm())
	})
}

// checkAPI checks the contract endpoints beyond what the scenario used.
func checkAPI(t testing.TB, c *netChain, s *scenario) {
	ctx := context.Background()
	g, err := c.cl.ConsentGroup(ctx, s.amend.id)
	if err != nil || g.ID != s.amend.id || g.Raw != hex.EncodeToString(s.amend.bin) {
		t.Errorf("consent group: %+v, %v", g, err)
	}
	if _, err := c.cl.ConsentGroup(ctx, block.Sum(nil)); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("unknown consent group: %v", err)
	}
	if _, err := c.cl.Query(ctx, block.Sum(nil), "get", nil, 0); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("query of no contract: %v", err)
	}
	info, err := c.cl.Contract(ctx, s.hostile)
	if err != nil || info.Policy != "immutable" || info.DeployerName != "sponsor" || info.Label != "hostile" || len(info.Methods) == 0 {
		t.Errorf("contract info: %+v, %v", info, err)
	}
	res, err := c.cl.Query(ctx, s.hostile, "loop", nil, 1_000_000)
	if err != nil || res.Status != "failed" || res.Code != "out of gas" || res.GasUsed != 1_000_000 {
		t.Errorf("query loop: %+v, %v", res, err)
	}
	// Upgraded code runs from its block's time + code_activation_delay, and
	// a query sees the newest block's time: one more block after the delay.
	time.Sleep(netActivation)
	tick := client.Sign(c.Key("site"), c.chainID, block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte("tick")), Label: "tick"}).Encode(), 100_000)
	if rc := c.Exec(t, tick); rc.Status != block.StatusOK {
		t.Fatalf("anchor: %s", rc.Error)
	}
	c.txs = c.txs[:len(c.txs)-1]                            // not part of the scenario the second network replays
	res, err = c.cl.Query(ctx, s.consentedC, "get", nil, 0) // upgraded to the counter code
	if err != nil || res.Status != "ok" || len(res.ResultJSON) == 0 {
		t.Errorf("query get: %+v, %v", res, err)
	}
	checkQueryLimits(t, c, s)
}

const (
	netQueryTimeout = time.Second
	netMaxQueries   = 2
)

// checkQueryLimits: a query looping forever answers 504 within its
// deadline; one query over the concurrency limit is refused at once with
// 429; a client that goes away stops its guest (its slot is free at once,
// not at the deadline).
func checkQueryLimits(t testing.TB, c *netChain, s *scenario) {
	apiStatus := func(err error) int {
		var ae *client.APIError
		if errors.As(err, &ae) {
			return ae.Status
		}
		return 0
	}
	ctx := context.Background()
	start := time.Now()
	_, err := c.cl.Query(ctx, s.hostile, "loop", nil, 0)
	took := time.Since(start)
	// 504 says the deadline stopped the guest (its gas would last far
	// longer); the time bound only catches a guest that was not stopped,
	// generous for a loaded machine (no timing assertion beyond that).
	if apiStatus(err) != 504 || took > 10*netQueryTimeout {
		t.Errorf("looping query: %v after %v, want 504 after about %v", err, took, netQueryTimeout)
	} else {
		t.Logf("looping query: %v after %v", err, took)
	}

	// netMaxQueries loops run; one more is refused at once.
	var wg sync.WaitGroup
	loops := func(ctx context.Context, n int, errs []error) {
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = c.cl.Query(ctx, s.hostile, "loop", nil, 0) }()
		}
	}
	errs := make([]error, netMaxQueries)
	loops(ctx, netMaxQueries, errs)
	time.Sleep(netQueryTimeout / 4) // they are running
	start = time.Now()
	_, err = c.cl.Query(ctx, s.consentedC, "get", nil, 0)
	// Refused while every slot is taken, not queued until a loop ends.
	if took := time.Since(start); apiStatus(err) != 429 || took >= netQueryTimeout {
		t.Errorf("query over the limit: %v after %v, want 429 before the running loops end", err, took)
	}
	wg.Wait()
	for i, err := range errs {
		if apiStatus(err) != 504 {
			t.Errorf("loop %d: %v, want 504", i, err)
		}
	}

	// Clients that give up: their guests stop, so their slots are free
	// long before the deadline.
	cctx, cancel := context.WithCancel(ctx)
	start = time.Now()
	loops(cctx, netMaxQueries, errs)
	time.Sleep(netQueryTimeout / 4)
	cancel()
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled loop %d: %v", i, err)
		}
	}
	// The node notices the closed connections and stops the guests: a
	// query is served again well before the loops' deadline.
	for {
		_, err := c.cl.Query(ctx, s.hostile, "noSuchMethod", nil, 0)
		if apiStatus(err) != 429 {
			t.Logf("slots free %v after the loops started (cancelled at %v, deadline %v): %v",
				time.Since(start), netQueryTimeout/4, netQueryTimeout, err)
			break
		}
		if since := time.Since(start); since >= netQueryTimeout {
			t.Errorf("cancelled queries still hold their slots %v after they started", since)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
}
