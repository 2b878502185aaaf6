package consent

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// encodings returns one valid encoding of each format, made from the
// fixture.
func encodings(t testing.TB) map[string][]byte {
	f := testFixture(t)
	gb, err := f.group.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	gj, err := f.group.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := f.sealed[0].MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	s1, s2, s3 := f.sign(t, 1), f.sign(t, 2), f.sign(t, 3)
	signed, err := s1.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Combine(f.group, testRequest(), s1, s2, s3)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"group": gb, "group.json": gj, "sealed": sealed, "signed": signed, "consent": cb}
}

// parse decodes b as format kind and re-encodes it.
func parse(kind string, b []byte) ([]byte, error) {
	switch kind {
	case "group":
		g, err := ParseGroup(b)
		if err != nil {
			return nil, err
		}
		return g.MarshalBinary()
	case "group.json":
		g, err := ParseGroupJSON(b)
		if err != nil {
			return nil, err
		}
		return g.MarshalJSON()
	case "sealed":
		s, err := ParseSealedShare(b)
		if err != nil {
			return nil, err
		}
		return s.MarshalBinary()
	case "signed":
		s, err := ParseSignedShare(b)
		if err != nil {
			return nil, err
		}
		return s.MarshalBinary()
	case "consent":
		c, err := ParseConsent(b)
		if err != nil {
			return nil, err
		}
		return c.MarshalBinary()
	}
	panic(kind)
}

func TestEncodingsRoundTrip(t *testing.T) {
	for kind, b := range encodings(t) {
		got, err := parse(kind, b)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%s: re-encoding differs", kind)
		}
	}
}

// TestEncodingsRejectMutations: truncations, trailing bytes, a
// non-minimal length and a foreign domain tag are refused by every binary
// decoder; every single-bit flip either is refused or decodes to a value
// whose re-encoding is the mutated input (no two encodings of one value).
func TestEncodingsRejectMutations(t *testing.T) {
	for kind, b := range encodings(t) {
		if kind == "group.json" {
			continue
		}
		t.Run(kind, func(t *testing.T) {
			mustFail := map[string][]byte{
				"empty":          nil,
				"trailing byte":  append(bytes.Clone(b), 0),
				"truncated by 1": b[:len(b)-1],
				"half":           b[:len(b)/2],
				// The tag's one-byte length 0x1c.. written as two bytes.
				"non-minimal length": append([]byte{b[0] | 0x80, 0x00}, b[1:]...),
				"other tag":          append([]byte{b[0]}, append([]byte("trialchain/consent/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")[:b[0]], b[1+int(b[0]):]...)...),
			}
			for name, m := range mustFail {
				if _, err := parse(kind, m); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInvalidGroup) {
					t.Errorf("%s: err = %v, want ErrMalformed", name, err)
				}
			}
			for i := 0; i < len(b)*8; i += 7 {
				m := bytes.Clone(b)
				m[i/8] ^= 1 << (i % 8)
				got, err := parse(kind, m)
				if err == nil && !bytes.Equal(got, m) {
					t.Fatalf("bit %d: decodes but re-encodes differently", i)
				}
			}
		})
	}
}

func TestDecoderLengths(t *testing.T) {
	var e encoder
	e.bytes(make([]byte, 300))
	d := decoder{b: e.buf, what: "x"}
	if got := d.bytes("f", 0, 300); len(got) != 300 || d.finish() != nil {
		t.Fatalf("300-byte string: %d, %v", len(got), d.err)
	}
	// 300 with a redundant continuation byte.
	nonMin := append([]byte{0xac, 0x82, 0x00}, make([]byte, 300)...)
	d = decoder{b: nonMin, what: "x"}
	d.bytes("f", 0, 300)
	if !errors.Is(d.err, ErrMalformed) || !strings.Contains(d.err.Error(), "non-minimal") {
		t.Fatalf("non-minimal length: %v", d.err)
	}
	// Over the limit.
	d = decoder{b: e.buf, what: "x"}
	d.bytes("f", 0, 299)
	if !errors.Is(d.err, ErrMalformed) {
		t.Fatalf("over limit: %v", d.err)
	}
	// A huge length does not allocate.
	huge := binary.AppendUvarint(nil, 1<<62)
	d = decoder{b: huge, what: "x"}
	d.bytes("f", 0, 1<<30)
	if d.err == nil {
		t.Fatal("huge length accepted")
	}
}

func TestGroupJSONStrict(t *testing.T) {
	f := testFixture(t)
	js, err := f.group.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	s := string(js)
	tests := map[string]string{
		"unknown field":   strings.Replace(s, `"version": 1,`, `"version": 1, "extra": 2,`, 1),
		"trailing data":   s + "{}",
		"wrong id":        strings.Replace(s, `"id": "`, `"id": "00`, 1)[:len(s)],
		"threshold edit":  strings.Replace(s, `"threshold": 3`, `"threshold": 2`, 1),
		"role edit":       strings.Replace(s, `"trial sponsor"`, `"trial sponsor!"`, 1),
		"uppercase hex":   strings.Replace(s, `"n": "`, `"n": "`+strings.ToUpper(f.group.PublicKey.N.Text(16)[:2]), 1),
		"wrong version":   strings.Replace(s, `"version": 1`, `"version": 2`, 1),
		"wrong scheme":    strings.Replace(s, Scheme, "RSASSA-PKCS1-v1_5-SHA256", 1),
		"small exponent":  strings.Replace(s, `"e": 65537`, `"e": 3`, 1),
		"not json":        "group",
		"party reordered": strings.Replace(s, `"index": 1`, `"index": 7`, 1),
	}
	for name, in := range tests {
		if _, err := ParseGroupJSON([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var g Group
	if err := g.UnmarshalJSON(js); err != nil || g.ID() != f.group.ID() {
		t.Fatalf("UnmarshalJSON: %v", err)
	}
}

func TestWriteCeremony(t *testing.T) {
	f := testFixture(t)
	dir := t.TempDir()
	if err := WriteCeremony(dir, f.group, f.sealed); err != nil {
		t.Fatal(err)
	}
	if err := WriteCeremony(dir, f.group, f.sealed); err == nil {
		t.Fatal("overwrote an existing ceremony")
	}
	a, err := HashFile(dir + "/" + GroupBinFile)
	if err != nil {
		t.Fatal(err)
	}
	gb, _ := f.group.MarshalBinary()
	want, _ := FileAction(bytes.NewReader(gb))
	if !a.Equal(want) || a.Kind != KindFile || len(a.Data) != 32 {
		t.Fatalf("HashFile = %v, want %v", a, want)
	}
}
