package main

import (
	"github.com/trialchain/trialchain/sdk/contract"
	"github.com/trialchain/trialchain/sdk/jsonfast"
	"github.com/trialchain/trialchain/trials/model"
)

// A submission checks its values against the form's definition, read
// from state on every call: the hot path's largest decoding. The form
// record (key form/<trial>/<visit>/<form>) holds it as a JSON array by
// position instead of an object of named fields:
//
//	[version,"id","name",[["id","label","type","unit","min","max",codes,maxLength,flags],…]]
//
// where codes is an array of strings or null and flags is required (1),
// public (2) and repeating (4) added together. Read in order, without a
// key to look up per value, it costs a fraction of the object's decoding.
// A form that a record by position cannot hold (a string that encoding/json
// would escape) keeps the object record of visitForm under visitform/.
const formRecPrefix = "form/"

const (
	flagRequired = 1 << iota
	flagPublic
	flagRepeating
)

// encodeFormRec returns the record of f as of protocol version, and false
// if one of its strings cannot be written as it is.
func encodeFormRec(version int, f *model.Form) ([]byte, bool) {
	e := jsonfast.NewEncoder(make([]byte, 0, 256+len(f.Fields)*96))
	e.Raw("[")
	e.Int(int64(version))
	e.Raw(",")
	e.String(f.ID)
	e.Raw(",")
	e.String(f.Name)
	e.Raw(",[")
	for i := range f.Fields {
		fd := &f.Fields[i]
		if i > 0 {
			e.Raw(",")
		}
		e.Raw("[")
		for j, s := range [...]string{fd.ID, fd.Label, fd.Type, fd.Unit, fd.Min, fd.Max} {
			if j > 0 {
				e.Raw(",")
			}
			e.String(s)
		}
		e.Raw(",")
		if len(fd.Codes) == 0 {
			e.Raw("null") // nil and empty codes mean the same: no code list
		} else {
			e.Strings(fd.Codes)
		}
		e.Raw(",")
		e.Int(int64(fd.MaxLength))
		e.Raw(",")
		flags := 0
		if fd.Required {
			flags |= flagRequired
		}
		if fd.Public {
			flags |= flagPublic
		}
		if fd.Repeating {
			flags |= flagRepeating
		}
		e.Int(int64(flags))
		e.Raw("]")
	}
	e.Raw("]]")
	return e.Bytes()
}

// decodeFormRec reads a form record; false if b is not one (the caller
// then reads the form from the trial). The form's strings share b.
func decodeFormRec(b []byte) (version int, f model.Form, ok bool) {
	d := jsonfast.NewDecoder(b)
	d.Expect('[')
	version = int(d.Int())
	d.Expect(',')
	f.ID = d.String()
	d.Expect(',')
	f.Name = d.String()
	d.Expect(',')
	d.Expect('[')
	if d.Peek() == ']' {
		d.Expect(']')
	} else {
		f.Fields = make([]model.Field, 0, 8)
		for !d.Failed() {
			f.Fields = append(f.Fields, model.Field{})
			fd := &f.Fields[len(f.Fields)-1]
			d.Expect('[')
			for _, p := range [...]*string{&fd.ID, &fd.Label, &fd.Type, &fd.Unit, &fd.Min, &fd.Max} {
				*p = d.String()
				d.Expect(',')
			}
			if !d.Null() {
				fd.Codes = d.Strings()
				if len(fd.Codes) == 0 {
					d.Fail() // written as null
				}
			}
			d.Expect(',')
			n := d.Int()
			if n < 0 || n > 1<<31-1 {
				d.Fail()
			}
			fd.MaxLength = int(n)
			d.Expect(',')
			flags := d.Int()
			if flags < 0 || flags > flagRequired|flagPublic|flagRepeating {
				d.Fail()
			}
			fd.Required, fd.Public, fd.Repeating = flags&flagRequired != 0, flags&flagPublic != 0, flags&flagRepeating != 0
			d.Expect(']')
			if d.Peek() != ',' {
				break
			}
			d.Expect(',')
		}
		d.Expect(']')
	}
	d.Expect(']')
	if !d.End() || version < 0 {
		return 0, model.Form{}, false
	}
	return version, f, true
}

// saveForm stores the definition of form f collected at visit of trial
// id, as of protocol version: as a record by position if it can be
// written so, else as a visitForm object. The other kind is deleted, so
// that a reader never finds a stale one first.
func saveForm(id, visit string, version int, f *model.Form) {
	k := id + "/" + visit + "/" + f.ID
	if b, ok := encodeFormRec(version, f); ok {
		contract.Set([]byte(formRecPrefix+k), b)
		visitForms.Delete(k)
		return
	}
	contract.Delete([]byte(formRecPrefix + k))
	visitForms.Set(k, visitForm{Version: version, Form: *f})
}

// loadForm returns the definition of form collected at visit of trial,
// and the protocol version it was stored for.
func loadForm(trial, visit, form string) (int, model.Form, bool) {
	k := trial + "/" + visit + "/" + form
	if b, ok := contract.Get([]byte(formRecPrefix + k)); ok {
		if v, f, ok := decodeFormRec(b); ok {
			return v, f, true
		}
	}
	vf, ok := visitForms.Get(k)
	return vf.Version, vf.Form, ok
}
