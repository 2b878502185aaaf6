package trials_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

// Fuzz targets for every importer of outside bytes: none may panic, and
// whatever they accept must be valid for the contracts.

func addSeeds(f *testing.F, testdata []string, fixtures []string) {
	for _, n := range testdata {
		if b, err := os.ReadFile(filepath.Join("testdata", n)); err == nil {
			f.Add(b)
		}
	}
	for _, n := range fixtures {
		if b := fixtureIfPresent(fixturesDir, n); b != nil {
			f.Add(b)
		}
	}
}

func FuzzResearchStudy(f *testing.F) {
	addSeeds(f, []string{"researchstudy-small.json"}, []string{"fhir-r5/ResearchStudy-example-ctgov-study-record.json"})
	f.Add([]byte(`{"resourceType":"ResearchStudy","id":"x","title":"t","outcomeMeasure":[{"name":"m","type":[{"coding":[{"code":"primary"}]}]}]}`))
	tmpl := trials.DefaultTemplate()
	tmpl.ConsentGroup = testGroupID
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := trials.LoadProtocol(b, tmpl)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted an invalid protocol: %v", err)
		}
	})
}

func FuzzProcedure(f *testing.F) {
	addSeeds(f, []string{"procedure-small.json"}, []string{"fhir-r4/Procedure-example-implant.json"})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := trials.ProcedureFromFHIR(b, trials.ProcedureOptions{ID: "r1", Patient: "pt-1", Site: "s", TeamGroup: testGroupID})
		if err != nil {
			return
		}
		if p.Start == "" || p.End == "" || p.Code.Code == "" || p.Surgeon == "" {
			t.Fatalf("accepted an incomplete procedure: %+v", p)
		}
	})
}

func FuzzODM(f *testing.F) {
	addSeeds(f, nil, []string{"cdisc-odm/Hypercholesterolemia_CRF_1_3_2.xml", "cdisc-odm/Chronic_Low_Back_Pain_example.xml"})
	f.Add([]byte(`<ODM><ClinicalData StudyOID="S"><SubjectData SubjectKey="1"><StudyEventData StudyEventOID="v"><FormData FormOID="f"><ItemGroupData ItemGroupOID="g" ItemGroupRepeatKey="2"><ItemData ItemOID="i" Value="1"/></ItemGroupData></FormData></StudyEventData></SubjectData></ClinicalData></ODM>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		forms, err := trials.ParseODMClinicalData(b)
		if err != nil {
			return
		}
		for _, fm := range forms {
			if fm.Form == "" || fm.SubjectKey == "" || fm.Visit == "" {
				t.Fatalf("form without keys: %+v", fm)
			}
		}
		_, _ = trials.FormsFromODM(b)
	})
}

func FuzzDatasetJSON(f *testing.F) {
	addSeeds(f, nil, []string{"cdisc-dataset-json/ts.json", "cdisc-dataset-json/dm.json"})
	f.Add([]byte(`{"datasetJSONVersion":"1.1.0","datasetJSONCreationDateTime":"2026-01-02T03:04:05","itemGroupOID":"IG.ADTTE","name":"ADTTE","label":"TTE","records":1,"columns":[` +
		`{"itemOID":"s","label":"s","name":"STUDYID","dataType":"string"},{"itemOID":"u","label":"u","name":"USUBJID","dataType":"string"},{"itemOID":"p","label":"p","name":"PARAM","dataType":"string"},` +
		`{"itemOID":"c","label":"c","name":"PARAMCD","dataType":"string"},{"itemOID":"t","label":"t","name":"TRTA","dataType":"string"},{"itemOID":"a","label":"a","name":"AVAL","dataType":"float"},{"itemOID":"n","label":"n","name":"CNSR","dataType":"integer"}],` +
		`"rows":[["S","1","T","T","A",1.5,0]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := trials.ParseDatasetJSON(b)
		if err != nil {
			return
		}
		for i, r := range ds.Rows {
			if len(r) != len(ds.Columns) {
				t.Fatalf("row %d has %d values for %d columns", i, len(r), len(ds.Columns))
			}
		}
		res, err := trials.ResultsFromADaM(ds, nil, trials.ADaMOptions{})
		if err != nil {
			return
		}
		a := model.ResultsArgs{Results: res, DatasetHash: trials.HashBytes(b)}
		if len(res) > 0 && len(res) <= model.MaxList {
			for _, r := range res {
				for _, arm := range r.Arms {
					if arm.Value != "" {
						if _, ok := model.ParseDecimal(arm.Value); !ok && len(arm.Value) <= 18 {
							t.Fatalf("median %q is not a decimal", arm.Value)
						}
					}
				}
			}
			_ = a.Validate()
		}
	})
}

func FuzzDUOTerms(f *testing.F) {
	addSeeds(f, nil, []string{"duo/duo.csv"})
	f.Add([]byte("id,shorthand,label,description\nDUO:0000042,GRU,general research use,This data use permission x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		terms, err := trials.ParseDUOTerms(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, x := range terms {
			if x.Kind == "" || len(x.ID) != len("DUO:0000000") {
				t.Fatalf("bad term %+v", x)
			}
		}
	})
}

func FuzzAmendment(f *testing.F) {
	f.Add([]byte(`{"reason":"r","changes":{"title":"New title"}}`))
	f.Add([]byte(`{"trial":"T","version":2,"reason":"r","changes":{"sites":["a","b"]}}`))
	p := trials.DefaultTemplate()
	p.ID, p.Version, p.ConsentGroup = "T", 1, testGroupID
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := trials.ParseAmendment(b, &p)
		if err != nil {
			return
		}
		np := a.Changes.Apply(p)
		if err := np.Validate(); err != nil {
			t.Fatalf("accepted an amendment that breaks the protocol: %v", err)
		}
	})
}

func FuzzFields(f *testing.F) {
	f.Add("SYSBP=120 mm[Hg]", "HR=60 /min")
	f.Fuzz(func(t *testing.T, a, b string) {
		m, err := trials.ParseFields([]string{a, b})
		if err != nil {
			return
		}
		if len(m) != 2 {
			t.Fatalf("%d fields from 2 arguments", len(m))
		}
	})
}

func FuzzMapFile(f *testing.F) {
	f.Add([]byte("# site table\nSUBJ-001=3f9c0a7e5b2d4c6e8a1b3d5f7e9c1a2b\n002,ab\n"))
	f.Add([]byte("a=1\na=2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := trials.ParseMapFile(b)
		if err != nil {
			return
		}
		for k, v := range m {
			if k == "" || v == "" || strings.TrimSpace(k) != k || strings.TrimSpace(v) != v {
				t.Fatalf("entry %q=%q", k, v)
			}
		}
	})
}
