package consensus

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
	"github.com/trialchain/trialchain/transport/memnet"
)

// virtualClock is an in-process cluster's one clock. It moves only when
// Advance is called, and then fires every ticker whose period has passed
// (one tick per Advance at most, dropped if the reader is not ready, like
// time.Ticker). SmartBFT's heartbeat, view-change and resend timers run on
// these ticks, so a test moves through minutes of protocol time in seconds.
type virtualClock struct {
	mu      sync.Mutex
	now     time.Time
	tickers []*virtualTicker
}

type virtualTicker struct {
	c      chan time.Time
	period time.Duration
	next   time.Time
}

func newVirtualClock(start time.Time) *virtualClock { return &virtualClock{now: start} }

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) NewTicker(d time.Duration) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &virtualTicker{c: make(chan time.Time, 1), period: d, next: c.now.Add(d)}
	c.tickers = append(c.tickers, t)
	return t.c, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.tickers {
			if x == t {
				c.tickers = append(c.tickers[:i], c.tickers[i+1:]...)
				return
			}
		}
	}
}

// Advance moves the clock forward by d and fires the tickers that are due.
func (c *virtualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.tickers {
		if t.next.After(c.now) {
			continue
		}
		select {
		case t.c <- c.now:
		default:
		}
		for !t.next.After(c.now) {
			t.next = t.next.Add(t.period)
		}
	}
}

// fixedClock never moves (unit tests of the adapter's checks).
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }
func (c fixedClock) NewTicker(time.Duration) (<-chan time.Time, func()) {
	return make(chan time.Time), func() {}
}

func testGenesis(n int) (*genesis.Genesis, []ed25519.PrivateKey, ed25519.PrivateKey) {
	g := &genesis.Genesis{ChainID: "test", Time: time.Unix(1700000000, 0).UTC(), Params: genesis.DefaultParams()}
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

func anchor(site ed25519.PrivateKey, nonce uint64) []byte {
	tx := &block.Tx{ChainID: "test", Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Hash: block.Sum([]byte(fmt.Sprint(nonce))), Label: "doc"}).Encode()}
	tx.Sign(site)
	return tx.Encode()
}

// Pace of an in-process cluster: every clusterStep of real time the
// virtual clock moves clusterTick (one SmartBFT tick), 20× real time.
// With the default (LAN) parameters a leader is suspected after 5 s of
// virtual time, 250 ms of real time.
const (
	clusterTick = 100 * time.Millisecond
	clusterStep = 5 * time.Millisecond
)

// cluster is n replicas in one process on transport/memnet, sharing one
// virtual clock, each with its own Pebble store and WAL in a temp dir.
type cluster struct {
	t     *testing.T
	g     *genesis.Genesis
	keys  []ed25519.PrivateKey
	site  ed25519.PrivateKey
	net   *memnet.Network
	clock *virtualClock
	nodes []*clusterNode // the validators in force, by id
	gone  []*clusterNode // validators removed (stopped at close)
	nonce uint64
	// setChanges, if set, is every replica's Config.SetChanges.
	setChanges func(c *block.Committed) []genesis.Change
	stop       chan struct{}
	wg         sync.WaitGroup
}

type clusterNode struct {
	id  uint64
	dir string
	st  *store.Store
	led *ledger.Ledger
	// slow is the replica's view of led, which a test can make slow.
	slow *slowLedger
	rep  *Replica
	ep   *memnet.Endpoint
}

// slowLedger is a replica's ledger whose commits a test can delay: before
// each Commit it runs before (if set), holding its own lock as the
// ledger's Commit holds the ledger's (commits wait for one another).
type slowLedger struct {
	*ledger.Ledger
	mu     sync.Mutex
	before atomic.Pointer[func(c *block.Committed)]
}

func (l *slowLedger) Commit(c *block.Committed) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.before.Load(); f != nil {
		(*f)(c)
	}
	return l.Ledger.Commit(c)
}

// lateNet lets a replica be built before the endpoint it sends through.
type lateNet struct{ ep *memnet.Endpoint }

func (l *lateNet) Send(to uint64, f []byte) error { return l.ep.Send(to, f) }
func (l *lateNet) Request(ctx context.Context, to uint64, req []byte) ([]byte, error) {
	return l.ep.Request(ctx, to, req)
}
func (l *lateNet) Connected() []uint64 { return l.ep.Connected() }

