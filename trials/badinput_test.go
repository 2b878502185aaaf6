package trials_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
	"github.com/trialchain/trialchain/trials/testgroups"
)

// refusal is one bad input: who sends which call, and what the refusal
// must say. Every refusal must also leave the contract's state unchanged
// (chain.refused checks it).
type refusal struct {
	name string
	by   actor
	call trials.Call
	want []string
}

func runRefusals(t *testing.T, c *chain, cases []refusal) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			msg := c.refused(tc.by, tc.call, tc.want...)
			t.Logf("refused: %s", msg)
		})
	}
}

func submitArgs(trial, subject, visit, form string, f map[string]model.FieldValue) trials.Call {
	return trials.UncheckedSubmitCall(trial, subject, visit, form, f, trials.HashBytes([]byte(subject+visit+form)), sig("Dr. Site PI", "author"))
}

func goodVitals() map[string]model.FieldValue {
	return map[string]model.FieldValue{"SYSBP": {Value: "120", Unit: "mm[Hg]"}, "DIABP": {Value: "80", Unit: "mm[Hg]"}, "HR": {Value: "60", Unit: "/min"}}
}

func with(f map[string]model.FieldValue, name string, v model.FieldValue) map[string]model.FieldValue {
	out := map[string]model.FieldValue{}
	for k, x := range f {
		out[k] = x
	}
	if v == (model.FieldValue{}) {
		delete(out, name)
	} else {
		out[name] = v
	}
	return out
}

