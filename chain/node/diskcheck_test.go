package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/doctor"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
	"github.com/trialchain/trialchain/chain/view"
)

// TestNodeChecksItsDisk stops a one-validator network after six anchors,
// copies its home once per case, alters the copy's Pebble store the way
// someone editing the files would (an anchor's label, a receipt, a
// header's time, …) and restarts a node on it: doctor.Check names the
// damage, the node refuses every read with 503 store_damaged, /v1/status
// lists the damage, and consensus is not started. Then it repairs itself
// from its own blocks when they verify (re-executed into a new store,
// which it serves once reopened), and gives up when a block itself was
// altered (a lone validator has no peer to fetch it from). On the
// untouched copy the check is clean and the node serves.
func TestNodeChecksItsDisk(t *testing.T) {
	c := newCluster(t, 1)
	c.submit(1, 7)
	c.waitTx(6, 30*time.Second)
	c.stop(0)
	home := c.tn.Homes[0]
	doc1 := block.Sum([]byte("doc1"))
	tx2 := block.Sum(c.anchorTx(2))

	cases := []struct {
		name   string
		tamper func(s *store.Store) error
		want   string // in the first problem; "" = untouched
		// own: the node's own blocks suffice to repair it (re-executed);
		// else, with no peer, it gives up.
		own bool
	}{
		{"untouched", func(*store.Store) error { return nil }, "", true},
		{"anchor label", func(s *store.Store) error { return s.TamperAnchorLabel(doc1, "protocol v2") }, "altered on disk", true},
		{"receipt", func(s *store.Store) error {
			return s.TamperReceipt(tx2, func(rc *block.Receipt) { rc.GasUsed++ })
		}, "receipt of transaction " + tx2.String(), true},
		{"header time", func(s *store.Store) error {
			return s.TamperBlock(s.Head().Height, func(c *block.Committed) { c.Block.Header.TimeUnixMilli -= 3_600_000 })
		}, "certificate does not verify", false},
		{"block body", func(s *store.Store) error {
			return s.TamperBlock(1, func(c *block.Committed) { c.Block.Txs = c.Block.Txs[:0] })
		}, "do not match its header", false},
		{"state value removed", func(s *store.Store) error {
			var k []byte
			if err := s.Iterate(state.AnchorPrefix(doc1), func(key, _ []byte) bool { k = key; return false }); err != nil || k == nil {
				return fmt.Errorf("no anchor of doc1: %v", err)
			}
			return s.TamperDeleteState(k)
		}, "(a value is missing)", true},
		{"state value added", func(s *store.Store) error { return s.TamperState([]byte("Zextra"), []byte("x")) }, "does not have (added on disk)", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cp := filepath.Join(t.TempDir(), "home")
			if err := os.CopyFS(cp, os.DirFS(home)); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(cp)
			if err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(cfg.Path(cfg.DataDir), "db")
			s, err := store.Open(db)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.tamper(s); err != nil {
				s.Close()
				t.Fatal(err)
			}
			rep := doctor.Check(c.tn.Genesis, s)
			s.Close()
			if tc.want == "" {
				if !rep.OK() || rep.Head < 1 || rep.Blocks != rep.Head || rep.Receipts != 6 || rep.States == 0 {
					t.Fatalf("untouched store: %+v", rep)
				}
			} else if rep.OK() || !strings.Contains(rep.Problems[0].What, tc.want) {
				t.Fatalf("doctor: want a problem with %q, got %+v", tc.want, rep.Problems)
			}

			f := false
			cfg.HTTP3 = &f
			cfg.RepairAttempts, cfg.RepairRetry = 1, time.Millisecond
			n, err := New(cfg, Options{Logger: testLogger()})
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer n.Stop()
			st := getStatus(t, n.APIURL())
			code, body := get(t, n.APIURL()+"/v1/anchors/"+doc1.String())
			if tc.want == "" {
				if len(st.StoreDamage) != 0 || code != http.StatusOK || !strings.Contains(body, `"doc"`) {
					t.Fatalf("untouched: status damage %v, anchors %d %s", st.StoreDamage, code, body)
				}
				return
			}
			if len(st.StoreDamage) == 0 || !strings.Contains(st.StoreDamage[0], tc.want) {
				t.Fatalf("status does not name the damage: %v", st.StoreDamage)
			}
			if code != http.StatusServiceUnavailable || !strings.Contains(body, "store_damaged") || strings.Contains(body, "protocol v2") {
				t.Fatalf("anchors on a damaged store: %d %s", code, body)
			}
			for _, p := range []string{"/v1/tx/" + tx2.String(), "/v1/block/1", "/healthz"} {
				if code, body := get(t, n.APIURL()+p); code != http.StatusServiceUnavailable {
					t.Fatalf("GET %s on a damaged store: %d %s", p, code, body)
				}
			}
			if leader, _ := n.replica.Leader(); leader != 0 {
				t.Fatalf("a damaged node takes part in consensus (leader %d)", leader)
			}
			// It repairs itself, alone, when its own blocks verify; an
			// altered block needs a peer, and it has none.
			select {
			case <-n.Done():
			case <-time.After(60 * time.Second):
				t.Fatal("no repair outcome in 60 s")
			}
			if err := n.Err(); !tc.own {
				if !errors.Is(err, doctor.ErrNoVerifiableCopy) {
					t.Fatalf("repair without peers: %v", err)
				}
				return
			} else if !errors.Is(err, ErrRepaired) {
				t.Fatalf("repair from its own blocks: %v", err)
			}
			n.Stop()
			n2, err := New(cfg, Options{Logger: testLogger()})
			if err != nil {
				t.Fatal(err)
			}
			if len(n2.Damage()) != 0 {
				n2.Stop()
				t.Fatalf("reopened on the repaired store: %v", n2.Damage())
			}
			if err := n2.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer n2.Stop()
			if code, body := get(t, n2.APIURL()+"/v1/anchors/"+doc1.String()); code != http.StatusOK || !strings.Contains(body, `"doc"`) || strings.Contains(body, "protocol v2") {
				t.Fatalf("anchors on the repaired store: %d %s", code, body)
			}
		})
	}
}

