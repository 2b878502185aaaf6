package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShareCLI is the README's record-sharing session on a 4-process
// network: record-sharing deployed and pinned, a patient and a second
// hospital registered, a FHIR R4 Consent granted, a record registered by
// commitment, a read without consent refused, a permitted read released
// with HPKE and opened by the reader, a read after revocation refused, the
// consent exported as FHIR, and the patient's record set listing both
// refusals with their reasons.
func TestShareCLI(t *testing.T) {
	wasm := filepath.Join(t.TempDir(), "record-sharing.wasm")
	if out, err := buildWasm("../../contracts-examples/record-sharing", wasm); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	net, homes := procNetwork(t)
	kr := []string{"--keyring", filepath.Join(net, "keys")}
	at := func(i int, args ...string) []string { return append(append(args, kr...), "--home", homes[i]) }
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fails := func(want string, args ...string) {
		t.Helper()
		out, errs, code := run(t, args...)
		if code != 1 || !strings.Contains(out+errs, want) {
			t.Fatalf("trialchain %s: exit %d, want 1 saying %q\n%s%s", strings.Join(args, " "), code, want, out, errs)
		}
	}

	for _, m := range [][3]string{{"patient", "patients", "subject"}, {"hospital-b", "hospital-b", "site"}} {
		must(t, append([]string{"keys", "new", m[0]}, kr...)...)
		must(t, at(0, "member", "add", m[0], "--org", m[1], "--role", m[2], "--from", "admin")...)
	}
	var d struct{ Address string }
	out := must(t, at(0, "contract", "deploy", wasm, "--label", "record-sharing", "--from", "sponsor", "--wait", "--output", "json")...)
	if err := json.Unmarshal([]byte(out), &d); err != nil || len(d.Address) != 64 {
		t.Fatalf("deploy: %v %s", err, out)
	}
	must(t, at(0, "contract", "pin", "record-sharing", d.Address, "--reason", "test build", "--from", "admin")...)
	settle(t, homes)

	consentJSON := file("consent.json", `{"resourceType":"Consent","id":"c-1","status":"active","patient":{"reference":"Patient/p-9"},
	  "provision":{"period":{"start":"2020-01-01"},"actor":[{"role":{"coding":[{"code":"PRCP"}]},"reference":{"reference":"Organization/hospital-b"}}],
	    "provision":[{"type":"permit","purpose":[{"code":"TREAT"}]}]}}`)
	summary := file("summary.json", `{"resourceType":"Composition","title":"Discharge summary"}`)
	must(t, at(1, "share", "record", "--id", "r-1", "--patient", "p-9", "--class", "notes", "--code", "summary", "--file", summary, "--from", "site")...)
	fails("no active consent", at(2, "share", "request", "r-1", "--purpose", "TREAT", "--from", "hospital-b")...)
	must(t, at(1, "share", "grant", "--fhir", consentJSON, "--from", "patient")...)
	if out := must(t, at(2, "share", "request", "r-1", "--purpose", "TREAT", "--from", "hospital-b")...); !strings.Contains(out, "Permitted: access acc-000000001") {
		t.Fatalf("request: %s", out)
	}
	fails("does not match the commitment", at(1, "share", "release", "acc-000000001", "--file", consentJSON, "--from", "site")...)
	must(t, at(1, "share", "release", "acc-000000001", "--file", summary, "--from", "site")...)
	got := filepath.Join(dir, "got.json")
	must(t, at(3, "share", "read", "acc-000000001", "--out", got, "--from", "hospital-b")...)
	if b, err := os.ReadFile(got); err != nil || string(b) != `{"resourceType":"Composition","title":"Discharge summary"}` {
		t.Fatalf("read wrote %q (%v)", b, err)
	}
	must(t, at(1, "share", "revoke", "c-1", "--patient", "p-9", "--reason", "treatment finished", "--from", "patient")...)
	fails("was revoked", at(2, "share", "read", "acc-000000001", "--out", got, "--from", "hospital-b")...)
	settle(t, homes)
	if out := must(t, at(3, "share", "export", "c-1", "--patient", "p-9")...); !strings.Contains(out, `"status": "inactive"`) || !strings.Contains(out, `"resourceType": "Consent"`) {
		t.Fatalf("export: %s", out)
	}
	out = must(t, at(3, "scope", "patient:p-9")...)
	for _, want := range []string{"(2 refused)", "request    by", "refused: no-consent:", "read       by", "refused: consent-revoked:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("scope output lacks %q:\n%s", want, out)
		}
	}
	if out := must(t, at(0, "share", "log", "p-9")...); strings.Count(out, "\n") != 6 {
		t.Fatalf("log: want 6 entries (record, grant, permit, release, read, revoke):\n%s", out)
	}
}