// TestTrialBadInput covers every bad input of the trial-protocol contract.
func TestTrialBadInput(t *testing.T) {
	c := newChain(t)
	who := newCast()
	board, team := c.groups[testgroups.AmendmentBoard], c.groups[testgroups.SurgicalTeam]
	p := registerTrial(t, c, who)
	s1 := newSubject(t)
	enroll := func(site actor, subject string, version int) trials.Call {
		call, err := trials.EnrollCall(p.ID, subject, trials.HashBytes([]byte("consent doc")), version, "", sig("Dr. Site PI", "enrolment"))
		if err != nil {
			t.Fatal(err)
		}
		return call
	}
	newOuts := append(append([]model.Outcome(nil), p.Outcomes...), model.Outcome{ID: "secondary-x", Type: model.Secondary, Measure: "Extra outcome"})
	am := trials.Amendment{Trial: p.ID, Version: 2, Reason: "add an outcome", Changes: model.Changes{Outcomes: &newOuts}}
	other := am
	other.Reason = "a different reason"
	amSig := sig("Dr. Ada Sponsor", "amendment")
	lockCall := trials.LockCall(p.ID, sig("Dr. Ada Sponsor", "lock"))
	results := switchedResults(t, p)
	resultsCall, err := trials.ResultsCall(p.ID, results, trials.HashBytes([]byte("ds")), "", sig("Eve Statistician", "results"))
	if err != nil {
		t.Fatal(err)
	}
	dupReg, _ := trials.RegisterCall(p, sig("Dr. Ada Sponsor", "registration"))

	// Registered, not active.
	runRefusals(t, c, []refusal{
		{"enrolment before the protocol is active", who.siteA, enroll(who.siteA, s1, 1), []string{"wrong-state", "cannot enrol", "registered"}},
		{"registration twice", who.sponsor, dupReg, []string{"exists", "already registered"}},
		{"registration by a site", who.siteA, dupReg, []string{"forbidden", "only a sponsor"}},
		{"amendment without consent", who.sponsor, trials.AmendCall(am, amSig, nil), []string{"consent-required", "none was given"}},
		{"amendment with a consent for another action", who.sponsor,
			trials.AmendCall(am, amSig, mustConsent(t, board, trials.TrialProtocol, "amend", other.Digest(), consent.MeaningApproveAmendment, c.now, 1, 2, 3)), []string{"consent-required", "not a valid consent"}},
		{"amendment with a consent of another group", who.sponsor,
			trials.AmendCall(am, amSig, mustConsent(t, team, trials.TrialProtocol, "amend", am.Digest(), consent.MeaningApproveAmendment, c.now, 1, 2)), []string{"consent-required", "not a valid consent"}},
		{"amendment with a consent for another method", who.sponsor,
			trials.AmendCall(am, amSig, mustConsent(t, board, trials.TrialProtocol, "register", am.Digest(), consent.MeaningApproveAmendment, c.now, 1, 2, 3)), []string{"consent-required", "not a valid consent"}},
		{"amendment with a corrupted consent", who.sponsor, trials.AmendCall(am, amSig, []byte("not a consent")), []string{"consent-required", "not a valid consent"}},
		{"amendment by another sponsor", newActor("rival", "rival-pharma", "sponsor"), trials.AmendCall(am, amSig, nil), []string{"forbidden", "belongs to sponsor"}},
		{"amendment skipping a version", who.sponsor, trials.AmendCall(trials.Amendment{Trial: p.ID, Version: 3, Reason: "x", Changes: am.Changes}, amSig, nil), []string{"invalid", "must be 2"}},
		{"results before lock", who.sponsor, resultsCall, []string{"wrong-state", "before database lock"}},
		{"lock before activation", who.sponsor, lockCall, []string{"wrong-state"}},
	})

	// The valid amendment, then its consent replayed.
	good := mustConsent(t, board, trials.TrialProtocol, "amend", am.Digest(), consent.MeaningApproveAmendment, c.now, 2, 3, 5)
	c.t = t
	c.ok(who.sponsor, trials.AmendCall(am, amSig, good), nil)
	am3 := trials.Amendment{Trial: p.ID, Version: 3, Reason: "add an outcome", Changes: model.Changes{Outcomes: &newOuts}}
	runRefusals(t, c, []refusal{
		{"replayed consent", who.sponsor, trials.AmendCall(am3, amSig, good), []string{"consent-required", "already used"}},
	})

	c.t = t
	c.ok(who.sponsor, trials.ActivateCall(p.ID, sig("Dr. Ada Sponsor", "activation")), nil)
	c.ok(who.siteA, enroll(who.siteA, s1, 2), nil)
	stranger := newSubject(t)
	var first model.Entry
	c.ok(who.siteA, submitArgs(p.ID, s1, "day1", "vitals", goodVitals()), &first)
	hashID := trials.HashBytes([]byte("MRN 0012345"))

	runRefusals(t, c, []refusal{
		{"enrolment by a site not allowed", who.stranger, enroll(who.stranger, newSubject(t), 2), []string{"site-not-allowed", "site-perth"}},
		{"enrolment with a hashed record number as id", who.siteA, mkEnroll(p.ID, hashID, 2), []string{"invalid", "32 lowercase hex", "never a hash"}},
		{"enrolment twice", who.siteA, enroll(who.siteA, s1, 2), []string{"exists", "already enrolled"}},
		{"enrolment on an old protocol version", who.siteA, enroll(who.siteA, newSubject(t), 1), []string{"version 1", "re-consent"}},
		{"data from a site not allowed", who.stranger, submitArgs(p.ID, s1, "day1", "vitals", goodVitals()), []string{"site-not-allowed", "site-perth"}},
		{"data from another allowed site", who.siteB, submitArgs(p.ID, s1, "day8", "vitals", goodVitals()), []string{"forbidden", "enrolled at site"}},
		{"data for a subject not enrolled", who.siteA, submitArgs(p.ID, stranger, "day1", "vitals", goodVitals()), []string{"not-found", "not enrolled"}},
		{"form not in the protocol", who.siteA, submitArgs(p.ID, s1, "day1", "ecg", goodVitals()), []string{"not-found", `form "ecg" is not in the protocol`}},
		{"visit not in the protocol", who.siteA, submitArgs(p.ID, s1, "week52", "vitals", goodVitals()), []string{"not-found", `visit "week52" is not in the protocol`}},
		{"form not collected at the visit", who.siteA, submitArgs(p.ID, s1, "day1", "demographics", goodVitals()), []string{"not-found", "not collected at visit"}},
		{"value above range", who.siteA, submitArgs(p.ID, s1, "day8", "vitals", with(goodVitals(), "HR", model.FieldValue{Value: "300", Unit: "/min"})), []string{"out-of-range", "HR", "above the maximum 220"}},
		{"value below range", who.siteA, submitArgs(p.ID, s1, "day8", "vitals", with(goodVitals(), "SYSBP", model.FieldValue{Value: "59", Unit: "mm[Hg]"})), []string{"out-of-range", "below the minimum 60"}},
		{"missing required field", who.siteA, submitArgs(p.ID, s1, "day8", "vitals", with(goodVitals(), "DIABP", model.FieldValue{})), []string{"missing-required", "DIABP"}},
		{"wrong unit", who.siteA, submitArgs(p.ID, s1, "day8", "vitals", with(goodVitals(), "SYSBP", model.FieldValue{Value: "16", Unit: "kPa"})), []string{"wrong-unit", "mm[Hg]"}},
		{"wrong type", who.siteA, submitArgs(p.ID, s1, "day8", "vitals", with(goodVitals(), "HR", model.FieldValue{Value: "60.5", Unit: "/min"})), []string{"wrong-type", "whole number"}},
		{"unknown field", who.siteA, submitArgs(p.ID, s1, "day8", "vitals", with(goodVitals(), "BMI", model.FieldValue{Value: "22"})), []string{"unknown-field", "BMI"}},
		{"private field in clear", who.siteA, submitArgs(p.ID, s1, "day8", "vitals", with(goodVitals(), "NOTES", model.FieldValue{Value: "J.D. has a headache"})), []string{"not public", "never its value"}},
		{"bad record hash", who.siteA, trials.UncheckedSubmitCall(p.ID, s1, "day8", "vitals", goodVitals(), "abc", sig("Dr. Site PI", "author")), []string{"recordHash"}},
		{"entry without a printed name", who.siteA, trials.UncheckedSubmitCall(p.ID, s1, "day8", "vitals", goodVitals(), trials.HashBytes(nil), sig("", "author")), []string{"printedName is required"}},
		{"same form submitted twice", who.siteA, submitArgs(p.ID, s1, "day1", "vitals", goodVitals()), []string{"exists", "submit a correction"}},
		{"correction without a reason", who.siteA, mkCorrect(p.ID, first.ID, goodVitals(), ""), []string{"needs a reason"}},
		{"correction of an unknown entry", who.siteA, mkCorrect(p.ID, "crf-000000999", goodVitals(), "typo"), []string{"not-found"}},
		{"correction out of range", who.siteA, mkCorrect(p.ID, first.ID, with(goodVitals(), "HR", model.FieldValue{Value: "9", Unit: "/min"}), "typo"), []string{"out-of-range"}},
		{"adverse event aware in the future", who.siteA, trials.AECall(p.ID, s1, "Rash", true, "mild", c.now.Add(time.Hour), "", "", sig("Dr. Site PI", "author")), []string{"after the block time"}},
		{"adverse event with unknown severity", who.siteA, trials.AECall(p.ID, s1, "Rash", false, "awful", c.now, "", "", sig("Dr. Site PI", "author")), []string{"severity"}},
		{"adverse event for a subject not enrolled", who.siteA, trials.AECall(p.ID, stranger, "Rash", false, "mild", c.now, "", "", sig("Dr. Site PI", "author")), []string{"not enrolled"}},
		{"lock by a site", who.siteA, lockCall, []string{"forbidden"}},
		{"results before lock (active)", who.sponsor, resultsCall, []string{"wrong-state", "before database lock"}},
		{"unknown trial", who.siteA, submitArgs("NCT00000000", s1, "day1", "vitals", goodVitals()), []string{"not-found", "no trial"}},
	})

	c.t = t
	c.ok(who.sponsor, lockCall, nil)
	badResults, _ := trials.ResultsCall(p.ID, results, trials.HashBytes([]byte("ds")), "", sig("Eve Statistician", "results"))
	runRefusals(t, c, []refusal{
		{"data after lock", who.siteA, submitArgs(p.ID, s1, "day8", "vitals", goodVitals()), []string{"wrong-state", "locked"}},
		{"enrolment after lock", who.siteA, enroll(who.siteA, newSubject(t), 2), []string{"wrong-state"}},
		{"amendment after lock", who.sponsor, trials.AmendCall(am3, amSig, nil), []string{"wrong-state", "locked"}},
		{"results by a site", who.siteA, badResults, []string{"forbidden"}},
	})
	c.t = t
	c.ok(who.sponsor, resultsCall, nil)
	runRefusals(t, c, []refusal{
		{"results twice", who.sponsor, resultsCall, []string{"exists", "already submitted"}},
	})
}

