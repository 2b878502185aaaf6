package trials_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

// datasetSchema compiles the published Dataset-JSON 1.1 schema.
func datasetSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(fixture(t, "cdisc-dataset-json/dataset.schema.json")))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	url := "file://" + filepath.ToSlash(filepath.Join(fixturesDir, "cdisc-dataset-json/dataset.schema.json"))
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// schemaValid validates a document against the published schema.
func schemaValid(t testing.TB, s *jsonschema.Schema, b []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// mutate decodes a dataset, applies f to it and encodes it again.
func mutate(t testing.TB, b []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func col0(m map[string]any) map[string]any { return m["columns"].([]any)[0].(map[string]any) }

// TestDatasetJSONSchemaAgrees checks ParseDatasetJSON's structural rules
// against the published Dataset-JSON 1.1 schema, on the fixtures and on
// mutations of them: each is accepted by both or refused by both.
func TestDatasetJSONSchemaAgrees(t *testing.T) {
	s := datasetSchema(t)
	dm := fixture(t, "cdisc-dataset-json/dm.json")
	cases := []struct {
		name string
		doc  []byte
	}{
		{"missing creation time", mutate(t, dm, func(m map[string]any) { delete(m, "datasetJSONCreationDateTime") })},
		{"bad creation time", mutate(t, dm, func(m map[string]any) { m["datasetJSONCreationDateTime"] = "2024-11-11" })},
		{"version 1.0", mutate(t, dm, func(m map[string]any) { m["datasetJSONVersion"] = "1.0.0" })},
		{"missing itemGroupOID", mutate(t, dm, func(m map[string]any) { delete(m, "itemGroupOID") })},
		{"missing records", mutate(t, dm, func(m map[string]any) { delete(m, "records") })},
		{"negative records", mutate(t, dm, func(m map[string]any) { m["records"] = -1 })},
		{"missing name", mutate(t, dm, func(m map[string]any) { delete(m, "name") })},
		{"missing label", mutate(t, dm, func(m map[string]any) { delete(m, "label") })},
		{"unknown key", mutate(t, dm, func(m map[string]any) { m["comment"] = "x" })},
		{"name not a string", mutate(t, dm, func(m map[string]any) { m["name"] = 7 })},
		{"sourceSystem without version", mutate(t, dm, func(m map[string]any) { delete(m["sourceSystem"].(map[string]any), "version") })},
		{"column without itemOID", mutate(t, dm, func(m map[string]any) { delete(col0(m), "itemOID") })},
		{"column without label", mutate(t, dm, func(m map[string]any) { delete(col0(m), "label") })},
		{"column bad dataType", mutate(t, dm, func(m map[string]any) { col0(m)["dataType"] = "text" })},
		{"column bad targetDataType", mutate(t, dm, func(m map[string]any) { col0(m)["targetDataType"] = "string" })},
		{"column zero length", mutate(t, dm, func(m map[string]any) { col0(m)["length"] = 0 })},
		{"column unknown key", mutate(t, dm, func(m map[string]any) { col0(m)["format"] = "x" })},
	}
	for _, f := range []string{"dm.json", "ae.json", "ts.json", "adsl.json", "adtte.json"} {
		cases = append(cases, struct {
			name string
			doc  []byte
		}{f, fixture(t, "cdisc-dataset-json/"+f)})
	}
	for _, tc := range cases {
		schemaErr := schemaValid(t, s, tc.doc)
		_, ourErr := trials.ParseDatasetJSON(tc.doc)
		if (schemaErr == nil) != (ourErr == nil) {
			t.Errorf("%s: schema says %v, ParseDatasetJSON says %v", tc.name, schemaErr, ourErr)
		}
		if fixtureFile := strings.HasSuffix(tc.name, ".json"); fixtureFile != (schemaErr == nil) {
			t.Errorf("%s: schema says %v", tc.name, schemaErr)
		}
	}
}

func adamDoc(name, label string, cols []string, rows [][]any) []byte {
	var cs []map[string]any
	for _, c := range cols {
		typ := "string"
		if c == "AVAL" || c == "CNSR" {
			typ = "integer"
		}
		cs = append(cs, map[string]any{"itemOID": "IT." + c, "name": c, "label": c, "dataType": typ})
	}
	b, _ := json.Marshal(map[string]any{"datasetJSONVersion": "1.1.0", "datasetJSONCreationDateTime": "2026-01-02T03:04:05",
		"itemGroupOID": "IG." + name, "name": name, "label": label, "records": len(rows), "columns": cs, "rows": rows})
	return b
}

// TestADaMRefusals shows each bad input of issue 17 refused, with every
// problem listed, in the same words on every run.
func TestADaMRefusals(t *testing.T) {
	tteCols := []string{"STUDYID", "USUBJID", "TRTA", "PARAMCD", "PARAM", "AVAL", "CNSR"}
	adslCols := []string{"STUDYID", "USUBJID", "TRT01A", "ITTFL"}
	goodADSL := adamDoc("ADSL", "Subject-Level", adslCols, [][]any{{"S", "1", "Placebo", "Y"}, {"S", "2", "Placebo", "Y"}, {"S", "3", "Drug", "Y"}})
	arms := []model.Arm{{ID: "placebo", Name: "Placebo"}, {ID: "drug", Name: "Drug"}}
	for _, tc := range []struct {
		name        string
		adtte, adsl []byte
		arms        []model.Arm
		want        []string
	}{
		{"a Trial Summary given as ADSL", fixture(t, "cdisc-dataset-json/adtte.json"), fixture(t, "cdisc-dataset-json/ts.json"), nil,
			[]string{`ADSL: name: the dataset is "TS" (Trial Summary), not ADSL`, "no USUBJID variable", "no TRT01A or TRT01P or ARM variable"}},
		// The intro's case: a Trial Arms table given as ADSL was stored as
		// arm "Placebo", n = 2, events = 29.
		{"a Trial Arms table given as ADSL", fixture(t, "cdisc-dataset-json/adtte.json"),
			adamDoc("TA", "Trial Arms", []string{"STUDYID", "DOMAIN", "ARMCD", "ARM", "TAETORD", "ETCD", "ELEMENT"},
				[][]any{{"S", "TA", "PBO", "Placebo", "1", "SCRN", "Screening"}, {"S", "TA", "PBO", "Placebo", "2", "PBO", "Placebo"}}), nil,
			[]string{`ADSL: name: the dataset is "TA" (Trial Arms), not ADSL`, "no USUBJID variable"}},
		{"two dataset arms mapped to one protocol arm",
			adamDoc("ADTTE", "TTE", tteCols, [][]any{{"S", "1", "Placebo", "T", "Time", 3, 0}, {"S", "2", "PLACEBO", "T", "Time", 5, 1}}),
			goodADSL, arms,
			[]string{"T arm Placebo: counted as protocol arm placebo, as arm PLACEBO already is"}},
		{"Demographics given as ADTTE", fixture(t, "cdisc-dataset-json/dm.json"), nil, nil,
			[]string{`not ADTTE`, "no PARAMCD variable", "no PARAM variable", "no AVAL variable", "no CNSR variable", "no TRTA or TRTP variable"}},
		{"events > N, subjects not in ADSL, arm not in protocol",
			adamDoc("ADTTE", "TTE", tteCols, [][]any{{"S", "1", "Placebo", "T", "Time", 3, 0}, {"S", "2", "Placebo", "T", "Time", 4, 0},
				{"S", "9", "Placebo", "T", "Time", 5, 0}, {"S", "3", "Drug", "T", "Time", 5, 1}, {"S", "4", "Other", "T", "Time", 6, 2}}),
			goodADSL, arms,
			[]string{`rows[2].USUBJID: subject "9" is not in ADSL`, `rows[4].USUBJID: subject "4" is not in ADSL`,
				`rows[4].CNSR: "2" is neither 0`, "T arm Other: no ITT subjects of this arm in ADSL",
				"T arm Other: not an arm of the protocol (placebo, drug)", "T arm Placebo: 3 events among 2 subjects"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first string
			for run := 0; run < 5; run++ {
				adtte, err := trials.ParseDatasetJSON(tc.adtte)
				if err != nil {
					t.Fatal(err)
				}
				var adsl *trials.DatasetJSON
				if tc.adsl != nil {
					if adsl, err = trials.ParseDatasetJSON(tc.adsl); err != nil {
						t.Fatal(err)
					}
				}
				_, err = trials.ResultsFromADaM(adtte, adsl, trials.ADaMOptions{Arms: tc.arms})
				if err == nil {
					t.Fatal("accepted")
				}
				if run == 0 {
					first = err.Error()
					t.Log(first)
				} else if err.Error() != first {
					t.Fatalf("run %d said\n%s\nrun 0 said\n%s", run, err, first)
				}
				var ie *trials.ImportError
				if !errors.As(err, &ie) {
					t.Errorf("%T is no ImportError", err)
				}
			}
			at := 0
			for _, w := range tc.want {
				i := strings.Index(first[at:], w)
				if i < 0 {
					t.Errorf("%q missing (or out of order) in\n%s", w, first)
					continue
				}
				at += i
			}
		})
	}
}

func TestADaMArmMap(t *testing.T) {
	adtte := adamDoc("ADTTE", "TTE", []string{"STUDYID", "USUBJID", "TRTA", "PARAMCD", "PARAM", "AVAL", "CNSR"},
		[][]any{{"S", "1", "Xanomeline", "T", "Time", 3, 0}, {"S", "2", "Placebo", "T", "Time", 4, 1}})
	ds, err := trials.ParseDatasetJSON(adtte)
	if err != nil {
		t.Fatal(err)
	}
	res, err := trials.ResultsFromADaM(ds, nil, trials.ADaMOptions{Arms: []model.Arm{{ID: "ap303", Name: "AP303"}, {ID: "placebo", Name: "Placebo"}},
		ArmMap: map[string]string{"Xanomeline": "ap303"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%s %s", res[0].Arms[0].Arm, res[0].Arms[1].Arm); got != "placebo ap303" {
		t.Errorf("arms %s", got)
	}
}
