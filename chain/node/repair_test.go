package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consensus"
	"github.com/trialchain/trialchain/chain/doctor"
	"github.com/trialchain/trialchain/chain/store"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/transport"
)

// lyingSync makes a node's block-sync replies lie: every block it serves
// has its header time moved by a millisecond (its certificate no longer
// verifies). It counts the lies told.
func lyingSync(told *atomic.Int64) func(transport.RequestHandler) transport.RequestHandler {
	return func(h transport.RequestHandler) transport.RequestHandler {
		return func(ctx context.Context, from uint64, req []byte) ([]byte, error) {
			resp, err := h(ctx, from, req)
			if err != nil || !consensus.IsBlocksRequest(req) {
				return resp, err
			}
			raws, err := consensus.DecodeBlocksReply(resp)
			if err != nil {
				return nil, err
			}
			for i, raw := range raws {
				c, err := block.DecodeCommitted(raw)
				if err != nil {
					return nil, err
				}
				c.Block.Header.TimeUnixMilli++
				raws[i] = c.Encode()
				told.Add(1)
			}
			return consensus.EncodeBlocksReply(raws), nil
		}
	}
}

// runNode runs node i of c with Run (which reopens it after a repair) and
// opts, keeping c.nodes[i] the node Run last started; started records
// each. It returns a channel that receives Run's result.
func (c *cluster) runNode(i int, opts Options, tune func(*Config), started func(*Node)) <-chan error {
	c.t.Helper()
	cfg, err := LoadConfig(c.tn.Homes[i])
	if err != nil {
		c.t.Fatal(err)
	}
	f := false
	cfg.HTTP3 = &f
	if tune != nil {
		tune(cfg)
	}
	if opts.Logger == nil {
		opts.Logger = testLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, finished := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(finished)
		done <- Run(ctx, cfg, opts, func(n *Node) {
			c.mu.Lock()
			c.nodes[i] = n
			c.mu.Unlock()
			if started != nil {
				started(n)
			}
		})
	}()
	c.t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(30 * time.Second):
			c.t.Error("Run did not return after its context ended")
		}
	})
	return done
}

