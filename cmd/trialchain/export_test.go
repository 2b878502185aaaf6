package main

import (
	"bytes"
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
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials/audit"
)

// TestExportVerifyProcess is the regulator's flow with real processes:
// anchor trial documents, save a checkpoint, export the trial (sealing the
// log first), verify the bundle offline (verify takes no node: only the
// genesis file), see a one-byte
// change fail naming the record, write the audit report in every format;
// then, with the network back, prove the log extends the saved checkpoint
// and refuse a forged (forked) checkpoint certified by the validators' keys.
func TestExportVerifyProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node network")
	}
	dir := t.TempDir()
	net := filepath.Join(dir, "net")
	if out, errs, code := run(t, "testnet", "--validators", "4", "--out", net, "--base-port", "0"); code != 0 {
		t.Fatalf("testnet: %d %s %s", code, out, errs)
	}
	start := func() []string {
		urls := make([]string, 4)
		for i := range urls {
			home := filepath.Join(net, fmt.Sprintf("node%d", i))
			p := startNode(t, home)
			t.Cleanup(func() { _ = p.Process.Signal(syscall.SIGTERM); _ = p.Wait() })
			addr, err := node.APIAddr(home)
			if err != nil {
				t.Fatal(err)
			}
			urls[i] = "http://" + addr
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := waitHealthy(ctx, urls, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		return urls
	}
	urls := start()
	home0 := filepath.Join(net, "node0")
	keyring := filepath.Join(net, "keys")
	gen := filepath.Join(net, "genesis.json")
	docs := filepath.Join(dir, "docs")
	os.MkdirAll(docs, 0o755)
	for i, text := range []string{"T1 protocol v1\n", "T1 statistical analysis plan v1\n", "another trial's document\n"} {
		p := filepath.Join(docs, fmt.Sprintf("doc%d.txt", i))
		os.WriteFile(p, []byte(text), 0o644)
		label, trial := "T1 document "+fmt.Sprint(i), "T1"
		if i == 2 {
			label, trial = "T2 document", "T2"
		}
		if out, errs, code := run(t, "anchor", p, "--label", label, "--trial", trial, "--from", "sponsor", "--keyring", keyring, "--home", home0, "--wait"); code != 0 {
			t.Fatalf("anchor: %d %s %s", code, out, errs)
		}
	}
	cp1 := filepath.Join(dir, "cp1.json")
	if out, errs, code := run(t, "checkpoint", "--out", cp1, "--home", home0); code != 0 || !strings.Contains(out, "wrote") {
		t.Fatalf("checkpoint: %d %s %s", code, out, errs)
	}
	bfile := filepath.Join(dir, "t1.bundle.json")
	// --progress: progress lines on stderr (not a terminal here), stdout
	// still exactly the JSON a script parses.
	out, errs, code := run(t, "export", "--trial", "T1", "--out", bfile, "--home", home0, "--seal", "sponsor", "--keyring", keyring, "--payload", docs, "--output", "json", "--progress")
	var sum exportSummary
	if code != 0 || json.Unmarshal([]byte(out), &sum) != nil || !sum.Verified || sum.Records != 2 || sum.Payloads != 2 {
		t.Fatalf("export: %d %s %s", code, out, errs)
	}
	if !regexp.MustCompile(`(?m)^export: scan: \d+/\d+ blocks \(\d+%\)… \d+ s$`).MatchString(errs) || !regexp.MustCompile(`(?m)^export: proofs: \d+ records, done in \d+ s$`).MatchString(errs) || strings.Contains(out, "export:") {
		t.Fatalf("export --progress: stderr %q, stdout %q", errs, out)
	}

	// The node's copies of the documents, fetched with signed reads: the
	// sponsor's organisation and a regulator may read doc1, a site of
	// another organisation may not.
	if out, errs, code := run(t, "payload", "put", filepath.Join(docs, "doc1.txt"), "--from", "sponsor", "--keyring", keyring, "--home", home0); code != 0 || !strings.Contains(out, "held by 4 of 4") {
		t.Fatalf("payload put: %d %s %s", code, out, errs)
	}
	for _, tc := range []struct {
		as   string
		docs int
		says string
	}{{"regulator", 1, "1 included"}, {"site", 0, "0 included, 2 reads refused to this member"}} {
		f := filepath.Join(dir, tc.as+".bundle.json")
		out, errs, code := run(t, "export", "--trial", "T1", "--out", f, "--home", filepath.Join(net, "node2"), "--seal", "sponsor", "--keyring", keyring, "--payloads-as", tc.as, "--output", "json")
		var s exportSummary
		if code != 0 || json.Unmarshal([]byte(out), &s) != nil || !s.Verified || s.Payloads != tc.docs || !strings.Contains(errs, tc.says) {
			t.Fatalf("export --payloads-as %s: %d %s %s", tc.as, code, out, errs)
		}
	}

	// Offline: verify with the genesis file only. Progress only when asked
	// (stderr is not a terminal), and never on stdout.
	if out, errs, code := run(t, "verify", bfile, "--genesis", gen); code != 0 || !strings.Contains(out, "VERIFIED") || !strings.Contains(out, "2 re-hashed") || strings.Contains(errs, "verify:") {
		t.Fatalf("verify: %d %s %s", code, out, errs)
	}
	if out, errs, code := run(t, "verify", bfile, "--genesis", gen, "--progress", "-o", "json"); code != 0 || !json.Valid([]byte(out)) || strings.Contains(out, "verify:") ||
		!strings.Contains(errs, "verify: signatures and proofs: 2/2 records (100%)") || !strings.Contains(errs, "verify: records: 2 records, done in") {
		t.Fatalf("verify --progress: %d stdout %q stderr %q", code, out, errs)
	}
	good, _ := os.ReadFile(bfile)
	// The version byte (1, or 2 with a valid-until bound) of the first
	// record's transaction, set to 0.
	bad := append([]byte(nil), good...)
	if i := bytes.Index(bad, []byte(`"tx": "0`)); i >= 0 {
		bad[i+len(`"tx": "0`)] = '0'
	}
	badFile := filepath.Join(dir, "tampered.json")
	os.WriteFile(badFile, bad, 0o644)
	if out, errs, code := run(t, "verify", badFile, "--genesis", gen); code != 1 || !strings.Contains(errs, "record 1 of 2 (") || !strings.Contains(errs, "the transaction was changed") || !strings.Contains(errs, "record 0 (tx") || !strings.Contains(out, "FAILED") {
		t.Fatalf("verify of a tampered bundle: %d\n%s\n%s", code, out, errs)
	}
	for _, f := range []string{"html", "csv", "json"} {
		rep := filepath.Join(dir, "audit."+f)
		if out, errs, code := run(t, "audit", "--bundle", bfile, "--genesis", gen, "--format", f, "--out", rep); code != 0 {
			t.Fatalf("audit %s: %d %s %s", f, code, out, errs)
		}
		b, _ := os.ReadFile(rep)
		if !strings.Contains(string(b), "T1 document 1") {
			t.Fatalf("audit %s lacks the anchored document:\n%s", f, b)
		}
	}
	if out, errs, code := run(t, "audit", "--bundle", badFile, "--genesis", gen, "--format", "html", "--out", filepath.Join(dir, "bad.html")); code != 1 || !strings.Contains(errs, "record 1 of 2 (") {
		t.Fatalf("audit of a tampered bundle: %d %s %s", code, out, errs)
	}

	// The demo's one-call version of the above.
	g, err := genesis.Load(gen)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := DemoProve(context.Background(), client.New(urls[1]), g, "T1", dir, nil)
	// The seals of the exports above are not T1's records: still its two documents.
	if err != nil || steps.Records != 2 || steps.Complete == nil || steps.Complete.Records != 2 || !strings.Contains(steps.TamperError, "record 1 (") ||
		!strings.Contains(steps.RemoveError, "of trial:T1, a document anchor at block") {
		t.Fatalf("DemoProve: %v %+v", err, steps)
	}
	// A bundle of T1 is not evidence for T2.
	if out, errs, code := run(t, "verify", bfile, "--genesis", gen, "--trial", "T2"); code != 1 || !strings.Contains(errs, "not for trial T2") {
		t.Fatalf("verify --trial T2 of a T1 bundle: %d %s %s", code, out, errs)
	}
	if out, errs, code := run(t, "audit", "--bundle", bfile, "--genesis", gen, "--trial", "T2", "--out", filepath.Join(dir, "t2.html")); code != 1 || !strings.Contains(errs, "not for trial T2") {
		t.Fatalf("audit --trial T2 of a T1 bundle: %d %s %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "t2.html")); err == nil {
		t.Fatal("audit wrote a report for the wrong trial")
	}

	// Key rotation: the sponsor's organisation rotates its key; records
	// signed before verify under the old key, the old key is refused after,
	// the new key signs on with the same role.
	if out, errs, code := run(t, "keys", "new", "sponsor-2027", "--keyring", keyring); code != 0 {
		t.Fatalf("keys new: %d %s %s", code, out, errs)
	}
	if out, errs, code := run(t, "member", "rotate", "sponsor", "sponsor-2027", "--keyring", keyring, "--home", home0); code != 0 || !strings.Contains(out, "rotated") {
		t.Fatalf("member rotate: %d %s %s", code, out, errs)
	}
	late := filepath.Join(docs, "late.txt")
	os.WriteFile(late, []byte("T1 amendment after the rotation\n"), 0o644)
	if out, errs, code := run(t, "anchor", late, "--label", "T1 late", "--trial", "T1", "--from", "sponsor", "--keyring", keyring, "--home", home0, "--wait"); code == 0 {
		t.Fatalf("the old key anchored after its rotation: %s %s", out, errs)
	}
	if out, errs, code := run(t, "anchor", late, "--label", "T1 late", "--trial", "T1", "--from", "sponsor-2027", "--keyring", keyring, "--home", home0, "--wait"); code != 0 {
		t.Fatalf("the new key: %d %s %s", code, out, errs)
	}
	rotated := filepath.Join(dir, "rotated.bundle.json")
	if out, errs, code := run(t, "export", "--trial", "T1", "--out", rotated, "--home", home0, "--seal", "sponsor-2027", "--keyring", keyring); code != 0 {
		t.Fatalf("export after rotation: %d %s %s", code, out, errs)
	}
	if out, errs, code := run(t, "verify", rotated, "--genesis", gen, "--trial", "T1"); code != 0 || !strings.Contains(out, "complete for trial T1") || !strings.Contains(out, "3 records of its certified record set") {
		t.Fatalf("verify after rotation: %d %s %s", code, out, errs)
	}

	// From a node, audit seals first by default (with the keyring's
	// regulator): nothing is left out, and every row has its block time
	// (proven by the header chain) and its signer's organisation and role.
	onlineAudit := func(args ...string) audit.Report {
		t.Helper()
		f := filepath.Join(dir, "online.json")
		out, errs, code := run(t, append([]string{"audit", "--trial", "T1", "--home", home0, "--keyring", keyring, "--format", "json", "--out", f}, args...)...)
		var r audit.Report
		data, _ := os.ReadFile(f)
		if code != 0 || json.Unmarshal(data, &r) != nil {
			t.Fatalf("audit %v: %d %s %s", args, code, out, errs)
		}
		for _, e := range r.Trail {
			if e.Time == "" || e.Org == "" || e.Role == "" {
				t.Fatalf("audit %v: row without time, organisation or role: %+v", args, e)
			}
		}
		if strings.Contains(out, "VERIFIED: all") || !strings.Contains(r.Verification.Summary, "VERIFIED COMPLETE: all 3 records of trial T1") {
			t.Fatalf("audit %v: banner %q", args, r.Verification.Summary)
		}
		return r
	}
	if r := onlineAudit(); !r.Verification.Proof.Sealed || r.Verification.Proof.LeftOut != 0 || r.Verification.Proof.Of != 4 {
		t.Fatalf("sealed audit: %+v", r.Verification.Proof)
	}
	if out, errs, code := run(t, "anchor", filepath.Join(docs, "doc0.txt"), "--label", "T1 document 0 again", "--trial", "T1", "--from", "sponsor-2027", "--keyring", keyring, "--home", home0, "--wait"); code != 0 {
		t.Fatalf("anchor: %d %s %s", code, out, errs)
	}
	if r := onlineAudit("--no-seal"); r.Verification.Proof.Sealed || r.Verification.Proof.LeftOut != 1 || !strings.Contains(r.Verification.Summary, "1 record(s) of the trial committed in block") {
		t.Fatalf("unsealed audit: %+v", r.Verification.Proof)
	}

	// The log extends the saved checkpoint; a forged one does not.
	if out, errs, code := run(t, "verify", "consistency", cp1, "--home", home0); code != 0 || !strings.Contains(out, "CONSISTENT") {
		t.Fatalf("verify consistency: %d %s %s", code, out, errs)
	}
	raw, _ := os.ReadFile(cp1)
	cp, err := proof.DecodeCheckpoint(raw)
	if err != nil {
		t.Fatal(err)
	}
	cp.Header.LogRoot = block.Sum([]byte("rewritten history"))
	var sigs []block.CommitSig
	for i := 0; i < 3; i++ {
		k, err := keys.Load(filepath.Join(net, fmt.Sprintf("node%d", i), "node.key"))
		if err != nil {
			t.Fatal(err)
		}
		v := block.Vote{ChainID: cp.Header.ChainID, Height: cp.Height(), BlockHash: cp.Hash(), MetadataHash: block.Sum(cp.Metadata), VerSeq: cp.VerSeq}
		msg := v.Encode()
		sigs = append(sigs, block.CommitSig{Validator: uint64(i + 1), Msg: msg, Sig: ed25519.Sign(k.Private, msg)})
	}
	cp.Cert.Sigs = sigs
	forged := filepath.Join(dir, "forged.json")
	os.WriteFile(forged, cp.Encode(), 0o644)
	if out, errs, code := run(t, "verify", "consistency", forged, "--home", home0); code != 1 || !strings.Contains(errs, "FORK") {
		t.Fatalf("verify consistency of a forged checkpoint: %d %s %s", code, out, errs)
	}
}

// TestTestnetClientConfig: after testnet, commands need neither --home
// nor --keyring: the client.toml testnet writes is found in its directory
// or through $TRIALCHAIN_CLIENT_CONFIG, which testnet's output names.
func TestTestnetClientConfig(t *testing.T) {
	dir := t.TempDir()
	net := filepath.Join(dir, "net")
	out, errs, code := run(t, "testnet", "--validators", "4", "--out", net, "--base-port", "0")
	cc := filepath.Join(net, node.ClientConfigFile)
	if code != 0 || !strings.Contains(out, "export TRIALCHAIN_CLIENT_CONFIG="+cc) {
		t.Fatalf("testnet: %d %s %s", code, out, errs)
	}
	keysList := func(wd string, env ...string) (string, string, error) {
		c := exec.Command(binPath, "keys", "list")
		c.Dir = wd
		c.Env = append(os.Environ(), env...)
		var o, e strings.Builder
		c.Stdout, c.Stderr = &o, &e
		err := c.Run()
		return o.String(), e.String(), err
	}
	for _, tc := range []struct {
		name string
		wd   string
		env  []string
	}{
		{"in the testnet's directory", net, nil},
		{"anywhere, with the variable", dir, []string{"TRIALCHAIN_CLIENT_CONFIG=" + cc}},
	} {
		if o, e, err := keysList(tc.wd, tc.env...); err != nil || !strings.Contains(o, "sponsor") || !strings.Contains(o, "regulator") {
			t.Errorf("%s: keys list: %v %s %s", tc.name, err, o, e)
		}
	}
	if _, e, err := keysList(dir); err == nil || !strings.Contains(e, "no keyring given") {
		t.Errorf("without a client config: %v %s", err, e)
	}
}
