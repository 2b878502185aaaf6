package trials_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
	"github.com/trialchain/trialchain/trials/testgroups"
	"github.com/trialchain/trialchain/vm"
)

// sealed reports whether the contract's key is sealed in the harness.
func (c *chain) sealed(contract, key string) bool {
	c.t.Helper()
	ok, _, err := vm.NewSealStore(c.seals[contract], 0).Sealed([]byte(key))
	if err != nil {
		c.t.Fatal(err)
	}
	return ok
}

// activeTrialWithEntry registers and activates a trial, enrols a subject
// at site A and submits one form; it returns the protocol, the subject and
// the entry.
func activeTrialWithEntry(t *testing.T, c *chain, who cast) (model.Protocol, string, model.Entry) {
	t.Helper()
	p := registerTrial(t, c, who)
	c.ok(who.sponsor, trials.ActivateCall(p.ID, sig("Dr. Ada Sponsor", "activation")), nil)
	s1 := newSubject(t)
	call, err := trials.EnrollCall(p.ID, s1, trials.HashBytes([]byte("consent "+s1)), 1, p.Arms[0].ID, sig("Dr. Site PI", "enrolment"))
	if err != nil {
		t.Fatal(err)
	}
	c.ok(who.siteA, call, nil)
	rec, err := trials.NewRecord(rand.Reader, p.ID, s1, "day1", "vitals", vitals("180", "82", "71"))
	if err != nil {
		t.Fatal(err)
	}
	call, err = trials.SubmitCall(&p, rec, sig("Dr. Site PI", "author"))
	if err != nil {
		t.Fatal(err)
	}
	var e model.Entry
	c.ok(who.siteA, call, &e)
	return p, s1, e
}

// TestTrialRecordsSealed: every record trial-protocol writes is sealed when
// written; lock seals the trial's prefixes (no new entry can appear); the
// registration hands the contract's upgrades to the trial's group.
func TestTrialRecordsSealed(t *testing.T) {
	c, who := newChain(t), newCast()
	p, s1, e := activeTrialWithEntry(t, c, who)
	tp := trials.TrialProtocol
	if g := c.govern[tp]; g != p.ConsentGroup {
		t.Fatalf("contract governed by %q, want the trial's group %s", g, p.ConsentGroup)
	}
	for _, k := range []string{"entry/" + p.ID + "/" + e.ID, "subj/" + p.ID + "/" + s1, "done/" + p.ID + "/" + s1 + "/day1/vitals"} {
		if !c.sealed(tp, k) {
			t.Errorf("%s is not sealed", k)
		}
	}
	if c.sealed(tp, "trial/"+p.ID) {
		t.Error("the trial record is sealed before it is final")
	}
	if c.sealed(tp, "entry/"+p.ID+"/"+model.Seq("crf-", 2)) {
		t.Error("a future entry is sealed before lock")
	}
	c.ok(who.sponsor, trials.LockCall(p.ID, sig("Dr. Ada Sponsor", "database lock")), nil)
	for _, k := range []string{"entry/" + p.ID + "/" + model.Seq("crf-", 99), "subj/" + p.ID + "/S-NEW", "ae/" + p.ID + "/x", "corr/" + p.ID + "/a/b"} {
		if !c.sealed(tp, k) {
			t.Errorf("after lock, %s is not sealed", k)
		}
	}
	if c.sealed(tp, "entry/"+p.ID+"X/crf-1") {
		t.Error("lock sealed another trial's entries")
	}
	var st model.TrialView
	c.ok(who.regulator, trials.ShowCall(p.ID), &st)
	self := addr(tp)
	if st.Contracts[tp] != hex.EncodeToString(self[:]) {
		t.Fatalf("pinned contracts %v, want trial-protocol = %x", st.Contracts, self)
	}
}