// tamperFollower alters the store of the stopped node i as someone
// editing its files would: the label of doc1's anchor, the receipt of the
// transaction with nonce 2, the header time of the block holding it, and
// an added state value. It returns that block's height.
func (c *cluster) tamperFollower(i int) uint64 {
	c.t.Helper()
	cfg, err := LoadConfig(c.tn.Homes[i])
	if err != nil {
		c.t.Fatal(err)
	}
	s, err := store.Open(filepath.Join(cfg.Path(cfg.DataDir), "db"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer s.Close()
	tx2 := block.Sum(c.anchorTx(2))
	rc, err := s.Receipt(tx2)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, f := range []func() error{
		func() error { return s.TamperAnchorLabel(block.Sum([]byte("doc1")), "protocol v2") },
		func() error {
			return s.TamperReceipt(tx2, func(rc *block.Receipt) { rc.Status, rc.Error = block.StatusFailed, "altered" })
		},
		func() error {
			return s.TamperBlock(rc.Height, func(c *block.Committed) { c.Block.Header.TimeUnixMilli -= 3_600_000 })
		},
		func() error { return s.TamperState([]byte("Zextra"), []byte("x")) },
	} {
		if err := f(); err != nil {
			c.t.Fatal(err)
		}
	}
	if rep := doctor.Check(c.tn.Genesis, s); rep.OK() {
		c.t.Fatal("tampering went unnoticed by doctor")
	}
	return rc.Height
}

// followers returns the indexes of the nodes that are not the leader.
func (c *cluster) followers() []int {
	leader, _ := c.live()[0].replica.Leader()
	var out []int
	for i, n := range c.nodes {
		if n != nil && n.cfg.ID != leader {
			out = append(out, i)
		}
	}
	return out
}

// TestNodeRepairsFromPeers alters a stopped follower's store (an anchor
// label, a receipt, a header time, an added state value) and restarts it,
// with one peer lying in its block-sync replies: the node finds the
// damage, refuses to serve, rebuilds its store from its own blocks that
// verify and its honest peers' copy of the altered one (refusing the
// liar's), reopens on it, serves the committed values — the same anchor,
// transaction and block as the other nodes — and commits new blocks with
// them.
func TestNodeRepairsFromPeers(t *testing.T) {
	c := newCluster(t, 4)
	c.submit(1, 9)
	for nonce := uint64(1); nonce <= 8; nonce++ { // nonces need not commit in order
		c.waitTx(nonce, 30*time.Second)
	}
	fs := c.followers()
	// The liar is the victim's first peer (peers are asked in id order).
	victim, liar := fs[len(fs)-1], 0
	if victim == 0 {
		liar = 1
	}
	c.stop(liar)
	var lies atomic.Int64
	c.runNode(liar, Options{WrapRequests: lyingSync(&lies)}, nil, nil)
	c.stop(victim)
	height := c.tamperFollower(victim)

	var sawDamage atomic.Bool
	c.runNode(victim, Options{}, func(cfg *Config) { cfg.RepairRetry = 200 * time.Millisecond }, func(n *Node) {
		if len(n.Damage()) > 0 {
			sawDamage.Store(true)
			if code, body := get(t, n.APIURL()+"/v1/anchors/"+block.Sum([]byte("doc1")).String()); code != http.StatusServiceUnavailable {
				t.Errorf("a damaged node served the anchor: %d %s", code, body)
			}
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	var n *Node
	for {
		c.mu.Lock()
		n = c.nodes[victim]
		c.mu.Unlock()
		if n != nil && len(n.Damage()) == 0 && sawDamage.Load() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the damaged node did not repair itself in 90 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rep := doctor.CheckChain(c.tn.Genesis, n.store); !rep.OK() {
		t.Fatalf("repaired store: %v", rep.Problems)
	}
	var other *Node // an honest one
	for i := range c.nodes {
		if i != victim && i != liar {
			other = c.nodes[i]
		}
	}
	for _, p := range []string{
		"/v1/anchors/" + block.Sum([]byte("doc1")).String(),
		"/v1/tx/" + block.Sum(c.anchorTx(2)).String(),
		fmt.Sprintf("/v1/block/%d", height),
	} {
		code, got := get(t, n.APIURL()+p)
		_, want := get(t, other.APIURL()+p)
		if strings.HasPrefix(p, "/v1/block/") {
			// Each node keeps the quorum of signatures it collected.
			got, want = withoutSigners(t, got), withoutSigners(t, want)
		}
		if code != http.StatusOK || got != want {
			t.Fatalf("GET %s on the repaired node: %d\n%s\nother node:\n%s", p, code, got, want)
		}
	}
	// It takes part again: new transactions commit on every node, it included.
	c.submit(9, 13)
	for nonce := uint64(9); nonce <= 12; nonce++ {
		c.waitTx(nonce, 60*time.Second)
	}
	c.waitSameHead(30 * time.Second)
	c.sameChain()
	if leader, _ := n.replica.Leader(); leader == 0 {
		t.Fatal("the repaired node runs no consensus")
	}
	if lies.Load() == 0 {
		t.Fatal("the lying peer was never asked")
	}
}

func withoutSigners(t *testing.T, body string) string {
	t.Helper()
	var b view.Block
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatalf("block: %v: %s", err, body)
	}
	b.Signers = nil
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestNodeRepairOnlyLiars: the only peer a damaged node reaches lies in
// its block-sync replies. Every copy is refused, the node keeps refusing
// to serve, and after RepairAttempts it stops: Run returns an error that
// says so, and the store is left as it was (no half-swapped repair).
func TestNodeRepairOnlyLiars(t *testing.T) {
	c := newCluster(t, 4)
	c.submit(1, 5)
	for nonce := uint64(1); nonce <= 4; nonce++ { // nonces need not commit in order
		c.waitTx(nonce, 30*time.Second)
	}
	fs := c.followers()
	victim, liar := fs[0], fs[1]
	var lies atomic.Int64
	for i := range c.nodes {
		if i != victim {
			c.stop(i)
		}
	}
	c.stop(victim)
	c.runNode(liar, Options{WrapRequests: lyingSync(&lies)}, nil, nil)
	c.tamperFollower(victim)
	done := c.runNode(victim, Options{}, func(cfg *Config) {
		cfg.RepairAttempts, cfg.RepairRetry = 2, 100*time.Millisecond
	}, nil)
	var err error
	select {
	case err = <-done:
	case <-time.After(120 * time.Second):
		t.Fatal("the node did not give up in 120 s")
	}
	if err == nil || !errors.Is(err, doctor.ErrNoVerifiableCopy) || !strings.Contains(err.Error(), "2 attempts") ||
		!strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("Run: %v", err)
	}
	if lies.Load() == 0 {
		t.Fatal("the liar was never asked")
	}
	cfg, _ := LoadConfig(c.tn.Homes[victim])
	db := filepath.Join(cfg.Path(cfg.DataDir), "db")
	for _, d := range []string{db + ".repaired", db + ".repair"} {
		if _, err := os.Stat(d); err == nil {
			// db.repair may hold the last, unfinished attempt; it is never opened.
			if strings.HasSuffix(d, ".repaired") {
				t.Fatalf("%s exists after a failed repair", d)
			}
		}
	}
	s, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if doctor.Check(c.tn.Genesis, s).OK() {
		t.Fatal("the damaged store was replaced by something after a failed repair")
	}
}

// TestNodeRepairsInBackground alters a block under a running follower:
// its background check finds it, consensus stops, the node rebuilds its
// store from its peers, reopens on it (Run) and serves the certified
// block again, and commits new blocks with the others.
func TestNodeRepairsInBackground(t *testing.T) {
	c := newCluster(t, 4)
	c.submit(1, 5)
	for nonce := uint64(1); nonce <= 4; nonce++ {
		c.waitTx(nonce, 30*time.Second)
	}
	victim := c.followers()[0]
	c.stop(victim)
	var damaged, repaired atomic.Pointer[Node]
	c.runNode(victim, Options{}, func(cfg *Config) { cfg.DiskCheckInterval = 100 * time.Millisecond }, func(n *Node) {
		if damaged.Load() != nil {
			repaired.Store(n)
		}
	})
	var n *Node
	for n == nil {
		time.Sleep(20 * time.Millisecond)
		c.mu.Lock()
		n = c.nodes[victim]
		c.mu.Unlock()
	}
	if err := n.ledger.WaitHeight(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	damaged.Store(n)
	if err := n.store.TamperBlock(1, func(c *block.Committed) { c.Block.Header.TimeUnixMilli++ }); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for repaired.Load() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("not repaired in 90 s (damage %v, done %v)", n.Damage(), n.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := repaired.Load()
	if len(r.Damage()) != 0 {
		t.Fatalf("reopened with damage: %v", r.Damage())
	}
	b, err := r.store.Block(1)
	if err != nil || c.tn.Genesis.VerifyCertificate(b) != nil {
		t.Fatalf("block 1 after the repair: %v", err)
	}
	c.submit(5, 9)
	for nonce := uint64(5); nonce <= 8; nonce++ {
		c.waitTx(nonce, 60*time.Second)
	}
	c.waitSameHead(30 * time.Second)
	c.sameChain()
}