func mkEnroll(trial, subject string, version int) trials.Call {
	// bypass the client check on purpose: the contract must refuse it too
	return trials.Call{Contract: trials.TrialProtocol, Method: "enroll", Args: mustJSON(model.EnrollArgs{Trial: trial, Subject: subject,
		ConsentDocHash: trials.HashBytes([]byte("c")), ProtocolVersion: version, Signature: sig("Dr. Site PI", "enrolment")})}
}

func mkCorrect(trial, entry string, f map[string]model.FieldValue, reason string) trials.Call {
	return trials.Call{Contract: trials.TrialProtocol, Method: "correct", Args: mustJSON(model.CorrectArgs{Trial: trial, Entry: entry, Fields: f,
		RecordHash: trials.HashBytes([]byte(entry)), Reason: reason, Signature: sig("Dr. Site PI", "correction")})}
}

// TestGenomeBadInput covers the genome-access refusals: requests by a
// revoked or expired grant, and the other misuses.
func TestGenomeBadInput(t *testing.T) {
	c := newChain(t)
	who := newCast()
	dac := c.groups[testgroups.DataAccessCommittee]
	ds := model.Dataset{ID: "wgs-1", Hash: trials.HashBytes([]byte("d")), LocationCommitment: commitTo(who.siteA, "wgs-1", "blob:wgs-1"),
		Codes: []string{model.DUOHMB, model.DUOTimeLimit, model.DUOCollaboration}, MaxDays: 10, Delegates: []string{who.delegate.hex()}, CommitteeGroup: dac.ID}
	call, err := trials.RegisterDatasetCall(ds)
	if err != nil {
		t.Fatal(err)
	}
	c.ok(who.siteA, call, nil)
	req, _ := trials.RequestCall(model.AccessRequest{Dataset: ds.ID, Project: "p", Purpose: model.DUOHMB, Days: 30})
	var held model.Request
	c.ok(who.researcherA, req, &held)
	if held.Status != model.Held || !strings.Contains(held.Decision.Rule, "COL") {
		t.Fatalf("not held: %+v", held)
	}
	reason := "approved"
	dd := trials.DecisionDigest(held.ID, ds.ID, true, 0, reason)
	good := mustConsent(t, dac, trials.GenomeAccess, "decide", dd, consent.MeaningReleaseGenomeData, c.now, 2, 3)
	twoPerm := ds
	twoPerm.ID, twoPerm.Codes = "wgs-2", []string{model.DUOHMB, model.DUOGRU}
	badCode := ds
	badCode.ID, badCode.Codes = "wgs-3", []string{model.DUOHMB, "DUO:9999999"}
	runRefusals(t, c, []refusal{
		{"committee decision without consent", who.regulator, trials.DecideCall(held.ID, true, 0, reason, nil), []string{"consent-required"}},
		{"committee decision with consent for the opposite decision", who.regulator,
			trials.DecideCall(held.ID, false, 0, reason, good), []string{"consent-required", "not a valid consent"}},
		{"request by a site", who.siteA, req, []string{"forbidden", "only a researcher"}},
		{"request for an unknown dataset", who.researcherA, mustRequest(t, model.AccessRequest{Dataset: "nope", Project: "p", Purpose: model.DUOHMB}), []string{"not-found"}},
		{"dataset with two permissions", who.siteA, rawCall(trials.GenomeAccess, "register", model.RegisterDatasetArgs{Dataset: twoPerm}), []string{"exactly one DUO permission"}},
		{"dataset with an unknown DUO code", who.siteA, rawCall(trials.GenomeAccess, "register", model.RegisterDatasetArgs{Dataset: badCode}), []string{"not a GA4GH DUO term"}},
		{"dataset registered twice", who.siteA, call, []string{"exists"}},
		{"request with a purpose that is not a DUO permission", who.researcherA, rawCall(trials.GenomeAccess, "request", model.AccessRequest{Dataset: ds.ID, Project: "p", Purpose: "DUO:0000046"}), []string{"purpose"}},
	})
	var dec model.Request
	c.t = t
	c.ok(who.regulator, trials.DecideCall(held.ID, true, 0, reason, good), &dec)
	var g model.Grant
	c.ok(who.regulator, trials.GrantCall(dec.Grant), &g)
	if g.ExpiresMs-c.now.UnixMilli() > 10*24*3600*1000 {
		t.Fatalf("grant longer than TS maxDays: %+v", g)
	}
	c.ok(who.siteA, releaseCall(t, who.siteA, who.researcherA.key, dec.Grant, ds.ID, "blob:wgs-1"), nil)
	c.ok(who.researcherA, trials.AccessCall(dec.Grant), nil)
	runRefusals(t, c, []refusal{
		{"release twice", who.siteA, releaseCall(t, who.siteA, who.researcherA.key, dec.Grant, ds.ID, "blob:wgs-1"), []string{"exists"}},
		{"release by another organisation", who.siteB, releaseCall(t, who.siteB, who.researcherA.key, dec.Grant, ds.ID, "blob:wgs-1"), []string{"forbidden", "only the custodian"}},
		{"release that is not hex", who.siteA, rawCall(trials.GenomeAccess, "release", model.ReleaseArgs{Grant: dec.Grant, Sealed: "XYZ"}), []string{"invalid", "hex"}},
		{"decision replayed", who.regulator, trials.DecideCall(held.ID, true, 0, reason, good), []string{"wrong-state"}},
		{"access by another researcher", who.researcherB, trials.AccessCall(dec.Grant), []string{"forbidden", "another researcher"}},
		{"revocation by a researcher", who.researcherB, trials.RevokeCall(dec.Grant, "x"), []string{"forbidden", "delegate"}},
		{"revocation by a subject who is not a delegate", newActor("other-subject", "x", "subject"), trials.RevokeCall(dec.Grant, "x"), []string{"forbidden"}},
		{"revocation without reason", who.delegate, trials.RevokeCall(dec.Grant, ""), []string{"needs a reason"}},
		{"unknown grant", who.researcherA, trials.AccessCall("grant-000000999"), []string{"not-found"}},
	})

	// Expiry: 11 days later the grant is expired.
	c.advance(11 * 24 * time.Hour)
	runRefusals(t, c, []refusal{
		{"request by an expired grant", who.researcherA, trials.AccessCall(dec.Grant), []string{"expired"}},
	})
	// Revocation: a second grant, revoked by the subject's delegate.
	req2, _ := trials.RequestCall(model.AccessRequest{Dataset: ds.ID, Project: "p2", Purpose: model.DUOHMB})
	var held2 model.Request
	c.t = t
	c.ok(who.researcherA, req2, &held2)
	c.ok(who.regulator, trials.DecideCall(held2.ID, true, 5, "ok", mustConsent(t, dac, trials.GenomeAccess, "decide", trials.DecisionDigest(held2.ID, ds.ID, true, 5, "ok"), consent.MeaningReleaseGenomeData, c.now, 1, 2)), &held2)
	c.ok(who.delegate, trials.RevokeCall(held2.Grant, "subject withdrew"), nil)
	runRefusals(t, c, []refusal{
		{"request by a revoked grant", who.researcherA, trials.AccessCall(held2.Grant), []string{"revoked", "subject withdrew"}},
		{"revoked twice", who.delegate, trials.RevokeCall(held2.Grant, "again"), []string{"already revoked"}},
	})
}

