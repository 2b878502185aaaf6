package model

import (
	"strings"
)

// Method arguments and records of the trial-protocol contract.

// RegisterArgs registers a protocol (role sponsor). Version and Sponsor are
// set by the contract.
type RegisterArgs struct {
	Protocol  Protocol  `json:"protocol"`
	Signature Signature `json:"signature"`
	// Contracts pins the addresses (64 hex) of the other contracts the
	// trial uses, by name (e.g. "surgical-records"): clients resolve them
	// through the trial, never by a label anyone can deploy. The
	// trial-protocol contract pins itself.
	Contracts map[string]string `json:"contracts,omitempty"`
}

// ValidateContracts checks pinned contract names and addresses.
func ValidateContracts(cs map[string]string) error {
	if len(cs) > 16 {
		return errf("invalid", "at most 16 pinned contracts, have %d", len(cs))
	}
	for n, a := range cs {
		if err := ident("contract name", n); err != nil {
			return err
		}
		if !IsHash(a) {
			return errf("invalid", "contract %s: address must be 64 lowercase hex digits, have %q", n, clip(a))
		}
	}
	return nil
}

// TrialArgs names a trial (activate, show, report, list) and signs (activate, lock).
type TrialArgs struct {
	Trial     string    `json:"trial"`
	Signature Signature `json:"signature,omitempty"`
	Kind      string    `json:"kind,omitempty"` // list: subjects | entries | aes | amendments | queries
}

// Changes is an amendment: each non-nil part replaces the protocol's.
type Changes struct {
	Title            *string      `json:"title,omitempty"`
	Phase            *string      `json:"phase,omitempty"`
	StartDate        *string      `json:"startDate,omitempty"`
	Arms             *[]Arm       `json:"arms,omitempty"`
	Eligibility      *Eligibility `json:"eligibility,omitempty"`
	Visits           *[]Visit     `json:"visits,omitempty"`
	Forms            *[]Form      `json:"forms,omitempty"`
	Outcomes         *[]Outcome   `json:"outcomes,omitempty"`
	AnalysisPlanHash *string      `json:"analysisPlanHash,omitempty"`
	Sites            *[]string    `json:"sites,omitempty"`
	ConsentGroup     *string      `json:"consentGroup,omitempty"`
}

// Parts lists the names of the parts the amendment changes, in a fixed order.
func (c Changes) Parts() []string {
	var p []string
	add := func(ok bool, name string) {
		if ok {
			p = append(p, name)
		}
	}
	add(c.Title != nil, "title")
	add(c.Phase != nil, "phase")
	add(c.StartDate != nil, "startDate")
	add(c.Arms != nil, "arms")
	add(c.Eligibility != nil, "eligibility")
	add(c.Visits != nil, "visits")
	add(c.Forms != nil, "forms")
	add(c.Outcomes != nil, "outcomes")
	add(c.AnalysisPlanHash != nil, "analysisPlanHash")
	add(c.Sites != nil, "sites")
	add(c.ConsentGroup != nil, "consentGroup")
	return p
}

// Apply returns p with the changes applied and its version incremented.
func (c Changes) Apply(p Protocol) Protocol {
	if c.Title != nil {
		p.Title = *c.Title
	}
	if c.Phase != nil {
		p.Phase = *c.Phase
	}
	if c.StartDate != nil {
		p.StartDate = *c.StartDate
	}
	if c.Arms != nil {
		p.Arms = *c.Arms
	}
	if c.Eligibility != nil {
		p.Eligibility = *c.Eligibility
	}
	if c.Visits != nil {
		p.Visits = *c.Visits
	}
	if c.Forms != nil {
		p.Forms = *c.Forms
	}
	if c.Outcomes != nil {
		p.Outcomes = *c.Outcomes
	}
	if c.AnalysisPlanHash != nil {
		p.AnalysisPlanHash = *c.AnalysisPlanHash
	}
	if c.Sites != nil {
		p.Sites = *c.Sites
	}
	if c.ConsentGroup != nil {
		p.ConsentGroup = *c.ConsentGroup
	}
	p.Version++
	return p
}

// AmendArgs amends a protocol (role sponsor). Version is the version the
// amendment creates (the current version + 1). Consent is the combined
// consent of the trial's consent group over AmendmentDigest.
type AmendArgs struct {
	Trial     string    `json:"trial"`
	Version   int       `json:"version"`
	Reason    string    `json:"reason"`
	Changes   Changes   `json:"changes"`
	Signature Signature `json:"signature"`
	Consent   []byte    `json:"consent,omitempty"` // base64 in JSON
}

