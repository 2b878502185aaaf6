package model

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/trialchain/trialchain/sdk/jsonfast"
)

var fastSamples = []any{
	&SubmitArgs{Trial: "T1", Subject: "S-1", Visit: "day1", Form: "vitals",
		Fields:     map[string]FieldValue{"SYSBP": {Value: "120", Unit: "mm[Hg]"}, "HR": {Value: "70", Unit: "/min"}, "X": {Commit: "ab"}, "E": {}},
		RecordHash: "00ff", Signature: Signature{PrintedName: "Dr. Site", Meaning: "author"}},
	&SubmitArgs{},
	&Form{ID: "vitals", Name: "Vital signs", Fields: []Field{
		{ID: "SYSBP", Label: "Systolic", Type: TypeDecimal, Unit: "mm[Hg]", Min: "40", Max: "300", Required: true, Public: true},
		{ID: "SEX", Type: TypeCode, Codes: []string{"F", "M"}, MaxLength: 1, Repeating: true},
		{ID: "E", Codes: []string{}}}},
	&Form{Fields: []Field{}},
	&Subject{ID: "S-1", Trial: "T1", Site: "site", Arm: "A", ConsentDocHash: "h", ProtocolVersion: 3,
		Manifestation: Manifestation{PrintedName: "Dr. Ünïcode", Meaning: "enrolment", Time: "2026-01-01T00:00:00.000Z", Signer: "aa", Org: "o"}, Height: 1 << 40},
}

// decodeBoth decodes b into a new value of sample's type both ways and
// reports whether the fast path took it; when it did, the two must agree.
func decodeBoth(t *testing.T, sample any, b []byte) bool {
	typ := reflect.TypeOf(sample).Elem()
	fast := reflect.New(typ)
	if !jsonfast.Decode(b, fast.Interface().(jsonfast.Unmarshaler)) {
		return false
	}
	slow := reflect.New(typ)
	if err := json.Unmarshal(b, slow.Interface()); err != nil {
		t.Fatalf("%T %q: fast path accepted what encoding/json refuses: %v", sample, b, err)
	}
	if !reflect.DeepEqual(fast.Interface(), slow.Interface()) {
		t.Fatalf("%T %q:\nfast %+v\njson %+v", sample, b, fast.Interface(), slow.Interface())
	}
	return true
}

func TestFastDecode(t *testing.T) {
	for _, s := range fastSamples {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if !decodeBoth(t, s, b) {
			t.Errorf("%T: fast path refused json.Marshal's %s", s, b)
		}
	}
	// What the fast path must leave to encoding/json.
	refused := []struct {
		name string
		doc  string
	}{
		{"escape", `{"trial":"T\"1"}`},
		{"unicode escape", `{"trial":"\u0054"}`},
		{"invalid utf-8", "{\"trial\":\"\xff\"}"},
		{"unknown key", `{"trial":"T1","extra":1}`},
		{"case-folded key", `{"Trial":"T1"}`},
		{"null", `{"trial":null}`},
		{"duplicate key", `{"trial":"a","trial":"b"}`},
		{"trailing data", `{"trial":"a"} x`},
		{"truncated", `{"trial":"a"`},
		{"not an object", `[]`},
	}
	for _, c := range refused {
		if decodeBoth(t, &SubmitArgs{}, []byte(c.doc)) {
			t.Errorf("%s: fast path accepted %s", c.name, c.doc)
		}
	}
	for _, c := range []struct{ name, doc string }{
		{"float", `{"protocolVersion":1.5}`},
		{"exponent", `{"protocolVersion":1e2}`},
		{"leading zero", `{"protocolVersion":01}`},
		{"19 digits", `{"height":1234567890123456789}`},
		{"negative height", `{"height":-1}`},
	} {
		if decodeBoth(t, &Subject{}, []byte(c.doc)) {
			t.Errorf("%s: fast path accepted %s", c.name, c.doc)
		}
	}
	// Accepted with white space, duplicate map keys (last wins) and -0.
	for _, doc := range []string{" { \"fields\" : { \"A\" : {\"value\":\"1\"} , \"A\":{\"unit\":\"u\"} } } ", `{"trial":""}`, `{"fields":null}`, `{"trial":"x","fields":null}`} {
		if !decodeBoth(t, &SubmitArgs{}, []byte(doc)) {
			t.Errorf("fast path refused %s", doc)
		}
	}
	if !decodeBoth(t, &Subject{}, []byte(`{"protocolVersion":-0,"height":0}`)) {
		t.Error("fast path refused -0")
	}
}

// FuzzFastDecode: whatever the fast decoders accept, encoding/json
// decodes to the same value.
func FuzzFastDecode(f *testing.F) {
	for _, s := range fastSamples {
		b, _ := json.Marshal(s)
		f.Add(b)
	}
	f.Add([]byte(`{"fields":{"A":{"value":"1"},"A":{}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range []any{&SubmitArgs{}, &Form{}, &Subject{}} {
			decodeBoth(t, s, b)
		}
	})
}

func encodeBoth(t *testing.T, e Entry) bool {
	fast, ok := jsonfast.Encode(e)
	if !ok {
		return false
	}
	slow, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if string(fast) != string(slow) {
		t.Fatalf("fast %s\njson %s", fast, slow)
	}
	return true
}

func TestFastEncode(t *testing.T) {
	m := Manifestation{PrintedName: "Dr. Site", Meaning: "author", Time: "2026-01-01T00:00:00.000Z", Signer: "aa", Org: "o"}
	for _, e := range []Entry{
		{},
		{ID: "crf-1", Kind: KindSubmission, Trial: "T1", Subject: "S", Visit: "v", Form: "f", Site: "s",
			Public: map[string]FieldValue{"b": {Value: "1", Unit: "u"}, "a": {Commit: "c"}, "c": {}}, Private: []string{"x", "y"},
			Commitments: "cc", RecordHash: "rh", Corrects: "crf-0", Reason: "typo", ProtocolVer: 2, Manifestation: m, Height: 7},
		{Public: map[string]FieldValue{}, Private: []string{}},
	} {
		if !encodeBoth(t, e) {
			t.Errorf("fast path refused %+v", e)
		}
	}
	for _, s := range []string{"<", ">", "&", `"`, `\`, "\n", "é", "\u2028", "\x7f"} {
		if encodeBoth(t, Entry{Reason: s}) {
			t.Errorf("fast path wrote %q", s)
		}
	}
}

// FuzzFastEncode: whatever the fast encoder writes is json.Marshal's bytes.
func FuzzFastEncode(f *testing.F) {
	f.Add("crf-1", "SYSBP", "120", "mm[Hg]", "", 3, uint64(9))
	f.Add("a<b", "é", "", "", "x", -1, uint64(0))
	f.Fuzz(func(t *testing.T, id, key, val, unit, reason string, ver int, h uint64) {
		encodeBoth(t, Entry{ID: id, Public: map[string]FieldValue{key: {Value: val, Unit: unit}, "z": {Commit: val}},
			Reason: reason, ProtocolVer: ver, Manifestation: Manifestation{Org: key}, Height: h})
	})
}
