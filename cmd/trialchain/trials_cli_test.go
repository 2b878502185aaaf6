package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/sdk/client"
)

// trialsFixturesDir is ../shared/fixtures seen from this package.
var trialsFixturesDir = filepath.Join("..", "..", "..", "shared", "fixtures")

// TestTrialsCLI is a trial coordinator's session on a 4-process network:
// a look-alike trial-protocol never picked, the three domain contracts
// deployed and pinned by the admin (and found only through the registry), a consent
// group, the NCT05503693 ResearchStudy registered and activated, a subject
// enrolled, a form submitted, a bad form refused locally and by the
// contract (each saying what to fix), a correction, a genome dataset
// registered and its log, a surgical record co-signed by the team.
func TestTrialsCLI(t *testing.T) {
	if _, err := os.Stat(trialsFixturesDir); err != nil {
		t.Skipf("conformance fixtures not available (%s absent): %v", trialsFixturesDir, err)
	}
	wasmDir := t.TempDir()
	names := []string{"trial-protocol", "genome-access", "surgical-records"}
	for _, n := range names { // one at a time: 2-core machines
		if out, err := buildWasm("../../contracts-examples/"+n, filepath.Join(wasmDir, n+".wasm")); err != nil {
			t.Fatalf("build %s: %v\n%s", n, err, out)
		}
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
	fails := func(want []string, args ...string) (string, string) {
		t.Helper()
		out, errs, code := run(t, args...)
		if code != 1 {
			t.Fatalf("trialchain %s: exit %d, want 1\n%s%s", strings.Join(args, " "), code, out, errs)
		}
		for _, w := range want {
			if !strings.Contains(out+errs, w) {
				t.Fatalf("trialchain %s: output does not say %q:\n%s%s", strings.Join(args, " "), w, out, errs)
			}
		}
		return out, errs
	}

	deploy := func(file, label string) string {
		t.Helper()
		var d struct{ Address string }
		out := mustLogged(t, at(0, "contract", "deploy", file, "--label", label, "--from", "sponsor", "--wait", "--output", "json")...)
		if err := json.Unmarshal([]byte(out), &d); err != nil || len(d.Address) != 64 {
			t.Fatalf("deploy %s: %v %s", label, err, out)
		}
		return d.Address
	}
	// A look-alike deployed first under the trial's label, alone: the CLI
	// never picks it (it resolves only through the contract registry), and
	// the unpinned name is refused with its own error saying what to do.
	notPinned := []string{`no contract is pinned as "trial-protocol"`, "never picks one by deploy label", "contract pin trial-protocol ADDR"}
	fails(notPinned, at(1, "trial", "show", "NCT05503693")...)
	lookalike := deploy(filepath.Join(wasmDir, "genome-access.wasm"), "trial-protocol")
	fails(notPinned, at(1, "trial", "show", "NCT05503693")...)
	addrs := map[string]string{}
	for _, n := range names {
		addrs[n] = deploy(filepath.Join(wasmDir, n+".wasm"), n)
	}
	// ... and beside the real one: still not picked.
	fails(notPinned, at(1, "trial", "show", "NCT05503693")...)
	// Only an admin pins: a sponsor's pin of its look-alike is refused at admission.
	fails([]string{"pin transaction refused", "may not send"}, at(0, "contract", "pin", "trial-protocol", lookalike, "--reason", "mine", "--from", "sponsor")...)
	fails([]string{"--reason is required"}, at(0, "contract", "pin", "trial-protocol", addrs["trial-protocol"], "--from", "admin")...)
	for _, n := range names {
		mustLogged(t, at(0, "contract", "pin", n, addrs[n], "--reason", "the sponsor's audited "+n+" build", "--from", "admin")...)
	}
	if out := mustLogged(t, at(2, "contract", "pins")...); !strings.Contains(out, "trial-protocol") || !strings.Contains(out, addrs["trial-protocol"]) || strings.Contains(out, lookalike) {
		t.Fatalf("contract pins: %s", out)
	}
	if out := mustLogged(t, at(3, "contract", "info", addrs["genome-access"])...); !strings.Contains(out, "pinned    as genome-access") {
		t.Fatalf("contract info of a pinned contract: %s", out)
	}

	// A 2-of-3 consent group (dealt from the stored test key: no safe-prime search).
	team := filepath.Join(dir, "team")
	mustLogged(t, append([]string{"consent", "group", "new", "--name", "team", "--threshold", "2",
		"--party", "sponsor=sponsor", "--party", "site=site", "--party", "committee=committee",
		"--dealer-key", "../../chain/consent/testdata/testkey-2048.pem", "--out", team}, kr...)...)
	group := filepath.Join(team, "group.json")
	mustLogged(t, at(0, "consent", "group", "register", group, "--from", "sponsor", "--wait")...)
	// The pins and the group may share a block: one more block makes sure
	// one has followed the pins (their state is certified by the next header).
	mustLogged(t, at(0, "anchor", group, "--label", "team group", "--from", "sponsor", "--wait")...)

	// The pins are in certified state (a block has followed them): proved
	// with nothing but the genesis, and so is an unpinned name's absence.
	if out := mustLogged(t, at(2, "contract", "pins", "trial-protocol", "--prove")...); !strings.Contains(out, `VERIFIED: "trial-protocol" is pinned to `+addrs["trial-protocol"]) {
		t.Fatalf("pins --prove: %s", out)
	}
	if out := mustLogged(t, at(1, "state", "prove", "--pin", "surgical-records")...); !strings.Contains(out, "PRESENT") {
		t.Fatalf("state prove --pin: %s", out)
	}
	fails([]string{`VERIFIED: "lab-results" is NOT pinned`}, at(1, "contract", "pins", "lab-results", "--prove")...)

	// Register and activate the trial from the FHIR R5 ResearchStudy.
	study := filepath.Join(trialsFixturesDir, "fhir-r5", "ResearchStudy-example-ctgov-study-record.json")
	var reg []callResult
	// No --site: the devnet's site key belongs to the template's first site (the README's flow).
	out := mustLogged(t, at(0, "trial", "register", study, "--consent-group", group,
		"--printed-name", "Dr. Ada Sponsor", "--activate", "--from", "sponsor", "--output", "json")...)
	if err := json.Unmarshal([]byte(out), &reg); err != nil || len(reg) != 2 || reg[0].Status != "ok" || reg[1].Status != "ok" {
		t.Fatalf("register --activate: %v %s", err, out)
	}
	if !strings.Contains(reg[0].Summary, "Registered trial NCT05503693 version 1") || !strings.Contains(reg[1].Summary, "is active") {
		t.Fatalf("register summaries: %q / %q", reg[0].Summary, reg[1].Summary)
	}

	// Enrol a subject under a fresh random id.
	var enr callResult
	// The trial named as the argument, as trial lock and results name it.
	out = mustLogged(t, at(1, "trial", "enroll", "NCT05503693", "--consent-doc", file("consent.txt", "signed informed consent, subject 1"),
		"--printed-name", "Dr. Site PI", "--from", "site", "--output", "json")...)
	if err := json.Unmarshal([]byte(out), &enr); err != nil || enr.Status != "ok" {
		t.Fatalf("enroll: %v %s", err, out)
	}
	subject, _ := enr.Extra["subject"].(string)
	if len(subject) != 32 {
		t.Fatalf("enroll: subject id %q", subject)
	}

	// A valid form, saved in full off chain.
	records := filepath.Join(dir, "records")
	submit := func(extra ...string) []string {
		return at(1, append([]string{"trial", "submit", "--trial", "NCT05503693", "--subject", subject, "--from", "site"}, extra...)...)
	}
	out = mustLogged(t, submit("--visit", "day1", "--form", "vitals", "SYSBP=128 mm[Hg]", "DIABP=82 mm[Hg]", "HR=71 /min", "NOTES=J.D. mentioned a headache", "--save", records)...)
	if !strings.Contains(out, "Entry crf-000000001") || !strings.Contains(out, "SYSBP = 128 mm[Hg]") || strings.Contains(out, "J.D.") {
		t.Fatalf("submit: %s", out)
	}
	saved, _ := filepath.Glob(filepath.Join(records, "*.rec"))
	if len(saved) != 1 {
		t.Fatalf("saved records: %v", saved)
	}

	// A bad form: refused before sending, and by the contract; nothing written.
	bad := []string{"--visit", "day8", "--form", "vitals", "SYSBP=300 mm[Hg]", "DIABP=82 mm[Hg]", "HR=71 /min"}
	fails([]string{"Not sent:", "SYSBP", "above the maximum 250", "What to do: check the value against the form definition"}, submit(bad...)...)
	out, errs := fails([]string{"Refused:", "SYSBP", "What to do:", "nothing was written"}, submit(append(bad, "--no-check")...)...)
	t.Logf("contract refusal as printed:\n%s%s", out, errs)

	// A correction: changed value given, the others from the chain and the saved record.
	fails([]string{"two trials named", "give one"}, at(1, "trial", "correct", "NCT05503693", "--trial", "NCT00000000", "--entry", "crf-000000001", "--reason", "x", "SYSBP=118 mm[Hg]", "--from", "site")...)
	out = mustLogged(t, at(1, "trial", "correct", "NCT05503693", "--entry", "crf-000000001", "--reason", "transcription error: 118 read as 128",
		"SYSBP=118 mm[Hg]", "--record", saved[0], "--from", "site")...)
	if !strings.Contains(out, "corrects crf-000000001") || !strings.Contains(out, "SYSBP = 118") {
		t.Fatalf("correct: %s", out)
	}
	// Read on the node that took the write: another node may be a block behind under load.
	out = mustLogged(t, at(1, "trial", "show", "NCT05503693")...)
	if !strings.Contains(out, "Status active") || !strings.Contains(out, "1 subjects, 2 entries") || !strings.Contains(out, "Form vitals:") {
		t.Fatalf("show: %s", out)
	}
	out = mustLogged(t, at(2, "trial", "show", "NCT05503693", "--entry", "crf-000000001")...)
	if !strings.Contains(out, "Corrected by: crf-000000002") || !strings.Contains(out, "SYSBP = 128") {
		t.Fatalf("show --entry: %s", out)
	}

	// The site's EDC export (CDISC ODM ClinicalData) sent in one go: every
	// form checked first, all of them in one request (POST /v1/txs), each
	// answered on its own. Day 1's vitals are on chain already: the
	// contract refuses that one, the others commit, and the command says
	// which failed.
	item := func(oid, value, unit string) string {
		if unit == "" {
			return fmt.Sprintf(`<ItemData ItemOID="%s" Value="%s"/>`, oid, value)
		}
		return fmt.Sprintf(`<ItemData ItemOID="%s" Value="%s"><MeasurementUnitRef MeasurementUnitOID="%s"/></ItemData>`, oid, value, unit)
	}
	form := func(visit, form string, items ...string) string {
		return fmt.Sprintf(`<StudyEventData StudyEventOID="%s"><FormData FormOID="%s"><ItemGroupData ItemGroupOID="IG.%s">%s</ItemGroupData></FormData></StudyEventData>`,
			visit, form, form, strings.Join(items, ""))
	}
	vitals := func(visit, sys string) string {
		return form(visit, "vitals", item("SYSBP", sys, "mm[Hg]"), item("DIABP", "79", "mm[Hg]"), item("HR", "66", "/min"))
	}
	labs := func(visit, alt string) string {
		return form(visit, "labs", item("ALT", alt, "U/L"), item("CREAT", "71.5", "umol/L"), item("FASTED", "1", ""))
	}
	odm := file("edc-export.xml", `<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" ODMVersion="1.3.2" FileType="Snapshot" FileOID="F.EDC" CreationDateTime="2026-12-06T10:00:00">
 <ClinicalData StudyOID="S.AP303" MetaDataVersionOID="MDV.1">
  <SubjectData SubjectKey="SITE-001">
   `+vitals("screening", "131")+form("screening", "demographics", item("BRTHDTC", "1990-04-12", ""), item("AGE", "36", "a"), item("SEX", "F", ""))+`
   `+labs("day1", "22")+vitals("day1", "125")+vitals("day8", "122")+labs("day8", "25")+`
  </SubjectData>
 </ClinicalData>
</ODM>`)
	odmRecords := filepath.Join(dir, "odm-records")
	out, errs = fails([]string{"Refused:", "form vitals of visit day1", "already submitted as entry crf-000000001"},
		at(1, "trial", "submit", "--trial", "NCT05503693", "--odm", odm, "--subject-map", "SITE-001="+subject, "--save", odmRecords,
			"--from", "site", "--printed-name", "Dr. Site PI")...)
	for _, want := range []string{"Entry crf-000000003", "Entry crf-000000007", "AGE = 36 a", "ALT = 25 U/L"} {
		if !strings.Contains(out, want) {
			t.Fatalf("submit --odm: no %q in\n%s%s", want, out, errs)
		}
	}
	if saved, _ := filepath.Glob(filepath.Join(odmRecords, "*.rec")); len(saved) != 6 {
		t.Fatalf("submit --odm saved %d records, want all 6", len(saved))
	}
	if out = mustLogged(t, at(1, "trial", "show", "NCT05503693")...); !strings.Contains(out, "1 subjects, 7 entries") {
		t.Fatalf("show after --odm: %s", out)
	}

	// A serious adverse event; an amendment refused without consent, then
	// sent with the group's 2-of-3 consent.
	narrative := block.Sum([]byte("SAE narrative")).String()
	fails([]string{"--narrative", "64 lowercase hex"}, at(1, "trial", "ae", "--trial", "NCT05503693", "--subject", subject, "--term", "Anaphylaxis", "--serious",
		"--severity", "severe", "--aware-at", "2026-01-02T08:00:00Z", "--narrative", "narrative.txt", "--from", "site")...)
	if out = mustLogged(t, at(1, "trial", "ae", "--trial", "NCT05503693", "--subject", subject, "--term", "Anaphylaxis", "--serious",
		"--severity", "severe", "--aware-at", "2026-01-02T08:00:00Z", "--narrative", narrative, "--from", "site")...); !strings.Contains(out, "Adverse event ae-000000001") ||
		!strings.Contains(out, "LATE") || !strings.Contains(out, "Full narrative off chain, SHA-256 "+narrative) {
		t.Fatalf("ae: %s", out)
	}
	amend := file("amend.json", `{"trial": "NCT05503693", "reason": "Sponsor renamed the study", "changes": {"title": "AP303 in healthy volunteers (renamed)"}}`)
	fails([]string{"Refused:", "none was given", "What to do: collect the consent group's signature shares"}, at(0, "trial", "amend", amend, "--from", "sponsor")...)
	amendAction := filepath.Join(dir, "amend-action.json")
	mustLogged(t, at(0, "trial", "amend", amend, "--action-out", amendAction, "--from", "sponsor")...)
	consentOf := func(action, meaning, out string) {
		t.Helper()
		var sigs []string
		for i, p := range []string{"sponsor", "site"} {
			sig := filepath.Join(dir, p+"-"+filepath.Base(out))
			mustLogged(t, at(i, "consent", "sign", "--group", group, "--share", filepath.Join(team, "share-0"+string(rune('1'+i))+"-"+p+".bin"),
				"--as", p, "--action", action, "--meaning", meaning, "--out", sig)...)
			sigs = append(sigs, sig)
		}
		mustLogged(t, append([]string{"consent", "combine", "--group", group, "--out", out}, sigs...)...)
	}
	amendConsent := filepath.Join(dir, "amend-consent.sig")
	consentOf(amendAction, "approve amendment", amendConsent)
	if out = mustLogged(t, at(0, "trial", "amend", amend, "--consent", amendConsent, "--from", "sponsor")...); !strings.Contains(out, "amended to version 2") {
		t.Fatalf("amend: %s", out)
	}

	// Genome: a subject delegate joins (the testnet has a researcher, not
	// a delegate); a dataset registered by its custodian; a request granted,
	// used, revoked by the delegate, then refused; the log shows it all.
	for _, m := range []struct {
		name string
		role block.Role
	}{{"delegate", block.RoleSubject}} {
		addCLITestMember(t, net, homes[0], m.name, "Local "+m.name, m.role)
	}
	mustLogged(t, at(1, "genome", "register", "--dataset", "wgs-1", "--file", file("wgs-1.vcf.enc", "encrypted genome"), "--location", "blob:wgs-1",
		"--duo", "HMB,NCU", "--duo", "IRB", "--delegate", "delegate", "--committee-group", group, "--from", "site")...)
	if out = mustLogged(t, at(2, "genome", "request", "--dataset", "wgs-1", "--project", "AP303 pharmacogenomics", "--purpose", "HMB",
		"--ethics-approval", file("irb.txt", "IRB approval 2026-17"), "--days", "90", "--from", "researcher")...); !strings.Contains(out, "GRANTED as grant-000000001") {
		t.Fatalf("genome request: %s", out)
	}
	// Granted, but the location is not released yet; then the custodian
	// releases it sealed to the researcher, who alone opens it.
	fails([]string{"Refused:", "has not released its location", "genome release"}, at(2, "genome", "access", "grant-000000001", "--from", "researcher")...)
	fails([]string{"Not sent:", "does not match the commitment"}, at(1, "genome", "release", "grant-000000001", "--location", "blob:wrong", "--from", "site")...)
	if out = mustLogged(t, at(1, "genome", "release", "grant-000000001", "--location", "blob:wgs-1", "--from", "site")...); !strings.Contains(out, "sealed to the researcher's key") || strings.Contains(out, "blob:wgs-1") {
		t.Fatalf("genome release: %s", out)
	}
	if out = mustLogged(t, at(2, "genome", "access", "grant-000000001", "--from", "researcher")...); !strings.Contains(out, "at blob:wgs-1 (opened with your key") {
		t.Fatalf("genome access: %s", out)
	}
	if out = mustLogged(t, at(3, "genome", "log", "wgs-1")...); strings.Contains(out, "blob:wgs-1") || !strings.Contains(out, "release") {
		t.Fatalf("genome log: %s", out)
	}
	mustLogged(t, at(3, "genome", "revoke", "grant-000000001", "--reason", "subject withdrew consent", "--from", "delegate")...)
	fails([]string{"Refused:", "revoked", "What to do:"}, at(2, "genome", "access", "grant-000000001", "--from", "researcher")...)
	if out = mustLogged(t, at(3, "genome", "log", "wgs-1")...); !strings.Contains(out, "register") || !strings.Contains(out, "revoke") {
		t.Fatalf("genome log: %s", out)
	}
	fails([]string{`"XYZ" is not a DUO term`}, at(1, "genome", "register", "--dataset", "wgs-2", "--hash", strings.Repeat("ab", 32), "--location", "blob:x",
		"--duo", "XYZ", "--delegate", "regulator", "--committee-group", group, "--from", "site")...)

	// Surgery: the FHIR R4 implant procedure recorded, co-signed by 2 of 3, shown final.
	proc := filepath.Join(trialsFixturesDir, "fhir-r4", "Procedure-example-implant.json")
	if out = mustLogged(t, at(1, "surgery", "record", "--fhir", proc, "--id", "surg-0001", "--patient", "pt-7f3a9c", "--team-group", group,
		"--printed-name", "Dr Cecil Surgeon", "--from", "site")...); !strings.Contains(out, "PENDING") {
		t.Fatalf("surgery record: %s", out)
	}
	fails([]string{"needs the team's consent", "--action-out"}, at(1, "surgery", "cosign", "surg-0001", "--from", "site")...)
	action := filepath.Join(dir, "cosign-action.json")
	if out = mustLogged(t, at(1, "surgery", "cosign", "surg-0001", "--action-out", action, "--from", "site")...); !strings.Contains(out, "consent sign") {
		t.Fatalf("cosign --action-out: %s", out)
	}
	cs := filepath.Join(dir, "consent.sig")
	consentOf(action, "attest surgical record", cs)
	if out = mustLogged(t, at(1, "surgery", "cosign", "surg-0001", "--consent", cs, "--from", "site")...); !strings.Contains(out, "FINAL") {
		t.Fatalf("cosign: %s", out)
	}
	var rv struct {
		Record struct{ Status string } `json:"record"`
	}
	out = mustLogged(t, at(1, "surgery", "show", "surg-0001", "--output", "json")...)
	if err := json.Unmarshal([]byte(out), &rv); err != nil || rv.Record.Status != "final" {
		t.Fatalf("surgery show: %v %s", err, out)
	}

	// Lock; results with a primary outcome never registered; the report flags it.
	if out = mustLogged(t, at(0, "trial", "lock", "NCT05503693", "--from", "sponsor")...); !strings.Contains(out, "locked") {
		t.Fatalf("lock: %s", out)
	}
	results := file("results.json", `[{"type": "primary", "measure": "Time to First Dermatologic Event", "arms": [{"arm": "ap303", "n": 1, "events": 1}]}]`)
	if out = mustLogged(t, at(0, "trial", "results", "--trial", "NCT05503693", "--results", results, "--from", "sponsor")...); !strings.Contains(out, "primary outcome was switched") {
		t.Fatalf("results: %s", out)
	}
	// With the genesis (--home) the report comes from a verified, complete
	// export; the results are in the newest block, so it seals first.
	// (VERIFIED goes to stderr, the report to stdout.)
	if out, errs, code := run(t, at(3, "trial", "report", "NCT05503693", "--seal", "sponsor")...); code != 0 || !strings.Contains(out, "primary outcome was switched") || !strings.Contains(out, "not reported") || !strings.Contains(errs, "VERIFIED") {
		t.Fatalf("report: exit %d\n%s%s", code, out, errs)
	}

	// An explicit, wrong contract address is named.
	fails([]string{"--contract", "64-hex address"}, at(2, "trial", "show", "NCT05503693", "--contract", "nope")...)
}

// mustLogged is must, logging the output with -v (to review what a coordinator sees).
func mustLogged(t *testing.T, args ...string) string {
	t.Helper()
	out := must(t, args...)
	if testing.Verbose() {
		t.Logf("$ trialchain %s %s\n%s", args[0], args[1], out)
	}
	return out
}

// addCLITestMember makes a new key NAME in the network's keyring and has
// the admin register it with org and role.
func addCLITestMember(t *testing.T, net, home, name, org string, role block.Role) {
	t.Helper()
	ring := keys.Ring{Dir: filepath.Join(net, "keys")}
	k, err := ring.New(name)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ring.Get("admin")
	if err != nil {
		t.Fatal(err)
	}
	addr, err := node.APIAddr(home)
	if err != nil {
		t.Fatal(err)
	}
	c := client.New("http://" + addr)
	ctx := context.Background()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := (&block.RegisterPayload{Key: k.Public(), Org: org, Name: name, Role: role}).Encode()
	res, err := c.Submit(ctx, client.Sign(admin.Private, st.ChainID, block.KindRegister, p, 1_000_000), true)
	if err != nil || res.Receipt == nil || res.Receipt.Status != "ok" {
		t.Fatalf("register member %s: %v %+v", name, err, res)
	}
}

// TestTrialsHelp checks every verb of the three groups has a copyable
// example with the right command line and a short description.
func TestTrialsHelp(t *testing.T) {
	want := map[string][]string{
		"trial":   {"register", "amend", "enroll", "submit", "correct", "query", "ae", "lock", "results", "show", "report", "export"},
		"genome":  {"register", "request", "decide", "release", "access", "revoke", "log"},
		"surgery": {"record", "cosign", "amend", "show"},
	}
	for _, g := range []*cobra.Command{newTrialCmd(), newGenomeCmd(), newSurgeryCmd()} {
		verbs := map[string]*cobra.Command{}
		for _, c := range g.Commands() {
			verbs[c.Name()] = c
		}
		for _, v := range want[g.Name()] {
			c, ok := verbs[v]
			switch {
			case !ok:
				t.Errorf("%s %s: no such verb", g.Name(), v)
			case c.Short == "":
				t.Errorf("%s %s: no short help", g.Name(), v)
			case !strings.Contains(c.Example, "trialchain "+g.Name()+" "+v+" ") && !strings.Contains(c.Example, "trialchain "+g.Name()+" "+v+"\n"):
				t.Errorf("%s %s: example %q does not show the command", g.Name(), v, c.Example)
			}
		}
	}
}

func TestAbortMessage(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"vm: abort: out-of-range: SYSBP 300 is above the maximum 250", "out-of-range: SYSBP 300 is above the maximum 250", true},
		{"contracts: call: vm: abort: consent-required: none was given", "consent-required: none was given", true},
		{"contracts: out of gas", "", false},
	} {
		got, ok := abortMessage(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("abortMessage(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