// TestRecordIDCollisionRefused: each example contract creates a record only
// under a free id; a key already taken (left by an earlier code version,
// or another party's record) is refused or skipped, never overwritten.
func TestRecordIDCollisionRefused(t *testing.T) {
	who := newCast()
	t.Run("trial-protocol entry", func(t *testing.T) {
		c := newChain(t)
		p := registerTrial(t, c, who)
		c.ok(who.sponsor, trials.ActivateCall(p.ID, sig("Dr. Ada Sponsor", "activation")), nil)
		s1 := newSubject(t)
		call, _ := trials.EnrollCall(p.ID, s1, trials.HashBytes([]byte("consent")), 1, p.Arms[0].ID, sig("Dr. Site PI", "enrolment"))
		c.ok(who.siteA, call, nil)
		// A record an earlier code version left under the next entry id.
		taken := "entry/" + p.ID + "/" + model.Seq("crf-", 1)
		if err := c.kv[trials.TrialProtocol].Set([]byte(taken), []byte(`{"id":"planted"}`)); err != nil {
			t.Fatal(err)
		}
		rec, _ := trials.NewRecord(rand.Reader, p.ID, s1, "day1", "vitals", vitals("120", "80", "70"))
		call, _ = trials.SubmitCall(&p, rec, sig("Dr. Site PI", "author"))
		c.refused(who.siteA, call, "exists", "never overwritten")
	})
	t.Run("surgical-records correction", func(t *testing.T) {
		c := newChain(t)
		team := c.groups[testgroups.SurgicalTeam]
		// Site B records, and gets co-signed, an original named like site A's future correction.
		other := surgery(team.ID, "surg-0001.c1", "site-sydney")
		call, _ := trials.RecordCall(other, sig("Dr Sydney", "author"), c.now)
		var b model.SurgicalRecord
		c.ok(who.siteB, call, &b)
		c.ok(who.siteB, trials.CosignCall(b.ID, mustConsent(t, team, trials.SurgicalRecords, "cosign", trials.RecordDigest(&b), consent.MeaningAttestSurgicalRecord, c.now, 1, 2)), &b)
		var before model.RecordView
		c.ok(who.regulator, trials.ShowRecordCall(b.ID), &before)

		orig := surgery(team.ID, "surg-0001", "site-melbourne")
		call, _ = trials.RecordCall(orig, sig("Dr Cecil Surgeon", "author"), c.now)
		var a model.SurgicalRecord
		c.ok(who.siteA, call, &a)
		c.ok(who.siteA, trials.CosignCall(a.ID, mustConsent(t, team, trials.SurgicalRecords, "cosign", trials.RecordDigest(&a), consent.MeaningAttestSurgicalRecord, c.now, 1, 2)), &a)
		fixed := orig
		fixed.Outcome = "Successful after a second attempt"
		var corr model.SurgicalRecord
		c.ok(who.siteA, trials.CorrectionCall(a.ID, fixed, "outcome mis-typed", sig("Dr Cecil Surgeon", "correction")), &corr)
		if corr.ID == b.ID || corr.ID != "surg-0001.c2" {
			t.Fatalf("correction id %q: must skip site B's %q", corr.ID, b.ID)
		}
		var after model.RecordView
		c.ok(who.regulator, trials.ShowRecordCall(b.ID), &after)
		if string(mustJSON(after)) != string(mustJSON(before)) || after.Record.Procedure.Site != "site-sydney" || after.Record.Status != model.RecordFinal {
			t.Fatalf("site B's record changed:\n%s\n%s", mustJSON(before), mustJSON(after))
		}
		// And an original under a taken id is refused.
		dup := surgery(team.ID, "surg-0001.c2", "site-sydney")
		call, _ = trials.RecordCall(dup, sig("Dr Sydney", "author"), c.now)
		c.refused(who.siteB, call, "exists")
		if !c.sealed(trials.SurgicalRecords, "rec/surg-0001") || !c.sealed(trials.SurgicalRecords, "rec/surg-0001.c1") {
			t.Fatal("final records are not sealed")
		}
		if c.sealed(trials.SurgicalRecords, "rec/surg-0001.c2") {
			t.Fatal("a pending correction is sealed before it is co-signed")
		}
	})
	t.Run("genome-access request", func(t *testing.T) {
		c := newChain(t)
		ds := dataset(c, who)
		call, _ := trials.RegisterDatasetCall(ds)
		c.ok(who.siteA, call, nil)
		taken := "req/" + model.Seq("req-", 1)
		if err := c.kv[trials.GenomeAccess].Set([]byte(taken), []byte(`{"id":"planted"}`)); err != nil {
			t.Fatal(err)
		}
		call, _ = trials.RequestCall(model.AccessRequest{Dataset: ds.ID, Project: "P", Purpose: model.DUOHMB, EthicsApproval: trials.HashBytes([]byte("irb")), Days: 30})
		c.refused(who.researcherA, call, "exists", "never overwritten")
	})
}

