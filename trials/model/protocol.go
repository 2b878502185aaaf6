package model

import (
	"strings"
)

// Trial statuses.
const (
	StatusRegistered = "registered" // outcomes and forms on chain; no enrolment yet allowed
	StatusActive     = "active"     // sites may enrol and submit
	StatusLocked     = "locked"     // database lock: no more site data; results may be submitted
	StatusReported   = "reported"   // results submitted, outcome-reporting report stored
)

// Outcome types.
const (
	Primary   = "primary"
	Secondary = "secondary"
)

// Protocol is a registered trial protocol.
type Protocol struct {
	ID               string      `json:"id"` // e.g. NCT05503693
	Title            string      `json:"title"`
	Version          int         `json:"version"` // 1 at registration, +1 per amendment (set by the contract)
	Phase            string      `json:"phase,omitempty"`
	StartDate        string      `json:"startDate"` // YYYY-MM-DD
	Arms             []Arm       `json:"arms"`
	Eligibility      Eligibility `json:"eligibility"`
	Visits           []Visit     `json:"visits"`
	Forms            []Form      `json:"forms"`
	Outcomes         []Outcome   `json:"outcomes"`
	AnalysisPlanHash string      `json:"analysisPlanHash"` // SHA-256 of the statistical analysis plan
	Sites            []string    `json:"sites"`            // organisations allowed to enrol and submit
	ConsentGroup     string      `json:"consentGroup"`     // consent group id for amendments
	Sponsor          string      `json:"sponsor,omitempty"`
	Source           string      `json:"source,omitempty"` // e.g. "FHIR R5 ResearchStudy example-ctgov-study-record"
}

// Arm is a study arm (FHIR comparisonGroup).
type Arm struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
}

// Eligibility criteria, as text, plus an optional reference.
type Eligibility struct {
	Inclusion []string `json:"inclusion,omitempty"`
	Exclusion []string `json:"exclusion,omitempty"`
	MinAge    int      `json:"minAge,omitempty"` // years; 0: none
	MaxAge    int      `json:"maxAge,omitempty"`
	Reference string   `json:"reference,omitempty"`
}

// Visit is a scheduled visit and the forms collected at it.
type Visit struct {
	ID     string   `json:"id"`
	Name   string   `json:"name,omitempty"`
	Day    int      `json:"day"`              // planned study day
	Window int      `json:"window,omitempty"` // ± days
	Forms  []string `json:"forms"`
}

// Form is a case-report-form definition.
type Form struct {
	ID     string  `json:"id"`
	Name   string  `json:"name,omitempty"`
	Fields []Field `json:"fields"`
}

// Field types.
const (
	TypeInteger  = "integer"
	TypeDecimal  = "decimal"
	TypeText     = "text"
	TypeDate     = "date"     // YYYY-MM-DD
	TypeDateTime = "datetime" // RFC 3339 UTC
	TypeBoolean  = "boolean"  // xs:boolean: "true" / "false" / "1" / "0", kept as given
	TypeCode     = "code"     // one of Codes
	// ODM 1.3.2 partial values, kept as given so their precision is kept:
	// partialDate YYYY[-MM[-DD]], partialTime hh[:mm[:ss[.f]]][zone],
	// partialDatetime a partialDate, or a full date with "T" and a
	// partialTime (e.g. 2020-07-06T09:11).
	TypePartialDate     = "partialDate"
	TypePartialTime     = "partialTime"
	TypePartialDateTime = "partialDatetime"
)

