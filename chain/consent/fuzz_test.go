package consent

import (
	"bytes"
	"testing"
)

// Fuzz targets for every decoder. Property: the decoder never panics, and
// what it accepts re-encodes to exactly the input (one encoding per value).
// Seeds are valid encodings from the fixture; run e.g.
//
//	go test -run '^$' -fuzz FuzzParseConsent -fuzztime 60s ./chain/consent

func fuzzDecoder(f *testing.F, kind string) {
	f.Add(encodings(f)[kind])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parse(kind, b)
		if err != nil {
			return
		}
		if kind == "group.json" {
			// JSON has many spellings of one group; the canonical form is
			// the binary one, which must round-trip.
			again, err := parse(kind, got)
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("group.json re-encoding not stable: %v", err)
			}
			return
		}
		if !bytes.Equal(got, b) {
			t.Fatalf("accepted %x but re-encodes as %x", b, got)
		}
	})
}

func FuzzParseGroup(f *testing.F)       { fuzzDecoder(f, "group") }
func FuzzParseGroupJSON(f *testing.F)   { fuzzDecoder(f, "group.json") }
func FuzzParseSealedShare(f *testing.F) { fuzzDecoder(f, "sealed") }
func FuzzParseSignedShare(f *testing.F) { fuzzDecoder(f, "signed") }
func FuzzParseConsent(f *testing.F)     { fuzzDecoder(f, "consent") }

// FuzzVerifyEncoded feeds mutated consents to the VM entry point: it must
// never panic, and must accept only the original consent's content.
func FuzzVerifyEncoded(f *testing.F) {
	fx := testFixture(f)
	enc := encodings(f)
	f.Add(enc["consent"])
	gb := enc["group"]
	orig, err := ParseConsent(enc["consent"])
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, signers, err := VerifyEncoded(gb, testChain, testAction(), b)
		if err != nil {
			return
		}
		if c.ID() != orig.ID() || !bytes.Equal(c.Signature, orig.Signature) || len(signers) < fx.group.Threshold {
			t.Fatalf("accepted a different consent")
		}
	})
}
