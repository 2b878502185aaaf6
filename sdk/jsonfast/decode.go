// Package jsonfast is a reflection-free reader of the JSON that
// encoding/json writes, for the fixed record shapes on a contract's hot
// path (see vm/RATIONALE.md, "Guest cost"). In a metered guest,
// encoding/json costs tens of gas per byte: it scans every document twice
// (checkValid, then the decode), one function call per byte, and reaches
// every field through reflection.
//
// A type opts in by implementing Unmarshaler with a hand-written decoder.
// The reader is strict: it accepts only what encoding/json's Marshal
// produces for the type (exact, known keys; strings without escapes or
// invalid UTF-8; integers without fraction or exponent; no null), and
// marks anything else as failed. The SDK then decodes the same bytes again
// with encoding/json from a zero value, so a value decoded either way is
// the one encoding/json gives, and unusual input (an escape, a
// case-folded or unknown key, a null) behaves exactly as before.
package jsonfast

import (
	"unicode/utf8"
	"unsafe"
)

// Unmarshaler is implemented by a pointer to a type with a hand-written
// decoder. UnmarshalJSONFast reads one value from d into the receiver; it
// must call d.Fail on anything it does not know (an unknown key), and
// decode every key encoding/json would (case-sensitively) into the same
// field, so that whenever d ends without failing the value equals
// encoding/json's decoding of the same bytes into a zero value.
type Unmarshaler interface {
	UnmarshalJSONFast(d *Decoder)
}

// Decode decodes b into v with v's hand-written decoder and reports
// whether it succeeded: false means v may be partly written and must be
// reset and decoded with encoding/json. Strings decoded share b's memory
// (no copy): b must never be modified afterwards (the SDK passes buffers
// it has just received from the host and drops).
func Decode(b []byte, v Unmarshaler) bool {
	var d Decoder
	return DecodeWith(&d, b, v)
}

// DecodeWith is Decode with a decoder the caller provides and may use
// again once it returns: a guest decoding a few documents per call saves
// an allocation for each.
func DecodeWith(d *Decoder, b []byte, v Unmarshaler) bool {
	*d = Decoder{b: b}
	v.UnmarshalJSONFast(d)
	ok := d.End()
	*d = Decoder{}
	return ok
}

// Decoder reads one JSON document. Its methods do nothing once it failed.
type Decoder struct {
	b      []byte
	i      int
	failed bool
}

// NewDecoder returns a decoder of b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Fail marks the document as not decodable by the fast path.
func (d *Decoder) Fail() { d.failed = true }

// Failed reports whether the decoder failed.
func (d *Decoder) Failed() bool { return d.failed }

// End reports whether the whole document was read without failure (only
// white space after the value).
func (d *Decoder) End() bool {
	d.ws()
	return !d.failed && d.i == len(d.b)
}

func (d *Decoder) ws() {
	b, i := d.b, d.i
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	d.i = i
}

// next skips white space and returns the next byte without consuming it
// (0 at the end).
func (d *Decoder) next() byte {
	if i := d.i; i < len(d.b) && d.b[i] > ' ' && !d.failed {
		return d.b[i] // no white space: encoding/json writes none
	}
	return d.nextSlow()
}

//go:noinline
func (d *Decoder) nextSlow() byte {
	d.ws()
	if d.failed || d.i >= len(d.b) {
		d.failed = true
		return 0
	}
	return d.b[d.i]
}

// expect consumes c, after white space, or fails.
func (d *Decoder) expect(c byte) {
	if i := d.i; i < len(d.b) && d.b[i] == c {
		d.i = i + 1
		return
	}
	d.expectSlow(c)
}

//go:noinline
func (d *Decoder) expectSlow(c byte) {
	if d.nextSlow() != c {
		d.failed = true
		return
	}
	d.i++
}

// The loops below test for the byte encoding/json writes next before
// calling next or expect: in a metered guest a call costs more than the
// test, and these functions are too large to be inlined.

// Expect reads the byte c (after white space) or fails: the punctuation
// of a document read by position ('[', ',', ']').
func (d *Decoder) Expect(c byte) { d.expect(c) }

// Peek returns the next byte after white space without reading it; at
// the end of the document it returns 0 and the decoder fails.
func (d *Decoder) Peek() byte {
	if d.failed {
		return 0
	}
	return d.next()
}

// Object reads an object (a map), calling field for each key with the
// decoder positioned at its value, which field must read (or Fail). The
// key is valid only during the call. A repeated key is passed again (the
// last value wins in encoding/json's maps too).
func (d *Decoder) Object(field func(key []byte)) { d.object(field, false) }

// Fields reads an object that is a struct, as Object, but fails on a
// repeated key: encoding/json would merge the two values into one field
// in ways a hand-written decoder need not copy.
func (d *Decoder) Fields(field func(key []byte)) { d.object(field, true) }

