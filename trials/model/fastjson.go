package model

import "github.com/trialchain/trialchain/sdk/jsonfast"

// Hand-written decoders of the records on trial-protocol's submission
// path (see sdk/jsonfast): each reads exactly what encoding/json writes
// for the type and fails on anything else, so the SDK falls back to
// encoding/json and the decoded value is always encoding/json's.
// FuzzFastDecode checks them against encoding/json.

// UnmarshalJSONFast implements jsonfast.Unmarshaler.
func (s *Signature) UnmarshalJSONFast(d *jsonfast.Decoder) {
	d.Fields(func(k []byte) {
		switch string(k) {
		case "printedName":
			s.PrintedName = d.String()
		case "meaning":
			s.Meaning = d.String()
		default:
			d.Fail()
		}
	})
}

// UnmarshalJSONFast implements jsonfast.Unmarshaler.
func (m *Manifestation) UnmarshalJSONFast(d *jsonfast.Decoder) {
	d.Fields(func(k []byte) {
		switch string(k) {
		case "printedName":
			m.PrintedName = d.String()
		case "meaning":
			m.Meaning = d.String()
		case "time":
			m.Time = d.String()
		case "signer":
			m.Signer = d.String()
		case "org":
			m.Org = d.String()
		default:
			d.Fail()
		}
	})
}

// UnmarshalJSONFast implements jsonfast.Unmarshaler.
func (v *FieldValue) UnmarshalJSONFast(d *jsonfast.Decoder) {
	d.Fields(func(k []byte) {
		switch string(k) {
		case "value":
			v.Value = d.String()
		case "unit":
			v.Unit = d.String()
		case "commit":
			v.Commit = d.String()
		default:
			d.Fail()
		}
	})
}

// decodeFieldValues reads a map of field values into *m (created if nil,
// as encoding/json does; each value decoded from zero).
func decodeFieldValues(d *jsonfast.Decoder, m *map[string]FieldValue) {
	if d.Null() {
		*m = nil
		return
	}
	if *m == nil {
		*m = make(map[string]FieldValue, 8)
	}
	d.Object(func(k []byte) {
		var v FieldValue
		v.UnmarshalJSONFast(d)
		(*m)[d.KeyString(k)] = v
	})
}

// UnmarshalJSONFast implements jsonfast.Unmarshaler.
func (a *SubmitArgs) UnmarshalJSONFast(d *jsonfast.Decoder) {
	d.Fields(func(k []byte) {
		switch string(k) {
		case "trial":
			a.Trial = d.String()
		case "subject":
			a.Subject = d.String()
		case "visit":
			a.Visit = d.String()
		case "form":
			a.Form = d.String()
		case "fields":
			decodeFieldValues(d, &a.Fields)
		case "recordHash":
			a.RecordHash = d.String()
		case "signature":
			a.Signature.UnmarshalJSONFast(d)
		default:
			d.Fail()
		}
	})
}

// UnmarshalJSONFast implements jsonfast.Unmarshaler.
func (f *Field) UnmarshalJSONFast(d *jsonfast.Decoder) {
	d.Fields(func(k []byte) {
		switch string(k) {
		case "id":
			f.ID = d.String()
		case "label":
			f.Label = d.String()
		case "type":
			f.Type = d.String()
		case "unit":
			f.Unit = d.String()
		case "min":
			f.Min = d.String()
		case "max":
			f.Max = d.String()
		case "codes":
			f.Codes = d.Strings()
		case "maxLength":
			f.MaxLength = int(d.Int())
		case "required":
			f.Required = d.Bool()
		case "public":
			f.Public = d.Bool()
		case "repeating":
			f.Repeating = d.Bool()
		default:
			d.Fail()
		}
	})
}

// UnmarshalJSONFast implements jsonfast.Unmarshaler.
func (f *Form) UnmarshalJSONFast(d *jsonfast.Decoder) {
	d.Fields(func(k []byte) {
		switch string(k) {
		case "id":
			f.ID = d.String()
		case "name":
			f.Name = d.String()
		case "fields":
			fs := make([]Field, 0, 8)
			d.Array(func() {
				var x Field
				x.UnmarshalJSONFast(d)
				fs = append(fs, x)
			})
			f.Fields = fs
		default:
			d.Fail()
		}
	})
}