// newCluster starts n replicas. The memnet loss generator is seeded with
// seed; faults[i], if set, makes replica i+1 a Byzantine test double.
// SmartBFT's request-pool timers run on the wall clock (see RATIONALE.md),
// as does its state collector on start and sync, so the forward and
// collect timeouts are shortened here; every other parameter is the
// default.
func newCluster(t *testing.T, n int, seed uint64, faults map[uint64]string) *cluster {
	t.Helper()
	return newClusterOf(t, n, n, seed, faults, nil)
}

// newClusterOf starts the first n of keyCount validators (the genesis
// holds those n); the others' keys are there to join later through
// setChanges.
func newClusterOf(t *testing.T, n, keyCount int, seed uint64, faults map[uint64]string,
	setChanges func(c *block.Committed) []genesis.Change) *cluster {
	t.Helper()
	g, keys, site := testGenesis(keyCount)
	g.Validators = g.Validators[:n]
	g.Params.RequestForwardTimeout = genesis.Duration(100 * time.Millisecond)
	g.Params.CollectTimeout = genesis.Duration(250 * time.Millisecond)
	// The view-change timing these clusters were tuned with (the genesis
	// defaults before the crash-loop work): at 20× real time the 2 s
	// default is 100 ms of real time, shorter than a view change under
	// -race on the loaded machine, and the aborted views that follow
	// reached SmartBFT v1.0.1's controller deadlock (see RATIONALE.md) in
	// one -count=3 run: a replica's Stop hung in AbortView.
	g.Params.ViewChangeTimeout = genesis.Duration(10 * time.Second)
	g.Params.ViewChangeResendInterval = genesis.Duration(2 * time.Second)
	c := &cluster{t: t, g: g, keys: keys, site: site, net: memnet.New(memnet.Config{Seed: seed}),
		clock: newVirtualClock(time.Now().Truncate(time.Second)), stop: make(chan struct{}), setChanges: setChanges}
	t.Cleanup(c.close)
	for i := range n {
		c.nodes = append(c.nodes, c.open(uint64(i+1), t.TempDir(), faults[uint64(i+1)]))
	}
	// Together: each start collects its peers' state (CollectTimeout, wall
	// clock). The virtual clock starts once all have started, so a slow
	// start does not look like a silent leader.
	var wg sync.WaitGroup
	errs := make([]error, len(c.nodes))
	for i, n := range c.nodes {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = n.rep.Start() }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		tk := time.NewTicker(clusterStep)
		defer tk.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-tk.C:
				c.clock.Advance(clusterTick)
			}
		}
	}()
	return c
}

// open builds node id on its store in dir and joins it to the network;
// its replica is not started.
func (c *cluster) open(id uint64, dir, fault string) *clusterNode {
	c.t.Helper()
	st, err := store.Open(filepath.Join(dir, "db"))
	if err != nil {
		c.t.Fatal(err)
	}
	led, err := ledger.New(c.g, st, &state.Executor{Params: ledger.Params(c.g)})
	if err != nil {
		c.t.Fatal(err)
	}
	lvl := slog.LevelError
	switch os.Getenv("TC_DEBUG") {
	case "":
	case "warn": // SmartBFT's warnings (view changes, dropped forwards) without its debug lines, which change the timing
		lvl = slog.LevelWarn
	default:
		lvl = slog.LevelDebug
	}
	lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	ln := &lateNet{}
	slow := &slowLedger{Ledger: led}
	rep, err := New(Config{SelfID: id, Key: c.keys[id-1], Genesis: c.g, MaxPendingAge: -1, Ledger: slow, WALDir: filepath.Join(dir, "wal"),
		Logger: lg, Clock: c.clock, Tick: clusterTick, Fault: fault, SetChanges: c.setChanges}, ln)
	if err != nil {
		c.t.Fatal(err)
	}
	if ln.ep, err = c.net.Join(id, rep.HandleFrame, rep.HandleRequest); err != nil {
		c.t.Fatal(err)
	}
	return &clusterNode{id: id, dir: dir, st: st, led: led, slow: slow, rep: rep, ep: ln.ep}
}