// AmendmentDigest is what the trial's consent group signs for an
// amendment: the trial, the new version, the reason and the exact changes.
func AmendmentDigest(trial string, version int, reason string, c Changes) [32]byte {
	return Digest("trialchain/trial-protocol/amend/v1", trial, itoa(int64(version)), reason, Hash(c))
}

// Amendment is a stored amendment: visible for ever.
type Amendment struct {
	Trial          string        `json:"trial"`
	Version        int           `json:"version"`
	Reason         string        `json:"reason"`
	Changes        Changes       `json:"changes"`
	Parts          []string      `json:"parts"`
	OutcomeChanges []string      `json:"outcomeChanges,omitempty"`
	AfterEnrolment bool          `json:"afterEnrolment"`
	Digest         string        `json:"digest"`      // hex AmendmentDigest: the consented action
	ConsentHash    string        `json:"consentHash"` // SHA-256 of the consent bytes in the transaction
	ConsentGroup   string        `json:"consentGroup"`
	Manifestation  Manifestation `json:"manifestation"`
	Height         uint64        `json:"height"`
}

// DiffOutcomes describes, in words and in a deterministic order, how the
// outcome list changed from old to new.
func DiffOutcomes(old, new []Outcome) []string {
	var out []string
	byID := map[string]Outcome{}
	for _, o := range old {
		byID[o.ID] = o
	}
	seen := map[string]bool{}
	for _, n := range new {
		seen[n.ID] = true
		o, ok := byID[n.ID]
		switch {
		case !ok:
			out = append(out, "added "+n.Type+" outcome "+n.ID+" ("+n.Measure+")")
		case o != n:
			var what []string
			if o.Type != n.Type {
				what = append(what, "type "+o.Type+" → "+n.Type)
			}
			if o.Measure != n.Measure {
				what = append(what, "measure "+quote(o.Measure)+" → "+quote(n.Measure))
			}
			if o.TimeFrame != n.TimeFrame {
				what = append(what, "time frame "+quote(o.TimeFrame)+" → "+quote(n.TimeFrame))
			}
			if o.Description != n.Description {
				what = append(what, "description changed")
			}
			out = append(out, "changed outcome "+n.ID+": "+strings.Join(what, ", "))
		}
	}
	for _, o := range old {
		if !seen[o.ID] {
			out = append(out, "removed "+o.Type+" outcome "+o.ID+" ("+o.Measure+")")
		}
	}
	return out
}

func quote(s string) string { return "\"" + s + "\"" }

// EnrollArgs enrols a subject (role site, an allowed site).
type EnrollArgs struct {
	Trial           string    `json:"trial"`
	Subject         string    `json:"subject"`         // random pseudonymous id held by the site (NewSubjectID)
	ConsentDocHash  string    `json:"consentDocHash"`  // SHA-256 of the signed informed-consent document
	ProtocolVersion int       `json:"protocolVersion"` // the version the subject consented to
	Arm             string    `json:"arm,omitempty"`
	Signature       Signature `json:"signature"`
}

// ValidateSubjectID checks a pseudonymous subject id: 32 lowercase hex
// digits (128 random bits). A hash of a medical record number is 64 hex
// digits and refused; the id must come from a random source, never from
// the subject's identity.
func ValidateSubjectID(s string) error {
	if len(s) != 32 || !isLowerHex(s) {
		return errf("invalid", "subject id %q must be 32 lowercase hex digits drawn at random by the site (never a hash of a medical record number)", clip(s))
	}
	return nil
}

// Subject is an enrolled subject.
type Subject struct {
	ID              string        `json:"id"`
	Trial           string        `json:"trial"`
	Site            string        `json:"site"`
	Arm             string        `json:"arm,omitempty"`
	ConsentDocHash  string        `json:"consentDocHash"`
	ProtocolVersion int           `json:"protocolVersion"`
	Manifestation   Manifestation `json:"manifestation"`
	Height          uint64        `json:"height"`
}

// SubmitArgs submits a case-report form (role site).
type SubmitArgs struct {
	Trial      string                `json:"trial"`
	Subject    string                `json:"subject"`
	Visit      string                `json:"visit"`
	Form       string                `json:"form"`
	Fields     map[string]FieldValue `json:"fields"`
	RecordHash string                `json:"recordHash"` // SHA-256 of the full encrypted record kept off chain
	Signature  Signature             `json:"signature"`
}

// CorrectArgs corrects an entry: a new entry referencing the original, with
// a reason; the original stays.
type CorrectArgs struct {
	Trial      string                `json:"trial"`
	Entry      string                `json:"entry"`
	Fields     map[string]FieldValue `json:"fields"`
	RecordHash string                `json:"recordHash"`
	Reason     string                `json:"reason"`
	Signature  Signature             `json:"signature"`
	// Query, if set, is the query this correction answers.
	Query string `json:"query,omitempty"`
}

