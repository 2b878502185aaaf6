package main

import (
	"encoding/json"
	"testing"

	"github.com/trialchain/trialchain/trials/model"
)

// TestLeadingSite: the site read from the start of a subject record is
// the decoded record's, and a record it cannot read so is left to the
// full decoding.
func TestLeadingSite(t *testing.T) {
	enc := func(s model.Subject) string {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	base := model.Subject{ID: "748c4be8", Trial: "NCT1", Site: "Org site", Arm: "drug", ProtocolVersion: 1,
		Manifestation: model.Manifestation{PrintedName: "Dr. Site", Org: "Org site"}, Height: 13}
	odd := base
	odd.Site = `Org "<site>" é`
	for _, c := range []struct {
		doc  string
		ok   bool
		site string
	}{
		{enc(base), true, "Org site"},
		{enc(model.Subject{}), true, ""},
		{enc(odd), false, ""}, // escapes: decoded in full
		{`{"trial":"NCT1","id":"x","site":"A","arm":""}`, false, ""},
		{`{"id":"x","trial":"NCT1","site":"A"}`, false, ""},
		{`{"id":"x","trial":"NCT1","site":"A`, false, ""},
		{`{"id":"x","trial":"NCT1"}`, false, ""},
		{`{"id":x,"trial":"NCT1","site":"A",`, false, ""},
		{``, false, ""},
	} {
		site, ok := leadingSite([]byte(c.doc))
		if ok != c.ok || site != c.site {
			t.Errorf("%s: %q %v, want %q %v", c.doc, site, ok, c.site, c.ok)
		}
		if ok {
			var s model.Subject
			if err := json.Unmarshal([]byte(c.doc), &s); err != nil || s.Site != site {
				t.Errorf("%s: decoded site %q (%v), read %q", c.doc, s.Site, err, site)
			}
		}
	}
}