func (n *clusterNode) shutdown() {
	_ = n.ep.Close()
	n.rep.Stop()
	_ = n.st.Close()
}

func (c *cluster) close() {
	for _, n := range append(c.nodes, c.gone...) {
		n.shutdown()
	}
	close(c.stop)
	c.wg.Wait()
}

// submit hands a new anchor transaction to node id and returns its hash.
func (c *cluster) submit(id uint64) block.Hash {
	c.t.Helper()
	c.nonce++
	raw := anchor(c.site, c.nonce)
	// A client told "busy" (429) tries again, here for up to a minute of
	// virtual time (a watchdog restart of that node's SmartBFT, say).
	for end := c.clock.Now().Add(time.Minute); ; time.Sleep(10 * clusterStep) {
		err := c.node(id).rep.Submit(raw)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrBusy) || c.clock.Now().After(end) {
			c.t.Fatalf("submit to node %d: %v", id, err)
		}
	}
	return block.Sum(raw)
}

// node returns the running validator id.
func (c *cluster) node(id uint64) *clusterNode {
	for _, n := range c.nodes {
		if n.id == id {
			return n
		}
	}
	c.t.Fatalf("node %d is not a running validator", id)
	return nil
}

// heights returns every node's committed height.
// others returns the ids of the cluster's nodes but id, in order.
func (c *cluster) others(id uint64) []uint64 {
	var ids []uint64
	for _, n := range c.nodes {
		if n.id != id {
			ids = append(ids, n.id)
		}
	}
	return ids
}

func (c *cluster) heights() []uint64 {
	out := make([]uint64, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.led.Head().Height
	}
	return out
}

// waitCommitted waits until every transaction in txs is committed on
// every node and all nodes share one head, or the virtual clock passes
// limit from now (the real-time guard is the test's own timeout).
func (c *cluster) waitCommitted(txs []block.Hash, limit time.Duration) (virtual, real time.Duration) {
	c.t.Helper()
	v0, r0 := c.clock.Now(), time.Now()
	deadline := v0.Add(limit)
	for {
		if c.allCommitted(txs) {
			return c.clock.Now().Sub(v0), time.Since(r0)
		}
		if c.clock.Now().After(deadline) {
			c.logNodes(txs)
			c.t.Fatalf("liveness: not all of %d transactions committed everywhere within %v of virtual time (heights %v; per node above)", len(txs), limit, c.heights())
		}
		time.Sleep(clusterStep)
	}
}

// logNodes logs what each node holds of txs, its leader and what waits
// in its pool: the liveness failures' diagnosis.
func (c *cluster) logNodes(txs []block.Hash) {
	c.t.Helper()
	for _, n := range c.nodes {
		missing := 0
		for _, h := range txs {
			if _, err := n.st.Receipt(h); err != nil {
				missing++
			}
		}
		leader, _ := n.rep.Leader()
		pending, _ := n.rep.pool.pending()
		c.t.Logf("node %d: height %d, %d of the %d transactions not committed, leader %d, %d transactions pending here, %d waiting to be forwarded, %d watchdog restarts",
			n.id, n.led.Head().Height, missing, len(txs), leader, pending, n.rep.fwd.pending(), n.rep.Restarts())
	}
}

func (c *cluster) allCommitted(txs []block.Hash) bool {
	hs := c.heights()
	for _, h := range hs {
		if h != hs[0] {
			return false
		}
	}
	for _, n := range c.nodes {
		for _, h := range txs {
			if _, err := n.st.Receipt(h); err != nil {
				return false
			}
		}
	}
	return true
}

