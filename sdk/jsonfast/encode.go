package jsonfast

import "strconv"

// Marshaler is implemented by a type with a hand-written encoder.
// AppendJSONFast must write exactly the bytes json.Marshal writes for the
// value (field order, omitempty, map keys sorted), using the Encoder's
// methods for strings: a string the encoder cannot write byte-identically
// without escapes fails the encoder, and the SDK then calls json.Marshal.
type Marshaler interface {
	AppendJSONFast(e *Encoder)
}

// Encode returns v's encoding and true, or false if the SDK must use
// json.Marshal.
func Encode(v Marshaler) ([]byte, bool) {
	e := Encoder{b: make([]byte, 0, 1024)}
	v.AppendJSONFast(&e)
	return e.b, !e.failed
}

// EncodeTo is Encode appending to buf (which it may outgrow).
func EncodeTo(buf []byte, v Marshaler) ([]byte, bool) {
	e := Encoder{b: buf}
	v.AppendJSONFast(&e)
	return e.b, !e.failed
}

// NewEncoder returns an encoder appending to buf.
func NewEncoder(buf []byte) Encoder { return Encoder{b: buf} }

// Bytes returns what was written, and false if the encoder failed.
func (e *Encoder) Bytes() ([]byte, bool) { return e.b, !e.failed }

// Encoder appends JSON to a buffer.
type Encoder struct {
	b      []byte
	failed bool
}

// Raw appends s as is (punctuation and quoted keys).
func (e *Encoder) Raw(s string) { e.b = append(e.b, s...) }

// plain reports whether json.Marshal writes s between quotes unchanged:
// printable ASCII without '"', '\\' and the HTML characters it escapes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// String appends a quoted string, or fails the encoder if encoding/json
// would escape any of its bytes.
func (e *Encoder) String(s string) {
	if !plain(s) {
		e.failed = true
		return
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, s...)
	e.b = append(e.b, '"')
}

// Strings appends a string slice (nil as null).
func (e *Encoder) Strings(s []string) {
	if s == nil {
		e.Raw("null")
		return
	}
	e.b = append(e.b, '[')
	for i, x := range s {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.String(x)
	}
	e.b = append(e.b, ']')
}

// Int appends an integer.
func (e *Encoder) Int(v int64) { e.b = strconv.AppendInt(e.b, v, 10) }

// Uint appends a non-negative integer.
func (e *Encoder) Uint(v uint64) { e.b = strconv.AppendUint(e.b, v, 10) }

// Bool appends true or false.
func (e *Encoder) Bool(v bool) { e.b = strconv.AppendBool(e.b, v) }

// Fail makes the SDK use json.Marshal.
func (e *Encoder) Fail() { e.failed = true }
