package witnessd_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/witness"
	"github.com/trialchain/trialchain/chain/witness/witnessd"
	"github.com/trialchain/trialchain/chain/witness/witnesstest"
	"github.com/trialchain/trialchain/sdk/client"
)

// fakeNode serves the two node API calls a witness client needs from a
// certified in-memory chain (the chain pointer is read on each call, so a
// test can swap histories: a lying node).
type fakeNode struct {
	mu sync.Mutex
	c  *witnesstest.Chain
	t  *testing.T
}

func (n *fakeNode) set(c *witnesstest.Chain) { n.mu.Lock(); n.c = c; n.mu.Unlock() }

func (n *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch r.URL.Path {
	case "/v1/checkpoint":
		json.NewEncoder(w).Encode(n.c.Checkpoint(n.t, 0))
	case "/v1/proof/consistency":
		from, _ := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64)
		to, _ := strconv.ParseUint(r.URL.Query().Get("to"), 10, 64)
		hs, err := proof.Consistency(n.c, from, to)
		if err != nil {
			http.Error(w, `{"error":"no such size","code":"bad_size"}`, http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(&proof.ConsistencyProof{From: from, To: to, Hashes: hs})
	default:
		http.NotFound(w, r)
	}
}

func grow(t *testing.T, c *witnesstest.Chain, tag string, n int) {
	for i := 0; i < n; i++ {
		c.Commit(t, fmt.Sprintf("%s %d a", tag, c.Height()), fmt.Sprintf("%s %d b", tag, c.Height()))
	}
}

func startWitness(t *testing.T, c *witnesstest.Chain) *witness.Witness {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "w")
	if _, err := witness.Init(dir, "regulator"); err != nil {
		t.Fatal(err)
	}
	key, pk, _ := witness.LoadKey(dir)
	st, err := witness.Open(dir, pk)
	if err != nil {
		t.Fatal(err)
	}
	w, err := witness.New(st, key, pk.Name, c.G, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// TestAPI runs client.Cosign against the HTTP API: advance, prefix, a
// lying node's forked history, another chain, a stale old size.
func TestAPI(t *testing.T) {
	ctx := context.Background()
	a := witnesstest.New(t, "trial-net", 7)
	grow(t, a, "shared", 3)
	b := a.Fork()
	grow(t, a, "A", 2)
	grow(t, b, "B", 3)
	w := startWitness(t, a)
	srv := httptest.NewServer(witnessd.Handler(w, t.Logf))
	defer srv.Close()
	wc := client.NewWitness(srv.URL)
	nodeA, nodeB := &fakeNode{c: a, t: t}, &fakeNode{c: b, t: t}
	na, nb := httptest.NewServer(nodeA), httptest.NewServer(nodeB)
	defer na.Close()
	defer nb.Close()

	if _, err := wc.Latest(ctx); !errors.Is(err, client.ErrNoCosignature) {
		t.Fatalf("latest before the first: %v", err)
	}
	c1, err := client.Cosign(ctx, client.New(na.URL), wc, a.Checkpoint(t, 0))
	if err != nil || c1.Statement != witness.Latest {
		t.Fatalf("first: %v", err)
	}
	grow(t, a, "A", 2)
	c2, err := client.Cosign(ctx, client.New(na.URL), wc, a.Checkpoint(t, 0))
	if err != nil || c2.Height != a.Height() {
		t.Fatalf("advance: %v", err)
	}
	c3, err := client.Cosign(ctx, client.New(na.URL), wc, a.Checkpoint(t, 4))
	if err != nil || c3.Statement != witness.Prefix {
		t.Fatalf("prefix: %v %v", c3, err)
	}
	if l, err := wc.Latest(ctx); err != nil || l.Height != c2.Height {
		t.Fatalf("latest: %v %v", l, err)
	}
	_, err = client.Cosign(ctx, client.New(nb.URL), wc, b.Checkpoint(t, 0))
	if !errors.Is(err, witness.ErrFork) || !strings.Contains(err.Error(), "409") && !strings.Contains(err.Error(), "422") {
		t.Fatalf("forked history: got %v, want a fork", err)
	}
	other := witnesstest.New(t, "other-net", 7)
	grow(t, other, "o", 2)
	if _, err := wc.Add(ctx, &witness.Request{OldSize: c2.LogSize, Checkpoint: other.Checkpoint(t, 0)}); !errors.Is(err, witness.ErrWrongChain) || !strings.Contains(err.Error(), "404") {
		t.Fatalf("another chain: got %v", err)
	}
	var ce *witness.ConflictError
	if _, err := wc.Add(ctx, &witness.Request{OldSize: 0, Checkpoint: a.Checkpoint(t, 0)}); !errors.As(err, &ce) || ce.Size != c2.LogSize {
		t.Fatalf("stale old size: got %v", err)
	}
	if pk, err := wc.Key(ctx); err != nil || pk.Name != "regulator" {
		t.Fatalf("key: %v", err)
	}
}

// TestFollow: a witness following the genesis validators by itself, two
// of which serve different certified histories (lying nodes), cosigns
// the first it sees and logs the other as a FORK.
func TestFollow(t *testing.T) {
	a := witnesstest.New(t, "trial-net", 7)
	nodes := []*fakeNode{{c: a, t: t}, {c: a, t: t}}
	for i, n := range nodes {
		s := httptest.NewServer(n)
		defer s.Close()
		a.G.Validators[i].API = strings.TrimPrefix(s.URL, "http://")
	}
	a.G.Validators[2].API, a.G.Validators[3].API = "", "" // no API: skipped
	grow(t, a, "shared", 3)
	b := a.Fork()
	grow(t, a, "A", 2)
	grow(t, b, "B", 2)
	w := startWitness(t, a)
	var mu sync.Mutex
	var lines []string
	logf := func(f string, args ...any) { mu.Lock(); lines = append(lines, fmt.Sprintf(f, args...)); mu.Unlock() }

	witnessd.FollowOnce(context.Background(), w, 5*time.Second, "http", logf)
	if l := w.Latest(); l == nil || l.Height != a.Height() {
		t.Fatalf("did not follow the chain: %v (%q)", l, lines)
	}
	nodes[1].set(b) // node1 now shows party B's history
	witnessd.FollowOnce(context.Background(), w, 5*time.Second, "http", logf)
	if !strings.Contains(strings.Join(lines, "\n"), "FORK: validator node1") {
		t.Fatalf("fork not logged: %q", lines)
	}
	if l := w.Latest(); l.Height != a.Height() || l.BlockHash != a.Checkpoint(t, 0).Hash() {
		t.Fatal("the witness moved to the forked history")
	}
	// Follow stops with its context.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { witnessd.Follow(ctx, w, 10*time.Millisecond, "http", logf); close(done) }()
	time.Sleep(30 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not stop")
	}
}
