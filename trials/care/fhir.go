package care

import (
	"bytes"
	"encoding/json"
	"strings"
)

// FHIR R4 code systems written on export.
const (
	SystemConsentScope    = "http://terminology.hl7.org/CodeSystem/consentscope"
	SystemConsentCategory = "http://terminology.hl7.org/CodeSystem/consentcategorycodes"
	SystemActCode         = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	SystemParticipation   = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
)

// MaxFHIR bounds a Consent document ImportConsent reads.
const MaxFHIR = 64 << 10

type fhirCoding struct {
	System string `json:"system,omitempty"`
	Code   string `json:"code,omitempty"`
}

type fhirConcept struct {
	Coding []fhirCoding `json:"coding,omitempty"`
}

type fhirRef struct {
	Reference string `json:"reference,omitempty"`
}

type fhirPeriod struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

type fhirActor struct {
	Role      fhirConcept `json:"role"`
	Reference fhirRef     `json:"reference"`
}

type fhirProvision struct {
	Type      string          `json:"type,omitempty"`
	Period    *fhirPeriod     `json:"period,omitempty"`
	Actor     []fhirActor     `json:"actor,omitempty"`
	Purpose   []fhirCoding    `json:"purpose,omitempty"`
	Class     []fhirCoding    `json:"class,omitempty"`
	Code      []fhirConcept   `json:"code,omitempty"`
	Provision []fhirProvision `json:"provision,omitempty"`
}

type fhirIdentifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

type fhirConsent struct {
	ResourceType string           `json:"resourceType"`
	ID           string           `json:"id"`
	Identifier   []fhirIdentifier `json:"identifier,omitempty"`
	Status       string           `json:"status"`
	Scope        fhirConcept      `json:"scope"`
	Category     []fhirConcept    `json:"category"`
	Patient      fhirRef          `json:"patient"`
	DateTime     string           `json:"dateTime,omitempty"`
	Performer    []fhirRef        `json:"performer,omitempty"`
	Organization []fhirRef        `json:"organization,omitempty"`
	PolicyRule   *fhirConcept     `json:"policyRule,omitempty"`
	Provision    *fhirProvision   `json:"provision,omitempty"`
}

// token is FHIR's search-token form of a coding: system|code, or code.
func token(c fhirCoding) string {
	if c.System == "" {
		return c.Code
	}
	return c.System + "|" + c.Code
}

func coding(t string) fhirCoding {
	if i := strings.LastIndexByte(t, '|'); i >= 0 {
		return fhirCoding{System: t[:i], Code: t[i+1:]}
	}
	return fhirCoding{Code: t}
}

func first(c fhirConcept) string {
	if len(c.Coding) == 0 {
		return ""
	}
	return token(c.Coding[0])
}

// ImportConsent reads a FHIR R4 Consent resource (JSON). The patient
// reference "Patient/ID" becomes the pseudonym ID; codings become tokens
// (system|code); the root provision keeps its period and actors, and its
// nested provisions become the rules. Provisions nested deeper than one
// level, a missing or foreign patient reference and anything not a
// Consent are refused. The result is not checked for granting
// (Consent.Validate does that): an inactive consent imports.
func ImportConsent(b []byte) (Consent, error) {
	if len(b) > MaxFHIR {
		return Consent{}, errf("invalid", "FHIR Consent: %d bytes, more than %d", len(b), MaxFHIR)
	}
	var f fhirConsent
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&f); err != nil {
		return Consent{}, errf("invalid", "FHIR Consent: %v", err)
	}
	if d.More() {
		return Consent{}, errf("invalid", "FHIR Consent: trailing data after the resource")
	}
	if f.ResourceType != "Consent" {
		return Consent{}, errf("invalid", "FHIR resource is %q, not Consent", f.ResourceType)
	}
	pat, ok := strings.CutPrefix(f.Patient.Reference, "Patient/")
	if !ok || pat == "" {
		return Consent{}, errf("invalid", "FHIR Consent %s: patient.reference %q is not Patient/ID", f.ID, f.Patient.Reference)
	}
	c := Consent{ID: f.ID, Patient: pat, Status: f.Status, Scope: first(f.Scope), DateTime: f.DateTime}
	for _, id := range f.Identifier {
		if id.Value != "" {
			c.Identifier = id.Value
			break
		}
	}
	for _, cat := range f.Category {
		c.Categories = append(c.Categories, first(cat))
	}
	for _, o := range f.Organization {
		c.Organization = append(c.Organization, o.Reference)
	}
	if f.PolicyRule != nil {
		c.PolicyRule = first(*f.PolicyRule)
	}
	if f.Provision != nil {
		c.Root = provision(f.Provision)
		for i := range f.Provision.Provision {
			n := &f.Provision.Provision[i]
			if len(n.Provision) > 0 {
				return Consent{}, errf("invalid", "FHIR Consent %s: provision.provision[%d] has nested provisions: only one level is supported", f.ID, i)
			}
			c.Provisions = append(c.Provisions, provision(n))
		}
	}
	return c, nil
}

