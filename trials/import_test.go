package trials_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var testGroupID = strings.Repeat("ab", 32)

func templateWithGroup() model.Protocol {
	p := trials.DefaultTemplate()
	p.ConsentGroup = testGroupID
	return p
}

func TestResearchStudyFixture(t *testing.T) {
	b := fixture(t, "fhir-r5/ResearchStudy-example-ctgov-study-record.json")
	p, err := trials.ProtocolFromResearchStudy(b, templateWithGroup())
	if err != nil {
		t.Fatal(err)
	}
	var prim, sec int
	for _, o := range p.Outcomes {
		if o.Type == model.Primary {
			prim++
		} else {
			sec++
		}
	}
	if p.ID != "NCT05503693" || p.Phase != "phase-1" || p.StartDate != "2022-12-06" || len(p.Arms) != 2 || prim != 19 || sec != 8 {
		t.Fatalf("got id %s phase %s start %s arms %d outcomes %d primary %d secondary", p.ID, p.Phase, p.StartDate, len(p.Arms), prim, sec)
	}
	if p.Outcomes[0].Measure != "Single Dose and Food Effect Safety Outcome Measures" || p.Outcomes[19].ID != "secondary-1" || p.Outcomes[19].Measure != "Effect of Food on the single dose Cmax" {
		t.Fatalf("outcomes %+v / %+v", p.Outcomes[0], p.Outcomes[19])
	}
	if !strings.Contains(p.Title, "AP303") {
		t.Fatalf("title %q", p.Title)
	}
}

func TestResearchStudyHandWritten(t *testing.T) {
	p, err := trials.LoadProtocol(readTestdata(t, "researchstudy-small.json"), templateWithGroup())
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "NCT99999999" || p.StartDate != "2026-02-01" || len(p.Outcomes) != 3 || p.Outcomes[1].ID != "secondary-1" {
		t.Fatalf("%+v", p)
	}
	for _, bad := range []struct{ doc, want string }{
		{`{"resourceType":"Patient"}`, "resourceType"},
		{`{"resourceType":"ResearchStudy","id":"x","title":"t","outcomeMeasure":[{"name":"m","type":[{"coding":[{"code":"exploratory"}]}]}]}`, "outcomeMeasure[0].type"},
		{`{"resourceType":"ResearchStudy","id":"x","title":"t","progressStatus":[{"period":{"start":"20xx"}}]}`, "progressStatus.period.start"},
		{`{"resourceType":"ResearchStudy","id":"x"}`, "title is required"},
		{`not json`, "not JSON"},
	} {
		if _, err := trials.ProtocolFromResearchStudy([]byte(bad.doc), templateWithGroup()); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err %v, want %q", bad.doc, err, bad.want)
		}
	}
}

func TestOwnProtocolJSON(t *testing.T) {
	tmpl := templateWithGroup()
	tmpl.ID = "TC-OWN-1"
	b := mustJSON(tmpl)
	p, err := trials.LoadProtocol(b, model.Protocol{})
	if err != nil || p.ID != "TC-OWN-1" {
		t.Fatal(p.ID, err)
	}
	if _, err := trials.ParseProtocol(bytes.Replace(b, []byte(`"title"`), []byte(`"titel"`), 1)); err == nil {
		t.Fatal("unknown field accepted")
	}
}

