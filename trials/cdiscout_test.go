package trials_test

import (
	"crypto/rand"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

// runSmallTrial runs a trial on the contract in the VM: two subjects,
// vitals (one corrected after a query), demographics, an adverse event;
// and returns its data as on chain plus the site's full records.
func runSmallTrial(t *testing.T) *trials.TrialData {
	t.Helper()
	c := newChain(t)
	who := newCast()
	p := registerTrial(t, c, who)
	c.ok(who.sponsor, trials.ActivateCall(p.ID, sig("Dr. Ada Sponsor", "activation")), nil)
	recs := map[string]trials.Record{}
	submit := func(subj, visit, form string, f map[string]model.FieldValue) model.Entry {
		rec, err := trials.NewRecord(rand.Reader, p.ID, subj, visit, form, f)
		if err != nil {
			t.Fatal(err)
		}
		call, err := trials.SubmitCall(&p, rec, sig("Dr. Site PI", "author"))
		if err != nil {
			t.Fatal(err)
		}
		var e model.Entry
		c.ok(who.siteA, call, &e)
		recs[rec.Hash()] = rec
		return e
	}
	var subs []string
	for i := 0; i < 2; i++ {
		s := newSubject(t)
		subs = append(subs, s)
		call, _ := trials.EnrollCall(p.ID, s, trials.HashBytes([]byte("consent "+s)), 1, p.Arms[i%len(p.Arms)].ID, sig("Dr. Site PI", "enrolment"))
		c.ok(who.siteA, call, nil)
	}
	v1 := with(goodVitals(), "NOTES", model.FieldValue{Value: "calm, slight tremor"})
	e1 := submit(subs[0], "day1", "vitals", v1)
	submit(subs[0], "screening", "demographics", map[string]model.FieldValue{"BRTHDTC": {Value: "1990-04-05"}, "AGE": {Value: "35", Unit: "a"}, "SEX": {Value: "F"}})
	submit(subs[1], "day1", "vitals", with(goodVitals(), "TEMP", model.FieldValue{Value: "36.9", Unit: "Cel"}))
	// A query on subject 1's vitals, answered by a correction.
	qcall, _ := trials.QueryRaiseCall(p.ID, e1.ID, "SYSBP", "source says 130", sig("Mo Monitor", "query"))
	var q model.Query
	c.ok(who.sponsor, qcall, &q)
	fixed := with(v1, "SYSBP", model.FieldValue{Value: "130", Unit: "mm[Hg]"})
	rec, _ := trials.NewRecord(rand.Reader, p.ID, subs[0], "day1", "vitals", fixed)
	call, err := trials.CorrectQueryCall(&p, e1.ID, q.ID, rec, "transcription error", sig("Dr. Site PI", "correction"))
	if err != nil {
		t.Fatal(err)
	}
	c.ok(who.siteA, call, nil)
	recs[rec.Hash()] = rec
	aecall := trials.AECall(p.ID, subs[1], "Headache", false, "mild", c.now, "2026-03-02", "", sig("Dr. Site PI", "ae"))
	c.ok(who.siteA, aecall, nil)

	d := &trials.TrialData{Records: recs}
	var st model.TrialView
	c.ok(who.regulator, trials.ShowCall(p.ID), &st)
	d.Protocol = st.Protocol
	var sl model.List[model.Subject]
	var el model.List[model.Entry]
	var al model.List[model.AdverseEvent]
	c.ok(who.regulator, trials.ListCall(p.ID, "subjects"), &sl)
	c.ok(who.regulator, trials.ListCall(p.ID, "entries"), &el)
	c.ok(who.regulator, trials.ListCall(p.ID, "aes"), &al)
	d.Subjects, d.Entries, d.AEs = sl.Items, el.Items, al.Items
	return d
}

// TestExportSDTMAndODM exports a trial's data as SDTM Dataset-JSON
// (schema-valid, every row traceable to its on-chain record) and as ODM
// 1.3.2 with audit records, which our importer reads back identical.
func TestExportSDTMAndODM(t *testing.T) {
	d := runSmallTrial(t)
	s := datasetSchema(t)
	files, err := trials.SDTM(d, trials.SDTMOptions{Created: "2026-03-03T10:00:00"})
	if err != nil {
		t.Fatal(err)
	}
	onChain := map[string]string{} // on-chain id → hash of its value
	for _, e := range d.Entries {
		onChain[e.ID] = model.Hash(e)
	}
	for _, x := range d.Subjects {
		onChain[x.ID] = model.Hash(x)
	}
	for _, x := range d.AEs {
		onChain[x.ID] = model.Hash(x)
	}
	onChain[d.Protocol.ID] = model.Hash(d.Protocol)
	wantRows := map[string]int{"dm.json": 2, "ae.json": 1, "vs.json": 7, "ts.json": 6, "tv.json": len(d.Protocol.Visits)}
	for name, n := range wantRows {
		b, ok := files[name]
		if !ok {
			t.Fatalf("no %s", name)
		}
		if err := schemaValid(t, s, b); err != nil {
			t.Errorf("%s is not schema-valid: %v", name, err)
		}
		ds, err := trials.ParseDatasetJSON(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(ds.Rows) != n {
			t.Errorf("%s: %d rows, want %d", name, len(ds.Rows), n)
		}
		id, h := ds.Column("TCSRCID"), ds.Column("TCSRCHASH")
		for i, r := range ds.Rows {
			if onChain[r[id].(string)] != r[h].(string) {
				t.Errorf("%s row %d: %v / %v does not trace to an on-chain record", name, i, r[id], r[h])
			}
		}
		if name == "vs.json" {
			sys := 0
			for _, r := range ds.Rows {
				if r[ds.Column("VSTESTCD")] == "SYSBP" && r[ds.Column("VSORRES")] == "130" {
					sys++
				}
			}
			if sys != 1 {
				t.Errorf("the corrected SYSBP 130 is not in VS once: %d", sys)
			}
		}
	}
	// Deterministic.
	again, _ := trials.SDTM(d, trials.SDTMOptions{Created: "2026-03-03T10:00:00"})
	if !reflect.DeepEqual(files, again) {
		t.Error("two exports of the same data differ")
	}

	// ODM out, and back in through our importer.
	b, err := trials.ODM(d, "2026-03-03T10:00:00")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "<ReasonForChange>transcription error</ReasonForChange>") || strings.Count(string(b), "<UserRef") != 3+4 {
		t.Errorf("audit records missing:\n%s", b)
	}
	forms, err := trials.ParseODMClinicalData(b)
	if err != nil {
		t.Fatal(err)
	}
	subjects := map[string]string{}
	for _, x := range d.Subjects {
		subjects[x.ID] = x.ID
	}
	got, probs := trials.ImportODM(rand.Reader, &d.Protocol, forms, trials.ODMMaps{Subjects: subjects})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	current, _ := trials.CurrentEntries(d.Entries)
	if len(got) != len(current) {
		t.Fatalf("%d records back, %d entries in force", len(got), len(current))
	}
	for i, e := range current {
		want := d.Records[e.RecordHash]
		g := got[i]
		if g.Subject != want.Subject || g.Visit != want.Visit || g.Form != want.Form || !reflect.DeepEqual(g.Fields, want.Fields) {
			gj, _ := json.Marshal(g.Fields)
			wj, _ := json.Marshal(want.Fields)
			t.Errorf("record %d: re-imported %s %s %s %s, exported %s %s %s %s", i, g.Subject, g.Visit, g.Form, gj, want.Subject, want.Visit, want.Form, wj)
		}
	}
}
