package care

import (
	"fmt"
	"strings"
	"time"

	"github.com/trialchain/trialchain/trials/model"
)

// Refusal codes of the scenarios: each bad input has its own.
const (
	CodeNoConsent        = "no-consent"          // no active consent permits this read
	CodeDeniedByConsent  = "denied-by-consent"   // a deny provision matches the read
	CodeRevoked          = "consent-revoked"     // the consent an access relied on was revoked
	CodeNotPatient       = "not-patient"         // the caller does not hold the patient's pseudonym
	CodeNotCustodian     = "not-custodian"       // only the record's custodian may do this
	CodeNotReader        = "not-reader"          // the access belongs to another reader
	CodeNotReleased      = "record-not-released" // the custodian has not released the record yet
	CodeProcedureUnknown = "procedure-unknown"   // a claim for a procedure never recorded
	CodeAlreadyClaimed   = "already-claimed"     // a claim for a procedure already claimed
	CodeNotHolder        = "not-holder"          // a pack moved by an organisation that does not hold it
	CodeAlreadyDispensed = "already-dispensed"   // a pack dispensed (or moved) after dispensing
	CodeRecalled         = "recalled"            // a pack of a recalled lot
	CodeExpired          = "expired"             // a pack past its expiry
	CodeUnknownPack      = "unknown-pack"        // no such GTIN + serial was commissioned
)

// Refuse returns a refusal with code.
func Refuse(code, format string, args ...any) error { return errf(code, format, args...) }

