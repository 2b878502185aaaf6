package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/sdk/client"
)

// Ack is a transaction a client saw committed (a receipt came back).
type Ack struct {
	Hash   block.Hash
	Height uint64
}

// Event is a perturbation as it happened.
type Event struct {
	At   time.Time
	What string
	Node int
}

// Report holds a scenario's safety verdict and liveness figures.
type Report struct {
	Scenario  string
	Acked     int
	Submitted int
	Height    uint64
	Events    []Event
	// MaxGap is the longest time without a commit while the load ran.
	MaxGap time.Duration
	// Windows and EmptyWindows count the 10-s windows of the load and
	// those without a commit.
	Windows, EmptyWindows int
	// WindowCommits is the number of blocks committed in each 10-s window.
	WindowCommits []int
	// Resume is, per disruptive step, the longest commit gap from the step
	// to the next step (or the end): how long commits stopped.
	Resume []time.Duration
	// CatchUp is, per start/resume step, how long the node took to reach
	// the height the others had when it came back (-1: never, in 60 s).
	CatchUp []time.Duration
	// Settle is how long the whole network took, after the last fault was
	// lifted, to agree on one height again.
	Settle time.Duration
	// Linear is the verdict of the linearizability check of the
	// client-observed history ("ok", "FAILED", "unknown"), LinearOps the
	// number of operations it checked and Visual the porcupine
	// visualisation written when it failed.
	Linear    string
	LinearOps int
	Visual    string
	Failures  []string
}

