package smt_test

import (
	"bytes"
	"testing"

	"github.com/trialchain/trialchain/chain/smt"
)

// FuzzDecodeProof checks that decoding never panics, that whatever decodes
// re-encodes to the same bytes, and that verifying it does not panic.
func FuzzDecodeProof(f *testing.F) {
	fx := newFixture(f)
	for _, p := range []*smt.Proof{fx.pValue, fx.pAbsentLeaf, fx.pAbsentEmpty, {}} {
		f.Add(p.Encode())
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{0, 0x80, 0x00})
	f.Add([]byte{2, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := smt.DecodeProof(b)
		if err != nil {
			if p != nil {
				t.Fatalf("DecodeProof returned a proof and an error %v", err)
			}
			return
		}
		if got := p.Encode(); !bytes.Equal(got, b) {
			t.Fatalf("Encode(DecodeProof(%x)) = %x", b, got)
		}
		_ = p.VerifyValue(fx.root, []byte(fx.present), fx.value)
		_ = p.VerifyAbsent(fx.root, []byte(fx.absentLeaf))
	})
}