func errf(code, format string, args ...any) *model.Error {
	return &model.Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// FHIR R4 Consent values this package understands.
const (
	Permit = "permit"
	Deny   = "deny"

	StatusActive   = "active"
	StatusInactive = "inactive" // revoked by the patient
)

// Provision is one rule of a consent (FHIR R4 Consent.provision): it
// permits or denies actors access to data of classes/codes for purposes
// within a period. An empty list matches anything; an empty bound is open.
type Provision struct {
	Type     string   `json:"type,omitempty"`     // permit | deny ("" on a root provision: no rule of its own)
	Actors   []Actor  `json:"actors,omitempty"`   // who is permitted or denied
	Purposes []string `json:"purposes,omitempty"` // tokens [system|]code, e.g. TREAT (v3-ActReason)
	Classes  []string `json:"classes,omitempty"`  // data classes, tokens, e.g. urn:ietf:bcp:13|application/hl7-cda+xml
	Codes    []string `json:"codes,omitempty"`    // data codes, tokens, e.g. http://loinc.org|34133-9
	Start    string   `json:"start,omitempty"`    // YYYY-MM-DD or RFC 3339
	End      string   `json:"end,omitempty"`      // inclusive
}

// Actor is a provision's actor: its role (a v3-ParticipationType token,
// e.g. PRCP) and reference (e.g. "Organization/hospital-b"). A hospital
// reads as OrgActor(its organisation).
type Actor struct {
	Role      string `json:"role,omitempty"`
	Reference string `json:"reference"`
}

// Consent is a patient's FHIR R4 Consent as the contract keeps it. The
// root provision sets the period and actors its nested provisions inherit
// when they name none; nested provisions are the rules.
type Consent struct {
	ID           string      `json:"id"`
	Patient      string      `json:"patient"` // pseudonym (FHIR Patient id without "Patient/")
	Status       string      `json:"status"`  // active | inactive
	Scope        string      `json:"scope,omitempty"`
	Categories   []string    `json:"categories,omitempty"`
	DateTime     string      `json:"dateTime,omitempty"`
	Organization []string    `json:"organization,omitempty"`
	PolicyRule   string      `json:"policyRule,omitempty"`
	Identifier   string      `json:"identifier,omitempty"`
	Root         Provision   `json:"root"`
	Provisions   []Provision `json:"provisions,omitempty"`

	// Set by the contract.
	Grantor   string `json:"grantor,omitempty"` // hex key of the subject who granted it
	GrantedAt string `json:"grantedAt,omitempty"`
	RevokedAt string `json:"revokedAt,omitempty"`
	RevokeWhy string `json:"revokeWhy,omitempty"`
}

// Validate checks a consent before it is granted.
func (c *Consent) Validate() error {
	if err := model.Ident("consent.id", c.ID); err != nil {
		return err
	}
	if err := model.Ident("consent.patient", c.Patient); err != nil {
		return err
	}
	if c.Status != StatusActive {
		return errf("invalid", "consent %s: status %q: only an active consent can be granted", c.ID, c.Status)
	}
	for _, f := range append([]string{c.Scope, c.DateTime, c.PolicyRule, c.Identifier}, append(c.Categories, c.Organization...)...) {
		if len(f) > model.MaxName {
			return errf("invalid", "consent %s: a field longer than %d bytes", c.ID, model.MaxName)
		}
	}
	if len(c.Categories) > model.MaxList || len(c.Organization) > model.MaxList {
		return errf("invalid", "consent %s: more than %d categories or organizations", c.ID, model.MaxList)
	}
	if len(c.Provisions) > model.MaxList {
		return errf("invalid", "consent %s: more than %d provisions", c.ID, model.MaxList)
	}
	if c.Root.Type == "" && len(c.Provisions) == 0 {
		return errf("invalid", "consent %s has no provision: it permits and denies nothing", c.ID)
	}
	if err := c.Root.validate("provision", true); err != nil {
		return err
	}
	for i := range c.Provisions {
		if err := c.Provisions[i].validate(sprintf("provision.provision[%d]", i), false); err != nil {
			return err
		}
	}
	return nil
}

func (p *Provision) validate(field string, root bool) error {
	if !(p.Type == Permit || p.Type == Deny || (root && p.Type == "")) {
		return errf("invalid", "%s.type %q must be permit or deny", field, p.Type)
	}
	if len(p.Actors) > model.MaxList {
		return errf("invalid", "%s: more than %d actors", field, model.MaxList)
	}
	for _, l := range [][]string{p.Purposes, p.Classes, p.Codes} {
		if len(l) > model.MaxList {
			return errf("invalid", "%s: a list longer than %d", field, model.MaxList)
		}
		for _, s := range l {
			if s == "" || len(s) > model.MaxName {
				return errf("invalid", "%s: an empty or overlong (> %d bytes) entry", field, model.MaxName)
			}
		}
	}
	for _, a := range p.Actors {
		if i := strings.IndexByte(a.Reference, '/'); i <= 0 || i == len(a.Reference)-1 || len(a.Reference) > model.MaxName || len(a.Role) > model.MaxName {
			return errf("invalid", "%s.actor %q is not a reference Type/id, e.g. Organization/hospital-b", field, a.Reference)
		}
	}
	if _, err := bound(field+".period.start", p.Start, false); err != nil {
		return err
	}
	if _, err := bound(field+".period.end", p.End, true); err != nil {
		return err
	}
	return nil
}

// bound parses a period bound to Unix ms; an end date includes its whole
// day. "" is open: 0 for a start, max for an end.
func bound(field, s string, end bool) (int64, error) {
	if s == "" {
		if end {
			return 1<<63 - 1, nil
		}
		return 0, nil
	}
	if len(s) == len("2006-01-02") {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return 0, errf("invalid", "%s %q is not a date YYYY-MM-DD", field, s)
		}
		if end {
			t = t.AddDate(0, 0, 1)
			return t.UnixMilli() - 1, nil
		}
		return t.UnixMilli(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, errf("invalid", "%s %q is neither YYYY-MM-DD nor an RFC 3339 time", field, s)
	}
	return t.UnixMilli(), nil
}

// Read is what a hospital asks for: a record's class and code, read by
// actor (its organisation reference) for purpose at a time.
type Read struct {
	Actor   string // "Organization/" + the reader's organisation
	Purpose string
	Class   string
	Code    string
	AtMilli int64
}

// Decision is the outcome of Decide.
type Decision struct {
	Permit  bool   `json:"permit"`
	Consent string `json:"consent,omitempty"` // the consent that decided
	Rule    int    `json:"rule"`              // its provision index (-1: the root)
	Reason  string `json:"reason"`
}

// Decide applies the patient's consents to r: a matching deny provision of
// an active consent refuses (CodeDeniedByConsent), else a matching permit
// provision permits, else nothing permits (CodeNoConsent). Inactive
// (revoked) consents count for nothing. The consents are scanned in order,
// so the answer is the same on every node.
func Decide(consents []Consent, r Read) (Decision, error) {
	var permit *Decision
	for i := range consents {
		c := &consents[i]
		if c.Status != StatusActive {
			continue
		}
		rules := c.Provisions
		idx := 0
		if c.Root.Type != "" {
			rules = append([]Provision{c.Root}, c.Provisions...)
			idx = -1
		}
		for j, p := range rules {
			if !matches(&c.Root, &p, r) {
				continue
			}
			d := Decision{Consent: c.ID, Rule: j + idx}
			if p.Type == Deny {
				return d, errf(CodeDeniedByConsent, "consent %s provision %d denies %s reading %s for %s", c.ID, j+idx, r.Actor, what(r), r.Purpose)
			}
			if permit == nil {
				d.Permit, d.Reason = true, sprintf("consent %s provision %d permits %s reading %s for %s", c.ID, j+idx, r.Actor, what(r), r.Purpose)
				permit = &d
			}
		}
	}
	if permit == nil {
		return Decision{}, errf(CodeNoConsent, "no active consent of the patient permits %s reading %s for %s", r.Actor, what(r), r.Purpose)
	}
	return *permit, nil
}

func what(r Read) string {
	if w := strings.TrimSpace(r.Class + " " + r.Code); w != "" {
		return w
	}
	return "a record"
}

func matches(root, p *Provision, r Read) bool {
	actors := p.Actors
	if len(actors) == 0 {
		actors = root.Actors
	}
	if !hasActor(actors, r.Actor) || !in(p.Purposes, r.Purpose) || !in(p.Classes, r.Class) || !in(p.Codes, r.Code) {
		return false
	}
	for _, q := range []*Provision{root, p} {
		s, _ := bound("", q.Start, false)
		e, _ := bound("", q.End, true)
		if r.AtMilli < s || r.AtMilli > e {
			return false
		}
	}
	return true
}

func hasActor(list []Actor, ref string) bool {
	if len(list) == 0 {
		return true
	}
	for _, a := range list {
		if a.Reference == ref {
			return true
		}
	}
	return false
}

func in(list []string, s string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// OrgActor is the FHIR reference of a member organisation.
func OrgActor(org string) string { return "Organization/" + org }

// SharedRecord is a patient's record held off chain by its custodian
// hospital: the chain keeps its class, code and a salted commitment to
// its bytes (trials.RecordCommitment), never the bytes.
type SharedRecord struct {
	ID         string `json:"id"`
	Patient    string `json:"patient"`
	Class      string `json:"class"`
	Code       string `json:"code"`
	Commitment string `json:"commitment"` // 64 hex
	Custodian  string `json:"custodian,omitempty"`
	Time       string `json:"time,omitempty"`
}

// Validate checks a record before it is registered.
func (r *SharedRecord) Validate() error {
	if err := model.Ident("record.id", r.ID); err != nil {
		return err
	}
	if err := model.Ident("record.patient", r.Patient); err != nil {
		return err
	}
	if r.Class == "" || len(r.Class) > model.MaxName || r.Code == "" || len(r.Code) > model.MaxName {
		return errf("invalid", "record %s: class and code are required (at most %d bytes)", r.ID, model.MaxName)
	}
	if !model.IsHash(r.Commitment) {
		return errf("invalid", "record %s: commitment must be 64 lowercase hex (a salted SHA-256, never the record)", r.ID)
	}
	return nil
}

// Access is a permitted read: the decision, the sealed record once the
// custodian releases it, and how often it was read.
type Access struct {
	ID       string `json:"id"`
	Record   string `json:"record"`
	Patient  string `json:"patient"`
	Reader   string `json:"reader"` // hex member key
	Org      string `json:"org"`
	Purpose  string `json:"purpose"`
	Consent  string `json:"consent"`
	Time     string `json:"time"`
	Sealed   string `json:"sealed,omitempty"` // hex HPKE ciphertext to the reader (trials.SealRecord)
	Reads    int    `json:"reads"`
	Custody  string `json:"custodian"`
	Decision string `json:"decision"`
}

// Entry is one line of a patient's access log in contract state.
type Entry struct {
	Kind   string `json:"kind"` // grant, revoke, record, permit, release, read
	Ref    string `json:"ref"`
	Actor  string `json:"actor"`
	Org    string `json:"org"`
	Detail string `json:"detail"`
	Time   string `json:"time"`
	Height uint64 `json:"height"`
}

// Arguments of the record-sharing methods.
type (
	GrantArgs struct {
		Consent Consent `json:"consent"`
	}
	RevokeArgs struct {
		Patient string `json:"patient"`
		Consent string `json:"consent"`
		Reason  string `json:"reason"`
	}
	RecordArgs struct {
		Record SharedRecord `json:"record"`
	}
	RequestArgs struct {
		Record  string `json:"record"`
		Purpose string `json:"purpose"`
	}
	ReleaseArgs struct {
		Access string `json:"access"`
		Sealed string `json:"sealed"`
	}
	AccessArgs struct {
		Access string `json:"access"`
	}
	PatientArgs struct {
		Patient string `json:"patient"`
	}
)

// Scope is the record set of a patient's sharing: every grant, revocation,
// request and read for the patient — refused ones included — is a record
// of it, kept by the chain.
func Scope(patient string) string { return "patient:" + patient }