// Run runs s on c: starts the nodes, applies the schedule under load,
// lifts every fault, and checks safety on every node.
func Run(ctx context.Context, c *Cluster, s *Scenario, seed uint64) (*Report, error) {
	rep := &Report{Scenario: s.Name}
	for k, mode := range s.Byzantine {
		i, _ := strconv.Atoi(k)
		c.SetFault(i, mode)
	}
	for i := range c.Homes {
		if err := c.Start(i); err != nil {
			return nil, err
		}
	}
	if err := c.WaitHealthy(30 * time.Second); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	lg := newLoad(c, s.Load.Rate, s.Load.Workers)
	start := time.Now()
	loadCtx, stopLoad := context.WithTimeout(ctx, s.Duration.D())
	defer stopLoad()
	var loadWG sync.WaitGroup
	loadWG.Add(1)
	go func() { defer loadWG.Done(); lg.run(loadCtx, seed) }()

	var bg sync.WaitGroup // catch-up watchers, crash loops and deploys
	var deploys []block.Hash
	var mu sync.Mutex
	catchIdx := map[int]int{}
	last := -1
	record := func(what string, i int) {
		mu.Lock()
		rep.Events = append(rep.Events, Event{At: time.Now(), What: what, Node: i})
		mu.Unlock()
		c.Log("%6.1fs %s node %d", time.Since(start).Seconds(), what, i)
	}
	watchCatchUp := func(i int) {
		target := int64(0)
		for _, h := range c.Heights() {
			target = max(target, h)
		}
		mu.Lock()
		slot := len(rep.CatchUp)
		rep.CatchUp = append(rep.CatchUp, -1)
		catchIdx[slot] = i
		mu.Unlock()
		began := time.Now()
		bg.Add(1)
		go func() {
			defer bg.Done()
			for time.Since(began) < 60*time.Second && ctx.Err() == nil {
				if st, err := c.Status(i); err == nil && int64(st.Height) >= target && len(st.StoreDamage) == 0 {
					mu.Lock()
					rep.CatchUp[slot] = time.Since(began)
					mu.Unlock()
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	pick := func(sel string) int {
		switch sel {
		case "leader":
			return c.Leader()
		case "follower":
			l := c.Leader()
			for _, i := range rng.Perm(c.N()) {
				if i != l && c.Up(i) {
					return i
				}
			}
			return -1
		case "same":
			return last
		case "random", "":
			return rng.IntN(c.N())
		}
		i, err := strconv.Atoi(sel)
		if err != nil || i < 0 || i >= c.N() {
			return -1
		}
		return i
	}

	for _, st := range s.Steps {
		wait := time.Until(start.Add(st.At.D()))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		switch st.Do {
		case "kill", "start", "restart", "pause", "resume":
			i := pick(st.Node)
			if i < 0 {
				rep.Failures = append(rep.Failures, fmt.Sprintf("step %s: no node matches %q", st.Do, st.Node))
				continue
			}
			last = i
			switch st.Do {
			case "kill":
				c.Kill(i)
			case "start":
				_ = c.Start(i)
				watchCatchUp(i)
			case "restart":
				c.Kill(i)
				time.Sleep(st.Down.D())
				_ = c.Start(i)
				watchCatchUp(i)
			case "pause":
				c.Pause(i)
			case "resume":
				c.Resume(i)
				watchCatchUp(i)
			}
			record(st.Do, i)
		case "tamper", "repair":
			i := pick(st.Node)
			if i < 0 {
				rep.Failures = append(rep.Failures, fmt.Sprintf("step %s: no node matches %q", st.Do, st.Node))
				continue
			}
			last = i
			c.Kill(i)
			if st.Do == "repair" {
				if err := c.Repair(i); err != nil {
					rep.Failures = append(rep.Failures, err.Error())
				}
				_ = c.Start(i)
				watchCatchUp(i)
				record(st.Do, i)
				continue
			}
			t, err := c.Tamper(i)
			if err != nil {
				rep.Failures = append(rep.Failures, err.Error())
				_ = c.Start(i)
				continue
			}
			code, out, err := c.Doctor(i)
			if err != nil || code != 1 || !strings.Contains(out, "DAMAGED") {
				rep.Failures = append(rep.Failures, fmt.Sprintf("tamper: doctor on node %d's altered store: exit %d, %v\n%s", i, code, err, out))
			}
			_ = c.Start(i)
			record(st.Do, i)
			watchCatchUp(i)
			ref := (i + 1) % len(c.Homes) // a running node to compare with
			for j := range c.Homes {
				if j != i && c.Up(j) {
					ref = j
					break
				}
			}
			rep.Failures = append(rep.Failures, checkRepaired(ctx, c, i, ref, t, 60*time.Second)...)
		case "deploy":
			i := pick(st.Node)
			if i < 0 {
				rep.Failures = append(rep.Failures, fmt.Sprintf("step deploy: no node matches %q", st.Node))
				continue
			}
			last = i
			code, err := os.ReadFile(filepath.Join(c.Contracts, st.Code+".wasm"))
			if err != nil {
				return nil, fmt.Errorf("deploy: %w (make contracts builds bin/contracts)", err)
			}
			record(fmt.Sprintf("deploy %s (%d bytes)", st.Code, len(code)), i)
			tx := client.DeployTx(c.Sponsor, c.Genesis.ChainID, code, block.PolicyImmutable, nil, "e2e "+st.Code)
			bg.Add(1)
			deploys = append(deploys, tx.Hash())
			go func() {
				defer bg.Done()
				dctx, cancel := context.WithTimeout(ctx, s.Duration.D())
				defer cancel()
				res, err := c.Clients[i].Submit(dctx, tx, true)
				switch {
				case err != nil:
					c.Log("%6.1fs deploy through node %d: %v", time.Since(start).Seconds(), i, err)
				case res.Receipt == nil:
					c.Log("%6.1fs deploy through node %d pending: %s", time.Since(start).Seconds(), i, res.Pending)
				default:
					c.Log("%6.1fs deploy committed at height %d", time.Since(start).Seconds(), res.Receipt.Height)
					lg.addAck(Ack{Hash: res.Hash, Height: res.Receipt.Height})
				}
			}()
		case "kill-all":
			for i := range c.Homes {
				c.Kill(i)
			}
			record(st.Do, -1)
		case "start-all":
			for i := range c.Homes {
				_ = c.Start(i)
			}
			record(st.Do, -1)
		case "crash-loop":
			record(st.Do, -1)
			end := time.Now().Add(st.For.D())
			for time.Now().Before(end) && ctx.Err() == nil {
				i := rng.IntN(c.N())
				if st.FollowersOnly && i == c.Leader() {
					i = (i + 1) % c.N()
				}
				c.Kill(i)
				c.Log("%6.1fs crash-loop kill node %d", time.Since(start).Seconds(), i)
				time.Sleep(st.Down.D())
				_ = c.Start(i)
				time.Sleep(st.Every.D() - st.Down.D())
			}
		case "partition":
			c.Rules.Partition(st.Groups)
			record(fmt.Sprintf("partition %v", st.Groups), -1)
		case "heal":
			c.Rules.Heal()
			record(st.Do, -1)
		case "loss":
			c.Rules.SetLoss(st.Rate)
			record(fmt.Sprintf("loss %.0f%%", st.Rate*100), -1)
		}
	}
	<-loadCtx.Done()
	loadWG.Wait()
	end := time.Now()

	// Lift every fault and let the network agree again.
	c.Rules.Heal()
	for i := range c.Homes {
		c.Resume(i)
		_ = c.Start(i)
	}
	settleStart := time.Now()
	if err := c.WaitHealthy(30 * time.Second); err != nil {
		rep.Failures = append(rep.Failures, err.Error())
	}
	probe, err := lg.probe(ctx, 60*time.Second)
	if err != nil {
		rep.Failures = append(rep.Failures, fmt.Sprintf("liveness: a transaction after the faults were lifted did not commit: %v", err))
	} else {
		lg.addAck(probe)
	}
	h, err := waitSameHeight(ctx, c, 90*time.Second)
	rep.Settle = time.Since(settleStart)
	if err != nil {
		rep.Failures = append(rep.Failures, err.Error())
	}
	bg.Wait()
	rep.Height = h
	rep.Acked, rep.Submitted = len(lg.acks), lg.submitted+len(deploys)
	for _, d := range deploys {
		if _, err := c.Clients[0].Tx(ctx, d); err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("deploy %s not committed: %v", d, err))
		}
	}

	chains, failures := checkSafety(ctx, c, h, lg.acks)
	rep.Failures = append(rep.Failures, failures...)
	longest := 0
	for i := range chains {
		if len(chains[i]) > len(chains[longest]) {
			longest = i
		}
	}
	if len(chains) > 0 {
		figures(rep, chains[longest], start, end)
		rep.Failures = append(rep.Failures, checkHistory(rep, c, s, &lg.hist, chains[longest])...)
	}
	return rep, nil
}

// waitSameHeight waits until every node reports the same height and hash.
func waitSameHeight(ctx context.Context, c *Cluster, limit time.Duration) (uint64, error) {
	deadline := time.Now().Add(limit)
	var hs []int64
	for time.Now().Before(deadline) && ctx.Err() == nil {
		hs = c.Heights()
		same := hs[0] > 0
		for _, h := range hs {
			same = same && h == hs[0]
		}
		if same {
			return uint64(hs[0]), nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return 0, fmt.Errorf("liveness: nodes did not converge on one height within %v after the faults were lifted: heights %v", limit, hs)
}

// figures computes the liveness figures from the commit times of a chain.
func figures(rep *Report, chain []*block.Committed, start, end time.Time) {
	var times []time.Time
	for _, b := range chain {
		t := time.UnixMilli(b.Block.Header.TimeUnixMilli)
		if !t.Before(start) && !t.After(end) {
			times = append(times, t)
		}
	}
	gapIn := func(from, to time.Time) time.Duration {
		prev, worst := from, time.Duration(0)
		for _, t := range times {
			if t.Before(from) || t.After(to) {
				continue
			}
			worst = max(worst, t.Sub(prev))
			prev = t
		}
		return max(worst, to.Sub(prev))
	}
	rep.MaxGap = gapIn(start, end)
	for w := start; w.Before(end); w = w.Add(10 * time.Second) {
		if end.Sub(w) < 5*time.Second {
			break // a partial last window says nothing
		}
		rep.Windows++
		we, n := w.Add(10*time.Second), 0
		for _, t := range times {
			if !t.Before(w) && t.Before(we) {
				n++
			}
		}
		rep.WindowCommits = append(rep.WindowCommits, n)
		if n == 0 {
			rep.EmptyWindows++
		}
	}
	for k, ev := range rep.Events {
		next := end
		if k+1 < len(rep.Events) {
			next = rep.Events[k+1].At
		}
		if next.After(ev.At) {
			rep.Resume = append(rep.Resume, gapIn(ev.At, next))
		}
	}
}

// load offers a bounded load of anchor transactions and records every
// acknowledged one.
type load struct {
	c         *Cluster
	rate      int
	workers   int
	mu        sync.Mutex
	acks      []Ack
	submitted int
	seq       uint64
	// hist is the client-observed history of reads and writes per key.
	hist history
}

func newLoad(c *Cluster, rate, workers int) *load {
	l := &load{c: c, rate: rate, workers: workers}
	for node := range c.N() {
		for k := range keysPerNode {
			l.hist.keys = append(l.hist.keys, linKey{Node: node, Doc: sha256.Sum256(fmt.Appendf(nil, "e2e key %d/%d", node, k))})
		}
	}
	return l
}

// keysPerNode is how many documents each node's writes and reads use
// (the keys of the linearizability history).
const keysPerNode = 4

// linKeyFor returns the index in l.hist.keys of the k-th key of node.
func linKeyFor(node, k int) int { return node*keysPerNode + k }

// next builds the n-th anchor transaction: it anchors one of node's keys
// with a label no other transaction uses.
func (l *load) next(node int) (*block.Tx, linInput) {
	l.mu.Lock()
	l.seq++
	n := l.seq
	l.submitted++
	l.mu.Unlock()
	key := linKeyFor(node, int(n%keysPerNode))
	in := linInput{Key: key, Write: true, Label: fmt.Sprintf("e2e %d", n)}
	p := &block.AnchorPayload{Hash: l.hist.keys[key].Doc, Label: in.Label}
	return client.Sign(l.c.Sponsor, l.c.Genesis.ChainID, block.KindAnchor, p.Encode(), 100_000), in
}

func (l *load) addAck(a Ack) {
	l.mu.Lock()
	l.acks = append(l.acks, a)
	l.mu.Unlock()
}

// submit sends one anchor of one of node's keys to node and waits for its
// receipt, recording the write in the history (client is the worker).
func (l *load) submit(ctx context.Context, client, node int, timeout time.Duration) (Ack, error) {
	tx, in := l.next(node)
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	op := linOp{Client: client, In: in, Call: time.Now(), Tx: tx.Hash()}
	res, err := l.c.Clients[node].Submit(sctx, tx, true)
	op.Ret = time.Now()
	if err == nil && res.Receipt == nil {
		err = fmt.Errorf("no receipt: %s", res.Pending)
	}
	op.Unknown = err != nil
	l.hist.add(op)
	if err != nil {
		return Ack{}, err
	}
	return Ack{Hash: res.Hash, Height: res.Receipt.Height}, nil
}

// clients is the number of writing clients (workers) run starts.
func (l *load) clients() int { return max(1, l.workers/l.c.N()) * l.c.N() }

// readers is how many clients read keys while the load runs, and
// readEvery how often each reads.
const (
	readers   = 4
	readEvery = 100 * time.Millisecond
)

// read lists the anchors of a random key through that key's node and
// records the read in the history. A read that fails has no effect and
// is not recorded.
func (l *load) read(ctx context.Context, client int, key int) {
	k := l.hist.keys[key]
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	op := linOp{Client: client, In: linInput{Key: key}, Call: time.Now()}
	as, err := l.c.Clients[k.Node].Anchors(rctx, k.Doc)
	op.Ret = time.Now()
	if err != nil {
		return
	}
	labels := make([]string, 0, len(as))
	for _, a := range as {
		labels = append(labels, a.Label)
	}
	op.Out = labelSet(labels)
	l.hist.add(op)
}

// readLoop runs one reading client until ctx ends.
func (l *load) readLoop(ctx context.Context, client int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, uint64(client)))
	tick := time.NewTicker(readEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		key := rng.IntN(len(l.hist.keys))
		if l.c.Up(l.hist.keys[key].Node) {
			l.read(ctx, client, key)
		}
	}
}

// run offers the load until ctx ends. Each node has its own workers (the
// load's workers shared out, at least one per node): a node that answers
// slowly — paused, or resumed and still catching up, so that it returns
// receipts only seconds later — holds up only its own share of the load.
// With one pool of workers for all nodes, every worker ended up waiting on
// such a node and the whole load stopped: measured in pause-follower, the
// leader received no request for 13.5 s after the follower resumed, which
// the figures showed as a 13.5 s commit gap for everyone.
func (l *load) run(ctx context.Context, seed uint64) {
	tick := time.NewTicker(time.Second / time.Duration(l.rate))
	defer tick.Stop()
	n := l.c.N()
	jobs := make([]chan struct{}, n)
	for i := range jobs {
		jobs[i] = make(chan struct{})
	}
	var wg sync.WaitGroup
	for r := range readers {
		wg.Add(1)
		go func() { defer wg.Done(); l.readLoop(ctx, l.clients()+r, seed) }()
	}
	per := max(1, l.workers/n)
	for node := range n {
		for k := range per {
			w := node*per + k
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range jobs[node] {
					if a, err := l.submit(ctx, w, node, 15*time.Second); err == nil {
						l.addAck(a)
					}
				}
			}()
		}
	}
	k := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		k++
		node := k % n
		if !l.c.Up(node) {
			continue
		}
		select {
		case jobs[node] <- struct{}{}:
		default: // every worker of that node busy: the offered load is bounded
		}
	}
	for _, j := range jobs {
		close(j)
	}
	wg.Wait()
}