func mustRequest(t *testing.T, r model.AccessRequest) trials.Call {
	call, err := trials.RequestCall(r)
	if err != nil {
		t.Fatal(err)
	}
	return call
}

func rawCall(contract, method string, args any) trials.Call {
	return trials.Call{Contract: contract, Method: method, Args: mustJSON(args)}
}

// TestSurgeryBadInput covers the surgical-records refusals, above all an
// unsigned record used as final.
func TestSurgeryBadInput(t *testing.T) {
	c := newChain(t)
	who := newCast()
	team, board := c.groups[testgroups.SurgicalTeam], c.groups[testgroups.AmendmentBoard]
	proc := model.Procedure{ID: "surg-1", Patient: "pt-1", Site: "site-melbourne", Surgeon: "Dr A",
		Code:  model.Coding{System: "http://snomed.info/sct", Code: "80146002", Display: "Appendectomy"},
		Start: "2026-03-01T10:00:00Z", End: "2026-03-01T11:00:00Z", Outcome: "uneventful", TeamGroup: team.ID}
	call, err := trials.RecordCall(proc, sig("Dr A", "author"), c.now)
	if err != nil {
		t.Fatal(err)
	}
	var r model.SurgicalRecord
	c.ok(who.siteA, call, &r)
	subj := newSubject(t)
	onChain := proc.Deidentified(trials.HashBytes([]byte("full record")))
	backwards := onChain
	backwards.ID, backwards.End = "surg-2", "2026-02"
	future := onChain
	future.ID, future.End = "surg-3", "2027-01"
	otherSite := onChain
	otherSite.ID, otherSite.Site = "surg-4", "site-sydney"
	// No PHI on the ledger: the contract refuses what the client would not send.
	named := proc
	named.ID, named.RecordHash = "surg-5", trials.HashBytes([]byte("x"))
	exactDate := onChain
	exactDate.ID, exactDate.Start, exactDate.End = "surg-6", "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z"
	noHash := onChain
	noHash.ID, noHash.RecordHash = "surg-7", ""
	runRefusals(t, c, []refusal{
		{"unsigned record used as final", who.regulator, trials.FinalCall(r.ID), []string{"wrong-state", "not final", "co-signed"}},
		{"unsigned record linked to a trial subject", who.siteA, trials.LinkCall(r.ID, "NCT05503693", subj, sig("Dr A", "link")), []string{"not final"}},
		{"unsigned record amended", who.siteA, trials.AddendumCall(r.ID, "text", "reason", sig("Dr A", "addendum")), []string{"not final"}},
		{"co-signature without consent", who.siteA, trials.CosignCall(r.ID, nil), []string{"consent-required"}},
		{"co-signature by another group", who.siteA, trials.CosignCall(r.ID, mustConsent(t, board, trials.SurgicalRecords, "cosign", trials.RecordDigest(&r), consent.MeaningAttestSurgicalRecord, c.now, 1, 2, 3)), []string{"not a valid consent"}},
		{"co-signature of another record", who.siteA, trials.CosignCall(r.ID, mustConsent(t, team, trials.SurgicalRecords, "cosign", [32]byte{1}, consent.MeaningAttestSurgicalRecord, c.now, 1, 2)), []string{"not a valid consent"}},
		{"record ending before it starts", who.siteA, rawCall(trials.SurgicalRecords, "record", model.RecordArgs{Procedure: backwards, Signature: sig("Dr A", "author")}), []string{"before start"}},
		{"record ending in the future", who.siteA, rawCall(trials.SurgicalRecords, "record", model.RecordArgs{Procedure: future, Signature: sig("Dr A", "author")}), []string{"in the future"}},
		{"record for another site", who.siteA, rawCall(trials.SurgicalRecords, "record", model.RecordArgs{Procedure: otherSite, Signature: sig("Dr A", "author")}), []string{"forbidden"}},
		{"record with the surgeon's name and outcome text", who.siteA, rawCall(trials.SurgicalRecords, "record", model.RecordArgs{Procedure: named, Signature: sig("Dr A", "author")}), []string{"phi", "off-chain"}},
		{"record with exact dates", who.siteA, rawCall(trials.SurgicalRecords, "record", model.RecordArgs{Procedure: exactDate, Signature: sig("Dr A", "author")}), []string{"phi", "month only"}},
		{"record without the full record's hash", who.siteA, rawCall(trials.SurgicalRecords, "record", model.RecordArgs{Procedure: noHash, Signature: sig("Dr A", "author")}), []string{"recordHash"}},
		{"record by a sponsor", who.sponsor, call, []string{"forbidden"}},
		{"record twice", who.siteA, call, []string{"exists"}},
	})
	good := mustConsent(t, team, trials.SurgicalRecords, "cosign", trials.RecordDigest(&r), consent.MeaningAttestSurgicalRecord, c.now, 2, 3)
	c.t = t
	c.ok(who.siteA, trials.CosignCall(r.ID, good), &r)
	var corr model.SurgicalRecord
	fixed := proc
	fixed.Outcome = "uneventful; drain removed day 2"
	c.ok(who.siteA, trials.CorrectionCall(r.ID, fixed, "outcome incomplete", sig("Dr A", "correction")), &corr)
	var orig model.SurgicalRecord
	c.ok(who.regulator, trials.FinalCall(r.ID), &orig)
	if orig.Procedure.RecordHash == corr.Procedure.RecordHash || orig.Procedure.Surgeon != "" || orig.Procedure.Outcome != "" || corr.Amends != r.ID || corr.Status != model.RecordPending {
		t.Fatalf("original %+v correction %+v", orig, corr)
	}
	renamed := fixed
	renamed.Patient = "pt-2"
	runRefusals(t, c, []refusal{
		{"co-signed twice", who.siteA, trials.CosignCall(r.ID, good), []string{"already final"}},
		{"unsigned correction used as final", who.regulator, trials.FinalCall(corr.ID), []string{"not final"}},
		{"correction changing the patient", who.siteA, trials.CorrectionCall(r.ID, renamed, "x", sig("Dr A", "correction")), []string{"keeps the record id, site and patient"}},
		{"addendum without reason", who.siteA, trials.AddendumCall(r.ID, "text", "", sig("Dr A", "addendum")), []string{"needs a reason"}},
		{"amendment by another site", who.siteB, trials.AddendumCall(r.ID, "text", "reason", sig("Dr B", "addendum")), []string{"forbidden"}},
		{"addendum with its text in the clear", who.siteA, rawCall(trials.SurgicalRecords, "amend", model.SurgeryAmendArgs{Record: r.ID, Kind: model.RecordAddendum, Text: "wound healing well", Reason: "follow-up", Signature: sig("Dr A", "addendum")}), []string{"phi", "SHA-256"}},
		{"link with a non-random subject id", who.siteA, trials.LinkCall(r.ID, "NCT05503693", "subject-1", sig("Dr A", "link")), []string{"32 lowercase hex"}},
	})
}
