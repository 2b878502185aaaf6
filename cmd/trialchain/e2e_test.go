package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/store"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
)

// binPath is the trialchain binary built once for the process tests.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trialchain-bin-")
	if err != nil {
		panic(err)
	}
	binPath = filepath.Join(dir, "trialchain")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build trialchain: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run executes the binary and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// startNode runs `trialchain start --home` as a child process; the test
// cleanup kills it if still running.
func startNode(t *testing.T, home string) *exec.Cmd {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p := exec.Command(binPath, "start", "--home", home)
	p.Stdout, p.Stderr = logf, logf
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	t.Cleanup(func() {
		if p.ProcessState == nil {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	})
	return p
}

// TestProcessNetwork is the newcomer's flow with real processes: testnet,
// start ×4, anchor, anchor verify on another node; then kill -9 of one node
// under load, whose store must hold only whole blocks, and which catches up
// after a restart; then SIGTERM stops every node cleanly.
func TestProcessNetwork(t *testing.T) {
	dir := t.TempDir()
	net := filepath.Join(dir, "net")
	if out, errs, code := run(t, "testnet", "--validators", "4", "--out", net, "--base-port", "0"); code != 0 {
		t.Fatalf("testnet: %d %s %s", code, out, errs)
	}
	procs := make([]*exec.Cmd, 4)
	urls := make([]string, 4)
	for i := range procs {
		home := filepath.Join(net, fmt.Sprintf("node%d", i))
		procs[i] = startNode(t, home)
		addr, err := node.APIAddr(home)
		if err != nil {
			t.Fatal(err)
		}
		urls[i] = "http://" + addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := waitHealthy(ctx, urls, 30*time.Second); err != nil {
		t.Fatal(err)
	}

	doc := filepath.Join(dir, "protocol.txt")
	if err := os.WriteFile(doc, []byte("protocol v1: primary outcome = overall survival at 24 months\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	keyring := filepath.Join(net, "keys")
	out, errs, code := run(t, "anchor", doc, "--label", "protocol v1", "--from", "sponsor", "--keyring", keyring, "--home", filepath.Join(net, "node0"), "--wait")
	if code != 0 || !strings.Contains(out, "receipt: ok") {
		t.Fatalf("anchor: code %d\n%s%s", code, out, errs)
	}
	out, errs, code = run(t, "anchor", "verify", doc, "--home", filepath.Join(net, "node3"))
	if code != 0 || !strings.Contains(out, `label "protocol v1"`) || !strings.Contains(out, "by sponsor") {
		t.Fatalf("anchor verify: code %d\n%s%s", code, out, errs)
	}
	other := filepath.Join(dir, "other.txt")
	os.WriteFile(other, []byte("never anchored"), 0o644)
	if _, errs, code = run(t, "anchor", "verify", other, "--home", filepath.Join(net, "node1")); code != 1 || !strings.Contains(errs, "not anchored") {
		t.Fatalf("anchor verify of an unanchored file: code %d, stderr %q", code, errs)
	}
	if _, errs, code = run(t, "anchor", doc, "--label", "x", "--from", "sponsor", "--keyring", keyring, "--node", "http://127.0.0.1:1"); code != 1 || !strings.Contains(errs, "cannot reach node") {
		t.Fatalf("unreachable node: code %d, stderr %q", code, errs)
	}

	// An admin registers a new member, who anchors; revoked, it cannot.
	home0 := filepath.Join(net, "node0")
	if _, errs, code := run(t, "keys", "new", "alice", "--keyring", keyring); code != 0 {
		t.Fatal(errs)
	}
	if out, errs, code := run(t, "member", "add", "alice", "--org", "site-perth", "--role", "site", "--from", "admin", "--keyring", keyring, "--home", home0); code != 0 || !strings.Contains(out, "receipt: ok") {
		t.Fatalf("member add: %d %s %s", code, out, errs)
	}
	if _, errs, code := run(t, "member", "add", "alice", "--org", "x", "--role", "admin", "--from", "site", "--keyring", keyring, "--home", home0); code == 0 || !strings.Contains(errs, "forbidden") {
		t.Fatalf("member add by a site: %d %s", code, errs)
	}
	if out, _, code := run(t, "member", "show", "alice", "--keyring", keyring, "--home", home0); code != 0 || !strings.Contains(out, "site-perth, site) active") {
		t.Fatalf("member show: %d %s", code, out)
	}
	if _, errs, code := run(t, "anchor", other, "--label", "alice's", "--from", "alice", "--keyring", keyring, "--home", home0, "--wait"); code != 0 {
		t.Fatalf("anchor by alice: %s", errs)
	}
	if out, errs, code := run(t, "member", "revoke", "alice", "--from", "admin", "--keyring", keyring, "--home", home0); code != 0 {
		t.Fatalf("member revoke: %d %s %s", code, out, errs)
	}
	if _, errs, code := run(t, "anchor", doc, "--label", "again", "--from", "alice", "--keyring", keyring, "--home", home0, "--wait"); code == 0 || !strings.Contains(errs, "revoked") {
		t.Fatalf("anchor by a revoked member: %d %s", code, errs)
	}

	// Load in the background while node3 is killed with SIGKILL.
	k, err := keys.Ring{Dir: keyring}.Get("site")
	if err != nil {
		t.Fatal(err)
	}
	c0 := client.New(urls[0])
	st, err := c0.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	loadDone := make(chan int)
	stopLoad := make(chan struct{})
	go func() {
		n := 0
		defer func() { loadDone <- n }()
		for i := 0; ; i++ {
			select {
			case <-stopLoad:
				return
			default:
			}
			p := &block.AnchorPayload{Hash: sha256.Sum256([]byte(fmt.Sprint("load", i))), Label: "load"}
			if _, err := client.New(urls[i%3]).Submit(ctx, client.Sign(k.Private, st.ChainID, block.KindAnchor, p.Encode(), 100_000), i%5 == 0); err == nil {
				n++
			}
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	if err := procs[3].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = procs[3].Wait()
	time.Sleep(1500 * time.Millisecond) // the other three go on committing
	close(stopLoad)
	if n := <-loadDone; n < 10 {
		t.Fatalf("only %d load transactions accepted", n)
	}

	// The killed node's store holds whole blocks only: every block up to
	// its head, with every receipt, and nothing above.
	home3 := filepath.Join(net, "node3")
	s, err := store.Open(filepath.Join(home3, "data", "db"))
	if err != nil {
		t.Fatal(err)
	}
	head := s.Head()
	for h := uint64(1); h <= head.Height; h++ {
		c, err := s.Block(h)
		if err != nil {
			t.Fatalf("killed node: block %d of %d: %v", h, head.Height, err)
		}
		for _, raw := range c.Block.Txs {
			if _, err := s.Receipt(block.Sum(raw)); err != nil {
				t.Fatalf("killed node: block %d has a tx without receipt: %v", h, err)
			}
		}
	}
	if _, err := s.Block(head.Height + 1); err == nil {
		t.Fatalf("killed node: block %d above its head %d is stored", head.Height+1, head.Height)
	}
	s.Close()
	t.Logf("node3 killed at height %d", head.Height)

	// The others went on; restarted, node3 catches up hash for hash.
	st0, err := c0.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st0.Height <= head.Height {
		t.Fatalf("the three live nodes did not commit past %d while node3 was down", head.Height)
	}
	procs[3] = startNode(t, home3)
	if err := waitHealthy(ctx, urls[3:], 30*time.Second); err != nil {
		t.Fatal(err)
	}
	c3 := client.New(urls[3])
	deadline := time.Now().Add(60 * time.Second)
	for {
		s3, err := c3.Status(ctx)
		if err == nil && s3.Height >= st0.Height {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node3 did not catch up to %d: %+v %v", st0.Height, s3, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for h := uint64(1); h <= st0.Height; h++ {
		b0, err := c0.Block(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		b3, err := c3.Block(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if b0.Header.Hash != b3.Header.Hash || b0.Header.StateRoot != b3.Header.StateRoot {
			t.Fatalf("height %d differs after catch-up: %s vs %s", h, b0.Header.Hash, b3.Header.Hash)
		}
	}

	// JSON output for scripts.
	out, _, code = run(t, "status", "--home", home3, "--output", "json")
	var sv view.Status
	if code != 0 || json.Unmarshal([]byte(out), &sv) != nil || sv.ChainID != st.ChainID {
		t.Fatalf("status --output json: code %d %q", code, out)
	}

	// SIGTERM: every node stops cleanly and says so.
	for i, p := range procs {
		_ = p.Process.Signal(syscall.SIGTERM)
		if err := p.Wait(); err != nil {
			t.Fatalf("node%d exit after SIGTERM: %v", i, err)
		}
		log, _ := os.ReadFile(filepath.Join(net, fmt.Sprintf("node%d", i), "node.log"))
		if !bytes.Contains(log, []byte("node stopped")) {
			t.Fatalf("node%d did not log a clean stop", i)
		}
	}
}

func TestCLIErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"status"}, "no node given"},
		{[]string{"anchor", "x", "--label", "l"}, `required flag(s) "from" not set`},
		{[]string{"keys", "list"}, "no keyring given"},
		{[]string{"block", "get", "zero"}, "want a block height"},
		{[]string{"tx", "get", "abc", "--node", "http://127.0.0.1:1"}, "transaction hash"},
		{[]string{"start"}, "--home DIR is required"},
		{[]string{"status", "--node", "http://127.0.0.1:1", "--output", "yaml"}, "cannot reach node"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, errs, code := run(t, tc.args...)
			if code == 0 || !strings.Contains(errs, tc.want) {
				t.Fatalf("code %d, stderr %q, want %q", code, errs, tc.want)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	ring := t.TempDir()
	out, errs, code := run(t, "keys", "new", "alice", "--keyring", ring, "--output", "json")
	var kv keyView
	if code != 0 || json.Unmarshal([]byte(out), &kv) != nil || len(kv.Public) != 64 {
		t.Fatalf("keys new: %d %q %q", code, out, errs)
	}
	if _, errs, code = run(t, "keys", "new", "alice", "--keyring", ring); code == 0 || !strings.Contains(errs, "exists") {
		t.Fatalf("keys new twice: %d %q", code, errs)
	}
	if out, _, _ = run(t, "keys", "show", "alice", "--keyring", ring); !strings.Contains(out, kv.Public) {
		t.Fatalf("keys show: %q", out)
	}
	if out, _, _ = run(t, "keys", "list", "--keyring", ring); !strings.Contains(out, "alice") {
		t.Fatalf("keys list: %q", out)
	}
}

// TestEncryptedKeysCLI: keys new --encrypt, then the passphrase from a
// file, the environment, or nowhere (no terminal: a clear refusal).
func TestEncryptedKeysCLI(t *testing.T) {
	ring, tmp := t.TempDir(), t.TempDir()
	pw, bad := filepath.Join(tmp, "pw"), filepath.Join(tmp, "bad")
	os.WriteFile(pw, []byte("s3cret pass\n"), 0o600)
	os.WriteFile(bad, []byte("guess\n"), 0o600)
	t.Setenv("TRIALCHAIN_PASSPHRASE", "")
	os.Unsetenv("TRIALCHAIN_PASSPHRASE")
	out, errs, code := run(t, "keys", "new", "bob", "--encrypt", "--passphrase-file", pw, "--keyring", ring, "--output", "json")
	var kv keyView
	if code != 0 || json.Unmarshal([]byte(out), &kv) != nil || len(kv.Public) != 64 {
		t.Fatalf("keys new --encrypt: %d %q %q", code, out, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(ring, "bob.key")); !strings.Contains(string(b), `"encrypted"`) || strings.Contains(string(b), "private_key") {
		t.Fatalf("key file not encrypted: %s", b)
	}
	for _, c := range []struct {
		name string
		env  []string
		args []string
		want string // in stdout if ok, else in stderr
		ok   bool
	}{
		{"passphrase file", nil, []string{"--passphrase-file", pw}, kv.Public, true},
		{"environment", []string{"TRIALCHAIN_PASSPHRASE=s3cret pass"}, nil, kv.Public, true},
		{"environment file", []string{"TRIALCHAIN_PASSPHRASE_FILE=" + pw}, nil, kv.Public, true},
		{"wrong passphrase", nil, []string{"--passphrase-file", bad}, "wrong passphrase", false},
		{"none and no terminal", nil, nil, "a passphrase is needed", false},
	} {
		cmd := exec.Command(binPath, append([]string{"keys", "show", "bob", "--keyring", ring}, c.args...)...)
		cmd.Env = append(os.Environ(), c.env...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		if (err == nil) != c.ok || !strings.Contains(map[bool]string{true: o.String(), false: e.String()}[c.ok], c.want) {
			t.Errorf("%s: %v\nstdout %q\nstderr %q", c.name, err, o.String(), e.String())
		}
	}
	if out, _, code = run(t, "keys", "list", "--keyring", ring); code != 0 || !strings.Contains(out, kv.Public) {
		t.Fatalf("keys list needs no passphrase: %d %q", code, out)
	}
}

// buildWasm compiles a contract package to a .wasm file.
func buildWasm(pkgDir, out string) ([]byte, error) {
	cmd := exec.Command("go", "build", "-trimpath", "-buildmode=c-shared", "-o", out, ".")
	cmd.Dir = pkgDir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	return cmd.CombinedOutput()
}
