package trials_test

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
	"github.com/trialchain/trialchain/trials/testgroups"
)

// edcExport is an ODM 1.3.2 file as an EDC system exports it: metadata
// with xs:boolean and partial date-time items, and data for three
// subjects, two of them with mistakes.
const edcExport = `<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" ODMVersion="1.3.2" FileOID="F.1" FileType="Snapshot" CreationDateTime="2026-01-01T00:00:00">
 <Study OID="S.EDC">
  <MetaDataVersion OID="MDV.1" Name="v1">
   <StudyEventDef OID="SE.V1" Name="Visit 1" Repeating="No" Type="Scheduled"><FormRef FormOID="F.VS" Mandatory="Yes"/></StudyEventDef>
   <FormDef OID="F.VS" Name="Vital signs" Repeating="No"><ItemGroupRef ItemGroupOID="IG.VS" Mandatory="Yes"/></FormDef>
   <ItemGroupDef OID="IG.VS" Name="Vital signs" Repeating="No">
    <ItemRef ItemOID="I.DONE" Mandatory="Yes"/><ItemRef ItemOID="I.WHEN" Mandatory="Yes"/>
    <ItemRef ItemOID="I.HR" Mandatory="No"/><ItemRef ItemOID="I.POS" Mandatory="No"/>
   </ItemGroupDef>
   <ItemDef OID="I.DONE" Name="Vital signs done" DataType="boolean"/>
   <ItemDef OID="I.WHEN" Name="Date and time" DataType="partialDatetime"/>
   <ItemDef OID="I.HR" Name="Heart rate" DataType="integer" Length="3"/>
   <ItemDef OID="I.POS" Name="Position" DataType="text" Length="8"><CodeListRef CodeListOID="CL.POS"/></ItemDef>
   <CodeList OID="CL.POS" Name="Position" DataType="text">
    <CodeListItem CodedValue="SITTING"/><CodeListItem CodedValue="SUPINE"/>
   </CodeList>
  </MetaDataVersion>
 </Study>
 <ClinicalData StudyOID="S.EDC" MetaDataVersionOID="MDV.1">
  <SubjectData SubjectKey="101">
   <StudyEventData StudyEventOID="SE.V1"><FormData FormOID="F.VS"><ItemGroupData ItemGroupOID="IG.VS">
    <ItemData ItemOID="I.DONE" Value="1"/>
    <ItemData ItemOID="I.WHEN" Value="2020-07-06T09:11"/>
    <ItemData ItemOID="I.HR" Value="71"/>
    <ItemData ItemOID="I.POS" Value="SITTING"/>
   </ItemGroupData></FormData></StudyEventData>
  </SubjectData>
  <SubjectData SubjectKey="102">
   <StudyEventData StudyEventOID="SE.V1"><FormData FormOID="F.VS"><ItemGroupData ItemGroupOID="IG.VS">
    <ItemData ItemOID="I.DONE" Value="yes"/>
    <ItemData ItemOID="I.HR" Value="seventy"/>
    <ItemData ItemOID="I.POS" Value="STANDING"/>
    <ItemData ItemOID="I.TEMP" Value="37.1"/>
   </ItemGroupData></FormData></StudyEventData>
  </SubjectData>
  <SubjectData SubjectKey="103">
   <StudyEventData StudyEventOID="SE.V1"><FormData FormOID="F.VS"><ItemGroupData ItemGroupOID="IG.VS">
    <ItemData ItemOID="I.DONE" Value="0"/>
    <ItemData ItemOID="I.WHEN" Value="2020-07"/>
   </ItemGroupData></FormData></StudyEventData>
  </SubjectData>
 </ClinicalData>
</ODM>`

