package bundle

import (
	"testing"
)

// BenchmarkVerify1000 verifies a bundle of about 1,000 trial records (one
// threshold consent, two payloads); ns/op is the time per 1,000 records.
func BenchmarkVerify1000(b *testing.B) {
	f := newTrialFixture(b, 1, 1000)
	bu := f.export(b, false)
	enc := bu.Encode()
	b.ReportMetric(float64(len(bu.Records)), "records")
	b.ReportMetric(float64(len(enc)), "bundle-bytes")
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := Verify(bu, f.fc.g); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode+verify", func(b *testing.B) {
		for b.Loop() {
			d, err := Decode(enc)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Verify(d, f.fc.g); err != nil {
				b.Fatal(err)
			}
		}
	})
}
