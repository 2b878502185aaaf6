package main

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client/clienttest"
)

// TestLyingNodeCLI runs the CLI's reads and exports against a lying node
// (a proxy in front of node0 of a real 4-process network): a block with a
// transaction left out (header recomputed), an old but genuine checkpoint,
// a forged header, a different history certified by a Byzantine quorum,
// a transaction placed in another block. Each is refused or reported;
// without a genesis the output says UNVERIFIED; the client.toml testnet
// writes beside the keyring makes verification the default.
func TestLyingNodeCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node network")
	}
	net, homes := procNetwork(t)
	dir := t.TempDir()
	keyring, gen := filepath.Join(net, "keys"), filepath.Join(net, "genesis.json")
	var txs []string
	for i := 0; i < 4; i++ {
		doc := filepath.Join(dir, fmt.Sprintf("doc%d.txt", i))
		os.WriteFile(doc, []byte(fmt.Sprintf("document %d\n", i)), 0o644)
		out := must(t, "anchor", doc, "--label", fmt.Sprint("doc ", i), "--from", "site", "--keyring", keyring, "--home", homes[0], "--wait", "--output", "json")
		var s view.Submitted
		if err := json.Unmarshal([]byte(out), &s); err != nil || s.Receipt == nil {
			t.Fatalf("anchor: %v %s", err, out)
		}
		txs = append(txs, s.Hash.String())
	}
	settle(t, homes)
	addr, err := node.APIAddr(homes[0])
	if err != nil {
		t.Fatal(err)
	}
	liar := clienttest.NewLiar(t, "http://"+addr)
	at := func(args ...string) []string { return append(args, "--node", liar.URL(), "--genesis", gen) }

	// Told the truth: verified; without a genesis: UNVERIFIED, no "signed by".
	if out := must(t, at("block", "get", "2")...); !strings.Contains(out, "signed by:") || !strings.Contains(out, "certificate verified") {
		t.Fatalf("block get: %s", out)
	}
	out, errs, code := run(t, "block", "get", "2", "--node", liar.URL())
	if code != 0 || strings.Contains(out, "signed by") || !strings.Contains(out, "NOT CHECKED") || !strings.Contains(errs, "UNVERIFIED") {
		t.Fatalf("block get without genesis: %d %s %s", code, out, errs)
	}
	// The client.toml beside the keyring names node0 and the genesis.
	if out := must(t, "block", "get", "2", "--keyring", keyring); !strings.Contains(out, "certificate verified") {
		t.Fatalf("block get with the client config: %s", out)
	}
	if out := must(t, "tx", "get", txs[1], "--keyring", keyring); !strings.Contains(out, "receipt is proven") {
		t.Fatalf("tx get with the client config: %s", out)
	}

	refused := func(name, want string, args ...string) {
		t.Helper()
		out, errs, code := run(t, args...)
		if code != 1 || !strings.Contains(errs, want) {
			t.Fatalf("%s: want exit 1 with %q, got %d\n%s\n%s", name, want, code, out, errs)
		}
	}
	t.Run("omits a transaction", func(t *testing.T) {
		liar.Set(clienttest.OmitTx(2))
		defer liar.Set(nil)
		f := filepath.Join(dir, "omit.bundle.json")
		refused("export", "served a block that is not the certified one", at("export", "--all", "--out", f)...)
		if _, err := os.Stat(f); err == nil {
			t.Fatal("export wrote a bundle")
		}
		refused("block get", "REFUSED", at("block", "get", "2")...)
		refused("tx get", "REFUSED", at("tx", "get", txs[1])...)
	})
	t.Run("serves an old but genuine checkpoint", func(t *testing.T) {
		liar.Set(clienttest.OldCheckpoint(2))
		defer liar.Set(nil)
		cp := filepath.Join(dir, "cp.json")
		out, errs, code := run(t, at("checkpoint", "--out", cp, "--output", "json")...)
		var v struct {
			Height   uint64
			Verified bool
		}
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil || !v.Verified || v.Height < 4 || !strings.Contains(errs, "lagging: liar") && !strings.Contains(errs, "lagging: http://") {
			t.Fatalf("checkpoint: %d %s %s", code, out, errs)
		}
		f := filepath.Join(dir, "fresh.bundle.json")
		out, errs, code = run(t, at("export", "--all", "--out", f, "--output", "json")...)
		var sum exportSummary
		if code != 0 || json.Unmarshal([]byte(out), &sum) != nil || !sum.Verified || sum.Checkpoint != v.Height || sum.Records != int(v.Height)-1 || sum.Survey.Nodes[0].State != "lagging" {
			t.Fatalf("export: %d %s %s", code, out, errs)
		}
		// verify --max-age: the bundle is fresh for an hour, not for a nanosecond.
		must(t, "verify", f, "--genesis", gen, "--max-age", "1h")
		refused("verify --max-age", "too old", "verify", f, "--genesis", gen, "--max-age", "1ns")
	})
	t.Run("forges a header", func(t *testing.T) {
		liar.Set(clienttest.AlterCheckpoint(0, clienttest.ForgeHeader))
		defer liar.Set(nil)
		cp := filepath.Join(dir, "cp2.json")
		if out, errs, code := run(t, at("checkpoint", "--out", cp)...); code != 0 || !strings.Contains(errs, "invalid: ") || !strings.Contains(errs, "invalid commit certificate") {
			t.Fatalf("checkpoint: %d %s %s", code, out, errs)
		}
		refused("checkpoint --height", "does not verify", at("checkpoint", "--out", cp, "--height", "3")...)
		liar.Set(clienttest.AlterBlock(3, func(c *block.Committed) { c.Block.Header.TimeUnixMilli -= 3600_000 }))
		refused("block get", "REFUSED", at("block", "get", "3")...)
	})
	t.Run("answers a different history", func(t *testing.T) {
		var vk []ed25519.PrivateKey
		for _, h := range homes {
			k, err := keys.Load(filepath.Join(h, "node.key"))
			if err != nil {
				t.Fatal(err)
			}
			vk = append(vk, k.Private)
		}
		liar.Set(clienttest.AlterCheckpoint(0, clienttest.Resign(vk, 1, 2, 4)))
		defer liar.Set(nil)
		cp := filepath.Join(dir, "fork.json")
		refused("checkpoint", "FORK", at("checkpoint", "--out", cp)...)
		refused("export", "FORK", at("export", "--all", "--out", filepath.Join(dir, "fork.bundle.json"))...)
		if _, err := os.Stat(cp); err == nil {
			t.Fatal("checkpoint written")
		}
	})
	t.Run("places a transaction in another block", func(t *testing.T) {
		liar.Set(clienttest.AlterJSON("/v1/tx/", func(v *view.TxWithReceipt) { v.Receipt.Height = 1 }))
		defer liar.Set(nil)
		refused("tx get", "not in the certified block", at("tx", "get", txs[2])...)
	})
}
