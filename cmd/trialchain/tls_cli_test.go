package main

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/sdk/client"
)

// TestTLSOnlyCLI is a site in another organisation using the CLI: the
// node serves no plain HTTP (plain_http = false), so every command goes
// over TLS (https://, the client config's default) or HTTP/3 (h3://), the
// node's key pinned from the genesis. A genesis pinning another key for
// the node's address makes every command refuse the node.
func TestTLSOnlyCLI(t *testing.T) {
	dir := t.TempDir()
	net := filepath.Join(dir, "net")
	must(t, "testnet", "--validators", "1", "--out", net, "--base-port", "0")
	home := filepath.Join(net, "node0")
	cfgPath := filepath.Join(home, "config.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// Top-level keys go before the first table.
	if err := os.WriteFile(cfgPath, append([]byte("plain_http = false\nhttp3 = true\n"), cfg...), 0o600); err != nil {
		t.Fatal(err)
	}
	startNode(t, home)
	addr, err := node.APIAddr(home)
	if err != nil {
		t.Fatal(err)
	}
	g, err := genesis.Load(filepath.Join(net, "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	waitTLS(t, g, "https://"+addr)

	cc := []string{"--client-config", filepath.Join(net, node.ClientConfigFile)} // nodes = ["https://…"]
	h3 := []string{"--node", "h3://" + addr, "--genesis", filepath.Join(net, "genesis.json"), "--keyring", filepath.Join(net, "keys")}
	args := func(a []string, more ...string) []string { return append(more, a...) }

	if out, errs, code := run(t, "status", "--node", "http://"+addr); code == 0 {
		t.Fatalf("plain HTTP with plain_http = false: exit 0\n%s%s", out, errs)
	}
	if out := must(t, args(h3, "status")...); !strings.Contains(out, g.ChainID) {
		t.Fatalf("status over HTTP/3: %q", out)
	}

	doc := filepath.Join(dir, "protocol.txt")
	if err := os.WriteFile(doc, []byte("protocol v1, sent over TLS\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := must(t, args(cc, "anchor", doc, "--label", "protocol v1", "--from", "sponsor", "--wait")...); !strings.Contains(out, "receipt: ok") {
		t.Fatalf("anchor over TLS: %q", out)
	}
	if out := must(t, args(h3, "anchor", "verify", doc)...); !strings.Contains(out, `label "protocol v1"`) {
		t.Fatalf("anchor verify over HTTP/3: %q", out)
	}

	narrative := filepath.Join(dir, "ae.txt")
	if err := os.WriteFile(narrative, []byte("adverse event narrative, uploaded over HTTP/3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	must(t, args(h3, "payload", "put", narrative, "--label", "AE narrative", "--from", "site")...)
	b, _ := os.ReadFile(narrative)
	back := filepath.Join(dir, "back.txt")
	must(t, args(cc, "payload", "get", block.Sum(b).String(), "--from", "regulator", "--out", back)...)
	if got, err := os.ReadFile(back); err != nil || string(got) != string(b) {
		t.Fatalf("payload read back over TLS: %q %v", got, err)
	}

	// A genesis pinning another key for this node's address.
	other, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	g.Validators[0].Key = genesis.Key(other)
	bad := filepath.Join(dir, "other-genesis.json")
	if err := g.Save(bad); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"https://" + addr, "h3://" + addr} {
		for _, cmd := range [][]string{{"status"}, {"anchor", "verify", doc}} {
			out, errs, code := run(t, append(cmd, "--node", u, "--genesis", bad)...)
			if code == 0 || !strings.Contains(errs, "another key") {
				t.Fatalf("%s %s with another key pinned: exit %d\n%s%s", strings.Join(cmd, " "), u, code, out, errs)
			}
		}
	}
}

// waitTLS waits until the node at base answers its status over TLS.
func waitTLS(t *testing.T, g *genesis.Genesis, base string) {
	t.Helper()
	cl, err := client.ForGenesis(g, base)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := cl.Status(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node at %s: %v", base, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
