package trials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/trialchain/trialchain/trials/model"
)

// fhirCoding / fhirConcept are the FHIR datatypes the importers read.
type fhirCoding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

type fhirConcept struct {
	Coding []fhirCoding `json:"coding"`
	Text   string       `json:"text"`
}

func (c fhirConcept) first() (fhirCoding, bool) {
	if len(c.Coding) == 0 {
		return fhirCoding{}, false
	}
	return c.Coding[0], true
}

type fhirReference struct {
	Reference string `json:"reference"`
	Display   string `json:"display"`
	Type      string `json:"type"`
}

type researchStudy struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Identifier   []struct {
		Use    string `json:"use"`
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
	Title          string      `json:"title"`
	Status         string      `json:"status"`
	Phase          fhirConcept `json:"phase"`
	ProgressStatus []struct {
		State  fhirConcept `json:"state"`
		Period struct {
			Start string `json:"start"`
			End   string `json:"end"`
		} `json:"period"`
	} `json:"progressStatus"`
	Recruitment struct {
		TargetNumber int           `json:"targetNumber"`
		Eligibility  fhirReference `json:"eligibility"`
	} `json:"recruitment"`
	ComparisonGroup []struct {
		LinkID      string      `json:"linkId"`
		Name        string      `json:"name"`
		Type        fhirConcept `json:"type"`
		Description string      `json:"description"`
	} `json:"comparisonGroup"`
	OutcomeMeasure []struct {
		Name        string        `json:"name"`
		Type        []fhirConcept `json:"type"`
		Description string        `json:"description"`
		Reference   struct {
			Identifier struct {
				Value string `json:"value"`
			} `json:"identifier"`
		} `json:"reference"`
	} `json:"outcomeMeasure"`
}

// ImportError is an import failure naming the resource and element.
type ImportError struct {
	Format  string // "FHIR R5 ResearchStudy", "CDISC ODM", ...
	Element string // e.g. "outcomeMeasure[3].type", "ItemData"
	Msg     string
}

func (e *ImportError) Error() string {
	if e.Element == "" {
		return fmt.Sprintf("trials: %s: %s", e.Format, e.Msg)
	}
	return fmt.Sprintf("trials: %s: %s: %s", e.Format, e.Element, e.Msg)
}

func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// ProtocolFromResearchStudy imports a FHIR R5 ResearchStudy into a
// protocol: id (the ClinicalTrials.gov identifier, else the resource id),
// title, phase, start date (the overall-study period start, else the first
// period start), arms (comparisonGroup), eligibility reference and every
// outcome measure (primary ones as primary-N, secondary as secondary-N, in
// document order). What FHIR does not carry — visits, case-report forms,
// sites, the analysis plan hash, the consent group — comes from tmpl.
// The result is validated.
func ProtocolFromResearchStudy(b []byte, tmpl model.Protocol) (model.Protocol, error) {
	const format = "FHIR R5 ResearchStudy"
	var rs researchStudy
	if err := json.Unmarshal(b, &rs); err != nil {
		return model.Protocol{}, &ImportError{Format: format, Msg: "not JSON: " + err.Error()}
	}
	if rs.ResourceType != "ResearchStudy" {
		return model.Protocol{}, &ImportError{Format: format, Element: "resourceType", Msg: fmt.Sprintf("is %q, want ResearchStudy", rs.ResourceType)}
	}
	p := tmpl
	p.ID = rs.ID
	for _, id := range rs.Identifier {
		if strings.Contains(id.System, "clinicaltrials.gov") && id.Value != "" {
			p.ID = id.Value
			break
		}
	}
	if p.ID == "" {
		return model.Protocol{}, &ImportError{Format: format, Element: "identifier", Msg: "no ClinicalTrials.gov identifier and no id"}
	}
	p.Title = rs.Title
	if c, ok := rs.Phase.first(); ok {
		p.Phase = c.Code
	} else if rs.Phase.Text != "" {
		p.Phase = rs.Phase.Text
	}
	start := ""
	for _, ps := range rs.ProgressStatus {
		c, _ := ps.State.first()
		if ps.Period.Start != "" && (start == "" || c.Code == "overall-study") {
			start = ps.Period.Start
		}
	}
	if start != "" {
		d, err := fhirDate(start)
		if err != nil {
			return model.Protocol{}, &ImportError{Format: format, Element: "progressStatus.period.start", Msg: err.Error()}
		}
		p.StartDate = d
	}
	if len(rs.ComparisonGroup) > 0 {
		p.Arms = nil
		for i, g := range rs.ComparisonGroup {
			id := g.LinkID
			if id == "" {
				id = fmt.Sprintf("arm-%d", i+1)
			}
			p.Arms = append(p.Arms, model.Arm{ID: id, Name: g.Name, Type: g.Type.Text, Description: g.Description})
		}
	}
	if ref := rs.Recruitment.Eligibility.Reference; ref != "" {
		p.Eligibility.Reference = ref
	}
	if len(rs.OutcomeMeasure) > 0 {
		p.Outcomes = nil
		n := map[string]int{}
		for i, om := range rs.OutcomeMeasure {
			typ := ""
			for _, t := range om.Type {
				for _, c := range t.Coding {
					if c.Code == model.Primary || c.Code == model.Secondary {
						typ = c.Code
					}
				}
			}
			if typ == "" {
				return model.Protocol{}, &ImportError{Format: format, Element: fmt.Sprintf("outcomeMeasure[%d].type", i), Msg: "neither primary nor secondary"}
			}
			if strings.TrimSpace(om.Name) == "" {
				return model.Protocol{}, &ImportError{Format: format, Element: fmt.Sprintf("outcomeMeasure[%d].name", i), Msg: "missing"}
			}
			n[typ]++
			p.Outcomes = append(p.Outcomes, model.Outcome{ID: fmt.Sprintf("%s-%d", typ, n[typ]), Type: typ,
				Measure: om.Name, Description: om.Description})
		}
	}
	p.Source = format + " " + rs.ID
	if err := p.Validate(); err != nil {
		return model.Protocol{}, fmt.Errorf("trials: protocol imported from %s %s: %w", format, rs.ID, err)
	}
	return p, nil
}