func TestProcedureFixture(t *testing.T) {
	b := fixture(t, "fhir-r4/Procedure-example-implant.json")
	p, err := trials.ProcedureFromFHIR(b, trials.ProcedureOptions{Patient: "pt-0001", Site: "site-melbourne", TeamGroup: testGroupID})
	if err != nil {
		t.Fatal(err)
	}
	want := model.Procedure{ID: "example-implant", Patient: "pt-0001", Site: "site-melbourne", Surgeon: "Dr Cecil Surgeon",
		Code:   model.Coding{System: "http://snomed.info/sct", Code: "25267002", Display: "Insertion of intracardiac pacemaker (procedure)"},
		Device: "Device/example-pacemaker", Start: "2015-04-05T00:00:00Z", End: "2015-04-05T00:00:00Z",
		Outcome: "completed: Routine Appendectomy. Appendix was inflamed and in retro-caecal position", TeamGroup: testGroupID, Source: "FHIR R4 Procedure example-implant", Status: "completed"}
	if got := mustJSON(p); !bytes.Equal(got, mustJSON(want)) {
		t.Fatalf("got  %s\nwant %s", got, mustJSON(want))
	}
	if err := p.Validate(time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if _, err := trials.ProcedureFromFHIR(b, trials.ProcedureOptions{}); err == nil || !strings.Contains(err.Error(), "Patient/example") {
		t.Fatalf("patient reference copied: %v", err)
	}
}

func TestProcedureHandWritten(t *testing.T) {
	p, err := trials.ProcedureFromFHIR(readTestdata(t, "procedure-small.json"), trials.ProcedureOptions{Patient: "pt-2", Site: "s", TeamGroup: testGroupID})
	if err != nil {
		t.Fatal(err)
	}
	if p.Start != "2026-02-20T07:00:00Z" || p.End != "2026-02-20T08:45:00Z" || p.Device != "Device/udi-0123" || len(p.Complications) != 1 || p.Outcome != "Successful" {
		t.Fatalf("%+v", p)
	}
}

// TestProcedureCoding: a procedure needs a coding that names a code; the
// first such coding is taken.
func TestProcedureCoding(t *testing.T) {
	const rest = `,"performer":[{"actor":{"display":"Dr A"}}],"performedDateTime":"2020-01-01"}`
	for _, c := range []struct {
		name, code string
		want       string // "" : refused
	}{
		{"no coding", `{"text":"hip"}`, ""},
		{"empty coding (fuzz 5120dc3bff7a2089)", `{"coding":[{}]}`, ""},
		{"blank code", `{"coding":[{"system":"s","code":"  "}]}`, ""},
		{"first coding blank, second named", `{"coding":[{"display":"d"},{"system":"http://snomed.info/sct","code":"52734007"}]}`, "52734007"},
		{"code", `{"coding":[{"code":"80146002"}]}`, "80146002"},
	} {
		b := []byte(`{"resourceType":"Procedure","code":` + c.code + rest)
		p, err := trials.ProcedureFromFHIR(b, trials.ProcedureOptions{ID: "r", Patient: "pt", Site: "s", TeamGroup: testGroupID})
		if c.want == "" {
			var ie *trials.ImportError
			if !errors.As(err, &ie) {
				t.Errorf("%s: accepted (%+v) or wrong error %v", c.name, p.Code, err)
			}
			continue
		}
		if err != nil || p.Code.Code != c.want {
			t.Errorf("%s: %q %v, want %q", c.name, p.Code.Code, err, c.want)
		}
	}
}

func TestODMFixtures(t *testing.T) {
	for _, tc := range []struct {
		file, form, visit string
		fields            int
		sample            map[string]string
	}{
		{"cdisc-odm/Hypercholesterolemia_CRF_1_3_2.xml", "FO.HYPERCHOLESTEROLEMIA_FAMILY_RISK_FACTORS", "SE.MH", 28,
			map[string]string{"I.MHTERM#2": "2", "I.MHFATHER#1": "Y", "I.MHSONS#4": "NA"}},
		{"cdisc-odm/Chronic_Low_Back_Pain_example.xml", "FO.CLBP", "SE.CLBP#1", 8,
			map[string]string{"IT.QUESTION_REPEAT#3": "3", "IT.QUESTION_ANSWER#4": "4"}},
	} {
		b := fixture(t, tc.file)
		forms, err := trials.ParseODMClinicalData(b)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if len(forms) != 1 || forms[0].Form != tc.form || forms[0].Visit != tc.visit || forms[0].SubjectKey != "001" || len(forms[0].Fields) != tc.fields {
			t.Fatalf("%s: %+v", tc.file, forms)
		}
		for k, v := range tc.sample {
			if got := forms[0].Fields[k].Value; got != v {
				t.Errorf("%s: %s = %q, want %q", tc.file, k, got, v)
			}
		}
	}
}

// TestODMToContractForms imports the 1.3.2 fixture's metadata as a form
// definition and checks its clinical data validates against it, as the
// contract would.
func TestODMToContractForms(t *testing.T) {
	b := fixture(t, "cdisc-odm/Hypercholesterolemia_CRF_1_3_2.xml")
	forms, err := trials.FormsFromODM(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(forms) != 1 || len(forms[0].Fields) != 7 || forms[0].Fields[0].Type != model.TypeCode || !forms[0].Fields[0].Repeating {
		t.Fatalf("%+v", forms)
	}
	data, _ := trials.ParseODMClinicalData(b)
	for i := range forms[0].Fields {
		forms[0].Fields[i].Public = true
	}
	if _, err := model.ValidateSubmission(&forms[0], data[0].Fields); err != nil {
		t.Fatal(err)
	}
}

func TestODM132Layout(t *testing.T) {
	doc := `<?xml version="1.0"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" ODMVersion="1.3.2" FileOID="f" FileType="Snapshot" CreationDateTime="2026-01-01T00:00:00">
 <Study OID="S"><BasicDefinitions><MeasurementUnit OID="MU.MMHG" Name="mmHg" Symbol="mm[Hg]"/></BasicDefinitions></Study>
 <ClinicalData StudyOID="S" MetaDataVersionOID="v1">
  <SubjectData SubjectKey="1001">
   <StudyEventData StudyEventOID="day1">
    <FormData FormOID="vitals">
     <ItemGroupData ItemGroupOID="IG.VS">
      <ItemData ItemOID="SYSBP" Value="128"><MeasurementUnitRef MeasurementUnitOID="MU.MMHG"/></ItemData>
      <ItemDataInteger ItemOID="HR">71</ItemDataInteger>
     </ItemGroupData>
    </FormData>
   </StudyEventData>
  </SubjectData>
 </ClinicalData>
</ODM>`
	forms, err := trials.ParseODMClinicalData([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(forms) != 1 || forms[0].Form != "vitals" || forms[0].Fields["SYSBP"] != (model.FieldValue{Value: "128", Unit: "mm[Hg]"}) || forms[0].Fields["HR"].Value != "71" {
		t.Fatalf("%+v", forms)
	}
}

// TestODMMalformed: each malformed document is refused naming the element.
func TestODMMalformed(t *testing.T) {
	const head = `<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><ClinicalData StudyOID="S">`
	const tail = `</ClinicalData></ODM>`
	for _, tc := range []struct{ name, doc, element string }{
		{"syntax", head + `<SubjectData SubjectKey="1"><StudyEventData StudyEventOID="v"></SubjectData>` + tail, "ODM/ClinicalData/SubjectData/StudyEventData"},
		{"no subject key", head + `<SubjectData><StudyEventData StudyEventOID="v"/></SubjectData>` + tail, "ODM/ClinicalData/SubjectData"},
		{"no item oid", head + `<SubjectData SubjectKey="1"><StudyEventData StudyEventOID="v"><ItemGroupData ItemGroupOID="g"><ItemData Value="1"/></ItemGroupData></StudyEventData></SubjectData>` + tail, "ItemGroupData/ItemData"},
		{"item outside group", head + `<SubjectData SubjectKey="1"><StudyEventData StudyEventOID="v"><ItemData ItemOID="i" Value="1"/></StudyEventData></SubjectData>` + tail, "StudyEventData/ItemData"},
		{"item twice", head + `<SubjectData SubjectKey="1"><StudyEventData StudyEventOID="v"><ItemGroupData ItemGroupOID="g"><ItemData ItemOID="i" Value="1"/><ItemData ItemOID="i" Value="2"/></ItemGroupData></StudyEventData></SubjectData>` + tail, "ItemData"},
		{"event outside subject", head + `<StudyEventData StudyEventOID="v"/>` + tail, "ClinicalData/StudyEventData"},
		{"no group oid", head + `<SubjectData SubjectKey="1"><StudyEventData StudyEventOID="v"><ItemGroupData/></StudyEventData></SubjectData>` + tail, "StudyEventData/ItemGroupData"},
		{"wrong root", `<Study/>`, "Study"},
		{"no clinical data", `<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><Study OID="S"/></ODM>`, "ClinicalData"},
		{"truncated", head + `<SubjectData SubjectKey="1">`, "SubjectData"},
	} {
		_, err := trials.ParseODMClinicalData([]byte(tc.doc))
		var ie *trials.ImportError
		if !errors.As(err, &ie) || !strings.Contains(ie.Element, tc.element) {
			t.Errorf("%s: %v, want an ImportError naming %s", tc.name, err, tc.element)
			continue
		}
		t.Logf("%s: %v", tc.name, err)
	}
}

func TestDatasetJSONFixtures(t *testing.T) {
	adsl, err := trials.ParseDatasetJSON(fixture(t, "cdisc-dataset-json/adsl.json"))
	if err != nil {
		t.Fatal(err)
	}
	adtte, err := trials.ParseDatasetJSON(fixture(t, "cdisc-dataset-json/adtte.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(adsl.Rows) != 254 || len(adtte.Rows) != 254 || adtte.Name != "ADTTE" {
		t.Fatalf("rows %d %d", len(adsl.Rows), len(adtte.Rows))
	}
	res, err := trials.ResultsFromADaM(adtte, adsl, trials.ADaMOptions{Types: map[string]string{"TTDE": model.Primary}, TimeFrame: "up to week 26"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Measure != "Time to First Dermatologic Event" || res[0].Type != model.Primary || len(res[0].Arms) != 3 {
		t.Fatalf("%+v", res)
	}
	total := 0
	for _, a := range res[0].Arms {
		total += a.N
		if a.Events == 0 || a.Value == "" {
			t.Errorf("arm %+v", a)
		}
		t.Logf("%s: N=%d events=%d %s", a.Arm, a.N, a.Events, a.Summary)
	}
	if total != 254 {
		t.Errorf("ITT total %d, want 254", total)
	}
	// The SDTM examples are Dataset-JSON too.
	for _, f := range []string{"dm.json", "ae.json", "ts.json"} {
		if _, err := trials.ParseDatasetJSON(fixture(t, "cdisc-dataset-json/"+f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestDatasetJSONMalformed(t *testing.T) {
	const head = `"datasetJSONCreationDateTime":"2026-01-02T03:04:05","itemGroupOID":"IG.X","name":"X","label":"X",`
	for _, tc := range []struct{ doc, want string }{
		{`{"columns":[],"rows":[]}`, "datasetJSONVersion: missing"},
		{`{` + head + `"datasetJSONVersion":"2.0","records":0,"columns":[{"itemOID":"a","label":"A","name":"A","dataType":"string"}],"rows":[]}`, "not a 1.1 version"},
		{`{` + head + `"datasetJSONVersion":"1.1.0","records":2,"columns":[{"itemOID":"a","label":"A","name":"A","dataType":"string"}],"rows":[["x"]]}`, "records"},
		{`{` + head + `"datasetJSONVersion":"1.1.0","records":1,"columns":[{"itemOID":"a","label":"A","name":"A","dataType":"integer"}],"rows":[["x"]]}`, "rows[0].A"},
		{`{` + head + `"datasetJSONVersion":"1.1.0","records":1,"columns":[{"itemOID":"a","label":"A","name":"A","dataType":"string"}],"rows":[["x","y"]]}`, "rows[0]"},
	} {
		if _, err := trials.ParseDatasetJSON([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.doc, err, tc.want)
		}
	}
}

// TestDUOVocabulary checks the contracts' DUO table against the terms file.
func TestDUOVocabulary(t *testing.T) {
	terms, err := trials.ParseDUOTerms(bytes.NewReader(fixture(t, "duo/duo.csv")))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]model.DUOTerm{}
	for _, x := range terms {
		byID[x.ID] = x
	}
	if len(terms) != len(model.DUOTerms) {
		t.Errorf("fixture has %d terms, model.DUOTerms %d", len(terms), len(model.DUOTerms))
	}
	for _, m := range model.DUOTerms {
		f, ok := byID[m.ID]
		if !ok {
			t.Errorf("%s not in the DUO terms file", m.ID)
			continue
		}
		if f != m {
			t.Errorf("model %+v, file %+v", m, f)
		}
	}
}

func TestResultsFromDatasetJSONHandWritten(t *testing.T) {
	adtte := `{"datasetJSONVersion":"1.1.0","datasetJSONCreationDateTime":"2026-01-02T03:04:05","itemGroupOID":"IG.ADTTE",
"name":"ADTTE","label":"Time to event","records":5,"columns":[
{"itemOID":"s","name":"STUDYID","label":"Study","dataType":"string"},
{"itemOID":"a","name":"USUBJID","label":"Subject","dataType":"string"},{"itemOID":"b","name":"TRTA","label":"Arm","dataType":"string"},
{"itemOID":"c","name":"PARAMCD","label":"Code","dataType":"string"},{"itemOID":"d","name":"PARAM","label":"Parameter","dataType":"string"},
{"itemOID":"e","name":"AVAL","label":"Value","dataType":"integer"},{"itemOID":"f","name":"CNSR","label":"Censored","dataType":"integer"}],
"rows":[["S","1","Drug","TTE","Time to event",10,0],["S","2","Drug","TTE","Time to event",13,0],["S","3","Drug","TTE","Time to event",40,1],
["S","4","Placebo","TTE","Time to event",5,0],["S","5","Placebo","TTE","Time to event",7,1]]}`
	ds, err := trials.ParseDatasetJSON([]byte(adtte))
	if err != nil {
		t.Fatal(err)
	}
	res, err := trials.ResultsFromADaM(ds, nil, trials.ADaMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(res[0].Arms); string(got) != `[{"arm":"Drug","n":3,"events":2,"value":"11.5","summary":"median 11.5 among 2 events"},{"arm":"Placebo","n":2,"events":1,"value":"5","summary":"median 5 among 1 events"}]` {
		t.Fatalf("%s", got)
	}
}
