package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

// TestRedactionCLI is the README's redaction flow as a user types it: an
// off-chain payload anchored and handed to every validator, read back by
// those entitled to it, redacted, then refused everywhere, with the
// redaction proved against a certified state root.
func TestRedactionCLI(t *testing.T) {
	net, homes := procNetwork(t)
	kr := []string{"--keyring", filepath.Join(net, "keys")}
	at := func(i int) []string { return []string{"--home", homes[i]} }
	cmd := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	dir := t.TempDir()
	phi := []byte(`{"form":"ae","narrative":"Mrs Jane Roe (MRN 0042317) fell at home"}` + "\n")
	file := filepath.Join(dir, "narrative.json")
	if err := os.WriteFile(file, phi, 0o600); err != nil {
		t.Fatal(err)
	}
	sha := block.Sum(phi).String()

	out := must(t, cmd([]string{"payload", "put", file, "--label", "AE narrative", "--from", "site"}, kr, at(0))...)
	if !strings.Contains(out, "held by 4 of 4 validators") {
		t.Fatalf("payload put: %s", out)
	}
	back := filepath.Join(dir, "back.json")
	must(t, cmd([]string{"payload", "get", sha, "--from", "regulator", "--out", back}, kr, at(2))...)
	if got, err := os.ReadFile(back); err != nil || string(got) != string(phi) {
		t.Fatalf("payload read back: %q %v", got, err)
	}
	if _, errs, code := run(t, cmd([]string{"payload", "get", sha, "--from", "sponsor"}, kr, at(1))...); code == 0 || !strings.Contains(errs, "another organisation") {
		t.Fatalf("sponsor of another organisation read the payload: exit %d %s", code, errs)
	}
	if _, errs, code := run(t, cmd([]string{"redact", sha, "--basis", "mistaken-phi", "--from", "site"}, kr, at(0))...); code == 0 || !strings.Contains(errs, "--reason") {
		t.Fatalf("redaction without a reason: exit %d %s", code, errs)
	}
	out = must(t, cmd([]string{"redact", sha, "--basis", "mistaken-phi", "--reason", "patient name and MRN in the narrative", "--from", "site", "--wait"}, kr, at(0))...)
	if !strings.Contains(out, "payload.redacted") {
		t.Fatalf("redact: %s", out)
	}
	settle(t, homes)
	for i := range homes {
		if _, errs, code := run(t, cmd([]string{"payload", "get", sha, "--from", "site"}, kr, at(i))...); code != 1 || !strings.Contains(errs, "redacted") {
			t.Fatalf("node %d after redaction: exit %d %s", i, code, errs)
		}
	}
	if _, errs, code := run(t, cmd([]string{"payload", "put", file, "--from", "site"}, kr, at(3))...); code != 1 || !strings.Contains(errs, "redacted") {
		t.Fatalf("payload given back after redaction: exit %d %s", code, errs)
	}
	// One more block certifies the state holding the redaction record.
	must(t, cmd([]string{"anchor", file, "--label", "x", "--from", "site", "--wait"}, kr, at(0))...)
	must(t, cmd([]string{"anchor", back, "--label", "y", "--from", "site", "--wait"}, kr, at(0))...)
	settle(t, homes)
	gen := []string{"--genesis", filepath.Join(net, "genesis.json")}
	out = must(t, cmd([]string{"state", "prove", "--redaction", sha}, gen, at(1))...)
	if !strings.Contains(out, "VERIFIED") || !strings.Contains(out, "PRESENT") {
		t.Fatalf("state prove: %s", out)
	}
	other := block.Sum([]byte("never redacted")).String()
	if out, _, code := run(t, cmd([]string{"state", "prove", "--redaction", other}, gen, at(2))...); code != 1 || !strings.Contains(out, "ABSENT") {
		t.Fatalf("state prove of an absent key: exit %d %s", code, out)
	}
}