// Entry kinds.
const (
	KindSubmission = "submission"
	KindCorrection = "correction"
)

// Entry is a stored case-report-form entry: only public fields and hashes.
type Entry struct {
	ID            string                `json:"id"`
	Kind          string                `json:"kind"`
	Trial         string                `json:"trial"`
	Subject       string                `json:"subject"`
	Visit         string                `json:"visit"`
	Form          string                `json:"form"`
	Site          string                `json:"site"`
	Public        map[string]FieldValue `json:"public"`
	Private       []string              `json:"private,omitempty"`     // names of fields held off chain
	Commitments   string                `json:"commitments,omitempty"` // SHA-256 of the private fields' commitments
	RecordHash    string                `json:"recordHash"`
	Corrects      string                `json:"corrects,omitempty"`
	Reason        string                `json:"reason,omitempty"`
	ProtocolVer   int                   `json:"protocolVersion"`
	Manifestation Manifestation         `json:"manifestation"`
	Height        uint64                `json:"height"`
}

// EntryView is an entry with the ids of its corrections.
type EntryView struct {
	Entry       Entry    `json:"entry"`
	Corrections []string `json:"corrections,omitempty"`
}

// AEArgs reports an adverse event (role site).
type AEArgs struct {
	Trial      string    `json:"trial"`
	Subject    string    `json:"subject"`
	Term       string    `json:"term"`
	Serious    bool      `json:"serious"`
	Severity   string    `json:"severity"` // mild | moderate | severe | life-threatening | fatal
	Onset      string    `json:"onset,omitempty"`
	AwareAt    string    `json:"awareAt"` // RFC 3339 UTC: when the site became aware
	RecordHash string    `json:"recordHash,omitempty"`
	Signature  Signature `json:"signature"`
}

// SeriousReportWindowMilli is the deadline for reporting a serious adverse
// event after the site became aware of it: 24 hours.
const SeriousReportWindowMilli = 24 * 60 * 60 * 1000

// AdverseEvent is a stored adverse event.
type AdverseEvent struct {
	ID            string        `json:"id"`
	Trial         string        `json:"trial"`
	Subject       string        `json:"subject"`
	Site          string        `json:"site"`
	Term          string        `json:"term"`
	Serious       bool          `json:"serious"`
	Severity      string        `json:"severity"`
	Onset         string        `json:"onset,omitempty"`
	AwareAt       string        `json:"awareAt"`
	ReportedAt    string        `json:"reportedAt"` // block time
	MinutesLate   int64         `json:"minutesLate,omitempty"`
	Late          bool          `json:"late"`
	RecordHash    string        `json:"recordHash,omitempty"`
	Manifestation Manifestation `json:"manifestation"`
	Height        uint64        `json:"height"`
}

// Severities of an adverse event.
var Severities = []string{"mild", "moderate", "severe", "life-threatening", "fatal"}

// Validate checks the report, given the block time in Unix ms; it returns
// the awareness time and whether a serious event is reported late.
func (a *AEArgs) Validate(blockMilli int64) (aware int64, late bool, err error) {
	if err := text("term", a.Term, MaxName, true); err != nil {
		return 0, false, err
	}
	ok := false
	for _, s := range Severities {
		ok = ok || s == a.Severity
	}
	if !ok {
		return 0, false, errf("invalid", "severity %q must be one of %s", a.Severity, strings.Join(Severities, ", "))
	}
	if a.Onset != "" {
		if _, err := ParseDate("onset", a.Onset); err != nil {
			return 0, false, err
		}
	}
	aware, err = ParseUTC("awareAt", a.AwareAt)
	if err != nil {
		return 0, false, err
	}
	if aware > blockMilli {
		return 0, false, errf("invalid", "awareAt %s is after the block time %s", a.AwareAt, FormatMilli(blockMilli))
	}
	if err := hashField("recordHash", a.RecordHash, false); err != nil {
		return 0, false, err
	}
	return aware, a.Serious && blockMilli-aware > SeriousReportWindowMilli, nil
}

// Lock records the database lock.
type Lock struct {
	Manifestation Manifestation `json:"manifestation"`
	Height        uint64        `json:"height"`
	Entries       int64         `json:"entries"`
	Subjects      int64         `json:"subjects"`
	AEs           int64         `json:"adverseEvents"`
	// Checklist is what the lock was decided on (open queries, SAEs, ...).
	Checklist *LockChecklist `json:"checklist,omitempty"`
}

