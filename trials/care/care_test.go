package care_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/trials/care"
	"github.com/trialchain/trialchain/trials/model"
)

func ms(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

func TestDecide(t *testing.T) {
	b := care.OrgActor("hospital-b")
	base := care.Consent{ID: "c1", Patient: "p1", Status: care.StatusActive,
		Root: care.Provision{Start: "2026-03-01", End: "2026-12-31", Actors: []care.Actor{{Reference: b}}},
		Provisions: []care.Provision{
			{Type: care.Permit, Purposes: []string{"TREAT"}, Classes: []string{"notes"}},
			{Type: care.Deny, Codes: []string{"psych"}},
		}}
	revoked := base
	revoked.Status = care.StatusInactive
	rootPermit := care.Consent{ID: "c2", Patient: "p1", Status: care.StatusActive, Root: care.Provision{Type: care.Permit, Actors: []care.Actor{{Reference: care.OrgActor("hospital-c")}}}}
	read := care.Read{Actor: b, Purpose: "TREAT", Class: "notes", Code: "summary", AtMilli: ms("2026-06-01T00:00:00Z")}
	with := func(f func(r *care.Read)) care.Read { r := read; f(&r); return r }
	for _, tc := range []struct {
		name     string
		consents []care.Consent
		read     care.Read
		code     string // "" = permit
		consent  string
	}{
		{"permit", []care.Consent{base}, read, "", "c1"},
		{"no consents", nil, read, care.CodeNoConsent, ""},
		{"revoked", []care.Consent{revoked}, read, care.CodeNoConsent, ""},
		{"another actor", []care.Consent{base}, with(func(r *care.Read) { r.Actor = care.OrgActor("hospital-x") }), care.CodeNoConsent, ""},
		{"another purpose", []care.Consent{base}, with(func(r *care.Read) { r.Purpose = "HRESCH" }), care.CodeNoConsent, ""},
		{"another class", []care.Consent{base}, with(func(r *care.Read) { r.Class = "images" }), care.CodeNoConsent, ""},
		{"denied code", []care.Consent{base}, with(func(r *care.Read) { r.Code = "psych" }), care.CodeDeniedByConsent, "c1"},
		{"deny wins over another consent's permit", []care.Consent{rootPermit, base}, with(func(r *care.Read) { r.Code = "psych" }), care.CodeDeniedByConsent, "c1"},
		{"before the period", []care.Consent{base}, with(func(r *care.Read) { r.AtMilli = ms("2026-02-28T23:59:59Z") }), care.CodeNoConsent, ""},
		{"last day of the period", []care.Consent{base}, with(func(r *care.Read) { r.AtMilli = ms("2026-12-31T23:59:59Z") }), "", "c1"},
		{"after the period", []care.Consent{base}, with(func(r *care.Read) { r.AtMilli = ms("2027-01-01T00:00:00Z") }), care.CodeNoConsent, ""},
		{"root permit", []care.Consent{base, rootPermit}, with(func(r *care.Read) { r.Actor = care.OrgActor("hospital-c") }), "", "c2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := care.Decide(tc.consents, tc.read)
			switch {
			case tc.code == "" && (err != nil || !d.Permit || d.Consent != tc.consent):
				t.Fatalf("got %+v, %v; want a permit by %s", d, err, tc.consent)
			case tc.code != "" && (err == nil || !errors.Is(err, &model.Error{Code: tc.code}) || d.Consent != tc.consent):
				t.Fatalf("got %+v, %v; want %s by %q", d, err, tc.code, tc.consent)
			}
		})
	}
}

