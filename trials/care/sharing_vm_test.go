package care_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/care"
)

// fixturesDir holds the standards bodies' files (see ../shared/fixtures/FIXTURES.md).
var fixturesDir = filepath.Join("..", "..", "..", "shared", "fixtures")

// fixture returns a shared fixture, skipping the test if ../shared is absent
// (testdata/consent-hospital.json covers the same code paths).
func fixture(t testing.TB, rel string) []byte {
	t.Helper()
	if _, err := os.Stat(fixturesDir); err != nil {
		t.Skipf("conformance fixtures not available (%s absent): %v", fixturesDir, err)
	}
	b, err := os.ReadFile(filepath.Join(fixturesDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const fixtureConsent = "fhir-r4/Consent-consent-example-signature.json"

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	treat    = "http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT"
	research = "http://terminology.hl7.org/CodeSystem/v3-ActReason|HRESCH"
	fhirJSON = "urn:ietf:bcp:13|application/fhir+json"
	summary  = "http://loinc.org|34133-9"
	consult  = "http://loinc.org|11488-4" // the consent denies this code
)

var (
	patient  = newActor("patient", "patients", "subject")
	stranger = newActor("stranger", "patients", "subject")
	hospA    = newActor("hospital-a", "hospital-a", "site")
	hospB    = newActor("hospital-b", "hospital-b", "site")
	hospC    = newActor("hospital-c", "hospital-c", "site")
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// TestRecordSharing plays the record-sharing contract on the real VM: a
// FHIR R4 Consent granted, a record registered by commitment, reads
// decided from the consent, released with HPKE and opened by the reader,
// and every bad input refused with its own code and recorded in the
// patient's record set.
func TestRecordSharing(t *testing.T) {
	c := newChain(t, start)
	grant, consentRes, err := trials.GrantConsentCall(testdata(t, "consent-hospital.json"))
	if err != nil {
		t.Fatal(err)
	}
	pid := consentRes.Patient
	scope := care.Scope(pid)
	summaryBytes := []byte(`{"resourceType":"Composition","title":"Discharge summary","subject":{"reference":"Patient/p-7f3a9c"}}`)
	consultBytes := []byte(`{"resourceType":"Composition","title":"Psychiatry consult"}`)
	salt1, salt2 := trials.RecordSalt(hospA.priv, "r-1"), trials.RecordSalt(hospA.priv, "r-2")
	r1 := care.SharedRecord{ID: "r-1", Patient: pid, Class: fhirJSON, Code: summary, Commitment: trials.RecordCommitment(salt1, summaryBytes)}
	r2 := care.SharedRecord{ID: "r-2", Patient: pid, Class: fhirJSON, Code: consult, Commitment: trials.RecordCommitment(salt2, consultBytes)}
	acc1 := care.Access{ID: "acc-000000001", Record: "r-1"}
	pt, err := trials.RecordPlaintext(salt1, summaryBytes)
	if err != nil {
		t.Fatal(err)
	}
	sealedB, err := consent.SealToMember(rand.Reader, hospB.pub(), trials.RecordSealInfo(addr(trials.RecordSharing), acc1.ID, acc1.Record), pt)
	if err != nil {
		t.Fatal(err)
	}
	sealed := hex.EncodeToString(sealedB)

	steps := []step{
		{name: "hospital A registers the summary", who: hospA, method: "record", args: care.RecordArgs{Record: r1}, scope: scope},
		{name: "hospital A registers the consult", who: hospA, method: "record", args: care.RecordArgs{Record: r2}, scope: scope},
		{name: "a subject cannot register records", who: patient, method: "record", args: care.RecordArgs{Record: r1}, code: care.CodeNotCustodian, scope: scope},
		{name: "B reads without consent", who: hospB, method: "request", args: care.RequestArgs{Record: "r-1", Purpose: treat}, code: care.CodeNoConsent, scope: scope},
		{name: "the patient grants the FHIR consent", who: patient, method: "grant", args: json.RawMessage(grant.Args), scope: scope},
		{name: "another subject grants for the patient", who: stranger, method: "grant", args: json.RawMessage(grant.Args), code: care.CodeNotPatient, scope: scope},
		{name: "the same consent twice", who: patient, method: "grant", args: json.RawMessage(grant.Args), code: "exists", scope: scope},
		{name: "B requests the summary for treatment", who: hospB, method: "request", args: care.RequestArgs{Record: "r-1", Purpose: treat}, scope: scope,
			check: func(t *testing.T, out json.RawMessage) {
				var a care.Access
				if err := json.Unmarshal(out, &a); err != nil || a.ID != acc1.ID || a.Consent != "c-2026-001" || a.Reader != hospB.hex() {
					t.Fatalf("access %s (%v)", out, err)
				}
			}},
		{name: "C is no actor of the consent", who: hospC, method: "request", args: care.RequestArgs{Record: "r-1", Purpose: treat}, code: care.CodeNoConsent, scope: scope},
		{name: "B asks for research: no permit", who: hospB, method: "request", args: care.RequestArgs{Record: "r-1", Purpose: research}, code: care.CodeNoConsent, scope: scope},
		{name: "B asks for the consult: denied", who: hospB, method: "request", args: care.RequestArgs{Record: "r-2", Purpose: treat}, code: care.CodeDeniedByConsent, scope: scope},
		{name: "B reads before the release", who: hospB, method: "read", args: care.AccessArgs{Access: acc1.ID}, code: care.CodeNotReleased, scope: scope},
		{name: "C releases A's record", who: hospC, method: "release", args: care.ReleaseArgs{Access: acc1.ID, Sealed: sealed}, code: care.CodeNotCustodian, scope: scope},
		{name: "A releases the record sealed to B", who: hospA, method: "release", args: care.ReleaseArgs{Access: acc1.ID, Sealed: sealed}, scope: scope},
		{name: "A releases it again", who: hospA, method: "release", args: care.ReleaseArgs{Access: acc1.ID, Sealed: sealed}, code: "exists", scope: scope},
		{name: "C reads B's access", who: hospC, method: "read", args: care.AccessArgs{Access: acc1.ID}, code: care.CodeNotReader, scope: scope},
		{name: "B reads and opens the record", who: hospB, method: "read", args: care.AccessArgs{Access: acc1.ID}, scope: scope,
			check: func(t *testing.T, out json.RawMessage) {
				var a care.Access
				if err := json.Unmarshal(out, &a); err != nil {
					t.Fatal(err)
				}
				got, err := consent.OpenAsMember(hospB.priv, trials.RecordSealInfo(addr(trials.RecordSharing), a.ID, a.Record), mustHex(t, a.Sealed))
				if err != nil {
					t.Fatal(err)
				}
				data, err := trials.OpenedRecord(got, r1.Commitment)
				if err != nil || !bytes.Equal(data, summaryBytes) || a.Reads != 1 {
					t.Fatalf("opened %q, reads %d (%v)", data, a.Reads, err)
				}
				if _, err := trials.OpenedRecord(got, r2.Commitment); err == nil {
					t.Fatal("the summary opened against the consult's commitment")
				}
			}},
		{name: "a stranger revokes the consent", who: stranger, method: "revoke", args: care.RevokeArgs{Patient: pid, Consent: "c-2026-001", Reason: "x"}, code: care.CodeNotPatient, scope: scope},
		{name: "the patient revokes the consent", who: patient, method: "revoke", args: care.RevokeArgs{Patient: pid, Consent: "c-2026-001", Reason: "moved to another hospital"}, scope: scope},
		{name: "B reads after the revocation", who: hospB, method: "read", args: care.AccessArgs{Access: acc1.ID}, code: care.CodeRevoked, scope: scope},
		{name: "B requests again after the revocation", who: hospB, method: "request", args: care.RequestArgs{Record: "r-1", Purpose: treat}, code: care.CodeNoConsent, scope: scope},
		{name: "the patient revokes twice", who: patient, method: "revoke", args: care.RevokeArgs{Patient: pid, Consent: "c-2026-001", Reason: "again"}, code: care.CodeRevoked, scope: scope},
	}
	c.play(t, trials.RecordSharing, steps)

	// The patient's journal has the accepted steps; the record set has
	// every step, refused ones with their reasons.
	var log []care.Entry
	c.ok(patient, mkCall(t, trials.RecordSharing, "log", care.PatientArgs{Patient: pid}), &log)
	var kinds []string
	for _, e := range log {
		kinds = append(kinds, e.Kind)
	}
	if want := "[record record grant permit release read revoke]"; fmtList(kinds) != want {
		t.Fatalf("journal %v, want %s", kinds, want)
	}
	refusals := 0
	for _, j := range c.sets[scope] {
		if j.err != "" {
			refusals++
		}
	}
	if want := countRefusals(steps); refusals != want {
		t.Fatalf("record set %s holds %d refusals, want %d", scope, refusals, want)
	}

	// Export: the stored consent is a FHIR R4 Consent again, now inactive.
	var stored care.Consent
	c.ok(hospB, mkCall(t, trials.RecordSharing, "consent", map[string]string{"patient": pid, "consent": "c-2026-001"}), &stored)
	b, err := care.ExportConsent(&stored)
	if err != nil {
		t.Fatal(err)
	}
	back, err := care.ImportConsent(b)
	if err != nil || back.Status != care.StatusInactive || back.Provisions[1].Type != care.Deny {
		t.Fatalf("exported consent re-imports as %+v (%v)", back, err)
	}
	c.replay(t, start)
}

// TestRecordSharingFixture grants the HL7 example Consent (FHIR R4, from
// ../shared/fixtures) with its nested permit's actor replaced by a member
// hospital: its period, class and codes decide reads on the real VM.
func TestRecordSharingFixture(t *testing.T) {
	fc, err := care.ImportConsent(fixture(t, fixtureConsent))
	if err != nil {
		t.Fatal(err)
	}
	fc.Provisions[0].Actors = []care.Actor{{Role: "AUT", Reference: care.OrgActor(hospB.org)}}
	fc.Root.Actors = nil
	cda, loinc := fc.Provisions[0].Classes[0], fc.Provisions[0].Codes[0]
	in := time.Date(2016, 5, 26, 8, 0, 0, 0, time.UTC)
	c := newChain(t, in)
	scope := care.Scope(fc.Patient)
	rec := care.SharedRecord{ID: "cda-1", Patient: fc.Patient, Class: cda, Code: loinc, Commitment: trials.RecordCommitment(trials.RecordSalt(hospA.priv, "cda-1"), []byte("<ClinicalDocument/>"))}
	other := rec
	other.ID, other.Code = "cda-2", "http://loinc.org|11488-4"
	c.play(t, trials.RecordSharing, []step{
		{name: "the patient grants the HL7 example consent", who: patient, method: "grant", args: care.GrantArgs{Consent: fc}, scope: scope},
		{name: "A registers a CDA document", who: hospA, method: "record", args: care.RecordArgs{Record: rec}},
		{name: "A registers another code", who: hospA, method: "record", args: care.RecordArgs{Record: other}},
		{name: "B reads in the period", who: hospB, method: "request", args: care.RequestArgs{Record: "cda-1", Purpose: treat}, scope: scope},
		{name: "B reads a code the consent does not name", who: hospB, method: "request", args: care.RequestArgs{Record: "cda-2", Purpose: treat}, code: care.CodeNoConsent, scope: scope},
	})
	c.now = time.Date(2016, 10, 11, 0, 0, 0, 0, time.UTC) // the day after the period's end
	c.play(t, trials.RecordSharing, []step{
		{name: "B reads after the period", who: hospB, method: "request", args: care.RequestArgs{Record: "cda-1", Purpose: treat}, code: care.CodeNoConsent, scope: scope},
	})
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fmtList(xs []string) string { return "[" + strings.Join(xs, " ") + "]" }

func countRefusals(steps []step) int {
	n := 0
	for _, s := range steps {
		if s.code != "" {
			n++
		}
	}
	return n
}
