package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/proof/bundle"
	"github.com/trialchain/trialchain/chain/witness"
	"github.com/trialchain/trialchain/sdk/client"
)

// startWitness runs `trialchain witness serve` as a child process and
// returns its URL; stop sends SIGTERM and returns its exit code and stderr.
func startWitness(t *testing.T, home, gen string, extra ...string) (url string, stop func() (int, string)) {
	t.Helper()
	p := exec.Command(binPath, append([]string{"witness", "serve", "--home", home, "--genesis", gen, "--listen", "127.0.0.1:0"}, extra...)...)
	stdout, err := p.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errf := filepath.Join(t.TempDir(), "witness.err")
	ef, _ := os.Create(errf)
	p.Stderr = ef
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	ef.Close()
	t.Cleanup(func() {
		if p.ProcessState == nil {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b, _ := os.ReadFile(errf)
		t.Fatalf("witness serve: %v: %s", err, b)
	}
	m := regexp.MustCompile(`on (http://\S+) `).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("witness serve printed %q", line)
	}
	return m[1], func() (int, string) {
		_ = p.Process.Signal(syscall.SIGTERM)
		_ = p.Wait()
		b, _ := os.ReadFile(errf)
		return p.ProcessState.ExitCode(), string(b)
	}
}

// TestWitnessProcess is issue 11 item 5 with real processes: a witness
// cosigns an exported bundle's checkpoint; `verify --witness` requires it;
// a forked checkpoint of the same height, certified by the validators'
// keys, is refused by the witness, and the bundle that carries it (which
// plain verification accepts: its records are all there) fails with
// --witness. Then the witness follows the chain by itself, stops cleanly on
// SIGTERM, and refuses to start from a truncated or rolled-back state.
func TestWitnessProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node network")
	}
	net, homes := procNetwork(t)
	dir := t.TempDir()
	gen, keyring := filepath.Join(net, "genesis.json"), filepath.Join(net, "keys")
	wh := filepath.Join(dir, "witness")
	if out := must(t, "witness", "init", "--home", wh, "--name", "regulator"); !strings.Contains(out, "created witness regulator") {
		t.Fatalf("init: %s", out)
	}
	if st, err := os.Stat(filepath.Join(wh, witness.KeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("witness key mode: %v", err)
	}
	pub := filepath.Join(wh, witness.PubFile)
	url, stop := startWitness(t, wh, gen)

	doc := filepath.Join(dir, "sap.txt")
	os.WriteFile(doc, []byte("T1 statistical analysis plan v1\n"), 0o644)
	must(t, "anchor", doc, "--label", "T1 SAP", "--from", "sponsor", "--keyring", keyring, "--home", homes[0], "--wait")
	bfile := filepath.Join(dir, "a.bundle.json")
	out, errs, code := run(t, "export", "--all", "--out", bfile, "--home", homes[0], "--seal", "sponsor", "--keyring", keyring, "--genesis", gen, "--witness", url)
	if code != 0 || !strings.Contains(errs, "witnessed by regulator") {
		t.Fatalf("export --witness: %d %s %s", code, out, errs)
	}
	out, errs, code = run(t, "verify", bfile, "--genesis", gen, "--witness", pub)
	if code != 0 || !strings.Contains(out, "VERIFIED") || !strings.Contains(out, "1 of 1 required cosigned") || !strings.Contains(out, "regulator (key ") {
		t.Fatalf("verify --witness: %d %s %s", code, out, errs)
	}

	// Party B is shown another block at the same height: same records,
	// another state root, certified by three validators' keys.
	data, _ := os.ReadFile(bfile)
	b, err := bundle.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	cp := *b.Latest()
	cp.Header.StateRoot = block.Sum([]byte("a state only party B is shown"))
	cp.Cert.Sigs = nil
	for i := 0; i < 3; i++ {
		k, err := keys.Load(filepath.Join(net, fmt.Sprintf("node%d", i), "node.key"))
		if err != nil {
			t.Fatal(err)
		}
		v := block.Vote{ChainID: cp.Header.ChainID, Height: cp.Height(), BlockHash: cp.Hash(), MetadataHash: block.Sum(cp.Metadata), VerSeq: cp.VerSeq}
		msg := v.Encode()
		cp.Cert.Sigs = append(cp.Cert.Sigs, block.CommitSig{Validator: uint64(i + 1), Msg: msg, Sig: ed25519.Sign(k.Private, msg)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	wc := client.NewWitness(url)
	last, err := wc.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = wc.Add(ctx, &witness.Request{OldSize: last.LogSize, Checkpoint: &cp})
	if err == nil || !strings.Contains(err.Error(), "409") || !strings.Contains(err.Error(), "two certified blocks") {
		t.Fatalf("the witness on the forked checkpoint: %v", err)
	}
	b.Checkpoints[len(b.Checkpoints)-1] = &cp
	fork := filepath.Join(dir, "b.bundle.json")
	os.WriteFile(fork, b.Encode(), 0o644)
	if out, errs, code := run(t, "verify", fork, "--genesis", gen); code != 0 || !strings.Contains(out, "1 cosignatures in the bundle, not checked") {
		t.Fatalf("the forked bundle should pass plain verification (only witnesses catch a split view): %d %s %s", code, out, errs)
	}
	out, errs, code = run(t, "verify", fork, "--genesis", gen, "--witness", pub)
	if code != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(errs, "cosignature is for another checkpoint") || !strings.Contains(errs, "regulator") {
		t.Fatalf("verify --witness of the forked bundle: %d\n%s\n%s", code, out, errs)
	}
	b.Witnesses = nil
	os.WriteFile(fork, b.Encode(), 0o644)
	if out, errs, code := run(t, "verify", fork, "--genesis", gen, "--witness", pub); code != 1 || !strings.Contains(errs, "no cosignature in the bundle") {
		t.Fatalf("verify --witness of an unwitnessed bundle: %d\n%s\n%s", code, out, errs)
	}
	if code, errs := stop(); code != 0 || !strings.Contains(errs, "witness stopped") || !strings.Contains(errs, "FORK refused") {
		t.Fatalf("SIGTERM: exit %d, %s", code, errs)
	}

	// The witness follows the chain by itself.
	early, _ := os.ReadFile(filepath.Join(wh, witness.StateFile))
	_, stop = startWitness(t, wh, gen, "--follow", "200ms")
	show := func() witnessView {
		out := must(t, "witness", "show", "--home", wh, "--output", "json")
		var v witnessView
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("witness show: %v: %s", err, out)
		}
		return v
	}
	start := show().Cosigned
	node0 := client.New(url0(t, homes[0]))
	for i := 0; i < 3; i++ {
		must(t, "anchor", doc, "--label", fmt.Sprint("T1 SAP copy ", i), "--from", "sponsor", "--keyring", keyring, "--home", homes[i%4], "--wait")
		settle(t, homes)
		st, err := node0.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for v := show(); v.Latest == nil || v.Latest.Height < st.Height; v = show() {
			if time.Now().After(deadline) {
				_, errs := stop()
				t.Fatalf("the witness did not follow the chain to block %d: %+v\n%s", st.Height, v.Latest, errs)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// show reads the state the running witness writes: its count may be
	// read a poll behind its latest block, so wait for it (bounded).
	deadline := time.Now().Add(20 * time.Second)
	for v := show(); v.Cosigned < start+3; v = show() {
		if time.Now().After(deadline) {
			t.Fatalf("followed 3 blocks but cosigned %d → %d", start, v.Cosigned)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, errs := stop(); code != 0 {
		t.Fatalf("SIGTERM: exit %d, %s", code, errs)
	}

	// Its state, damaged: refused at start, each with its own words.
	good, _ := os.ReadFile(filepath.Join(wh, witness.StateFile))
	for _, tc := range []struct {
		name, state, says string
	}{
		{"truncated", string(good[:len(good)/2]), "state file is truncated or corrupt"},
		{"rolled back", string(early), "state file was rolled back"},
	} {
		os.WriteFile(filepath.Join(wh, witness.StateFile), []byte(tc.state), 0o600)
		for _, args := range [][]string{{"witness", "show", "--home", wh}, {"witness", "serve", "--home", wh, "--genesis", gen, "--listen", "127.0.0.1:0"}} {
			if out, errs, code := run(t, args...); code != 1 || !strings.Contains(errs, tc.says) {
				t.Fatalf("%s state, %s: %d %s %s", tc.name, args[1], code, out, errs)
			}
		}
		if b, _ := os.ReadFile(filepath.Join(wh, witness.StateFile)); string(b) != tc.state {
			t.Fatalf("%s state: the refusal rewrote the state file", tc.name)
		}
	}
}

func url0(t *testing.T, home string) string {
	t.Helper()
	addr, err := node.APIAddr(home)
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}
