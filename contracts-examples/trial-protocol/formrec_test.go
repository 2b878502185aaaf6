package main

import (
	"reflect"
	"testing"

	"github.com/trialchain/trialchain/trials/model"
)

// formRecForms are forms as protocols declare them: every kind of field,
// codes, flags, an empty form, and strings the record cannot hold.
var formRecForms = []struct {
	name string
	f    model.Form
	ok   bool // the record by position can hold it
}{
	{"vitals", model.Form{ID: "vitals", Name: "Vital signs", Fields: []model.Field{
		{ID: "SYSBP", Label: "Systolic blood pressure", Type: "integer", Unit: "mm[Hg]", Min: "60", Max: "250", Required: true, Public: true},
		{ID: "TEMP", Label: "Body temperature", Type: "decimal", Unit: "Cel", Min: "34.0", Max: "42.5", Public: true},
		{ID: "NOTES", Label: "Investigator notes", Type: "text", MaxLength: 2000},
		{ID: "SEX", Label: "Sex", Type: "code", Codes: []string{"F", "M", "U"}, Required: true, Public: true, Repeating: true},
	}}, true},
	{"no fields", model.Form{ID: "empty"}, true},
	{"no name", model.Form{ID: "x", Fields: []model.Field{{ID: "A", Type: "boolean"}}}, true},
	{"escaped label", model.Form{ID: "x", Fields: []model.Field{{ID: "A", Label: `the "A" <field>`, Type: "text"}}}, false},
	{"non-ASCII name", model.Form{ID: "x", Name: "Température"}, false},
}

// TestFormRec: a form's record by position reads back as the same form
// (nil and empty codes are the same: no list), at the version written;
// a form it cannot hold is refused, so saveForm keeps the object.
func TestFormRec(t *testing.T) {
	for _, c := range formRecForms {
		t.Run(c.name, func(t *testing.T) {
			b, ok := encodeFormRec(7, &c.f)
			if ok != c.ok {
				t.Fatalf("encode ok = %v, want %v (%s)", ok, c.ok, b)
			}
			if !ok {
				return
			}
			v, f, ok := decodeFormRec(b)
			if !ok || v != 7 {
				t.Fatalf("decode %s: ok %v, version %d", b, ok, v)
			}
			want := c.f
			if len(want.Fields) == 0 {
				want.Fields = nil
			}
			if !reflect.DeepEqual(f, want) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", f, want)
			}
		})
	}
}

// TestFormRecRefuses: anything but a record as encodeFormRec writes it is
// refused (the caller then reads the form another way), never misread.
func TestFormRecRefuses(t *testing.T) {
	for _, b := range []string{
		``, `[]`, `[1]`, `[1,"x","y"]`, `[1,"x","y",[]`, `[1,"x","y",[]]x`, `[-1,"x","y",[]]`,
		`[1,"x","y",[["A","","text","","","",null,0,8]]]`,   // unknown flag
		`[1,"x","y",[["A","","text","","","",null,-1,0]]]`,  // negative length
		`[1,"x","y",[["A","","text","","","",[],0,0]]]`,     // empty codes are written as null
		`[1,"x","y",[["A","","text","","","",null,0]]]`,     // missing flags
		`[1,"x","y",[["A","","text","","","",null,0,0],]]`,  // trailing comma
		`{"version":1,"form":{"id":"x","fields":[]}}`,       // the object record
		`[1,"x","y",[["A","","text","","","",null,0,0,1]]]`, // extra value
		`[1.5,"x","y",[]]`,
	} {
		if v, f, ok := decodeFormRec([]byte(b)); ok {
			t.Errorf("%s: decoded as version %d, %+v", b, v, f)
		}
	}
}

// FuzzFormRec: any bytes either are refused or decode to a form whose
// record, where one can be written, reads back the same. (The decoder
// also reads strings the encoder leaves to the object record, such as
// "&", unescaped as encoding/json would read them.)
func FuzzFormRec(f *testing.F) {
	for _, c := range formRecForms {
		if b, ok := encodeFormRec(1, &c.f); ok {
			f.Add(b)
		}
	}
	f.Add([]byte(`[1,"x","y",[["A","","text","","","",null,0,0]]]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, form, ok := decodeFormRec(b)
		if !ok {
			return
		}
		again, ok := encodeFormRec(v, &form)
		if !ok {
			return
		}
		v2, form2, ok := decodeFormRec(again)
		if !ok || v2 != v || !reflect.DeepEqual(form, form2) {
			t.Fatalf("%q: %d %+v, again %d %+v", b, v, form, v2, form2)
		}
	})
}
