package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/store"
	"github.com/trialchain/trialchain/chain/view"
)

// TestDoctor runs a one-validator network, anchors a document, stops the
// node and checks its store with `trialchain doctor`: exit 0 untouched;
// then, on copies of the home whose Pebble store was altered (the anchor's
// label, a receipt, a header's time), exit 1 naming the damage. A node
// started on the altered label repairs its store from its own blocks and
// `anchor verify` finds the committed label; one started on the altered
// header, with no peer to fetch it from, exits 1 after its attempts.
func TestDoctor(t *testing.T) {
	dir := t.TempDir()
	net := filepath.Join(dir, "net")
	if out, errs, code := run(t, "testnet", "--validators", "1", "--out", net, "--base-port", "0"); code != 0 {
		t.Fatalf("testnet: %d %s %s", code, out, errs)
	}
	home := filepath.Join(net, "node0")
	p := startNode(t, home)
	addr, err := node.APIAddr(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := waitHealthy(context.Background(), []string{"http://" + addr}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(dir, "protocol.txt")
	if err := os.WriteFile(doc, []byte("protocol v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := run(t, "anchor", doc, "--label", "protocol v1", "--from", "sponsor", "--keyring", filepath.Join(net, "keys"), "--home", home, "--wait"); code != 0 {
		t.Fatalf("anchor: %d %s %s", code, out, errs)
	}
	if err := p.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = p.Wait()

	out, errs, code := run(t, "doctor", "--home", home)
	if code != 0 || !strings.Contains(out, "OK: the store matches the certified chain") {
		t.Fatalf("doctor on an untouched store: %d\n%s%s", code, out, errs)
	}
	docHash := block.Sum([]byte("protocol v1\n"))
	cases := []struct {
		name   string
		tamper func(*store.Store) error
		want   string
	}{
		{"anchor label", func(s *store.Store) error { return s.TamperAnchorLabel(docHash, "protocol v2") }, "differs from the one under the state root"},
		{"receipt", func(s *store.Store) error {
			c, err := s.Block(s.Head().Height)
			if err != nil {
				return err
			}
			return s.TamperReceipt(block.Sum(c.Block.Txs[0]), func(rc *block.Receipt) { rc.Status = block.StatusFailed; rc.Error = "forged" })
		}, "does not match the record committed for it"},
		{"header time", func(s *store.Store) error {
			return s.TamperBlock(s.Head().Height, func(c *block.Committed) { c.Block.Header.TimeUnixMilli -= 86_400_000 })
		}, "certificate does not verify"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cp := filepath.Join(t.TempDir(), "node0")
			if err := os.CopyFS(cp, os.DirFS(home)); err != nil {
				t.Fatal(err)
			}
			s, err := store.Open(filepath.Join(cp, "data", "db"))
			if err != nil {
				t.Fatal(err)
			}
			err = tc.tamper(s)
			s.Close()
			if err != nil {
				t.Fatal(err)
			}
			out, errs, code := run(t, "doctor", "--home", cp)
			if code != 1 || !strings.Contains(out, "DAMAGED block") || !strings.Contains(out, tc.want) || !strings.Contains(errs, "is damaged") {
				t.Fatalf("doctor: code %d\n%s%s", code, out, errs)
			}
			switch tc.name {
			case "anchor label":
				// Its own blocks verify: the node rebuilds its store from
				// them, reopens on it and serves the committed label.
				p := startNode(t, cp)
				defer func() { _ = p.Process.Signal(syscall.SIGTERM); _ = p.Wait() }()
				deadline := time.Now().Add(60 * time.Second)
				for st := waitStatus(t, "http://"+addr); len(st.StoreDamage) > 0 || st.Height == 0; st = waitStatus(t, "http://"+addr) {
					if time.Now().After(deadline) {
						t.Fatalf("the node did not repair its store in 60 s: %+v", st.StoreDamage)
					}
					time.Sleep(100 * time.Millisecond)
				}
				out, errs, code = run(t, "anchor", "verify", doc, "--home", cp)
				if code != 0 || !strings.Contains(out, "protocol v1") || strings.Contains(out, "protocol v2") {
					t.Fatalf("anchor verify on the repaired node: code %d\n%s%s", code, out, errs)
				}
				if b, err := os.ReadFile(filepath.Join(cp, "node.log")); err != nil || !strings.Contains(string(b), "store damaged") || !strings.Contains(string(b), "store rebuilt") {
					t.Fatalf("the node's log does not show the damage and the repair (%v):\n%s", err, b)
				}
			case "header time":
				// The altered block needs a peer, and a lone validator has
				// none: `start` gives up after repair_attempts and exits 1.
				cfgPath := filepath.Join(cp, node.ConfigFile)
				cfg, err := os.ReadFile(cfgPath)
				if err != nil {
					t.Fatal(err)
				}
				cfg = regexp.MustCompile(`(?m)^repair_attempts = .*$`).ReplaceAll(cfg, []byte("repair_attempts = 2"))
				cfg = regexp.MustCompile(`(?m)^repair_retry = .*$`).ReplaceAll(cfg, []byte(`repair_retry = "10ms"`))
				if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
					t.Fatal(err)
				}
				out, errs, code := run(t, "start", "--home", cp)
				if code == 0 || !strings.Contains(errs, "no repair succeeded (2 attempts") {
					t.Fatalf("start on a store it cannot repair: code %d\n%s%s", code, out, errs)
				}
			}
		})
	}
}

// waitStatus polls GET /v1/status until it answers.
func waitStatus(t *testing.T, base string) view.Status {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := http.Get(base + "/v1/status")
		if err == nil {
			var st view.Status
			derr := json.NewDecoder(r.Body).Decode(&st)
			r.Body.Close()
			if r.StatusCode == http.StatusOK && derr == nil {
				return st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no status from %s: %v", base, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