// Field is one item of a form. Public fields are de-identified values the
// protocol declares fit for the chain: they are sent in clear, validated
// by the contract (type, unit, range) and kept in state. Other fields stay
// in the encrypted off-chain record: the submission carries only a
// commitment (SHA-256) for each, so the contract checks they are present
// and the client checks their values (ValidateValue) before sending.
type Field struct {
	ID        string   `json:"id"`
	Label     string   `json:"label,omitempty"`
	Type      string   `json:"type"`
	Unit      string   `json:"unit,omitempty"` // UCUM; a value must be given in this unit
	Min       string   `json:"min,omitempty"`  // decimal, inclusive
	Max       string   `json:"max,omitempty"`
	Codes     []string `json:"codes,omitempty"`
	MaxLength int      `json:"maxLength,omitempty"`
	Required  bool     `json:"required,omitempty"`
	Public    bool     `json:"public,omitempty"`
	Repeating bool     `json:"repeating,omitempty"` // values may be given as ID#1, ID#2, ...
}

// Outcome is a pre-specified outcome measure.
type Outcome struct {
	ID          string `json:"id"`
	Type        string `json:"type"` // primary | secondary
	Measure     string `json:"measure"`
	TimeFrame   string `json:"timeFrame,omitempty"`
	Description string `json:"description,omitempty"`
}

// Key returns the normalised measure used to match results to outcomes.
func (o Outcome) Key() string { return NormMeasure(o.Measure) }