func (d *Decoder) object(field func(key []byte), unique bool) {
	var buf [16][]byte // the keys seen, on the stack for any struct of up to 16 fields
	seen := buf[:0]
	d.expect('{')
	if d.next() == '}' {
		d.i++
		return
	}
	for !d.failed {
		key := d.stringBytes()
		if i := d.i; i < len(d.b) && d.b[i] == ':' {
			d.i = i + 1
		} else {
			d.expectSlow(':')
		}
		if d.failed {
			return
		}
		if unique {
			for _, k := range seen {
				if len(k) == len(key) && string(k) == string(key) {
					d.failed = true
					return
				}
			}
			seen = append(seen, key)
		}
		field(key)
		c := byte(0)
		if i := d.i; i < len(d.b) && !d.failed {
			c = d.b[i]
		}
		if c != ',' && c != '}' {
			c = d.nextSlow()
		}
		switch c {
		case ',':
			d.i++
		case '}':
			d.i++
			return
		default:
			d.failed = true
		}
	}
}

// Array reads an array, calling elem with the decoder positioned at each
// element, which elem must read.
func (d *Decoder) Array(elem func()) {
	d.expect('[')
	if d.next() == ']' {
		d.i++
		return
	}
	for !d.failed {
		elem()
		c := byte(0)
		if i := d.i; i < len(d.b) && !d.failed {
			c = d.b[i]
		}
		if c != ',' && c != ']' {
			c = d.nextSlow()
		}
		switch c {
		case ',':
			d.i++
		case ']':
			d.i++
			return
		default:
			d.failed = true
		}
	}
}

// stringBytes reads a string without escapes, control characters or
// invalid UTF-8 and returns its bytes (a view of the document).
func (d *Decoder) stringBytes() []byte {
	b, i := d.b, d.i // locals: Go keeps them out of memory in the loop
	if i < len(b) && b[i] == '"' && !d.failed {
		i++
	} else {
		d.expectSlow('"')
		if d.failed {
			return nil
		}
		i = d.i
	}
	start, ascii := i, true
	for {
		for i < len(b) && plainByte[b[i]] {
			i++
		}
		if i >= len(b) {
			d.i = i
			d.failed = true
			return nil
		}
		switch c := b[i]; {
		case c == '"':
			d.i = i + 1
			s := b[start:i]
			if !ascii && !utf8.Valid(s) {
				d.failed = true // encoding/json replaces invalid UTF-8
				return nil
			}
			return s
		case c >= 0x80:
			ascii = false
			i++
		default: // an escape or a control character
			d.i = i
			d.failed = true
			return nil
		}
	}
}

// plainByte marks the bytes a string's body may hold as they are: not
// '"', '\', a control character or a byte of a multi-byte sequence.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// String reads a string; it shares the document's memory.
func (d *Decoder) String() string {
	b := d.stringBytes() // nil if it failed
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// KeyString returns an object key passed to a field function as a string
// sharing the document's memory (for map keys).
func (d *Decoder) KeyString(k []byte) string {
	if len(k) == 0 {
		return ""
	}
	return unsafe.String(&k[0], len(k))
}

// Strings reads an array of strings into a new slice ([] gives an empty,
// non-nil slice, as encoding/json does).
func (d *Decoder) Strings() []string {
	s := make([]string, 0, 4)
	d.Array(func() { s = append(s, d.String()) })
	return s
}

// Null reads null if it comes next and reports whether it did (for a map
// or slice, which encoding/json sets to nil on null).
func (d *Decoder) Null() bool {
	if d.next() != 'n' {
		return false
	}
	return d.literal("null")
}

// Bool reads true or false.
func (d *Decoder) Bool() bool {
	switch d.next() {
	case 't':
		if d.literal("true") {
			return true
		}
	case 'f':
		d.literal("false")
	default:
		d.failed = true
	}
	return false
}

func (d *Decoder) literal(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		d.failed = true
		return false
	}
	d.i += len(s)
	return true
}

// digits reads an integer of at most 18 digits (no fraction, no exponent,
// no leading zero) and its sign.
func (d *Decoder) digits() (v uint64, neg bool) {
	c := d.next()
	if c == '-' {
		neg = true
		d.i++
	}
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		v = v*10 + uint64(d.b[d.i]-'0')
		d.i++
	}
	n := d.i - start
	switch {
	case n == 0 || n > 18 || (n > 1 && d.b[start] == '0'):
		d.failed = true
	case d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E'):
		d.failed = true
	}
	return v, neg
}

// Int reads an integer that fits an int64 (18 digits at most; longer
// numbers fail over to encoding/json).
func (d *Decoder) Int() int64 {
	v, neg := d.digits()
	if neg {
		return -int64(v)
	}
	return int64(v)
}

// Uint reads a non-negative integer.
func (d *Decoder) Uint() uint64 {
	v, neg := d.digits()
	if neg {
		d.failed = true
	}
	return v
}