func surgery(team, id, site string) model.Procedure {
	return model.Procedure{ID: id, Patient: "pt-7f3a9c", Site: site, Surgeon: "Dr Cecil Surgeon",
		Code:   model.Coding{System: "http://snomed.info/sct", Code: "25267002", Display: "Insertion of intracardiac pacemaker"},
		Device: "Device/example-pacemaker", Start: "2026-03-02T07:00:00Z", End: "2026-03-02T08:10:00Z", Outcome: "Successful", TeamGroup: team}
}

func dataset(c *chain, who cast) model.Dataset {
	return model.Dataset{ID: "wgs-ap303", Hash: trials.HashBytes([]byte("encrypted genome dataset")), LocationCommitment: commitTo(who.siteA, "wgs-ap303", secretLocation),
		Codes: []string{model.DUOHMB, model.DUOEthics}, Delegates: []string{who.delegate.hex()}, CommitteeGroup: c.groups[testgroups.DataAccessCommittee].ID, MaxDays: 180}
}

// TestConsentMeaning: a consent whose signers meant something else than
// the method needs is refused, in each contract.
func TestConsentMeaning(t *testing.T) {
	c, who := newChain(t), newCast()
	board := c.groups[testgroups.AmendmentBoard]
	p := registerTrial(t, c, who)
	outs := append(append([]model.Outcome(nil), p.Outcomes...), model.Outcome{ID: "secondary-bp", Type: model.Secondary, Measure: "Change in SBP", TimeFrame: "Day 8"})
	am := trials.Amendment{Trial: p.ID, Version: 2, Reason: "add an outcome", Changes: model.Changes{Outcomes: &outs}}
	reject := mustConsent(t, board, trials.TrialProtocol, "amend", am.Digest(), "REJECT amendment: we object", c.now, 1, 2, 3)
	c.refused(who.sponsor, trials.AmendCall(am, sig("Dr. Ada Sponsor", "amendment"), reject), "consent-required", `meaning "approve amendment"`)
	good := mustConsent(t, board, trials.TrialProtocol, "amend", am.Digest(), consent.MeaningApproveAmendment, c.now, 1, 2, 3)
	c.ok(who.sponsor, trials.AmendCall(am, sig("Dr. Ada Sponsor", "amendment"), good), nil)

	// genome: a refusal needs "refuse genome data", an approval "release genome data".
	dac := c.groups[testgroups.DataAccessCommittee]
	ds := dataset(c, who)
	ds.Codes = []string{model.DUOGRU, model.DUOCollaboration}
	call, _ := trials.RegisterDatasetCall(ds)
	c.ok(who.siteA, call, nil)
	var held model.Request
	call, _ = trials.RequestCall(model.AccessRequest{Dataset: ds.ID, Project: "Atlas", Purpose: model.DUOGRU, Days: 30})
	c.ok(who.researcherA, call, &held)
	if held.Status != model.Held {
		t.Fatalf("request %s, want held", held.Status)
	}
	dd := trials.DecisionDigest(held.ID, ds.ID, false, 0, "no")
	c.refused(who.regulator, trials.DecideCall(held.ID, false, 0, "no", mustConsent(t, dac, trials.GenomeAccess, "decide", dd, consent.MeaningReleaseGenomeData, c.now, 1, 2)), "consent-required")
	c.ok(who.regulator, trials.DecideCall(held.ID, false, 0, "no", mustConsent(t, dac, trials.GenomeAccess, "decide", dd, consent.MeaningRefuseGenomeData, c.now, 1, 2)), nil)
	if !c.sealed(trials.GenomeAccess, "req/"+held.ID) {
		t.Fatal("a decided request is not sealed")
	}

	// surgery: co-signing needs "attest surgical record".
	team := c.groups[testgroups.SurgicalTeam]
	call, _ = trials.RecordCall(surgery(team.ID, "surg-9", "site-melbourne"), sig("Dr Cecil Surgeon", "author"), c.now)
	var r model.SurgicalRecord
	c.ok(who.siteA, call, &r)
	c.refused(who.siteA, trials.CosignCall(r.ID, mustConsent(t, team, trials.SurgicalRecords, "cosign", trials.RecordDigest(&r), "REJECT: not what happened", c.now, 1, 2)), "consent-required")
}

