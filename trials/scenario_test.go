package trials_test

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
	"github.com/trialchain/trialchain/trials/testgroups"
)

// fixturesDir holds the standards bodies' files (see ../shared/fixtures/FIXTURES.md).
var fixturesDir = filepath.Join("..", "..", "shared", "fixtures")

// fixture returns a shared fixture, skipping the test if ../shared is absent.
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

// fixtureOr returns a shared fixture, or the hand-written testdata file if
// ../shared is absent (so the scenario still runs on a fresh clone).
func fixtureOr(t testing.TB, rel, fallback string) []byte {
	t.Helper()
	if _, err := os.Stat(fixturesDir); err == nil {
		return fixture(t, rel)
	}
	t.Logf("conformance fixtures absent: using %s instead of %s", fallback, rel)
	b, err := os.ReadFile(fallback)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sig(name, meaning string) model.Signature {
	return model.Signature{PrintedName: name, Meaning: meaning}
}

// cast is the demo's people.
type cast struct {
	sponsor, siteA, siteB, stranger, researcherA, researcherB, delegate, regulator actor
}

func newCast() cast {
	return cast{
		sponsor:     newActor("sponsor", "alebund", "sponsor"),
		siteA:       newActor("site-a", "site-melbourne", "site"),
		siteB:       newActor("site-b", "site-sydney", "site"),
		stranger:    newActor("stranger", "site-perth", "site"),
		researcherA: newActor("researcher-a", "uni-genomics", "researcher"),
		researcherB: newActor("researcher-b", "pharma-co", "researcher"),
		delegate:    newActor("delegate", "patient-advocates", "subject"),
		regulator:   newActor("regulator", "tga", "regulator"),
	}
}

// registerTrial registers the NCT05503693 protocol (or the hand-written one).
func registerTrial(t *testing.T, c *chain, who cast) model.Protocol {
	t.Helper()
	study := fixtureOr(t, "fhir-r5/ResearchStudy-example-ctgov-study-record.json", "testdata/researchstudy-small.json")
	tmpl := trials.DefaultTemplate()
	tmpl.ConsentGroup = c.groups[testgroups.AmendmentBoard].ID
	p, err := trials.ProtocolFromResearchStudy(study, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	call, err := trials.RegisterCall(p, sig("Dr. Ada Sponsor", "registration"))
	if err != nil {
		t.Fatal(err)
	}
	var st model.TrialState
	c.ok(who.sponsor, call, &st)
	if st.Status != model.StatusRegistered || st.Protocol.Version != 1 || st.Protocol.Sponsor != "alebund" {
		t.Fatalf("registered %+v", st)
	}
	return st.Protocol
}

// mustConsent has parties of g consent to the action the chain checks when
// contract's method passes digest to consent_verify.
func mustConsent(t testing.TB, g *testgroups.Group, contract, method string, digest [32]byte, meaning string, at time.Time, parties ...int) []byte {
	t.Helper()
	b, err := g.Consent(rand.Reader, chainID, action(contract, method, digest), meaning, at, parties...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newSubject(t testing.TB) string {
	t.Helper()
	id, err := trials.NewSubjectID(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func vitals(sys, dia, hr string) map[string]model.FieldValue {
	return map[string]model.FieldValue{
		"SYSBP": {Value: sys, Unit: "mm[Hg]"}, "DIABP": {Value: dia, Unit: "mm[Hg]"}, "HR": {Value: hr, Unit: "/min"},
		"NOTES": {Value: "Subject calm; J.D. mentioned a headache"},
	}
}

// TestDemoScenario plays every step of the demo (issue 5, item 5) in the
// real VM, one block per call.
func TestDemoScenario(t *testing.T) {
	c := newChain(t)
	who := newCast()
	board, team, dac := c.groups[testgroups.AmendmentBoard], c.groups[testgroups.SurgicalTeam], c.groups[testgroups.DataAccessCommittee]

	// 1. A protocol registered from the NCT05503693 ResearchStudy.
	p := registerTrial(t, c, who)
	t.Logf("registered %s v%d: %d outcomes, sites %v", p.ID, p.Version, len(p.Outcomes), p.Sites)

	// 2. An amendment refused without consent, then accepted with a 3-of-5 consent.
	outs := append(append([]model.Outcome(nil), p.Outcomes...), model.Outcome{ID: "secondary-bp", Type: model.Secondary,
		Measure: "Change in systolic blood pressure from baseline", TimeFrame: "Day 8"})
	am := trials.Amendment{Trial: p.ID, Version: 2, Reason: "Ethics committee asked for a blood-pressure outcome", Changes: model.Changes{Outcomes: &outs}}
	msg := c.refused(who.sponsor, trials.AmendCall(am, sig("Dr. Ada Sponsor", "amendment"), nil), "consent-required", "none was given")
	t.Logf("amendment without consent refused: %s", msg)
	good := mustConsent(t, board, trials.TrialProtocol, "amend", am.Digest(), consent.MeaningApproveAmendment, c.now, 1, 2, 4)
	var amended model.Amendment
	c.ok(who.sponsor, trials.AmendCall(am, sig("Dr. Ada Sponsor", "amendment"), good), &amended)
	if amended.Version != 2 || len(amended.OutcomeChanges) != 1 || !strings.Contains(amended.OutcomeChanges[0], "added secondary outcome secondary-bp") {
		t.Fatalf("amendment %+v", amended)
	}
	var view model.TrialView
	c.ok(who.regulator, trials.ShowCall(p.ID), &view)
	if view.Protocol.Version != 2 || len(view.History) != 1 || view.History[0].ConsentHash == "" {
		t.Fatalf("history not visible: %+v", view.History)
	}

	// 3. Subjects enrolled at two sites.
	c.ok(who.sponsor, trials.ActivateCall(p.ID, sig("Dr. Ada Sponsor", "activation")), nil)
	s1, s2, s3 := newSubject(t), newSubject(t), newSubject(t)
	for _, e := range []struct {
		site actor
		subj string
	}{{who.siteA, s1}, {who.siteA, s2}, {who.siteB, s3}} {
		call, err := trials.EnrollCall(p.ID, e.subj, trials.HashBytes([]byte("signed consent of "+e.subj)), 2, p.Arms[0].ID, sig("Dr. Site PI", "enrolment"))
		if err != nil {
			t.Fatal(err)
		}
		c.ok(e.site, call, nil)
	}
	c.ok(who.regulator, trials.ShowCall(p.ID), &view)
	if view.Subjects != 3 || len(view.Baseline) != len(outs) || view.BaselineVer != 2 {
		t.Fatalf("after enrolment: subjects %d, baseline %d outcomes v%d", view.Subjects, len(view.Baseline), view.BaselineVer)
	}

	// 4. Case-report forms: one valid, one invalid refused with its reason, one correction with a reason.
	rec, err := trials.NewRecord(rand.Reader, p.ID, s1, "day1", "vitals", vitals("128", "82", "71"))
	if err != nil {
		t.Fatal(err)
	}
	call, err := trials.SubmitCall(&p, rec, sig("Dr. Site PI", "author"))
	if err != nil {
		t.Fatal(err)
	}
	var entry model.Entry
	c.ok(who.siteA, call, &entry)
	if _, leaked := entry.Public["NOTES"]; leaked || entry.Public["SYSBP"].Value != "128" || entry.RecordHash != rec.Hash() || entry.Manifestation.PrintedName != "Dr. Site PI" {
		t.Fatalf("entry %+v", entry)
	}
	bad, _ := trials.NewRecord(rand.Reader, p.ID, s2, "day1", "vitals", vitals("300", "82", "71"))
	if _, err := trials.SubmitCall(&p, bad, sig("Dr. Site PI", "author")); err == nil || !strings.Contains(err.Error(), "above the maximum 250") {
		t.Fatalf("client check: %v", err)
	}
	msg = c.refused(who.siteA, trials.UncheckedSubmitCall(p.ID, s2, "day1", "vitals",
		map[string]model.FieldValue{"SYSBP": {Value: "300", Unit: "mm[Hg]"}, "DIABP": {Value: "82", Unit: "mm[Hg]"}, "HR": {Value: "71", Unit: "/min"}},
		bad.Hash(), sig("Dr. Site PI", "author")), "out-of-range", "SYSBP", "above the maximum 250")
	t.Logf("invalid form refused: %s", msg)
	fixed := rec
	fixed.Fields = vitals("118", "82", "71")
	call, err = trials.CorrectCall(&p, entry.ID, fixed, "transcription error: 118 read as 128", sig("Dr. Site PI", "correction"))
	if err != nil {
		t.Fatal(err)
	}
	var corr model.Entry
	c.ok(who.siteA, call, &corr)
	var ev model.EntryView
	c.ok(who.regulator, trials.EntryCall(p.ID, entry.ID), &ev)
	if ev.Entry.Public["SYSBP"].Value != "128" || len(ev.Corrections) != 1 || ev.Corrections[0] != corr.ID || corr.Corrects != entry.ID || corr.Reason == "" {
		t.Fatalf("original %+v corrections %v correction %+v", ev.Entry, ev.Corrections, corr)
	}

	// 5. A serious adverse event reported late and flagged.
	var sae model.AdverseEvent
	c.ok(who.siteB, trials.AECall(p.ID, s3, "Anaphylaxis", true, "severe", c.now.Add(-30*time.Hour), "2026-03-01", "", sig("Dr. Sydney PI", "author")), &sae)
	if !sae.Late || sae.MinutesLate < 5*60 {
		t.Fatalf("late SAE not flagged: %+v", sae)
	}
	var onTime model.AdverseEvent
	c.ok(who.siteA, trials.AECall(p.ID, s1, "Headache", true, "moderate", c.now.Add(-2*time.Hour), "", "", sig("Dr. Site PI", "author")), &onTime)
	if onTime.Late {
		t.Fatalf("on-time SAE flagged late: %+v", onTime)
	}

	// 6. A genome dataset; one request granted, one denied by its DUO rule, one decided by the committee.
	ds := model.Dataset{ID: "wgs-ap303", Hash: trials.HashBytes([]byte("encrypted genome dataset")), LocationCommitment: commitTo(who.siteA, "wgs-ap303", "blob:wgs-ap303"),
		Codes: []string{model.DUOHMB, model.DUONCU, model.DUOEthics}, Delegates: []string{who.delegate.hex()}, CommitteeGroup: dac.ID, MaxDays: 180}
	call, err = trials.RegisterDatasetCall(ds)
	if err != nil {
		t.Fatal(err)
	}
	c.ok(who.siteA, call, nil)
	irb := trials.HashBytes([]byte("IRB approval 2026-17"))
	var granted model.Request
	call, _ = trials.RequestCall(model.AccessRequest{Dataset: ds.ID, Project: "AP303 pharmacogenomics", Purpose: model.DUOHMB, EthicsApproval: irb, Days: 90})
	c.ok(who.researcherA, call, &granted)
	if granted.Status != model.Granted || granted.Grant == "" {
		t.Fatalf("request not granted: %+v", granted)
	}
	var denied model.Request
	call, _ = trials.RequestCall(model.AccessRequest{Dataset: ds.ID, Project: "Drug target discovery", Purpose: model.DUOHMB, Commercial: true, ForProfit: true, EthicsApproval: irb})
	c.ok(who.researcherB, call, &denied)
	if denied.Status != model.Denied || !strings.Contains(denied.Decision.Rule, "NCU") {
		t.Fatalf("request not denied by NCU: %+v", denied.Decision)
	}
	ds2 := model.Dataset{ID: "wgs-col", Hash: trials.HashBytes([]byte("second dataset")), LocationCommitment: commitTo(who.siteB, "wgs-col", "blob:wgs-col"),
		Codes: []string{model.DUOGRU, model.DUOCollaboration, model.DUOPublication}, Delegates: []string{who.delegate.hex()}, CommitteeGroup: dac.ID}
	call, _ = trials.RegisterDatasetCall(ds2)
	c.ok(who.siteB, call, nil)
	var held model.Request
	call, _ = trials.RequestCall(model.AccessRequest{Dataset: ds2.ID, Project: "Rare variant atlas", Purpose: model.DUOGRU, Days: 30})
	c.ok(who.researcherA, call, &held)
	if held.Status != model.Held {
		t.Fatalf("request not held: %+v", held.Decision)
	}
	reason := "collaboration agreement signed"
	dd := trials.DecisionDigest(held.ID, ds2.ID, true, 30, reason)
	var decided model.Request
	c.ok(who.regulator, trials.DecideCall(held.ID, true, 30, reason, mustConsent(t, dac, trials.GenomeAccess, "decide", dd, consent.MeaningReleaseGenomeData, c.now, 1, 3)), &decided)
	if decided.Status != "approved" || decided.Grant == "" {
		t.Fatalf("committee decision: %+v", decided)
	}
	c.ok(who.siteA, releaseCall(t, who.siteA, who.researcherA.key, granted.Grant, ds.ID, "blob:wgs-ap303"), nil)
	var acc model.AccessResult
	c.ok(who.researcherA, trials.AccessCall(granted.Grant), &acc)
	if loc, err := openAccess(who.researcherA, acc); err != nil || loc != "blob:wgs-ap303" || acc.Access != 1 {
		t.Fatalf("access %+v: %q %v", acc, loc, err)
	}
	c.ok(who.delegate, trials.RevokeCall(granted.Grant, "subject withdrew consent for genome sharing"), nil)
	c.refused(who.researcherA, trials.AccessCall(granted.Grant), "revoked")
	var log []model.LogEntry
	c.ok(who.regulator, trials.LogCall(ds.ID), &log)
	kinds := []string{}
	for _, e := range log {
		kinds = append(kinds, e.Kind)
	}
	if got, want := strings.Join(kinds, ","), "register,request,decision,request,decision,release,access,revoke"; got != want {
		t.Fatalf("log %s, want %s", got, want)
	}

	// 7. A surgical record co-signed and later amended.
	proc := model.Procedure{ID: "surg-0001", Patient: "pt-7f3a9c", Site: "site-melbourne", Surgeon: "Dr Cecil Surgeon",
		Code:   model.Coding{System: "http://snomed.info/sct", Code: "25267002", Display: "Insertion of intracardiac pacemaker"},
		Device: "Device/example-pacemaker", Start: "2026-03-02T07:00:00Z", End: "2026-03-02T08:10:00Z", Outcome: "Successful", TeamGroup: team.ID}
	if b := fixtureIfPresent(fixturesDir, "fhir-r4/Procedure-example-implant.json"); b != nil {
		proc, err = trials.ProcedureFromFHIR(b, trials.ProcedureOptions{ID: "surg-0001", Patient: "pt-7f3a9c", Site: "site-melbourne", TeamGroup: team.ID})
		if err != nil {
			t.Fatal(err)
		}
	}
	call, err = trials.RecordCall(proc, sig("Dr Cecil Surgeon", "author"), c.now)
	if err != nil {
		t.Fatal(err)
	}
	var sr model.SurgicalRecord
	c.ok(who.siteA, call, &sr)
	c.refused(who.regulator, trials.FinalCall(sr.ID), "wrong-state", "not final")
	c.ok(who.siteA, trials.CosignCall(sr.ID, mustConsent(t, team, trials.SurgicalRecords, "cosign", trials.RecordDigest(&sr), consent.MeaningAttestSurgicalRecord, c.now, 1, 2)), &sr)
	if sr.Status != model.RecordFinal {
		t.Fatalf("record not final: %+v", sr)
	}
	var add model.SurgicalRecord
	c.ok(who.siteA, trials.AddendumCall(sr.ID, "Post-operative check at day 5: wound healing well", "follow-up finding", sig("Dr Cecil Surgeon", "addendum")), &add)
	c.ok(who.siteA, trials.CosignCall(add.ID, mustConsent(t, team, trials.SurgicalRecords, "cosign", trials.RecordDigest(&add), consent.MeaningAttestSurgicalRecord, c.now, 2, 3)), &add)
	if add.Status != model.RecordFinal || add.Amends != sr.ID {
		t.Fatalf("addendum %+v", add)
	}
	c.ok(who.siteA, trials.LinkCall(sr.ID, p.ID, s1, sig("Dr Cecil Surgeon", "link")), nil)
	var rv model.RecordView
	c.ok(who.regulator, trials.ShowRecordCall(sr.ID), &rv)
	if rv.Record.Status != model.RecordFinal || rv.Record.Procedure.Code.Code != "25267002" || len(rv.Amendments) != 1 || rv.Amendments[0] != add.ID || len(rv.Links) != 1 {
		t.Fatalf("record view %+v", rv)
	}

	// 8. Database lock; results with a switched primary outcome, flagged by the report.
	c.ok(who.sponsor, trials.LockCall(p.ID, sig("Dr. Ada Sponsor", "database lock")), nil)
	results := switchedResults(t, p)
	call, err = trials.ResultsCall(p.ID, results, trials.HashBytes([]byte("adtte")), "CDISC Dataset-JSON adtte", sig("Eve Statistician", "results"))
	if err != nil {
		t.Fatal(err)
	}
	var rep model.Report
	c.ok(who.sponsor, call, &rep)
	if rep.Faithful || !rep.PrimarySwitched || len(rep.Added)+len(rep.Changed) == 0 || len(rep.Missing) == 0 {
		t.Fatalf("report does not flag the switch: %+v", rep)
	}
	var stored model.Report
	c.ok(who.regulator, trials.ReportCall(p.ID), &stored)
	if stored.ResultsHash != rep.ResultsHash {
		t.Fatal("stored report differs")
	}
	t.Log(trials.FormatReport(&stored))

	// The same transactions on a fresh node give the same results, gas and state.
	c.replay(t)
	var maxGas uint64
	maxArgs := 0
	for _, l := range c.log {
		maxGas = max(maxGas, l.res.GasUsed)
		maxArgs = max(maxArgs, len(l.call.Args))
	}
	t.Logf("%d calls; largest arguments %d bytes, largest state value %d bytes, most gas %d", len(c.log), maxArgs, c.largestValue(), maxGas)
}

func fixtureIfPresent(dir, rel string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return nil
	}
	return b
}

// switchedResults reports the first registered primary outcome and, as
// primary, a measure never registered — the time to first dermatologic
// event, computed from the adsl/adtte Dataset-JSON fixtures when present —
// while the other registered primaries are dropped.
func switchedResults(t *testing.T, p model.Protocol) []model.OutcomeResult {
	t.Helper()
	var first model.Outcome
	for _, o := range p.Outcomes {
		if o.Type == model.Primary {
			first = o
			break
		}
	}
	out := []model.OutcomeResult{
		{Outcome: first.ID, Type: model.Primary, Measure: first.Measure, Arms: []model.ArmResult{{Arm: "ap303", N: 2, Events: 1}, {Arm: "placebo", N: 1, Events: 0}}},
	}
	adtteB, adslB := fixtureIfPresent(fixturesDir, "cdisc-dataset-json/adtte.json"), fixtureIfPresent(fixturesDir, "cdisc-dataset-json/adsl.json")
	if adtteB == nil || adslB == nil {
		return append(out, model.OutcomeResult{Type: model.Primary, Measure: "Time to First Dermatologic Event",
			Arms: []model.ArmResult{{Arm: "ap303", N: 2, Events: 1, Value: "24", Unit: "d"}}})
	}
	adtte, err := trials.ParseDatasetJSON(adtteB)
	if err != nil {
		t.Fatal(err)
	}
	adsl, err := trials.ParseDatasetJSON(adslB)
	if err != nil {
		t.Fatal(err)
	}
	tte, err := trials.ResultsFromADaM(adtte, adsl, trials.ADaMOptions{Types: map[string]string{"TTDE": model.Primary}})
	if err != nil {
		t.Fatal(err)
	}
	return append(out, tte...)
}
