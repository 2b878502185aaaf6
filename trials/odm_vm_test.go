package trials_test

import (
	"crypto/rand"
	"testing"

	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
	"github.com/trialchain/trialchain/trials/testgroups"
)

// TestODMIntoContract registers a protocol whose form comes from the ODM
// fixture's metadata, imports the fixture's ClinicalData and submits it to
// the trial-protocol contract in the VM.
func TestODMIntoContract(t *testing.T) {
	b := fixture(t, "cdisc-odm/Hypercholesterolemia_CRF_1_3_2.xml")
	forms, err := trials.FormsFromODM(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range forms[0].Fields {
		forms[0].Fields[i].Public = forms[0].Fields[i].ID != "I.MHTERM" // the relatives' answers are public; the term stays off chain
	}
	c := newChain(t)
	who := newCast()
	p := trials.DefaultTemplate()
	p.ID, p.ConsentGroup = "ODM-DEMO-1", c.groups[testgroups.AmendmentBoard].ID
	p.Forms = append(p.Forms, forms...)
	p.Visits = append(p.Visits, model.Visit{ID: "SE.MH", Name: "Medical history", Forms: []string{forms[0].ID}})
	call, err := trials.RegisterCall(p, sig("Dr. Ada Sponsor", "registration"))
	if err != nil {
		t.Fatal(err)
	}
	c.ok(who.sponsor, call, nil)
	c.ok(who.sponsor, trials.ActivateCall(p.ID, sig("Dr. Ada Sponsor", "activation")), nil)
	subj := newSubject(t)
	call, _ = trials.EnrollCall(p.ID, subj, trials.HashBytes([]byte("consent")), 1, "", sig("Dr. Site PI", "enrolment"))
	c.ok(who.siteA, call, nil)

	data, err := trials.ParseODMClinicalData(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trials.RecordsFromODM(rand.Reader, p.ID, data, map[string]string{}, nil, nil); err == nil {
		t.Fatal("unmapped SubjectKey accepted")
	}
	recs, err := trials.RecordsFromODM(rand.Reader, p.ID, data, map[string]string{"001": subj}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		call, err := trials.SubmitCall(&p, rec, sig("Dr. Site PI", "author"))
		if err != nil {
			t.Fatal(err)
		}
		var e model.Entry
		c.ok(who.siteA, call, &e)
		if len(e.Public) != 24 || len(e.Private) != 4 || e.Public["I.MHFATHER#1"].Value != "Y" {
			t.Fatalf("entry %d public, %d private: %+v", len(e.Public), len(e.Private), e)
		}
	}
}