// TestNodeDiskCheckInBackground alters a block under a running node: its
// background check finds it, the API refuses and consensus stops.
func TestNodeDiskCheckInBackground(t *testing.T) {
	c := newClusterWith(t, 1, func(_ int, cfg *Config) { cfg.DiskCheckInterval = 100 * time.Millisecond })
	c.submit(1, 4)
	c.waitTx(3, 30*time.Second)
	n := c.live()[0]
	if code, body := get(t, n.APIURL()+"/v1/block/1"); code != http.StatusOK {
		t.Fatalf("block 1 before the damage: %d %s", code, body)
	}
	if err := n.store.TamperBlock(1, func(c *block.Committed) { c.Block.Header.TimeUnixMilli++ }); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(n.Damage()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the background check did not find an altered header in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	st := getStatus(t, n.APIURL())
	if len(st.StoreDamage) == 0 || !strings.Contains(st.StoreDamage[0], "certificate does not verify") {
		t.Fatalf("status: %v", st.StoreDamage)
	}
	if code, body := get(t, n.APIURL()+"/v1/block/1"); code != http.StatusServiceUnavailable || !strings.Contains(body, "store_damaged") {
		t.Fatalf("block 1 after the damage: %d %s", code, body)
	}
	for leader, _ := n.replica.Leader(); leader != 0; leader, _ = n.replica.Leader() {
		if time.Now().After(deadline) {
			t.Fatal("consensus still running on a damaged store")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

func getStatus(t *testing.T, base string) view.Status {
	t.Helper()
	code, body := get(t, base+"/v1/status")
	var st view.Status
	if code != http.StatusOK {
		t.Fatalf("status: %d %s", code, body)
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(fmt.Errorf("status: %w", err))
	}
	return st
}
