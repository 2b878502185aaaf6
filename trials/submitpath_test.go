package trials_test

import (
	"testing"

	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
	"github.com/trialchain/trialchain/trials/testgroups"
)

// TestSubmitAfterVisitAmendment checks the submission records that
// trial-protocol keeps beside the trial state (head, visit forms, entries
// count): an amendment that removes a visit leaves the old visit's form
// records behind, and a submission to that visit must still be refused
// as the protocol now stands; counts go on from where submissions left
// them.
func TestSubmitAfterVisitAmendment(t *testing.T) {
	c := newChain(t)
	who := newCast()
	board := c.groups[testgroups.AmendmentBoard]
	p := registerTrial(t, c, who)
	var visits []model.Visit
	for _, v := range p.Visits {
		if v.ID != "day8" {
			visits = append(visits, v)
		}
	}
	if len(visits) == len(p.Visits) {
		t.Fatalf("the protocol has no visit day8: %+v", p.Visits)
	}
	am := trials.Amendment{Trial: p.ID, Version: 2, Reason: "drop the day 8 visit", Changes: model.Changes{Visits: &visits}}
	good := mustConsent(t, board, trials.TrialProtocol, "amend", am.Digest(), consent.MeaningApproveAmendment, c.now, 2, 3, 5)
	c.ok(who.sponsor, trials.AmendCall(am, sig("Dr. Ada Sponsor", "amendment"), good), nil)
	c.ok(who.sponsor, trials.ActivateCall(p.ID, sig("Dr. Ada Sponsor", "activation")), nil)
	s1 := newSubject(t)
	enroll, err := trials.EnrollCall(p.ID, s1, trials.HashBytes([]byte("consent doc")), 2, "", sig("Dr. Site PI", "enrolment"))
	if err != nil {
		t.Fatal(err)
	}
	c.ok(who.siteA, enroll, nil)
	var e model.Entry
	c.ok(who.siteA, submitArgs(p.ID, s1, "day1", "vitals", goodVitals()), &e)
	if e.ID != model.Seq("crf-", 1) || e.ProtocolVer != 2 {
		t.Errorf("entry %s of protocol version %d, want the first entry of version 2", e.ID, e.ProtocolVer)
	}
	runRefusals(t, c, []refusal{
		{"visit removed by the amendment", who.siteA, submitArgs(p.ID, s1, "day8", "vitals", goodVitals()), []string{"not-found", `visit "day8" is not in the protocol`}},
	})
	var st model.TrialView
	c.ok(who.sponsor, trials.ShowCall(p.ID), &st)
	if st.Entries != 1 || st.Protocol.Version != 2 {
		t.Errorf("trial shows %d entries at version %d, want 1 at version 2", st.Entries, st.Protocol.Version)
	}
}