// fhirDate turns a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD, or a dateTime)
// into YYYY-MM-DD, completing partial dates with the first month or day.
func fhirDate(s string) (string, error) {
	if len(s) > 10 {
		s = s[:10]
	}
	switch len(s) {
	case 4:
		s += "-01-01"
	case 7:
		s += "-01"
	}
	if _, err := time.Parse("2006-01-02", s); err != nil {
		return "", fmt.Errorf("%q is not a FHIR date", s)
	}
	return s, nil
}

// ParseProtocol reads our own protocol JSON (model.Protocol, strictly: an
// unknown field is an error) and validates it.
func ParseProtocol(b []byte) (model.Protocol, error) {
	var p model.Protocol
	if err := decodeStrict(b, &p); err != nil {
		return p, fmt.Errorf("trials: protocol JSON: %w", err)
	}
	if p.Version == 0 {
		p.Version = 1
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("trials: protocol %s: %w", p.ID, err)
	}
	return p, nil
}

// LoadProtocol reads a protocol from FHIR R5 ResearchStudy JSON (completed
// from tmpl) or from our own protocol JSON, whichever b is.
func LoadProtocol(b []byte, tmpl model.Protocol) (model.Protocol, error) {
	var probe struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return model.Protocol{}, fmt.Errorf("trials: protocol file is not JSON: %w", err)
	}
	if probe.ResourceType != "" {
		return ProtocolFromResearchStudy(b, tmpl)
	}
	return ParseProtocol(b)
}

