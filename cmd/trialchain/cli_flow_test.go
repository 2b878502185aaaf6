package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/sdk/client"
)

// procNetwork starts a 4-validator testnet as child processes and returns
// its directory; the test's cleanup stops them.
func procNetwork(t *testing.T) (net string, homes []string) {
	t.Helper()
	net = filepath.Join(t.TempDir(), "net")
	if out, errs, code := run(t, "testnet", "--validators", "4", "--out", net, "--base-port", "0"); code != 0 {
		t.Fatalf("testnet: %d %s %s", code, out, errs)
	}
	var urls []string
	for i := 0; i < 4; i++ {
		home := filepath.Join(net, fmt.Sprintf("node%d", i))
		startNode(t, home)
		addr, err := node.APIAddr(home)
		if err != nil {
			t.Fatal(err)
		}
		homes, urls = append(homes, home), append(urls, "http://"+addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := waitHealthy(ctx, urls, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return net, homes
}

// settle waits until every node has committed as far as the first one:
// a command that waited for its receipt on one node says nothing about
// when the others commit the same block.
func settle(t *testing.T, homes []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var nodes []*client.Client
	for _, home := range homes {
		addr, err := node.APIAddr(home)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, client.New("http://"+addr))
	}
	st, err := nodes[0].Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := awaitHeight(ctx, nodes, st.Height); err != nil {
		t.Fatal(err)
	}
}

// must runs the binary and fails the test unless it exits 0.
func must(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := run(t, args...)
	if code != 0 {
		t.Fatalf("trialchain %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// TestContractAndConsentCLI is the README's contract and consent flows as
// a user types them: deploy, call, query, info; a 3-of-5 consent group
// made, registered, signed by three parties, combined, verified and used
// in a contract call; two shares and a replay refused.
func TestContractAndConsentCLI(t *testing.T) {
	wasmDir := t.TempDir()
	for _, c := range []struct{ name, dir string }{{"counter", "../../contracts-examples/counter"}, {"consented", "../../vm/testdata/consented"}} {
		if out, err := buildWasm(c.dir, filepath.Join(wasmDir, c.name+".wasm")); err != nil {
			t.Fatalf("build %s: %v\n%s", c.name, err, out)
		}
	}
	net, homes := procNetwork(t)
	kr := []string{"--keyring", filepath.Join(net, "keys")}
	at := func(i int) []string { return []string{"--home", homes[i]} }
	args := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}

	var dep struct{ Address string }
	out := must(t, args([]string{"contract", "deploy", filepath.Join(wasmDir, "counter.wasm"), "--from", "sponsor", "--wait", "--output", "json"}, kr, at(0))...)
	if err := json.Unmarshal([]byte(out), &dep); err != nil || len(dep.Address) != 64 {
		t.Fatalf("deploy output: %v %q", err, out)
	}
	if out = must(t, args([]string{"contract", "call", dep.Address, "add", `{"by":7}`, "--from", "site", "--wait"}, kr, at(1))...); !strings.Contains(out, "status:   ok") || !strings.Contains(out, "result:   7") {
		t.Fatalf("call: %q", out)
	}
	if out = must(t, args([]string{"contract", "query", dep.Address, "get"}, at(1))...); strings.TrimSpace(out) != "7" {
		t.Fatalf("query: %q", out)
	}
	if out = must(t, args([]string{"contract", "info", dep.Address}, at(1))...); !strings.Contains(out, "methods   add, get") {
		t.Fatalf("info: %q", out)
	}
	if _, errs, code := run(t, args([]string{"contract", "call", dep.Address, "add", `{"by":`, "--from", "site"}, kr, at(1))...); code == 0 || !strings.Contains(errs, "not valid JSON") {
		t.Fatalf("bad args: %d %q", code, errs)
	}

	// Consent: the ceremony (from the stored test key: safe-prime search
	// takes minutes), registration, three signatures, combination.
	dir := t.TempDir()
	board := filepath.Join(dir, "board")
	must(t, args([]string{"consent", "group", "new", "--name", "board", "--threshold", "3",
		"--party", "sponsor=sponsor", "--party", "committee=committee", "--party", "site=site", "--party", "admin=admin", "--party", "regulator=regulator",
		"--dealer-key", "../../chain/consent/testdata/testkey-2048.pem", "--out", board}, kr)...)
	var reg struct{ Receipt struct{ Result string } }
	out = must(t, args([]string{"consent", "group", "register", filepath.Join(board, "group.json"), "--from", "sponsor", "--wait", "--output", "json"}, kr, at(0))...)
	if err := json.Unmarshal([]byte(out), &reg); err != nil || len(reg.Receipt.Result) != 64 {
		t.Fatalf("register: %v %q", err, out)
	}
	groupID := reg.Receipt.Result
	out = must(t, args([]string{"contract", "deploy", filepath.Join(wasmDir, "consented.wasm"), "--from", "sponsor", "--wait", "--output", "json"}, kr, at(0))...)
	if err := json.Unmarshal([]byte(out), &dep); err != nil {
		t.Fatal(err)
	}
	must(t, args([]string{"contract", "call", dep.Address, "setBoard", `{"group":"` + groupID + `"}`, "--from", "sponsor", "--wait"}, kr, at(0))...)
	doc := filepath.Join(dir, "amendment.txt")
	os.WriteFile(doc, []byte("amendment 1: follow-up extended to 36 months\n"), 0o644)
	action := filepath.Join(dir, "action.json")
	must(t, "consent", "action", "--contract", dep.Address, "--method", "amend", "--message-file", doc, "--out", action)
	var sigs []string
	for i, p := range []string{"sponsor", "committee", "site"} {
		sig := filepath.Join(dir, p+".sig")
		must(t, args([]string{"consent", "sign", "--group", filepath.Join(board, "group.json"), "--share", filepath.Join(board, fmt.Sprintf("share-%02d-%s.bin", i+1, p)),
			"--as", p, "--action", action, "--meaning", "approve amendment", "--out", sig}, kr, at(i))...)
		sigs = append(sigs, sig)
	}
	group := filepath.Join(board, "group.json")
	if _, errs, code := run(t, append([]string{"consent", "combine", "--group", group}, sigs[:2]...)...); code == 0 || !strings.Contains(errs, "too few shares") {
		t.Fatalf("two shares: %d %q", code, errs)
	}
	cs := filepath.Join(dir, "consent.sig")
	must(t, append([]string{"consent", "combine", "--group", group, "--out", cs}, sigs...)...)
	settle(t, homes)
	if out = must(t, append([]string{"consent", "verify", "--group", group, "--action", action, cs}, at(3)...)...); !strings.Contains(out, "valid consent") || !strings.Contains(out, "committee") {
		t.Fatalf("verify: %q", out)
	}
	if _, errs, code := run(t, "consent", "verify", "--group", group, "--action", doc, cs, "--chain-id", "trialchain-local"); code != 1 || !strings.Contains(errs, "another action") {
		t.Fatalf("verify for another action: %d %q", code, errs)
	}
	docB, _ := os.ReadFile(doc)
	csB, _ := os.ReadFile(cs)
	amend, _ := json.Marshal(map[string]string{"doc": base64.StdEncoding.EncodeToString(docB), "consent": base64.StdEncoding.EncodeToString(csB)})
	amendFile := filepath.Join(dir, "amend.json")
	os.WriteFile(amendFile, amend, 0o644)
	if out = must(t, args([]string{"contract", "call", dep.Address, "amend", "@" + amendFile, "--from", "sponsor", "--wait"}, kr, at(0))...); !strings.Contains(out, "consent.used") {
		t.Fatalf("amend with consent: %q", out)
	}
	if out, errs, code := run(t, args([]string{"contract", "call", dep.Address, "amend", "@" + amendFile, "--from", "sponsor", "--wait"}, kr, at(0))...); code != 1 || !strings.Contains(out+errs, "consent already used") {
		t.Fatalf("replayed consent: %d %q %q", code, out, errs)
	}
}