// probe submits one transaction, retrying on other nodes, until it commits.
func (l *load) probe(ctx context.Context, limit time.Duration) (Ack, error) {
	deadline := time.Now().Add(limit)
	var err error
	for i := 0; time.Now().Before(deadline); i++ {
		var a Ack
		if a, err = l.submit(ctx, l.clients()+readers, i%l.c.N(), 10*time.Second); err == nil {
			return a, nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return Ack{}, err
}

// linearTimeout bounds porcupine's search per scenario.
const linearTimeout = 60 * time.Second

// checkHistory checks the history per key for linearizability against the
// final chain; a history that is not linearizable fails the scenario, and
// its visualisation is written to c.ReportDir (or the first node's home).
func checkHistory(rep *Report, c *Cluster, s *Scenario, h *history, chain []*block.Committed) []string {
	in := map[block.Hash]bool{}
	for _, b := range chain {
		for _, raw := range b.Block.Txs {
			in[block.Sum(raw)] = true
		}
	}
	h.mu.Lock()
	ops := append([]linOp(nil), h.ops...)
	h.mu.Unlock()
	began := time.Now()
	res := checkLinear(ops, func(t block.Hash) bool { return in[t] }, linearTimeout)
	rep.LinearOps = res.Ops
	c.Log("linearizability: %s, %d operations on %d keys (%d unacknowledged writes never committed, left out), checked in %v",
		res.Result, res.Ops, len(h.keys), res.Dropped, time.Since(began).Round(time.Millisecond))
	switch res.Result {
	case porcupine.Ok:
		rep.Linear = "ok"
		return nil
	case porcupine.Unknown:
		// The search ran out of time: no verdict, reported as such.
		rep.Linear = "unknown"
		return nil
	}
	rep.Linear = "FAILED"
	dir := c.ReportDir
	if dir == "" {
		dir = c.Homes[0]
	}
	rep.Visual = filepath.Join(dir, "e2e-"+s.Name+"-linearizability.html")
	if err := porcupine.VisualizePath(linModel, res.Info, rep.Visual); err != nil {
		rep.Visual = ""
		return []string{fmt.Sprintf("linearizability: the client-observed history of reads and writes is not linearizable (visualisation not written: %v)", err)}
	}
	return []string{fmt.Sprintf("linearizability: the client-observed history of reads and writes is not linearizable; see %s", rep.Visual)}
}