// UnmarshalJSONFast implements jsonfast.Unmarshaler.
func (s *Subject) UnmarshalJSONFast(d *jsonfast.Decoder) {
	d.Fields(func(k []byte) {
		switch string(k) {
		case "id":
			s.ID = d.String()
		case "trial":
			s.Trial = d.String()
		case "site":
			s.Site = d.String()
		case "arm":
			s.Arm = d.String()
		case "consentDocHash":
			s.ConsentDocHash = d.String()
		case "protocolVersion":
			s.ProtocolVersion = int(d.Int())
		case "manifestation":
			s.Manifestation.UnmarshalJSONFast(d)
		case "height":
			s.Height = d.Uint()
		default:
			d.Fail()
		}
	})
}

// AppendJSONFast implements jsonfast.Marshaler.
func (m Manifestation) AppendJSONFast(e *jsonfast.Encoder) {
	e.Raw(`{"printedName":`)
	e.String(m.PrintedName)
	e.Raw(`,"meaning":`)
	e.String(m.Meaning)
	e.Raw(`,"time":`)
	e.String(m.Time)
	e.Raw(`,"signer":`)
	e.String(m.Signer)
	e.Raw(`,"org":`)
	e.String(m.Org)
	e.Raw(`}`)
}

// AppendJSONFast implements jsonfast.Marshaler.
func (v FieldValue) AppendJSONFast(e *jsonfast.Encoder) {
	sep := `{`
	for _, f := range [...]struct{ key, val string }{{`"value":`, v.Value}, {`"unit":`, v.Unit}, {`"commit":`, v.Commit}} {
		if f.val != "" {
			e.Raw(sep)
			e.Raw(f.key)
			e.String(f.val)
			sep = `,`
		}
	}
	if sep == `{` {
		e.Raw(`{`)
	}
	e.Raw(`}`)
}

// appendFieldValues appends a map of field values, keys sorted as
// encoding/json sorts them (nil as null).
func appendFieldValues(e *jsonfast.Encoder, m map[string]FieldValue) {
	if m == nil {
		e.Raw("null")
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	e.Raw(`{`)
	for i, k := range keys {
		if i > 0 {
			e.Raw(`,`)
		}
		e.String(k)
		e.Raw(`:`)
		m[k].AppendJSONFast(e)
	}
	e.Raw(`}`)
}

// sortStrings is an insertion sort (maps of form fields are small).
func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// AppendJSONFast implements jsonfast.Marshaler.
func (x Entry) AppendJSONFast(e *jsonfast.Encoder) {
	e.Raw(`{"id":`)
	e.String(x.ID)
	e.Raw(`,"kind":`)
	e.String(x.Kind)
	e.Raw(`,"trial":`)
	e.String(x.Trial)
	e.Raw(`,"subject":`)
	e.String(x.Subject)
	e.Raw(`,"visit":`)
	e.String(x.Visit)
	e.Raw(`,"form":`)
	e.String(x.Form)
	e.Raw(`,"site":`)
	e.String(x.Site)
	e.Raw(`,"public":`)
	appendFieldValues(e, x.Public)
	if len(x.Private) > 0 {
		e.Raw(`,"private":`)
		e.Strings(x.Private)
	}
	if x.Commitments != "" {
		e.Raw(`,"commitments":`)
		e.String(x.Commitments)
	}
	e.Raw(`,"recordHash":`)
	e.String(x.RecordHash)
	if x.Corrects != "" {
		e.Raw(`,"corrects":`)
		e.String(x.Corrects)
	}
	if x.Reason != "" {
		e.Raw(`,"reason":`)
		e.String(x.Reason)
	}
	e.Raw(`,"protocolVersion":`)
	e.Int(int64(x.ProtocolVer))
	e.Raw(`,"manifestation":`)
	x.Manifestation.AppendJSONFast(e)
	e.Raw(`,"height":`)
	e.Uint(x.Height)
	e.Raw(`}`)
}
