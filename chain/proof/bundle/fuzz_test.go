package bundle

import (
	"bytes"
	"testing"
)

// FuzzDecode: Decode never panics, accepts only the canonical form, and
// Verify never panics on what it accepts.
func FuzzDecode(f *testing.F) {
	fx := newTrialFixture(f, 1, 0)
	enc := fx.export(f, false).Encode()
	f.Add(enc)
	f.Add([]byte(`{"format":"trialchain-bundle","version":1}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Decode(data)
		if err != nil {
			return
		}
		if !bytes.Equal(b.Encode(), data) {
			t.Fatal("decoded a non-canonical bundle")
		}
		_, _ = Verify(b, fx.fc.g)
	})
}