// TrialState is the stored state of a trial.
type TrialState struct {
	Protocol     Protocol      `json:"protocol"`
	Status       string        `json:"status"`
	Registered   Manifestation `json:"registered"`
	Baseline     []Outcome     `json:"baseline,omitempty"`   // outcomes as committed at first enrolment
	BaselineAt   string        `json:"baselineAt,omitempty"` // time of the first enrolment
	BaselineVer  int           `json:"baselineVersion,omitempty"`
	BaselineDate string        `json:"baselineStartDate,omitempty"` // the start date as committed at the first enrolment
	Subjects     int64         `json:"subjects"`
	Entries      int64         `json:"entries"`
	AEs          int64         `json:"adverseEvents"`
	LateAEs      int64         `json:"lateSeriousAdverseEvents"`
	SeriousAEs   int64         `json:"seriousAdverseEvents,omitempty"`
	Corrections  int64         `json:"corrections,omitempty"`
	Queries      int64         `json:"queries,omitempty"`     // raised
	OpenQueries  int64         `json:"openQueries,omitempty"` // open or answered, not closed
	Amendments   int           `json:"amendments"`
	Lock         *Lock         `json:"lock,omitempty"`
	// Contracts are the contracts pinned at registration, by name → address.
	Contracts map[string]string `json:"contracts,omitempty"`
}

// TrialView is what show returns.
type TrialView struct {
	TrialState
	History []AmendmentSummary `json:"history"`
}

// AmendmentSummary is an amendment without its changes (list amendments
// returns them whole).
type AmendmentSummary struct {
	Version        int           `json:"version"`
	Reason         string        `json:"reason"`
	Parts          []string      `json:"parts"`
	OutcomeChanges []string      `json:"outcomeChanges,omitempty"`
	AfterEnrolment bool          `json:"afterEnrolment"`
	Digest         string        `json:"digest"`
	ConsentHash    string        `json:"consentHash"`
	Manifestation  Manifestation `json:"manifestation"`
	Height         uint64        `json:"height"`
}

// Summary returns a without its changes.
func (a *Amendment) Summary() AmendmentSummary {
	return AmendmentSummary{Version: a.Version, Reason: a.Reason, Parts: a.Parts, OutcomeChanges: a.OutcomeChanges,
		AfterEnrolment: a.AfterEnrolment, Digest: a.Digest, ConsentHash: a.ConsentHash, Manifestation: a.Manifestation, Height: a.Height}
}

// List is what list returns: items of the kind asked, in key order, cut
// to fit one result (Complete false).
type List[V any] struct {
	Items    []V  `json:"items"`
	Complete bool `json:"complete"`
}

// ArmResult is the result of one outcome in one arm.
type ArmResult struct {
	Arm     string `json:"arm"`
	N       int    `json:"n"`
	Events  int    `json:"events,omitempty"`
	Value   string `json:"value,omitempty"` // decimal
	Unit    string `json:"unit,omitempty"`
	Summary string `json:"summary,omitempty"`
}

// OutcomeResult is the reported result of one outcome.
type OutcomeResult struct {
	Outcome   string      `json:"outcome,omitempty"` // registered outcome id, if the reporter names one
	Type      string      `json:"type"`              // primary | secondary, as reported
	Measure   string      `json:"measure"`
	TimeFrame string      `json:"timeFrame,omitempty"`
	Arms      []ArmResult `json:"arms,omitempty"`
	Summary   string      `json:"summary,omitempty"`
}

// ResultsArgs submits results after lock (role sponsor).
type ResultsArgs struct {
	Trial       string          `json:"trial"`
	Results     []OutcomeResult `json:"results"`
	DatasetHash string          `json:"datasetHash"` // SHA-256 of the analysis dataset(s)
	Source      string          `json:"source,omitempty"`
	Signature   Signature       `json:"signature"`
}