// checkSafety: every node holds the same certified chain up to the lowest
// height, each block certified by the validator set in force at its
// height (walked from the genesis through setChanges), and no
// transaction is in it twice.
func (c *cluster) checkSafety() {
	c.t.Helper()
	low := c.heights()[0]
	for _, h := range c.heights() {
		low = min(low, h)
	}
	seen := map[block.Hash]uint64{}
	sets := genesis.NewHistory(c.g)
	for x := uint64(1); x <= low; x++ {
		b0, err := c.nodes[0].st.Block(x)
		if err != nil {
			c.t.Fatalf("node 1 block %d: %v", x, err)
		}
		for _, n := range c.nodes {
			b, err := n.st.Block(x)
			if err != nil {
				c.t.Fatalf("node %d block %d: %v", n.id, x, err)
			}
			if b.Block.Hash() != b0.Block.Hash() {
				c.t.Fatalf("safety: node %d block %d is %s, node 1 has %s", n.id, x, b.Block.Hash(), b0.Block.Hash())
			}
			if err := sets.VerifyCertificate(b); err != nil {
				c.t.Fatalf("node %d block %d: %v", n.id, x, err)
			}
		}
		if c.setChanges != nil {
			for _, ch := range c.setChanges(b0) {
				if err := sets.Apply(ch, x); err != nil {
					c.t.Fatalf("block %d: %v", x, err)
				}
			}
		}
		for _, raw := range b0.Block.Txs {
			h := block.Sum(raw)
			if at, dup := seen[h]; dup {
				c.t.Fatalf("safety: transaction %s in blocks %d and %d", h, at, x)
			}
			seen[h] = x
		}
	}
}

func TestClusterCommits(t *testing.T) {
	r0 := time.Now()
	c := newCluster(t, 4, 1, nil)
	t.Logf("started in %v", time.Since(r0))
	var txs []block.Hash
	for i := 0; i < 50; i++ {
		txs = append(txs, c.submit(uint64(i%4+1)))
	}
	v, r := c.waitCommitted(txs, time.Minute)
	t.Logf("%d transactions committed in %v of virtual time (%v real), heights %v", len(txs), v, r, c.heights())
	c.checkSafety()
}

var seedFlag = flag.Uint64("seed", 0, "seed of the seeded cluster scenarios (0: each test's own default); printed by every run")

// seedOf returns the seed to run with and logs how to replay it.
func seedOf(t *testing.T, def uint64) uint64 {
	s := def
	if *seedFlag != 0 {
		s = *seedFlag
	}
	t.Logf("seed %d (replay: go test -run '^%s$' -seed %d ./chain/consensus)", s, t.Name(), s)
	return s
}

// load submits n anchors, each to a node the seeded rng picks.
func (c *cluster) load(rng *rand.Rand, n int) []block.Hash {
	out := make([]block.Hash, n)
	for i := range out {
		out[i] = c.submit(uint64(rng.IntN(len(c.nodes)) + 1))
	}
	return out
}

// sleep waits until the virtual clock has moved d.
func (c *cluster) sleep(d time.Duration) {
	end := c.clock.Now().Add(d)
	for c.clock.Now().Before(end) {
		time.Sleep(clusterStep)
	}
}

// TestSeededPartition: 4 replicas in one process, a load, then a 2|2
// partition that the seed chooses (neither side has a quorum) held for a
// seeded 20–40 s of virtual time while the clients of the side cut off
// from the leader keep submitting, then a heal. Safety: every node holds
// the same certified chain with every transaction exactly once. Liveness:
// every transaction, including those submitted during the partition,
// commits everywhere after the heal (within 2 min of virtual time; about
// 8 s of it, under a second of real time, is typical).
//
// The seed chooses the split, the partition's length, which node each
// transaction is submitted to, and memnet's loss draws: the fault schedule
// and the inputs replay exactly from it (the goroutine interleaving inside
// SmartBFT does not; see RATIONALE.md, which also says why the load during
// the partition goes to the side without the leader).
func TestSeededPartition(t *testing.T) { seededPartition(t, seedOf(t, 1), false) }

// TestSeededPartitionBothSides is TestSeededPartition with the load during
// the partition submitted on both sides: the case that reaches SmartBFT
// v1.0.1's real controller deadlock (no hook: about one seed run in eight
// under -race on the loaded 2-core VM needs a watchdog restart). The
// watchdog (watchdog.go) must bring a deadlocked replica back, so every
// seed must pass; the restarts are logged.
func TestSeededPartitionBothSides(t *testing.T) {
	if *seedFlag != 0 {
		seededPartition(t, *seedFlag, true)
		return
	}
	for _, s := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed", s), func(t *testing.T) {
			t.Logf("seed %d (replay: go test -run '^TestSeededPartitionBothSides$' -seed %d ./chain/consensus)", s, s)
			seededPartition(t, s, true)
		})
	}
}