func provision(f *fhirProvision) Provision {
	p := Provision{Type: f.Type}
	if f.Period != nil {
		p.Start, p.End = f.Period.Start, f.Period.End
	}
	for _, a := range f.Actor {
		p.Actors = append(p.Actors, Actor{Role: first(a.Role), Reference: a.Reference.Reference})
	}
	for _, x := range f.Purpose {
		p.Purposes = append(p.Purposes, token(x))
	}
	for _, x := range f.Class {
		p.Classes = append(p.Classes, token(x))
	}
	for _, x := range f.Code {
		p.Codes = append(p.Codes, first(x))
	}
	return p
}

func concept(t string) fhirConcept { return fhirConcept{Coding: []fhirCoding{coding(t)}} }

func unprovision(p *Provision) fhirProvision {
	f := fhirProvision{Type: p.Type}
	if p.Start != "" || p.End != "" {
		f.Period = &fhirPeriod{Start: p.Start, End: p.End}
	}
	for _, a := range p.Actors {
		f.Actor = append(f.Actor, fhirActor{Role: concept(a.Role), Reference: fhirRef{Reference: a.Reference}})
	}
	for _, x := range p.Purposes {
		f.Purpose = append(f.Purpose, coding(x))
	}
	for _, x := range p.Classes {
		f.Class = append(f.Class, coding(x))
	}
	for _, x := range p.Codes {
		f.Code = append(f.Code, concept(x))
	}
	return f
}

// ExportConsent writes c as a FHIR R4 Consent resource (JSON, indented):
// ImportConsent of the result gives c back (less the fields the contract
// sets: grantor, grant and revocation times). A revoked consent exports
// with status "inactive".
func ExportConsent(c *Consent) ([]byte, error) {
	f := fhirConsent{ResourceType: "Consent", ID: c.ID, Status: c.Status, Patient: fhirRef{Reference: "Patient/" + c.Patient},
		DateTime: c.DateTime, Scope: concept(c.Scope), Category: []fhirConcept{}}
	if c.Identifier != "" {
		f.Identifier = []fhirIdentifier{{Value: c.Identifier}}
	}
	for _, x := range c.Categories {
		f.Category = append(f.Category, concept(x))
	}
	for _, o := range c.Organization {
		f.Organization = append(f.Organization, fhirRef{Reference: o})
	}
	if c.PolicyRule != "" {
		pr := concept(c.PolicyRule)
		f.PolicyRule = &pr
	}
	root := unprovision(&c.Root)
	for i := range c.Provisions {
		root.Provision = append(root.Provision, unprovision(&c.Provisions[i]))
	}
	f.Provision = &root
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, errf("invalid", "FHIR Consent %s: encode: %v", c.ID, err)
	}
	return b, nil
}