// edcProtocol is the default template with the export's own forms (from
// its MetaDataVersion, all public) collected at visit SE.V1.
func edcProtocol(t testing.TB) model.Protocol {
	t.Helper()
	forms, err := trials.FormsFromODM([]byte(edcExport))
	if err != nil {
		t.Fatal(err)
	}
	for i := range forms {
		for j := range forms[i].Fields {
			forms[i].Fields[j].Public = true
		}
	}
	visits, err := trials.VisitsFromODM([]byte(edcExport))
	if err != nil {
		t.Fatal(err)
	}
	if len(visits) != 1 || visits[0].ID != "SE.V1" || len(visits[0].Forms) != 1 || visits[0].Forms[0] != "F.VS" {
		t.Fatalf("visits %+v", visits)
	}
	p := trials.DefaultTemplate()
	p.ID = "EDC-1"
	p.Forms = append(p.Forms, forms...)
	p.Visits = append(p.Visits, visits...)
	return p
}

// TestODMImportEveryProblem imports an EDC export: the forms come from its
// metadata; ODM booleans and partial date-times are taken as given; every
// problem is named with subject, event, form, item and line, all at once;
// the valid forms still come out.
func TestODMImportEveryProblem(t *testing.T) {
	c := newChain(t)
	p := edcProtocol(t)
	p.ConsentGroup = c.groups[testgroups.AmendmentBoard].ID
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	forms, err := trials.ParseODMClinicalData([]byte(edcExport))
	if err != nil {
		t.Fatal(err)
	}
	subjects, err := trials.ParseMapFile([]byte("# site table\n101=" + strings.Repeat("a", 32) + "\n102," + strings.Repeat("b", 32) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	recs, probs := trials.ImportODM(rand.Reader, &p, forms, trials.ODMMaps{Subjects: subjects})
	want := []string{
		`subject 102, event SE.V1, form F.VS, item I.DONE (line 31): field "I.DONE" must be true, false, 1 or 0, got "yes"`,
		`subject 102, event SE.V1, form F.VS, item I.HR (line 32): field "I.HR" must be a whole number, got "seventy"`,
		`subject 102, event SE.V1, form F.VS, item I.POS (line 33): field "I.POS" = "STANDING" is not one of SITTING, SUPINE`,
		`subject 102, event SE.V1, form F.VS, item I.TEMP (line 34): form "F.VS" has no field "I.TEMP"`,
		`subject 102, event SE.V1, form F.VS, item I.WHEN (line 30): required field "I.WHEN" (Date and time) is missing`,
		`subject 103, event SE.V1, form F.VS (line 38): SubjectKey "103" has no pseudonymous subject id`,
	}
	got := probs.Error()
	t.Log(got)
	if len(probs) != len(want) {
		t.Errorf("%d problems, want %d", len(probs), len(want))
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q", w)
		}
	}
	var ie *trials.ImportError
	if !errors.As(error(probs), &ie) {
		t.Error("no *ImportError in the list")
	}
	if len(recs) != 1 || recs[0].Subject != strings.Repeat("a", 32) || recs[0].Fields["I.WHEN"].Value != "2020-07-06T09:11" || recs[0].Fields["I.DONE"].Value != "1" {
		t.Fatalf("records %+v", recs)
	}
	// The valid form goes into the contract as it is, precision kept.
	who := newCast()
	call, err := trials.RegisterCall(p, sig("Dr. Ada Sponsor", "registration"))
	if err != nil {
		t.Fatal(err)
	}
	c.ok(who.sponsor, call, nil)
	c.ok(who.sponsor, trials.ActivateCall(p.ID, sig("Dr. Ada Sponsor", "activation")), nil)
	call, _ = trials.EnrollCall(p.ID, recs[0].Subject, trials.HashBytes([]byte("consent")), 1, "", sig("Dr. Site PI", "enrolment"))
	c.ok(who.siteA, call, nil)
	call, err = trials.SubmitCall(&p, recs[0], sig("Dr. Site PI", "author"))
	if err != nil {
		t.Fatal(err)
	}
	var e model.Entry
	c.ok(who.siteA, call, &e)
	if e.Public["I.WHEN"].Value != "2020-07-06T09:11" || e.Public["I.DONE"].Value != "1" {
		t.Fatalf("entry %+v", e.Public)
	}
	// The contract refuses what the importer refused.
	bad := recs[0]
	bad.Fields = map[string]model.FieldValue{"I.DONE": {Value: "yes"}, "I.WHEN": {Value: "2020-07-06T09:11"}}
	c.refused(who.siteA, uncheckedCall(&p, bad), "I.DONE")
}

// uncheckedCall sends a record's public values without the client checks.
func uncheckedCall(p *model.Protocol, rec trials.Record) trials.Call {
	return trials.UncheckedSubmitCall(rec.Trial, rec.Subject, rec.Visit, rec.Form, rec.Fields, rec.Hash(), sig("Dr. Site PI", "author"))
}

// TestODMFixturesImport builds each fixture's forms from its own metadata
// and imports its clinical data with no problem.
func TestODMFixturesImport(t *testing.T) {
	for _, f := range []string{"cdisc-odm/Hypercholesterolemia_CRF_1_3_2.xml", "cdisc-odm/Chronic_Low_Back_Pain_example.xml"} {
		b := fixture(t, f)
		forms, err := trials.FormsFromODM(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		data, err := trials.ParseODMClinicalData(b)
		if err != nil {
			t.Fatal(err)
		}
		p := trials.DefaultTemplate()
		p.Forms = append(p.Forms, forms...)
		maps := trials.ODMMaps{Subjects: map[string]string{"001": strings.Repeat("c", 32)}, Visits: map[string]string{}}
		for _, d := range data {
			maps.Visits[d.Visit] = "V." + d.Visit
			p.Visits = append(p.Visits, model.Visit{ID: "V." + d.Visit, Forms: []string{d.Form}})
		}
		recs, probs := trials.ImportODM(rand.Reader, &p, data, maps)
		if len(probs) > 0 || len(recs) != len(data) {
			t.Errorf("%s: %d records of %d forms: %v", f, len(recs), len(data), probs)
		}
	}
}

// TestODMFixturesOwnVisits: each fixture's clinical data imports into the
// forms and visits built from its own MetaDataVersion (trial register
// --odm-forms) with a subject map only: an event exported with
// StudyEventRepeatKey 1 is the protocol's visit of its StudyEventOID; a
// second occurrence is refused, naming the map that places it.
func TestODMFixturesOwnVisits(t *testing.T) {
	for _, f := range []string{"cdisc-odm/Hypercholesterolemia_CRF_1_3_2.xml", "cdisc-odm/Chronic_Low_Back_Pain_example.xml"} {
		b := fixture(t, f)
		forms, err := trials.FormsFromODM(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		visits, err := trials.VisitsFromODM(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		data, err := trials.ParseODMClinicalData(b)
		if err != nil {
			t.Fatal(err)
		}
		p := trials.DefaultTemplate()
		p.Forms, p.Visits = append(p.Forms, forms...), append(p.Visits, visits...)
		maps := trials.ODMMaps{Subjects: map[string]string{"001": strings.Repeat("c", 32)}}
		recs, probs := trials.ImportODM(rand.Reader, &p, data, maps)
		if len(probs) > 0 || len(recs) != len(data) {
			t.Fatalf("%s: %d records of %d forms: %v", f, len(recs), len(data), probs)
		}
		for i := range data {
			if base, _, _ := strings.Cut(data[i].Visit, "#"); recs[i].Visit != base {
				t.Errorf("%s: form %d went to visit %q, want %q", f, i, recs[i].Visit, base)
			}
		}
		second := append([]trials.ODMForm(nil), data...)
		for i := range second {
			base, _, _ := strings.Cut(second[i].Visit, "#")
			second[i].Visit = base + "#2"
		}
		if _, probs := trials.ImportODM(rand.Reader, &p, second, maps); len(probs) == 0 || !strings.Contains(probs.Error(), "#2\" is not in the protocol") {
			t.Errorf("%s: a second occurrence was not refused: %v", f, probs)
		}
	}
}

func TestParseMapFile(t *testing.T) {
	for _, bad := range []string{"a=1\na=2\n", "novalue\n", "=x\n"} {
		if _, err := trials.ParseMapFile([]byte(bad)); err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
