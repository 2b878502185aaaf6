package main

import (
	"bytes"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo runs `trialchain demo` as a user does after `make contracts`:
// 4 validator processes, the three example contracts, every step of the
// trial (each refusal included), and the regulator's offline verification
// with the network stopped. It checks every step reached its conclusion.
func TestDemo(t *testing.T) {
	wasm := t.TempDir()
	for _, n := range []string{"trial-protocol", "genome-access", "surgical-records"} {
		if out, err := buildWasm("../../contracts-examples/"+n, filepath.Join(wasm, n+".wasm")); err != nil {
			t.Fatalf("build %s: %v\n%s", n, err, out)
		}
	}
	outDir, netDir := t.TempDir(), t.TempDir()
	out, errs, code := run(t, "demo", "--contracts", wasm, "--out", outDir, "--dir", netDir, "--fixtures", "../../../shared/fixtures")
	if code != 0 {
		t.Fatalf("demo exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		"without consent: REFUSED", "with consent: ACCEPTED",
		"a researcher tries to enrol: REFUSED",
		"enrolment before the protocol is active: REFUSED", "a site not allowed by the protocol tries to enrol: REFUSED",
		"a subject who is not enrolled: REFUSED", "a visit not in the protocol: REFUSED", "a form not in the protocol: REFUSED",
		"a required field missing (HR): REFUSED", "data from a site not allowed: REFUSED", "results before database lock: REFUSED",
		"AES-GCM-encrypted under the subject's own key",
		"sent anyway: REFUSED by the contract", "above the maximum 250",
		"LATE:",
		"DENIED by rule NCU", "APPROVED by the data-access committee", "next access: REFUSED",
		"used as final before co-signature: REFUSED", "status final",
		"WARNING: the primary outcome was switched",
		"the sponsor tries to read it: REFUSED", "giving it back is REFUSED", "VERIFIED: the redaction record is in the state",
		"all 4 validators stopped", "VERIFIED", "FAILED", "verification FAILED: what was changed, in words",
		// The regulator's checks: complete, witnessed, a removed record named.
		"proven      complete for trial NCT05503693 as of block", "witnesses   1 of 1 required cosigned this checkpoint",
		"an adverse event report at block", "is missing from the bundle: the file leaves out a record of the trial",
		// Issue 12: the refused REJECT consent and the sponsor's lone upgrade, the registry.
		`signing "REJECT amendment: we object": REFUSED`, "sponsor upgrades trial-protocol alone: REFUSED",
		"the admin pinned the 3 contracts in the chain's registry",
		"documents   2 re-hashed against their records", "redactions  1 of documents the records commit to", "the redacted narrative is left out",
		// Issue 17: one query, one export.
		"database lock while query q-000000001 is open: REFUSED", "answers query q-000000001", "query q-000000001 closed by the sponsor",
		"SDTM Dataset-JSON 1.1 written to", "re-imported: ", "forms identical",
		"Summary",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if n := strings.Count(out, "  ✓ "); n < 15 {
		t.Errorf("summary has %d checked outcomes, want 15", n)
	}
	for _, f := range []string{"genesis.json", "audit.html"} {
		m, _ := filepath.Glob(filepath.Join(outDir, "*"+f))
		if len(m) == 0 {
			t.Errorf("demo wrote no %s in %s", f, outDir)
		}
	}
	scanForPHI(t, netDir, outDir)
	// The control: the scan does read what the chain stores in the clear
	// (a query's text, on chain by design), so a miss above means absent.
	if !filesContain(t, netDir, "118 in the source document") {
		t.Error("the PHI scan cannot see the chain's own plain data: it proves nothing")
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", out)
	}
}

// phiNeedles are what the demo's inputs say about people: the FHIR
// Procedure fixture's performer, date of service, note and device, and
// the SAE narrative's patient name and record number.
var phiNeedles = []string{"Dr Cecil Surgeon", "2015-04-05", "05/04/2015", "Routine Appendectomy", "Appendix was inflamed", "retro-caecal",
	"Device/example-pacemaker", "Patient/example", "Jane Roe", "0042317", "wound healing well"}

// scanForPHI reads every file the demo network stored (blocks, state and
// WAL in each node's Pebble store, logs, payload stores, the site's record
// store, exports, bundles) and fails on any needle, in the clear or
// hex-encoded. The checked-in de-identification rule: these live only in
// encrypted payloads and the site's encrypted records.
func scanForPHI(t *testing.T, dirs ...string) {
	t.Helper()
	files, bytesRead := 0, 0
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			bytesRead += len(b)
			for _, n := range phiNeedles {
				for _, form := range []string{n, hex.EncodeToString([]byte(n))} {
					if i := bytes.Index(b, []byte(form)); i >= 0 {
						t.Errorf("PHI %q found in %s at byte %d", n, path, i)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 20 {
		t.Errorf("PHI scan read only %d files: the demo's stores were not where the scan looked", files)
	}
	t.Logf("PHI scan: %d files, %d bytes, %d needles", files, bytesRead, len(phiNeedles))
}

func filesContain(t *testing.T, dir, needle string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || found {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = bytes.Contains(b, []byte(needle))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