type procedure struct {
	ResourceType      string        `json:"resourceType"`
	ID                string        `json:"id"`
	Status            string        `json:"status"`
	Code              fhirConcept   `json:"code"`
	Subject           fhirReference `json:"subject"`
	PerformedDateTime string        `json:"performedDateTime"`
	PerformedPeriod   *struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"performedPeriod"`
	Performer []struct {
		Function fhirConcept   `json:"function"`
		Actor    fhirReference `json:"actor"`
	} `json:"performer"`
	Outcome      fhirConcept   `json:"outcome"`
	Complication []fhirConcept `json:"complication"`
	Note         []struct {
		Text string `json:"text"`
	} `json:"note"`
	FocalDevice []struct {
		Action      fhirConcept   `json:"action"`
		Manipulated fhirReference `json:"manipulated"`
	} `json:"focalDevice"`
}

// ProcedureOptions completes a FHIR Procedure: what FHIR carries as
// identity (the patient reference) is replaced by a pseudonym, and the
// site and team consent group are ours.
type ProcedureOptions struct {
	ID        string // record id; default: the resource id
	Patient   string // pseudonymous patient id (required: the FHIR subject is never copied)
	Site      string
	TeamGroup string
}

// ProcedureFromFHIR imports a FHIR R4 Procedure: code, performer (the
// first actor's display as surgeon), performed time (a dateTime or date is
// start and end; a period gives both), complications, outcome (else
// "completed" status and the first note), implanted device reference.
func ProcedureFromFHIR(b []byte, o ProcedureOptions) (model.Procedure, error) {
	const format = "FHIR R4 Procedure"
	var pr procedure
	if err := json.Unmarshal(b, &pr); err != nil {
		return model.Procedure{}, &ImportError{Format: format, Msg: "not JSON: " + err.Error()}
	}
	if pr.ResourceType != "Procedure" {
		return model.Procedure{}, &ImportError{Format: format, Element: "resourceType", Msg: fmt.Sprintf("is %q, want Procedure", pr.ResourceType)}
	}
	if o.Patient == "" {
		return model.Procedure{}, &ImportError{Format: format, Element: "subject", Msg: fmt.Sprintf("%s identifies the patient; give a pseudonymous patient id instead", pr.Subject.Reference)}
	}
	p := model.Procedure{ID: o.ID, Patient: o.Patient, Site: o.Site, TeamGroup: o.TeamGroup, Source: format + " " + pr.ID, Status: pr.Status}
	if p.ID == "" {
		p.ID = pr.ID
	}
	c, ok := pr.Code.first()
	if !ok {
		return model.Procedure{}, &ImportError{Format: format, Element: "code.coding", Msg: "missing"}
	}
	for _, x := range pr.Code.Coding { // the first coding that names a code
		if strings.TrimSpace(x.Code) != "" {
			c, ok = x, true
			break
		}
		ok = false
	}
	if !ok {
		return model.Procedure{}, &ImportError{Format: format, Element: "code.coding.code", Msg: "no coding has a code"}
	}
	p.Code = model.Coding{System: c.System, Code: c.Code, Display: c.Display}
	if p.Code.Display == "" {
		p.Code.Display = pr.Code.Text
	}
	for _, pf := range pr.Performer {
		if pf.Actor.Display != "" {
			p.Surgeon = pf.Actor.Display
			break
		}
	}
	if p.Surgeon == "" {
		return model.Procedure{}, &ImportError{Format: format, Element: "performer.actor.display", Msg: "no performer name"}
	}
	var err error
	switch {
	case pr.PerformedPeriod != nil:
		if p.Start, err = fhirDateTime(pr.PerformedPeriod.Start); err == nil {
			p.End, err = fhirDateTime(pr.PerformedPeriod.End)
		}
	case pr.PerformedDateTime != "":
		p.Start, err = fhirDateTime(pr.PerformedDateTime)
		p.End = p.Start
	default:
		err = fmt.Errorf("missing")
	}
	if err != nil {
		return model.Procedure{}, &ImportError{Format: format, Element: "performed[x]", Msg: err.Error()}
	}
	for _, cx := range pr.Complication {
		if t := conceptText(cx); t != "" {
			p.Complications = append(p.Complications, t)
		}
	}
	p.Outcome = conceptText(pr.Outcome)
	if p.Outcome == "" {
		p.Outcome = pr.Status
		if len(pr.Note) > 0 && pr.Note[0].Text != "" {
			p.Outcome += ": " + pr.Note[0].Text
		}
	}
	for _, fd := range pr.FocalDevice {
		if a, _ := fd.Action.first(); a.Code == "implanted" || p.Device == "" {
			p.Device = fd.Manipulated.Reference
		}
	}
	return p, nil
}

func conceptText(c fhirConcept) string {
	if c.Text != "" {
		return c.Text
	}
	if x, ok := c.first(); ok {
		if x.Display != "" {
			return x.Display
		}
		return x.Code
	}
	return ""
}

// fhirDateTime turns a FHIR dateTime or date into RFC 3339 UTC.
func fhirDateTime(s string) (string, error) {
	if len(s) <= 10 {
		d, err := fhirDate(s)
		if err != nil {
			return "", err
		}
		return d + "T00:00:00Z", nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return "", fmt.Errorf("%q is not a FHIR dateTime", s)
	}
	return t.UTC().Format(time.RFC3339), nil
}
