package jsonfast

import "testing"

type pair struct {
	A string
	N int64
	U uint64
	B bool
	S []string
}

func (p *pair) UnmarshalJSONFast(d *Decoder) {
	d.Fields(func(k []byte) {
		switch string(k) {
		case "a":
			p.A = d.String()
		case "n":
			p.N = d.Int()
		case "u":
			p.U = d.Uint()
		case "b":
			p.B = d.Bool()
		case "s":
			p.S = d.Strings()
		default:
			d.Fail()
		}
	})
}

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		doc  string
		ok   bool
		want pair
	}{
		{`{"a":"x","n":-12,"u":7,"b":true,"s":["p","q"]}`, true, pair{A: "x", N: -12, U: 7, B: true, S: []string{"p", "q"}}},
		{` { } `, true, pair{}},
		{`{"b":false,"s":[]}`, true, pair{S: []string{}}},
		{`{"a":"héllo"}`, true, pair{A: "héllo"}},
		{`{"n":999999999999999999}`, true, pair{N: 999999999999999999}},
		{`{"n":1000000000000000000}`, false, pair{}},
		{`{"n":1.0}`, false, pair{}},
		{`{"n":01}`, false, pair{}},
		{`{"n":-}`, false, pair{}},
		{`{"u":-1}`, false, pair{}},
		{`{"b":tru}`, false, pair{}},
		{`{"b":null}`, false, pair{}},
		{`{"a":"x\n"}`, false, pair{}},
		{"{\"a\":\"\t\"}", false, pair{}},
		{"{\"a\":\"\xc3\"}", false, pair{}},
		{`{"a":"x","a":"y"}`, false, pair{}},
		{`{"z":1}`, false, pair{}},
		{`{"a":"x",}`, false, pair{}},
		{`{"a":"x"`, false, pair{}},
		{`{"a" "x"}`, false, pair{}},
		{`{"s":["p",]}`, false, pair{}},
		{`{"a":"x"}{}`, false, pair{}},
		{``, false, pair{}},
	} {
		var p pair
		ok := Decode([]byte(c.doc), &p)
		if ok != c.ok {
			t.Errorf("%q: ok = %v, want %v", c.doc, ok, c.ok)
			continue
		}
		if ok && (p.A != c.want.A || p.N != c.want.N || p.U != c.want.U || p.B != c.want.B ||
			len(p.S) != len(c.want.S) || (p.S == nil) != (c.want.S == nil)) {
			t.Errorf("%q: got %+v, want %+v", c.doc, p, c.want)
		}
	}
}

func TestEncode(t *testing.T) {
	enc := func(f func(e *Encoder)) (string, bool) {
		e := Encoder{}
		f(&e)
		return string(e.b), !e.failed
	}
	for _, c := range []struct {
		f    func(e *Encoder)
		want string
		ok   bool
	}{
		{func(e *Encoder) { e.String("a b-_/:.[]") }, `"a b-_/:.[]"`, true},
		{func(e *Encoder) { e.Strings(nil) }, `null`, true},
		{func(e *Encoder) { e.Strings([]string{}) }, `[]`, true},
		{func(e *Encoder) { e.Strings([]string{"x", "y"}) }, `["x","y"]`, true},
		{func(e *Encoder) { e.Int(-5); e.Raw(","); e.Uint(18446744073709551615); e.Raw(","); e.Bool(true) }, `-5,18446744073709551615,true`, true},
		{func(e *Encoder) { e.String("a<b") }, ``, false},
		{func(e *Encoder) { e.String("é") }, ``, false},
		{func(e *Encoder) { e.String("\x7f") }, ``, false},
	} {
		got, ok := enc(c.f)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("got %q %v, want %q %v", got, ok, c.want, c.ok)
		}
	}
}

// TestLongStrings crosses the eight-byte steps with every kind of byte at
// every offset of a long string.
func TestLongStrings(t *testing.T) {
	for n := 0; n < 24; n++ {
		for pos := -1; pos < n; pos++ {
			for _, c := range []byte{'x', '"', '\\', '\n', 0x7f, 0xc3} {
				body := make([]byte, n)
				for i := range body {
					body[i] = 'a' + byte(i%26)
				}
				if pos >= 0 {
					body[pos] = c
				}
				doc := `{"a":"` + string(body) + `"}`
				var p pair
				ok := Decode([]byte(doc), &p)
				wantOK := pos < 0 || c == 'x' || c == 0x7f
				if ok != wantOK || (ok && p.A != string(body)) {
					t.Fatalf("%q: ok %v (want %v), a %q", doc, ok, wantOK, p.A)
				}
			}
		}
	}
}

// TestStringPositions puts strings of every length, with each kind of
// byte at each position, after white space or none, in a document and
// alone.
func TestStringPositions(t *testing.T) {
	for pad := 0; pad < 10; pad++ {
		for n := 0; n < 20; n++ {
			for pos := -1; pos < n; pos++ {
				for _, c := range []byte{'x', '"', '\\', '\n', 0x7f, 0xc3, 0xe9} {
					body := make([]byte, n)
					for i := range body {
						body[i] = 'a' + byte(i%26)
					}
					if pos >= 0 {
						body[pos] = c
					}
					ws := ""
					for i := 0; i < pad; i++ {
						ws += " "
					}
					doc := `{"s":[` + ws + `"` + string(body) + `"` + ws + `]}`
					var p pair
					ok := Decode([]byte(doc), &p)
					wantOK := pos < 0 || c == 'x' || c == 0x7f
					if ok != wantOK || (ok && (len(p.S) != 1 || p.S[0] != string(body))) {
						t.Fatalf("%q: ok %v (want %v), %q", doc, ok, wantOK, p.S)
					}
					d := NewDecoder([]byte(`"` + string(body) + `"`))
					s := d.String()
					if d.End() != wantOK || (wantOK && s != string(body)) {
						t.Fatalf("bare %q: ok %v (want %v), %q", body, !d.failed, wantOK, s)
					}
				}
			}
		}
	}
}
