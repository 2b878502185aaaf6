package care_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/trialchain/trialchain/trials/care"
)

// FuzzImportConsent: ImportConsent never panics on outside bytes, and what
// it accepts exports and re-imports to the same consent.
func FuzzImportConsent(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join(fixturesDir, fixtureConsent)); err == nil {
		f.Add(b)
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "consent-hospital.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"resourceType":"Consent","id":"x","patient":{"reference":"Patient/1"},"provision":{"type":"permit"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := care.ImportConsent(b)
		if err != nil {
			return
		}
		out, err := care.ExportConsent(&c)
		if err != nil {
			t.Fatalf("export of an imported consent: %v", err)
		}
		back, err := care.ImportConsent(out)
		if err != nil {
			t.Fatalf("re-import: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip changed the consent:\n%+v\n%+v", c, back)
		}
	})
}
