package model

import (
	"errors"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func TestDecimal(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1", "1.0", 0}, {"-0", "0", 0}, {"0.1", "0.10", 0}, {"2", "10", -1}, {"-2", "-10", 1}, {"1.05", "1.5", -1},
		{"250", "250.0001", -1}, {"+3", "3", 0}, {"-1.5", "1", -1}, {"007", "7", 0}, {".5", "0.5", 0},
	} {
		a, ok1 := ParseDecimal(tc.a)
		b, ok2 := ParseDecimal(tc.b)
		if !ok1 || !ok2 {
			t.Fatalf("parse %q %q", tc.a, tc.b)
		}
		if got := a.Cmp(b); got != tc.want {
			t.Errorf("%s cmp %s = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := b.Cmp(a); got != -tc.want {
			t.Errorf("%s cmp %s = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
	for _, bad := range []string{"", "-", "1.", "1e3", "1,5", " 1", "0x10", "NaN", "1234567890123456789", "1..2"} {
		if _, ok := ParseDecimal(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"0", "-1.5", "12.000", "+7", ".5"} {
		f.Add(s, "1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		x, ok1 := ParseDecimal(a)
		y, ok2 := ParseDecimal(b)
		if !ok1 || !ok2 {
			return
		}
		if x.Cmp(y) != -y.Cmp(x) {
			t.Fatalf("asymmetric: %s %s", a, b)
		}
		z, ok := ParseDecimal(x.String())
		if !ok || z.Cmp(x) != 0 {
			t.Fatalf("round trip %q -> %q", a, x.String())
		}
	})
}

func form() *Form {
	return &Form{ID: "vitals", Fields: []Field{
		{ID: "SYSBP", Type: TypeInteger, Unit: "mm[Hg]", Min: "60", Max: "250", Required: true, Public: true},
		{ID: "TEMP", Type: TypeDecimal, Unit: "Cel", Min: "34.0", Max: "42.5", Public: true},
		{ID: "SEX", Type: TypeCode, Codes: []string{"F", "M"}, Public: true},
		{ID: "DOB", Type: TypeDate, Required: true},
		{ID: "Q", Type: TypeInteger, Public: true, Repeating: true},
	}}
}

func TestValidateSubmission(t *testing.T) {
	commit := strings.Repeat("a", 64)
	good := map[string]FieldValue{"SYSBP": {Value: "120", Unit: "mm[Hg]"}, "TEMP": {Value: "42.5", Unit: "Cel"}, "DOB": {Commit: commit}, "Q#1": {Value: "3"}, "Q#2": {Value: "4"}}
	pub, err := ValidateSubmission(form(), good)
	if err != nil {
		t.Fatal(err)
	}
	if len(pub) != 4 {
		t.Fatalf("public %v", pub)
	}
	for _, tc := range []struct {
		name string
		v    FieldValue
		want error
	}{
		{"TEMP", FieldValue{Value: "42.51", Unit: "Cel"}, ErrOutOfRange},
		{"TEMP", FieldValue{Value: "37", Unit: "[degF]"}, ErrUnit},
		{"SYSBP", FieldValue{Value: "1e2", Unit: "mm[Hg]"}, ErrType},
		{"SYSBP", FieldValue{Value: "", Unit: "mm[Hg]"}, ErrRequired},
		{"SEX", FieldValue{Value: "X"}, ErrOutOfRange},
		{"DOB", FieldValue{Value: "1990-01-01"}, ErrInvalid},
		{"Q#0", FieldValue{Value: "1"}, ErrUnknownField},
		{"SYSBP#1", FieldValue{Value: "1"}, ErrUnknownField},
		{"X", FieldValue{Value: "1"}, ErrUnknownField},
	} {
		f := map[string]FieldValue{}
		for k, v := range good {
			f[k] = v
		}
		f[tc.name] = tc.v
		if _, err := ValidateSubmission(form(), f); !errors.Is(err, tc.want) {
			t.Errorf("%s=%+v: %v, want %v", tc.name, tc.v, err, tc.want.(*Error).Code)
		}
	}
	delete(good, "DOB")
	if _, err := ValidateSubmission(form(), good); !errors.Is(err, ErrRequired) {
		t.Errorf("missing private required field: %v", err)
	}
}

// TestValidateSubmissionPublic: the public values are the given map
// itself only when every value is public; a private commitment is never
// among them; no values give an empty map, never nil (an entry's "public"
// encodes as {}).
func TestValidateSubmissionPublic(t *testing.T) {
	commit := strings.Repeat("a", 64)
	f := &Form{ID: "v", Fields: []Field{
		{ID: "HR", Type: TypeInteger, Unit: "/min", Public: true},
		{ID: "NOTES", Type: TypeText},
	}}
	same := func(a, b map[string]FieldValue) bool {
		return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer()
	}
	for _, c := range []struct {
		name   string
		fields map[string]FieldValue
		same   bool
		want   map[string]FieldValue
	}{
		{"all public", map[string]FieldValue{"HR": {Value: "70", Unit: "/min"}}, true, map[string]FieldValue{"HR": {Value: "70", Unit: "/min"}}},
		{"with a commitment", map[string]FieldValue{"HR": {Value: "70", Unit: "/min"}, "NOTES": {Commit: commit}}, false, map[string]FieldValue{"HR": {Value: "70", Unit: "/min"}}},
		{"only a commitment", map[string]FieldValue{"NOTES": {Commit: commit}}, false, map[string]FieldValue{}},
		{"empty", map[string]FieldValue{}, true, map[string]FieldValue{}},
		{"nil", nil, false, map[string]FieldValue{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pub, err := ValidateSubmission(f, c.fields)
			if err != nil {
				t.Fatal(err)
			}
			if pub == nil || !reflect.DeepEqual(pub, c.want) {
				t.Fatalf("public %#v, want %#v", pub, c.want)
			}
			if c.fields != nil && same(pub, c.fields) != c.same {
				t.Fatalf("the given map itself: %v, want %v", same(pub, c.fields), c.same)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	irb := strings.Repeat("b", 64)
	ds := func(codes ...string) *Dataset {
		return &Dataset{ID: "d", Codes: codes, Diseases: []string{"MONDO:0005148"}, MaxDays: 30}
	}
	for _, tc := range []struct {
		name    string
		ds      *Dataset
		req     AccessRequest
		outcome string
		rule    string
	}{
		{"GRU allows POA", ds(DUOGRU), AccessRequest{Purpose: DUOPOA}, Granted, ""},
		{"HMB refuses POA", ds(DUOHMB), AccessRequest{Purpose: DUOPOA}, Denied, "HMB"},
		{"HMB refuses GRU", ds(DUOHMB), AccessRequest{Purpose: DUOGRU}, Denied, "HMB"},
		{"HMB allows DS", ds(DUOHMB), AccessRequest{Purpose: DUODiseaseSpecific, Diseases: []string{"MONDO:1"}}, Granted, ""},
		{"DS other disease", ds(DUODiseaseSpecific), AccessRequest{Purpose: DUODiseaseSpecific, Diseases: []string{"MONDO:1"}}, Denied, "DS"},
		{"DS same disease", ds(DUODiseaseSpecific), AccessRequest{Purpose: DUODiseaseSpecific, Diseases: []string{"MONDO:0005148"}}, Granted, ""},
		{"DS refuses HMB", ds(DUODiseaseSpecific), AccessRequest{Purpose: DUOHMB}, Denied, "DS"},
		{"POA only", ds(DUOPOA), AccessRequest{Purpose: DUOHMB}, Denied, "POA"},
		{"NCU commercial", ds(DUOGRU, DUONCU), AccessRequest{Purpose: DUOHMB, Commercial: true}, Denied, "NCU"},
		{"NCU non-commercial at a company", ds(DUOGRU, DUONCU), AccessRequest{Purpose: DUOHMB, ForProfit: true}, Granted, ""},
		{"NPU for-profit", ds(DUOGRU, DUONPU), AccessRequest{Purpose: DUOHMB, ForProfit: true}, Denied, "NPU"},
		{"NPUNCU", ds(DUOGRU, DUONPUNCU), AccessRequest{Purpose: DUOHMB, Commercial: true}, Denied, "NPUNCU"},
		{"IRB missing", ds(DUOGRU, DUOEthics), AccessRequest{Purpose: DUOHMB}, Denied, "IRB"},
		{"IRB given", ds(DUOGRU, DUOEthics), AccessRequest{Purpose: DUOHMB, EthicsApproval: irb}, Granted, ""},
		{"NPOA", ds(DUOGRU, DUONPOA), AccessRequest{Purpose: DUOPOA}, Denied, "NPOA"},
		{"NMDS", ds(DUOGRU, DUONoMethods), AccessRequest{Purpose: DUOHMB, Methods: true}, Denied, "NMDS"},
		{"GSO", ds(DUOGRU, DUOGeneticOnly), AccessRequest{Purpose: DUOHMB}, Denied, "GSO"},
		{"COL holds", ds(DUOGRU, DUOCollaboration), AccessRequest{Purpose: DUOHMB}, Held, "COL"},
		{"deny wins over hold", ds(DUOGRU, DUOCollaboration, DUONCU), AccessRequest{Purpose: DUOHMB, Commercial: true}, Denied, "NCU"},
		{"first failing rule in DUO order", ds(DUOGRU, DUONCU, DUOEthics), AccessRequest{Purpose: DUOHMB, Commercial: true}, Denied, "IRB"},
	} {
		d := Decide(tc.ds, &tc.req)
		if d.Outcome != tc.outcome || !strings.Contains(d.Rule, tc.rule) {
			t.Errorf("%s: %+v, want %s by %s", tc.name, d, tc.outcome, tc.rule)
		}
	}
	d := Decide(ds(DUOGRU, DUOTimeLimit, DUOPublication), &AccessRequest{Purpose: DUOHMB, Days: 90})
	if d.Days != 30 || len(d.Conditions) != 1 || !strings.Contains(d.Conditions[0], "PUB") {
		t.Errorf("TS/PUB: %+v", d)
	}
}

func TestCompareOutcomes(t *testing.T) {
	base := []Outcome{
		{ID: "p1", Type: Primary, Measure: "Change in HbA1c", TimeFrame: "week 26"},
		{ID: "s1", Type: Secondary, Measure: "Body weight", TimeFrame: "week 26"},
		{ID: "s2", Type: Secondary, Measure: "Hypoglycaemia events"},
	}
	r := CompareOutcomes(base, []OutcomeResult{
		{Type: Primary, Measure: "change in  hba1c", TimeFrame: "Week 26"},
		{Type: Secondary, Measure: "Body weight", TimeFrame: "week 26"},
		{Type: Secondary, Measure: "Hypoglycaemia events"},
	})
	if !r.Faithful || r.PrimarySwitched {
		t.Fatalf("faithful report flagged: %+v", r)
	}
	r = CompareOutcomes(base, []OutcomeResult{
		{Type: Primary, Measure: "Body weight", TimeFrame: "week 52"},
		{Type: Secondary, Measure: "Quality of life"},
	})
	if r.Faithful || !r.PrimarySwitched || len(r.Missing) != 2 || len(r.Added) != 1 || len(r.Changed) != 2 {
		t.Fatalf("switch not reported: %+v", r)
	}
	if r.Changed[0].What != "type" || r.Changed[1].What != "timeFrame" || r.Missing[0].ID != "p1" {
		t.Fatalf("%+v", r)
	}
	// Two primaries registered, one dropped, the other reported: dropped, not switched.
	two := append([]Outcome{{ID: "p2", Type: Primary, Measure: "Fasting glucose"}}, base...)
	r = CompareOutcomes(two, []OutcomeResult{
		{Type: Primary, Measure: "Fasting glucose"},
		{Type: Secondary, Measure: "Body weight", TimeFrame: "week 26"},
		{Type: Secondary, Measure: "Hypoglycaemia events"},
	})
	if r.PrimarySwitched || !r.PrimaryDropped || len(r.Missing) != 1 {
		t.Fatalf("a dropped primary: %+v", r)
	}
}

func TestDigestsDomainSeparated(t *testing.T) {
	c := Changes{}
	a := AmendmentDigest("T", 2, "r", c)
	if a == AmendmentDigest("T", 3, "r", c) || a == AmendmentDigest("T", 2, "r2", c) || a == DecisionDigest("T", "2", true, 0, "r") {
		t.Fatal("digests collide")
	}
	if Digest("x", "ab", "c") == Digest("x", "a", "bc") {
		t.Fatal("parts not separated")
	}
}

// TestStdlibOnly keeps the package importable by contracts: standard
// library only, and sdk/jsonfast (the SDK's reflection-free JSON reader,
// itself standard-library only: -deps lists whatever it imports).
func TestStdlibOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/trialchain/trialchain/trials/model" && p != "github.com/trialchain/trialchain/sdk/jsonfast" {
			t.Errorf("trials/model imports %s; it must stay standard-library only", p)
		}
	}
}

func TestODMValueTypes(t *testing.T) {
	for _, tc := range []struct {
		typ, v, prec string
	}{
		{TypePartialDate, "2020", "year"}, {TypePartialDate, "2020-07", "month"}, {TypePartialDate, "2020-02-29", "day"},
		{TypePartialDate, "2021-02-29", ""}, {TypePartialDate, "2020-13", ""}, {TypePartialDate, "20-07", ""},
		{TypePartialTime, "09", "hour"}, {TypePartialTime, "09:11", "minute"}, {TypePartialTime, "09:11:30.5Z", "fraction"},
		{TypePartialTime, "24:00", ""}, {TypePartialTime, "09:60", ""},
		{TypePartialDateTime, "2020-07-06T09:11", "minute"}, {TypePartialDateTime, "2020-07", "month"},
		{TypePartialDateTime, "2020-07-06T09:11:00+02:00", "second"}, {TypePartialDateTime, "2020-07T09:11", ""},
		{TypePartialDateTime, "2020-07-06T", ""},
	} {
		got, ok := PartialPrecision(tc.typ, tc.v)
		if ok != (tc.prec != "") || got != tc.prec {
			t.Errorf("%s %q: %q %v, want %q", tc.typ, tc.v, got, ok, tc.prec)
		}
		fd := Field{ID: "X", Type: tc.typ}
		if err := fd.ValidateValue("X", FieldValue{Value: tc.v}); (err == nil) != (tc.prec != "") {
			t.Errorf("ValidateValue %s %q: %v", tc.typ, tc.v, err)
		}
	}
	fd := Field{ID: "B", Type: TypeBoolean}
	for v, ok := range map[string]bool{"1": true, "0": true, "true": true, "false": true, "yes": false, "TRUE": false} {
		if err := fd.ValidateValue("B", FieldValue{Value: v}); (err == nil) != ok {
			t.Errorf("boolean %q: %v", v, err)
		}
	}
}