// TestFixedApprovers: a surgical correction cannot name another team group
// to co-sign it.
func TestFixedApprovers(t *testing.T) {
	c, who := newChain(t), newCast()
	team := c.groups[testgroups.SurgicalTeam]
	orig := surgery(team.ID, "surg-1", "site-melbourne")
	call, _ := trials.RecordCall(orig, sig("Dr Cecil Surgeon", "author"), c.now)
	var a model.SurgicalRecord
	c.ok(who.siteA, call, &a)
	c.ok(who.siteA, trials.CosignCall(a.ID, mustConsent(t, team, trials.SurgicalRecords, "cosign", trials.RecordDigest(&a), consent.MeaningAttestSurgicalRecord, c.now, 1, 2)), nil)
	swapped := orig
	swapped.TeamGroup = c.groups[testgroups.DataAccessCommittee].ID // a group the site controls
	swapped.Outcome = "Complicated"
	c.refused(who.siteA, trials.CorrectionCall(a.ID, swapped, "outcome", sig("Dr Cecil Surgeon", "correction")), "forbidden", "fixed when it was recorded")
}

const secretLocation = "s3://secret-bucket/wgs-ap303"

// TestGenomeLocationNeverInTheClear: the chain holds only a commitment to a
// dataset's location; a dataset carrying its location is refused; the
// custodian alone releases it, once per grant, sealed to the grant's
// researcher, who opens it and checks it against the commitment; a held
// or refused request gets nothing, another researcher cannot use or open
// it; and no state value of the contract, at any point, contains it.
func TestGenomeLocationNeverInTheClear(t *testing.T) {
	c, who := newChain(t), newCast()
	ga := trials.GenomeAccess
	inTheClear := func(when string) {
		t.Helper()
		for _, kv := range []*vm.Overlay{c.kv[ga], c.seals[ga]} {
			if err := kv.Iterate(nil, nil, func(k, v []byte) bool {
				if strings.Contains(string(k)+string(v), "secret-bucket") {
					t.Fatalf("%s: the location is in state in the clear under %q", when, k)
				}
				return true
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ds := dataset(c, who)
	clear := ds
	clear.Location = secretLocation
	if _, err := trials.RegisterDatasetCall(clear); err == nil || !strings.Contains(err.Error(), "never goes on chain in the clear") {
		t.Fatalf("a dataset with its location in the clear passed the local check: %v", err)
	}
	c.refused(who.siteA, trials.Call{Contract: ga, Method: "register", Args: mustJSON(model.RegisterDatasetArgs{Dataset: clear})}, "invalid", "never goes on chain in the clear")
	call, _ := trials.RegisterDatasetCall(ds)
	out := c.ok(who.siteA, call, nil)
	shown := c.ok(who.researcherB, trials.ShowDatasetCall(ds.ID), nil)
	for _, b := range [][]byte{out, shown} {
		if strings.Contains(string(b), "secret-bucket") || !strings.Contains(string(b), ds.LocationCommitment) {
			t.Fatalf("register/show answer: %s", b)
		}
	}
	inTheClear("after register")

	var granted model.Request
	call, _ = trials.RequestCall(model.AccessRequest{Dataset: ds.ID, Project: "PGx", Purpose: model.DUOHMB, EthicsApproval: trials.HashBytes([]byte("irb")), Days: 30})
	c.ok(who.researcherA, call, &granted)
	// Granted but not yet released: access refused, nothing written.
	c.refused(who.researcherA, trials.AccessCall(granted.Grant), "not-released")
	// Only the custodian's organisation releases; the researcher cannot release to itself.
	rel := releaseCall(t, who.siteA, who.researcherA.key, granted.Grant, ds.ID, secretLocation)
	c.refused(who.researcherA, rel, "forbidden", "only the custodian")
	c.refused(who.siteB, rel, "forbidden", "only the custodian")
	c.ok(who.siteA, rel, nil)
	if !c.sealed(ga, "rel/"+granted.Grant) {
		t.Fatal("a release is not sealed")
	}
	// Once per grant: a second release (say, of another location) is refused.
	c.refused(who.siteA, releaseCall(t, who.siteA, who.researcherA.key, granted.Grant, ds.ID, "s3://elsewhere"), "exists", "never replaced")
	inTheClear("after release")

	var acc model.AccessResult
	c.ok(who.researcherA, trials.AccessCall(granted.Grant), &acc)
	if acc.Location != "" || acc.Sealed == "" || acc.LocationCommitment != ds.LocationCommitment {
		t.Fatalf("access result %+v", acc)
	}
	if loc, err := openAccess(who.researcherA, acc); err != nil || loc != secretLocation {
		t.Fatalf("the researcher opens %q, %v", loc, err)
	}
	// Another member who copies the sealed bytes learns nothing.
	if _, err := openAccess(who.researcherB, acc); !errors.Is(err, consent.ErrMemberSeal) {
		t.Fatalf("another researcher opened the location: %v", err)
	}
	// ... nor can it use the grant.
	c.refused(who.researcherB, trials.AccessCall(granted.Grant), "forbidden")
	// A custodian who releases a location other than the committed one is caught by the researcher.
	forged := acc
	sealed, _ := consent.SealToMember(rand.Reader, who.researcherA.key, trials.LocationSealInfo(addr(ga), acc.Grant, acc.Dataset),
		trials.LocationPlaintext(trials.LocationSalt(who.siteA.priv(), ds.ID), "s3://decoy"))
	forged.Sealed = hex.EncodeToString(sealed)
	if _, err := openAccess(who.researcherA, forged); err == nil || !strings.Contains(err.Error(), "does not match the dataset's commitment") {
		t.Fatalf("a decoy location passed the commitment check: %v", err)
	}

	// A request held for the committee, and one denied: no grant, so nothing can be released.
	col := dataset(c, who)
	col.ID, col.Codes = "wgs-col", []string{model.DUOGRU, model.DUOCollaboration}
	col.LocationCommitment = commitTo(who.siteA, col.ID, "s3://secret-bucket/wgs-col")
	call, _ = trials.RegisterDatasetCall(col)
	c.ok(who.siteA, call, nil)
	var held model.Request
	call, _ = trials.RequestCall(model.AccessRequest{Dataset: col.ID, Project: "Atlas", Purpose: model.DUOGRU, Days: 30})
	c.ok(who.researcherB, call, &held)
	if held.Status != model.Held || held.Grant != "" {
		t.Fatalf("request %+v, want held without a grant", held)
	}
	c.refused(who.siteA, releaseCall(t, who.siteA, who.researcherB.key, "grant-000000002", col.ID, "s3://secret-bucket/wgs-col"), "not-found")
	// A revoked grant gets nothing either.
	var g2 model.Request
	call, _ = trials.RequestCall(model.AccessRequest{Dataset: ds.ID, Project: "PGx 2", Purpose: model.DUOHMB, EthicsApproval: trials.HashBytes([]byte("irb")), Days: 30})
	c.ok(who.researcherB, call, &g2)
	c.ok(who.delegate, trials.RevokeCall(g2.Grant, "subject withdrew"), nil)
	c.refused(who.siteA, releaseCall(t, who.siteA, who.researcherB.key, g2.Grant, ds.ID, secretLocation), "revoked")
	inTheClear("at the end")

	if !c.sealed(ga, "req/"+granted.ID) || !c.sealed(ga, "log/"+ds.ID+"/"+model.Seq("", 1)) {
		t.Fatal("decided request or log entry not sealed")
	}
	c.replay(t)
}