// NormMeasure lower-cases a measure and collapses white space.
func NormMeasure(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// Form returns the form with id.
func (p *Protocol) Form(id string) (*Form, bool) {
	for i := range p.Forms {
		if p.Forms[i].ID == id {
			return &p.Forms[i], true
		}
	}
	return nil, false
}

// Visit returns the visit with id.
func (p *Protocol) Visit(id string) (*Visit, bool) {
	for i := range p.Visits {
		if p.Visits[i].ID == id {
			return &p.Visits[i], true
		}
	}
	return nil, false
}

// HasSite reports whether org may enrol and submit.
func (p *Protocol) HasSite(org string) bool {
	for _, s := range p.Sites {
		if s == org {
			return true
		}
	}
	return false
}

// Validate checks a protocol is complete and consistent.
func (p *Protocol) Validate() error {
	if err := ident("id", p.ID); err != nil {
		return err
	}
	if err := text("title", p.Title, MaxText, true); err != nil {
		return err
	}
	if err := text("phase", p.Phase, MaxName, false); err != nil {
		return err
	}
	if _, err := ParseDate("startDate", p.StartDate); err != nil {
		return err
	}
	if len(p.Arms) > MaxList || len(p.Visits) > MaxList || len(p.Forms) > MaxList || len(p.Outcomes) > MaxList || len(p.Sites) > MaxList {
		return errf("invalid", "at most %d arms, visits, forms, outcomes and sites each", MaxList)
	}
	seen := map[string]bool{}
	for i, a := range p.Arms {
		if err := ident("arms["+itoa(int64(i))+"].id", a.ID); err != nil {
			return err
		}
		if seen["arm "+a.ID] {
			return errf("invalid", "arm %q is listed twice", a.ID)
		}
		seen["arm "+a.ID] = true
		if err := text("arm "+a.ID+" name", a.Name, MaxName, true); err != nil {
			return err
		}
		if err := text("arm "+a.ID+" description", a.Description, MaxText, false); err != nil {
			return err
		}
	}
	for _, c := range append(append([]string{}, p.Eligibility.Inclusion...), p.Eligibility.Exclusion...) {
		if err := text("eligibility criterion", c, MaxText, true); err != nil {
			return err
		}
	}
	if len(p.Forms) == 0 {
		return errf("invalid", "a protocol needs at least one case-report form")
	}
	for i := range p.Forms {
		if err := p.Forms[i].validate(); err != nil {
			return err
		}
		if seen["form "+p.Forms[i].ID] {
			return errf("invalid", "form %q is defined twice", p.Forms[i].ID)
		}
		seen["form "+p.Forms[i].ID] = true
	}
	if len(p.Visits) == 0 {
		return errf("invalid", "a protocol needs at least one visit")
	}
	for _, v := range p.Visits {
		if err := ident("visit id", v.ID); err != nil {
			return err
		}
		if seen["visit "+v.ID] {
			return errf("invalid", "visit %q is defined twice", v.ID)
		}
		seen["visit "+v.ID] = true
		if len(v.Forms) == 0 {
			return errf("invalid", "visit %q collects no form", v.ID)
		}
		for _, f := range v.Forms {
			if !seen["form "+f] {
				return errf("invalid", "visit %q lists form %q, which the protocol does not define", v.ID, f)
			}
		}
	}
	if err := ValidateOutcomes(p.Outcomes); err != nil {
		return err
	}
	if err := hashField("analysisPlanHash", p.AnalysisPlanHash, true); err != nil {
		return err
	}
	if len(p.Sites) == 0 {
		return errf("invalid", "a protocol needs at least one allowed site (organisation)")
	}
	for _, s := range p.Sites {
		if err := text("site", s, MaxName, true); err != nil {
			return err
		}
	}
	return groupField("consentGroup", p.ConsentGroup)
}

// ValidateOutcomes checks a list of outcomes: at least one primary, unique
// ids and measures.
func ValidateOutcomes(outs []Outcome) error {
	ids, measures, primary := map[string]bool{}, map[string]bool{}, false
	for _, o := range outs {
		if err := ident("outcome id", o.ID); err != nil {
			return err
		}
		if o.Type != Primary && o.Type != Secondary {
			return errf("invalid", "outcome %q type %q must be primary or secondary", o.ID, o.Type)
		}
		primary = primary || o.Type == Primary
		if err := text("outcome "+o.ID+" measure", o.Measure, MaxName, true); err != nil {
			return err
		}
		if err := text("outcome "+o.ID+" timeFrame", o.TimeFrame, MaxName, false); err != nil {
			return err
		}
		if err := text("outcome "+o.ID+" description", o.Description, MaxText, false); err != nil {
			return err
		}
		if ids[o.ID] {
			return errf("invalid", "outcome id %q is used twice", o.ID)
		}
		if measures[o.Key()] {
			return errf("invalid", "outcome measure %q is listed twice", o.Measure)
		}
		ids[o.ID], measures[o.Key()] = true, true
	}
	if !primary {
		return errf("invalid", "a protocol needs at least one primary outcome")
	}
	return nil
}

func (f *Form) validate() error {
	if err := ident("form id", f.ID); err != nil {
		return err
	}
	if len(f.Fields) == 0 || len(f.Fields) > MaxList {
		return errf("invalid", "form %q needs 1..%d fields", f.ID, MaxList)
	}
	seen := map[string]bool{}
	for _, fd := range f.Fields {
		where := "form " + f.ID + " field " + fd.ID
		if err := ident("form "+f.ID+" field id", fd.ID); err != nil {
			return err
		}
		if strings.Contains(fd.ID, "#") {
			return errf("invalid", "%s: # is reserved for repeats", where)
		}
		if seen[fd.ID] {
			return errf("invalid", "form %q defines field %q twice", f.ID, fd.ID)
		}
		seen[fd.ID] = true
		switch fd.Type {
		case TypeInteger, TypeDecimal:
			for _, b := range []string{fd.Min, fd.Max} {
				if b == "" {
					continue
				}
				d, ok := ParseDecimal(b)
				if !ok || fd.Type == TypeInteger && !d.IsInteger() {
					return errf("invalid", "%s: bound %q is not a %s", where, b, fd.Type)
				}
			}
			if fd.Min != "" && fd.Max != "" {
				lo, _ := ParseDecimal(fd.Min)
				hi, _ := ParseDecimal(fd.Max)
				if lo.Cmp(hi) > 0 {
					return errf("invalid", "%s: min %s is above max %s", where, fd.Min, fd.Max)
				}
			}
		case TypeCode:
			if len(fd.Codes) == 0 {
				return errf("invalid", "%s: a code field needs its codes", where)
			}
		case TypeText, TypeDate, TypeDateTime, TypeBoolean, TypePartialDate, TypePartialTime, TypePartialDateTime:
		default:
			return errf("invalid", "%s: type %q is not one of integer, decimal, text, date, datetime, boolean, code, partialDate, partialTime, partialDatetime", where, fd.Type)
		}
		if fd.Type != TypeInteger && fd.Type != TypeDecimal && (fd.Min != "" || fd.Max != "") {
			return errf("invalid", "%s: only numeric fields have a range", where)
		}
		if err := text(where+" unit", fd.Unit, MaxID, false); err != nil {
			return err
		}
		if err := text(where+" label", fd.Label, MaxName, false); err != nil {
			return err
		}
	}
	return nil
}

// FieldValue is one submitted value. A public field carries Value (and
// Unit when the field has one); a non-public field carries only Commit,
// the lowercase hex SHA-256 of the value in the off-chain record (see
// CommitValue).
type FieldValue struct {
	Value  string `json:"value,omitempty"`
	Unit   string `json:"unit,omitempty"`
	Commit string `json:"commit,omitempty"`
}

// CommitValue returns the commitment to a non-public value: SHA-256 of
// salt | field | value, hex. The salt (random, kept in the off-chain
// record) stops anyone from guessing the value from the commitment.
func CommitValue(salt, field string, v FieldValue) string {
	d := Digest("trialchain/crf-field/v1", salt, field, v.Value, v.Unit)
	return hexs(d[:])
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// FieldDef returns the definition of a submitted field name (ID, or ID#n
// for a repeating field).
func (f *Form) FieldDef(name string) (*Field, bool) { return f.field(name) }

// field returns the definition of a submitted field name (ID or ID#n for
// repeating fields).
func (f *Form) field(name string) (*Field, bool) {
	if i := f.fieldIndex(name); i >= 0 {
		return &f.Fields[i], true
	}
	return nil, false
}

// firstWithID is the index of the first field with the ID of f.Fields[i].
func (f *Form) firstWithID(i int) int {
	for j := range i {
		if f.Fields[j].ID == f.Fields[i].ID {
			return j
		}
	}
	return i
}

// fieldIndex is field's index in f.Fields, or -1.
func (f *Form) fieldIndex(name string) int {
	base, rep, isRep := strings.Cut(name, "#")
	for i := range f.Fields {
		fd := &f.Fields[i]
		if fd.ID != base {
			continue
		}
		if isRep {
			if !fd.Repeating || rep == "" || len(rep) > 4 || strings.Trim(rep, "0123456789") != "" || rep[0] == '0' {
				return -1
			}
		}
		return i
	}
	return -1
}

// ValidateSubmission checks the fields of a submission against form f, as
// the contract does: every name is a declared field; public fields carry a
// value valid for the field (type, unit, range) and no commitment;
// non-public fields carry only a commitment; every required field is
// present. It returns the public fields, which are what the chain keeps:
// fields itself when every value in it is public (neither map may be
// changed afterwards), else a new map.
func ValidateSubmission(f *Form, fields map[string]FieldValue) (map[string]FieldValue, error) {
	if len(fields) > 4*MaxList {
		return nil, errf("invalid", "form %q: %d values, at most %d", f.ID, len(fields), 4*MaxList)
	}
	// present[i]: a name resolved to f.Fields[i] (the first field with its
	// ID); on the stack for forms of up to 64 fields.
	var presentBuf [64]bool
	present := presentBuf[:]
	if len(f.Fields) > len(presentBuf) {
		present = make([]bool, len(f.Fields))
	}
	names := sortedKeys(fields)
	npublic := 0
	for _, name := range names {
		v := fields[name]
		i := f.fieldIndex(name)
		if i < 0 {
			return nil, errf("unknown-field", "form %q has no field %q", f.ID, name)
		}
		fd := &f.Fields[i]
		present[i] = true
		if !fd.Public {
			if v.Value != "" || v.Unit != "" {
				return nil, errf("invalid", "field %q of form %q is not public: send only its commitment (commit), never its value", name, f.ID)
			}
			if !IsHash(v.Commit) {
				return nil, errf("invalid", "field %q of form %q needs commit: the 64-hex SHA-256 of its value in the off-chain record", name, f.ID)
			}
			continue
		}
		if v.Commit != "" {
			return nil, errf("invalid", "field %q of form %q is public: send its value, not a commitment", name, f.ID)
		}
		if err := fd.ValidateValue(name, v); err != nil {
			return nil, err
		}
		npublic++
	}
	for i, fd := range f.Fields {
		if fd.Required && !present[i] && !present[f.firstWithID(i)] {
			return nil, errf("missing-required", "form %q: required field %q (%s) is missing", f.ID, fd.ID, fd.Label)
		}
	}
	if npublic == len(fields) && fields != nil {
		return fields, nil // every value is public (the usual case): no copy
	}
	public := make(map[string]FieldValue, npublic)
	for _, name := range names {
		if i := f.fieldIndex(name); f.Fields[i].Public {
			public[name] = fields[name]
		}
	}
	return public, nil
}

// ValidateValue checks one value against the field's type, unit and range.
// An empty value of a required field is missing.
func (fd *Field) ValidateValue(name string, v FieldValue) error {
	if v.Value == "" {
		if fd.Required {
			return errf("missing-required", "required field %q is empty", name)
		}
		return nil
	}
	if !plainText(v.Value, MaxText) { // else it is valid: no label to build
		if err := text("field "+name, v.Value, MaxText, false); err != nil {
			return err
		}
	}
	if v.Unit != fd.Unit {
		if fd.Unit == "" {
			return errf("wrong-unit", "field %q has no unit, got %q", name, v.Unit)
		}
		return errf("wrong-unit", "field %q must be in %s, got %q", name, fd.Unit, v.Unit)
	}
	switch fd.Type {
	case TypeInteger, TypeDecimal:
		d, ok := ParseDecimal(v.Value)
		if !ok || fd.Type == TypeInteger && !d.IsInteger() {
			kind := "a decimal number"
			if fd.Type == TypeInteger {
				kind = "a whole number"
			}
			return errf("wrong-type", "field %q must be %s, got %q", name, kind, v.Value)
		}
		if fd.Min != "" {
			if lo, _ := ParseDecimal(fd.Min); d.Cmp(lo) < 0 {
				return errf("out-of-range", "field %q = %s %s is below the minimum %s %s", name, v.Value, fd.Unit, fd.Min, fd.Unit)
			}
		}
		if fd.Max != "" {
			if hi, _ := ParseDecimal(fd.Max); d.Cmp(hi) > 0 {
				return errf("out-of-range", "field %q = %s %s is above the maximum %s %s", name, v.Value, fd.Unit, fd.Max, fd.Unit)
			}
		}
	case TypeDate:
		if _, err := ParseDate("field "+name, v.Value); err != nil {
			return &Error{Code: "wrong-type", Msg: err.(*Error).Msg}
		}
	case TypeDateTime:
		if _, err := ParseUTC("field "+name, v.Value); err != nil {
			return &Error{Code: "wrong-type", Msg: err.(*Error).Msg}
		}
	case TypeBoolean:
		if _, ok := ParseBoolean(v.Value); !ok {
			return errf("wrong-type", "field %q must be true, false, 1 or 0, got %q", name, v.Value)
		}
	case TypePartialDate, TypePartialTime, TypePartialDateTime:
		if _, ok := PartialPrecision(fd.Type, v.Value); !ok {
			return errf("wrong-type", "field %q must be an ODM %s (e.g. %s), got %q", name, fd.Type, partialExample[fd.Type], v.Value)
		}
	case TypeCode:
		ok := false
		for _, c := range fd.Codes {
			ok = ok || c == v.Value
		}
		if !ok {
			return errf("out-of-range", "field %q = %q is not one of %s", name, v.Value, strings.Join(fd.Codes, ", "))
		}
	}
	if fd.MaxLength > 0 && len(v.Value) > fd.MaxLength {
		return errf("out-of-range", "field %q is %d characters, at most %d", name, len(v.Value), fd.MaxLength)
	}
	return nil
}