func TestImportConsentFixture(t *testing.T) {
	c, err := care.ImportConsent(fixture(t, fixtureConsent))
	if err != nil {
		t.Fatal(err)
	}
	want := care.Consent{ID: "consent-example-signature", Patient: "72", Status: "active",
		Scope:        care.SystemConsentScope + "|patient-privacy",
		Categories:   []string{care.SystemConsentCategory + "|npp"},
		DateTime:     "2016-05-26T00:41:10-04:00",
		Organization: []string{"Organization/f001"},
		PolicyRule:   care.SystemActCode + "|OPTIN",
		Identifier:   "494e0c7a-a69e-4fb4-9d02-6aae747790d7",
		Root: care.Provision{Start: "2015-10-10", End: "2016-10-10",
			Actors: []care.Actor{{Role: care.SystemParticipation + "|PRCP", Reference: "Practitioner/13"}}},
		Provisions: []care.Provision{{Type: care.Permit,
			Actors:  []care.Actor{{Role: care.SystemParticipation + "|AUT", Reference: "Practitioner/xcda-author"}},
			Classes: []string{"urn:ietf:bcp:13|application/hl7-cda+xml"},
			Codes:   []string{"http://loinc.org|34133-9", "http://loinc.org|18842-5"}}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("imported\n%+v\nwant\n%+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("the HL7 example does not validate: %v", err)
	}
	b, err := care.ExportConsent(&c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := care.ImportConsent(b)
	if err != nil || !reflect.DeepEqual(back, c) {
		t.Fatalf("export/import round trip: %v\n%s", err, b)
	}
}

func TestImportConsentRefuses(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"not json", `{`, "FHIR Consent"},
		{"another resource", `{"resourceType":"Patient","id":"x"}`, "not Consent"},
		{"no patient", `{"resourceType":"Consent","id":"x","status":"active"}`, "patient.reference"},
		{"group patient", `{"resourceType":"Consent","id":"x","patient":{"reference":"Group/1"}}`, "patient.reference"},
		{"trailing data", `{"resourceType":"Consent","id":"x","patient":{"reference":"Patient/1"}} {}`, "trailing"},
		{"deep nesting", `{"resourceType":"Consent","id":"x","patient":{"reference":"Patient/1"},"provision":{"provision":[{"type":"permit","provision":[{"type":"deny"}]}]}}`, "one level"},
		{"too large", `{"resourceType":"Consent","id":"` + strings.Repeat("x", care.MaxFHIR) + `"}`, "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := care.ImportConsent([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestConsentValidate(t *testing.T) {
	ok := care.Consent{ID: "c1", Patient: "p1", Status: care.StatusActive, Provisions: []care.Provision{{Type: care.Permit}}}
	for _, tc := range []struct {
		name string
		edit func(c *care.Consent)
		want string
	}{
		{"valid", func(*care.Consent) {}, ""},
		{"inactive", func(c *care.Consent) { c.Status = care.StatusInactive }, "only an active consent"},
		{"no provision", func(c *care.Consent) { c.Provisions = nil }, "no provision"},
		{"bad type", func(c *care.Consent) { c.Provisions[0].Type = "maybe" }, "permit or deny"},
		{"bad actor", func(c *care.Consent) { c.Provisions[0].Actors = []care.Actor{{Reference: "hospital"}} }, "not a reference"},
		{"bad period", func(c *care.Consent) { c.Root.End = "next year" }, "period.end"},
		{"patient with a slash", func(c *care.Consent) { c.Patient = "Patient/1" }, "consent.patient"},
		{"overlong category", func(c *care.Consent) { c.Categories = []string{strings.Repeat("x", model.MaxName+1)} }, "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			c.Provisions = append([]care.Provision(nil), ok.Provisions...)
			tc.edit(&c)
			err := c.Validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCheckGTIN(t *testing.T) {
	for _, tc := range []struct {
		gtin string
		ok   bool
	}{
		{"09506000134352", true},
		{"04012345000016", true},
		{"00000000000000", true},
		{"09506000134353", false}, // wrong check digit
		{"9506000134352", false},  // 13 digits
		{"0950600013435X", false},
		{"0950600013435a2", false},
	} {
		if err := care.CheckGTIN(tc.gtin); (err == nil) != tc.ok {
			t.Errorf("CheckGTIN(%q) = %v, want ok %v", tc.gtin, err, tc.ok)
		}
	}
}

func TestPackValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    care.Pack
		want string
	}{
		{"valid", care.Pack{GTIN: "09506000134352", Serial: "S1", Lot: "L1", Expiry: "2027-06-30"}, ""},
		{"serial with a slash", care.Pack{GTIN: "09506000134352", Serial: "S/1", Lot: "L1", Expiry: "2027-06-30"}, "serial"},
		{"serial too long", care.Pack{GTIN: "09506000134352", Serial: strings.Repeat("9", 21), Lot: "L1", Expiry: "2027-06-30"}, "serial"},
		{"no lot", care.Pack{GTIN: "09506000134352", Serial: "S1", Expiry: "2027-06-30"}, "lot"},
		{"bad expiry", care.Pack{GTIN: "09506000134352", Serial: "S1", Lot: "L1", Expiry: "270630"}, "expiry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	p := care.Pack{GTIN: "09506000134352", Serial: "S1", Lot: "L1", Expiry: "2027-06-30", Status: care.PackActive}
	disp := p
	disp.Status = care.PackDispensed
	in, after := ms("2027-06-30T23:00:00Z"), ms("2027-07-01T00:00:00Z")
	for _, tc := range []struct {
		name            string
		p               care.Pack
		found, recalled bool
		now             int64
		want            string
	}{
		{"genuine", p, true, false, in, care.Genuine},
		{"unknown", care.Pack{}, false, false, in, care.Unknown},
		{"recalled", p, true, true, in, care.Recalled},
		{"recalled wins over dispensed", disp, true, true, in, care.Recalled},
		{"dispensed", disp, true, false, in, care.AlreadyDispensed},
		{"expired", p, true, false, after, care.Expired},
	} {
		if got := care.Verify(&tc.p, tc.found, tc.recalled, tc.now); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestAdjudicate(t *testing.T) {
	plan := care.Plan{ID: "p", Currency: "EUR", ReviewAbove: 1000, Benefits: []care.Benefit{
		{Code: "A", Limit: 500, Coinsurance: 10}, {Code: "B", Limit: 2000, PriorAuth: true}, {Code: "C", Limit: 900, Coinsurance: 33}}}
	proc := care.Procedure{Code: "A"}
	claim := func(pre string, items ...care.Item) *care.Claim {
		for i := range items {
			items[i].Sequence = i + 1
		}
		return &care.Claim{ID: "c", PreAuthRef: pre, Items: items}
	}
	for _, tc := range []struct {
		name     string
		proc     care.Procedure
		c        *care.Claim
		decision string
		rule     string
		payable  int64
	}{
		{"within the limit", proc, claim("", care.Item{ProductOrService: "A", Net: 400}), care.Approved, "", 360},
		{"capped at the limit", proc, claim("", care.Item{ProductOrService: "A", Net: 800}), care.Approved, "", 450},
		{"rounded down", care.Procedure{Code: "C"}, claim("", care.Item{ProductOrService: "C", Net: 100}), care.Approved, "", 67},
		{"not covered", proc, claim("", care.Item{ProductOrService: "A", Net: 100}, care.Item{ProductOrService: "Z", Net: 1}), care.Denied, "not-covered", 0},
		{"procedure not billed", proc, claim("", care.Item{ProductOrService: "C", Net: 100}), care.Denied, "procedure-mismatch", 0},
		{"prior auth missing", care.Procedure{Code: "B"}, claim("", care.Item{ProductOrService: "B", Net: 100}), care.Pended, "prior-auth", 100},
		{"prior auth given", care.Procedure{Code: "B"}, claim("pa-1", care.Item{ProductOrService: "B", Net: 100}), care.Approved, "", 100},
		{"above review", care.Procedure{Code: "B"}, claim("pa-1", care.Item{ProductOrService: "B", Net: 1500}), care.Pended, "review", 1500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := care.Adjudicate(&plan, &tc.proc, tc.c)
			if r.Decision != tc.decision || r.Rule != tc.rule || r.Payable != tc.payable {
				t.Fatalf("got %s/%s payable %d (%s), want %s/%s payable %d", r.Decision, r.Rule, r.Payable, r.Reason, tc.decision, tc.rule, tc.payable)
			}
		})
	}
}

// A hospital's read decided from a patient's FHIR R4 Consent.
func ExampleDecide() {
	doc := []byte(`{"resourceType":"Consent","id":"c1","status":"active","patient":{"reference":"Patient/p-1"},
	  "provision":{"period":{"start":"2026-01-01","end":"2026-12-31"},
	    "provision":[{"type":"permit","actor":[{"reference":{"reference":"Organization/hospital-b"}}],"purpose":[{"code":"TREAT"}]}]}}`)
	c, err := care.ImportConsent(doc)
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	d, err := care.Decide([]care.Consent{c}, care.Read{Actor: care.OrgActor("hospital-b"), Purpose: "TREAT", Class: "notes", Code: "x", AtMilli: at})
	fmt.Println(d.Permit, d.Consent, err)
	_, err = care.Decide([]care.Consent{c}, care.Read{Actor: care.OrgActor("hospital-c"), Purpose: "TREAT", AtMilli: at})
	fmt.Println(err)
	// Output:
	// true c1 <nil>
	// no-consent: no active consent of the patient permits Organization/hospital-c reading a record for TREAT
}