func seededPartition(t *testing.T, s uint64, bothSides bool) {
	rng := rand.New(rand.NewPCG(s, 0x5eed))
	r0 := time.Now()
	c := newCluster(t, 4, s, nil)

	txs := c.load(rng, 20)
	c.waitCommitted(txs, time.Minute)
	before := c.heights()[0]

	perm := rng.Perm(4)
	sideA, sideB := []uint64{uint64(perm[0] + 1), uint64(perm[1] + 1)}, []uint64{uint64(perm[2] + 1), uint64(perm[3] + 1)}
	for _, a := range sideA {
		for _, b := range sideB {
			c.net.Partition(a, b)
		}
	}
	hold := time.Duration(20+rng.IntN(21)) * time.Second
	leader, view := c.nodes[0].rep.Leader()
	t.Logf("height %d, leader %d (view %d): partition %v | %v for %v", before, leader, view, sideA, sideB, hold)
	// Clients of the side without the leader keep submitting: their
	// transactions wait in that side's pools (forwarded to a leader they
	// cannot reach) and must commit after the heal.
	cut := sideA
	if slices.Contains(sideA, leader) {
		cut = sideB
	}
	if bothSides {
		cut = append(append([]uint64{}, sideA...), sideB...)
	}
	more := make([]block.Hash, 20)
	for i := range more {
		more[i] = c.submit(cut[rng.IntN(len(cut))])
	}
	c.sleep(hold)
	t.Logf("heights at the heal: %v", c.heights())

	c.net.HealAll()
	// A transaction stranded in a pool by the partition may need
	// SmartBFT's complaint about the leader, whose timer runs on the wall
	// clock (the request complain timeout, 15 s: 300 s of virtual time);
	// with load on both sides that path is taken, so the wait allows it.
	limit := 2 * time.Minute
	if bothSides {
		limit = 10 * time.Minute
	}
	v, r := c.waitCommitted(append(txs, more...), limit)
	leader, view = c.nodes[0].rep.Leader()
	t.Logf("healed: every transaction committed everywhere %v later in virtual time (%v real); heights %v, leader %d (view %d)",
		v.Round(time.Millisecond), r.Round(time.Millisecond), c.heights(), leader, view)
	c.checkSafety()
	var restarts []uint64
	for _, n := range c.nodes {
		restarts = append(restarts, n.rep.Restarts())
	}
	t.Logf("whole scenario: %v real; watchdog restarts per node %v", time.Since(r0).Round(time.Millisecond), restarts)
}

// TestByzantineDoubles runs 4 replicas in one process, one of them a
// Byzantine test double (Config.Fault): the first leader proposing blocks
// with a wrong parent, the first leader equivocating (two proposals for
// one sequence, split between its peers), and a leader or a follower
// withholding its prepare and commit votes. Safety: one certified chain
// on every node, every transaction once. Liveness: every transaction,
// submitted to the honest replicas, commits everywhere within 2 minutes
// of virtual time (a faulty leader costs a view change).
func TestByzantineDoubles(t *testing.T) {
	cases := []struct {
		fault string
		who   uint64
	}{
		{FaultWrongParent, 1},
		{FaultEquivocate, 1},
		{FaultWithholdVotes, 1},
		{FaultWithholdVotes, 2},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s by %d", tc.fault, tc.who), func(t *testing.T) {
			s := seedOf(t, 3)
			rng := rand.New(rand.NewPCG(s, 0xb42))
			c := newCluster(t, 4, s, map[uint64]string{tc.who: tc.fault})
			honest := c.others(tc.who)
			txs := make([]block.Hash, 30)
			for i := range txs {
				txs[i] = c.submit(honest[rng.IntN(len(honest))])
			}
			v, r := c.waitCommitted(txs, 2*time.Minute)
			leader, view := c.nodes[0].rep.Leader()
			t.Logf("%d transactions committed everywhere in %v of virtual time (%v real); heights %v, leader %d (view %d)",
				len(txs), v.Round(time.Millisecond), r.Round(time.Millisecond), c.heights(), leader, view)
			c.checkSafety()
		})
	}
}