// Validate checks the results are well formed.
func (r *ResultsArgs) Validate() error {
	if len(r.Results) == 0 || len(r.Results) > MaxList {
		return errf("invalid", "results need 1..%d outcome results", MaxList)
	}
	seen := map[string]bool{}
	for i, o := range r.Results {
		where := "results[" + itoa(int64(i)) + "]"
		if o.Type != Primary && o.Type != Secondary {
			return errf("invalid", "%s type %q must be primary or secondary", where, o.Type)
		}
		if err := text(where+".measure", o.Measure, MaxName, true); err != nil {
			return err
		}
		if err := text(where+".timeFrame", o.TimeFrame, MaxName, false); err != nil {
			return err
		}
		if err := text(where+".summary", o.Summary, MaxText, false); err != nil {
			return err
		}
		k := NormMeasure(o.Measure)
		if seen[k] {
			return errf("invalid", "%s: measure %q is reported twice", where, o.Measure)
		}
		seen[k] = true
		if len(o.Arms) > MaxList {
			return errf("invalid", "%s: too many arms", where)
		}
		for _, a := range o.Arms {
			if err := text(where+" arm", a.Arm, MaxName, true); err != nil {
				return err
			}
			if a.N < 0 || a.Events < 0 {
				return errf("invalid", "%s arm %q: counts must not be negative", where, a.Arm)
			}
			if a.Value != "" {
				if _, ok := ParseDecimal(a.Value); !ok {
					return errf("invalid", "%s arm %q: value %q is not a decimal number", where, a.Arm, a.Value)
				}
			}
		}
	}
	return hashField("datasetHash", r.DatasetHash, true)
}

// OutcomeChange is a reported outcome that differs from its registration.
type OutcomeChange struct {
	Outcome    string `json:"outcome"`
	Measure    string `json:"measure"`
	What       string `json:"what"` // type | timeFrame | measure
	Registered string `json:"registered"`
	Reported   string `json:"reported"`
}

// Report is the outcome-reporting report: results compared with the
// outcomes pre-specified before the first enrolment.
type Report struct {
	Trial           string          `json:"trial"`
	BaselineVersion int             `json:"baselineVersion"`
	BaselineAt      string          `json:"baselineAt"`
	Registered      int             `json:"registered"`
	Reported        int             `json:"reported"`
	Missing         []Outcome       `json:"missing"`
	Added           []OutcomeResult `json:"added"`
	Changed         []OutcomeChange `json:"changed"`
	AmendedOutcomes []string        `json:"amendedOutcomes,omitempty"` // outcome changes by amendments after enrolment began
	PrimarySwitched bool            `json:"primarySwitched"`
	PrimaryDropped  bool            `json:"primaryDropped,omitempty"` // a pre-specified primary outcome is not reported
	Faithful        bool            `json:"faithful"`                 // nothing missing, added or changed
	ResultsHash     string          `json:"resultsHash"`
	Time            string          `json:"time"`
	Height          uint64          `json:"height"`
}

// CompareOutcomes builds the outcome-reporting report (without the trial,
// time and height) of results against the registered baseline. A result
// matches a registered outcome by its outcome id if it names one, else by
// its normalised measure. Lists are in registration order, then report
// order.
func CompareOutcomes(baseline []Outcome, results []OutcomeResult) Report {
	r := Report{Registered: len(baseline), Reported: len(results), Missing: []Outcome{}, Added: []OutcomeResult{}, Changed: []OutcomeChange{}}
	byID, byMeasure := map[string]int{}, map[string]int{}
	for i, o := range baseline {
		byID[o.ID] = i
		byMeasure[o.Key()] = i
	}
	matched := make([]bool, len(baseline))
	for _, res := range results {
		i, ok := byID[res.Outcome]
		if res.Outcome == "" || !ok {
			i, ok = byMeasure[NormMeasure(res.Measure)]
		}
		if !ok || matched[i] {
			r.Added = append(r.Added, res)
			if res.Type == Primary {
				r.PrimarySwitched = true
			}
			continue
		}
		matched[i] = true
		o := baseline[i]
		if o.Type != res.Type {
			r.Changed = append(r.Changed, OutcomeChange{Outcome: o.ID, Measure: o.Measure, What: "type", Registered: o.Type, Reported: res.Type})
			r.PrimarySwitched = true
		}
		if NormMeasure(o.Measure) != NormMeasure(res.Measure) {
			r.Changed = append(r.Changed, OutcomeChange{Outcome: o.ID, Measure: o.Measure, What: "measure", Registered: o.Measure, Reported: res.Measure})
		}
		if res.TimeFrame != "" && NormMeasure(o.TimeFrame) != NormMeasure(res.TimeFrame) {
			r.Changed = append(r.Changed, OutcomeChange{Outcome: o.ID, Measure: o.Measure, What: "timeFrame", Registered: o.TimeFrame, Reported: res.TimeFrame})
		}
	}
	for i, o := range baseline {
		if !matched[i] {
			r.Missing = append(r.Missing, o)
			if o.Type == Primary {
				// Dropped: "switched" only if a primary not pre-specified as
				// such was reported instead (added or retyped, above).
				r.PrimaryDropped = true
			}
		}
	}
	r.Faithful = len(r.Missing) == 0 && len(r.Added) == 0 && len(r.Changed) == 0
	return r
}
