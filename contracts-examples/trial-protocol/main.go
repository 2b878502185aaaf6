// Command trial-protocol is the TrialChain contract for a clinical trial's
// protocol and site data: registration with pre-specified outcomes,
// amendments only with the consent of the trial's consent group,
// enrolment, case-report forms, corrections, adverse events, database lock,
// results and the outcome-reporting report. Build it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o trial-protocol.wasm ./contracts-examples/trial-protocol
//
// Methods (JSON arguments are the model types named):
//
//	register  model.RegisterArgs   sponsor: a new protocol, version 1, status registered
//	activate  model.TrialArgs      sponsor: open enrolment (status active)
//	amend     model.AmendArgs      sponsor: a new version, with the consent group's consent
//	enroll    model.EnrollArgs     allowed site: a pseudonymous subject (first one freezes the baseline outcomes)
//	submit    model.SubmitArgs     allowed site: a case-report form, validated; public fields + record hash kept
//	correct   model.CorrectArgs    the submitting site: a correction entry with a reason (answering a query, if named)
//	query_raise  model.QueryArgs   sponsor: a query (discrepancy) on an entry
//	query_answer model.AnswerArgs  the entry's site: an answer to an open query
//	query_close  model.AnswerArgs  sponsor: close a query, saying why (sealed from then on)
//	ae        model.AEArgs         allowed site: an adverse event; serious ones reported >24 h after awareness are flagged late
//	lock      model.LockArgs       sponsor: database lock; refused while queries are open unless overridden with a reason; records a checklist
//	results   model.ResultsArgs    sponsor, after lock: results; returns and stores the outcome-reporting report
//	show      model.TrialArgs      anyone: model.TrialView (protocol, status, baseline, amendment history)
//	entry     {trial, entry}       anyone: model.EntryView
//	list      model.TrialArgs      anyone: kind subjects | entries | aes | amendments | queries
//	report    model.TrialArgs      anyone: the stored model.Report
//
// Every refusal aborts the call with a reason ("code: what to fix") and
// writes nothing.
//
// # Governance and sealed records
//
// register hands the contract's upgrades to the trial's consent group
// (contract.Govern): from then on neither the sponsor nor the deployer can
// change the code alone; an upgrade needs the group's threshold consent
// for the exact new code hash. All trials of one contract share that
// group (a trial with another group needs its own contract), and an
// amendment that changes the group moves the governance with the current
// group's consent. register also pins the contract addresses the trial
// uses (its own included), so clients never pick a contract by label.
//
// Every record is written once and sealed (contract.Seal): an amendment,
// a subject, a case-report form, a correction, an adverse event, the
// results and the report. A correction is a new entry that references the
// original, which stays byte-identical. lock seals every key under the
// trial's entries, subjects, corrections and adverse events, present or
// future; results seal the trial itself. No later transaction, under any
// code an upgrade brings, can write or delete a sealed key: the chain
// refuses it. Record ids are derived from counters and created only if
// free (a collision is refused, never overwritten).
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/trialchain/trialchain/contracts-examples/internal/consentcheck"
	"github.com/trialchain/trialchain/sdk/contract"
	"github.com/trialchain/trialchain/sdk/jsonfast"
	"github.com/trialchain/trialchain/trials/model"
)

// State layout (all JSON):
//
//	trial/<id>                       model.TrialState (its entries count is under nentries/)
//	nentries/<id>                    the trial's entries count (a submission bumps only this)
//	head/<id>                        status, version and sites: what a submission checks
//	form/<id>/<visit>/<form>         the form definition, for each form of each visit, by position (formrec.go)
//	visitform/<id>/<visit>/<form>    the same as an object, for a form the record by position cannot hold
//	amend/<id>/<version>             model.Amendment
//	subj/<id>/<subject>              model.Subject
//	entry/<id>/<seq>                 model.Entry
//	done/<id>/<subject>/<visit>/<form>   entry id of the submission
//	corr/<id>/<entry>/<seq>          id of a correction of entry
//	ae/<id>/<seq>                    model.AdverseEvent
//	query/<id>/<seq>                 model.Query
//	results/<id>                     model.ResultsArgs as submitted (+ manifestation)
//	report/<id>                      model.Report
//	consent/<sha256>                 a consumed consent
var (
	trials   = contract.NewMap[model.TrialState]("trial")
	amends   = contract.NewMap[model.Amendment]("amend")
	subjects = contract.NewMap[model.Subject]("subj")
	entries  = contract.NewMap[model.Entry]("entry")
	done     = contract.NewMap[string]("done")
	corrs    = contract.NewMap[string]("corr")
	aes      = contract.NewMap[model.AdverseEvent]("ae")
	queries  = contract.NewMap[model.Query]("query")
	results  = contract.NewMap[storedResults]("results")
	reports  = contract.NewMap[model.Report]("report")

	// A CRF submission is the hot path: it reads the small records below
	// instead of the whole trial state (protocol included), and writes
	// only the entries count. saveTrial keeps them in step with trial/.
	nentries   = contract.NewMap[int64]("nentries")
	heads      = contract.NewMap[trialHead]("head")
	visitForms = contract.NewMap[visitForm]("visitform")
)

// trialHead is what a submission needs of the trial besides the form.
type trialHead struct {
	Status  string   `json:"status"`
	Version int      `json:"version"`
	Sites   []string `json:"sites"`
}

// visitForm is a form collected at a visit, as of protocol Version: a
// record of an older version is stale (the form left the visit).
type visitForm struct {
	Version int        `json:"version"`
	Form    model.Form `json:"form"`
}

// UnmarshalJSONFast reads a head without reflection (sdk/jsonfast).
func (h *trialHead) UnmarshalJSONFast(d *jsonfast.Decoder) {
	d.Fields(func(k []byte) {
		switch string(k) {
		case "status":
			h.Status = d.String()
		case "version":
			h.Version = int(d.Int())
		case "sites":
			h.Sites = d.Strings()
		default:
			d.Fail()
		}
	})
}

// UnmarshalJSONFast reads a visit form without reflection (sdk/jsonfast).
func (v *visitForm) UnmarshalJSONFast(d *jsonfast.Decoder) {
	d.Fields(func(k []byte) {
		switch string(k) {
		case "version":
			v.Version = int(d.Int())
		case "form":
			v.Form.UnmarshalJSONFast(d)
		default:
			d.Fail()
		}
	})
}

// saveTrial stores t under id with its submission records: the entries
// count, the head, and (when the protocol version changed) one record per
// form of each visit.
func saveTrial(id string, t model.TrialState) {
	trials.Set(id, t)
	nentries.Set(id, t.Entries)
	old, had := heads.Get(id)
	heads.Set(id, trialHead{Status: t.Status, Version: t.Protocol.Version, Sites: t.Protocol.Sites})
	if had && old.Version == t.Protocol.Version {
		return
	}
	for _, v := range t.Protocol.Visits {
		for _, fid := range v.Forms {
			if f, ok := t.Protocol.Form(fid); ok {
				saveForm(id, v.ID, t.Protocol.Version, f)
			}
		}
	}
}

type storedResults struct {
	model.ResultsArgs
	Manifestation model.Manifestation `json:"manifestation"`
	Height        uint64              `json:"height"`
}

func refuse(code, format string, args ...any) error {
	return &model.Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

func manifest(s model.Signature) (model.Manifestation, error) {
	if err := s.Validate(); err != nil {
		return model.Manifestation{}, err
	}
	return model.Manifest(s, contract.BlockTimeMilli(), contract.Caller(), contract.CallerOrg()), nil
}

// loadTrial reads a registered trial. Every method that reads one puts
// its transaction in the trial's record set, which the chain keeps: from
// here on, the call is part of the trial's record whether it is accepted
// or refused, and a regulator's export proves it holds all of them.
func loadTrial(id string) (model.TrialState, error) {
	t, ok := trials.Get(id)
	if !ok {
		return t, refuse("not-found", "no trial %q is registered", id)
	}
	if n, ok := nentries.Get(id); ok {
		t.Entries = n
	}
	contract.RecordScope("trial:" + id)
	return t, nil
}

func requireSponsor(t *model.TrialState) error {
	if err := contract.CheckRole("sponsor"); err != nil {
		return refuse("forbidden", "only the sponsor may do this (caller role %q)", contract.CallerRole())
	}
	if org := contract.CallerOrg(); org != t.Protocol.Sponsor {
		return refuse("forbidden", "trial %s belongs to sponsor %q, not %q", t.Protocol.ID, t.Protocol.Sponsor, org)
	}
	return nil
}

func requireSite(t *model.TrialState) error {
	if err := contract.CheckRole("site"); err != nil {
		return refuse("forbidden", "only a trial site may do this (caller role %q)", contract.CallerRole())
	}
	if org := contract.CallerOrg(); !t.Protocol.HasSite(org) {
		return refuse("site-not-allowed", "site %q is not allowed by the protocol of %s (allowed: %v)", org, t.Protocol.ID, t.Protocol.Sites)
	}
	return nil
}

func requireStatus(t *model.TrialState, want string, doing string) error {
	if t.Status != want {
		return refuse("wrong-state", "cannot %s: trial %s is %s, it must be %s", doing, t.Protocol.ID, t.Status, want)
	}
	return nil
}

//go:wasmexport register
func register() {
	contract.Handle(func(a model.RegisterArgs) (any, error) {
		if err := contract.CheckRole("sponsor"); err != nil {
			return nil, refuse("forbidden", "only a sponsor may register a trial (caller role %q)", contract.CallerRole())
		}
		p := a.Protocol
		p.Version = 1
		p.Sponsor = contract.CallerOrg()
		if err := p.Validate(); err != nil {
			return nil, err
		}
		contract.RecordScope("trial:" + p.ID) // the registration opens the trial's record set
		if _, ok := trials.Get(p.ID); ok {
			return nil, refuse("exists", "trial %q is already registered; change it with an amendment", p.ID)
		}
		if err := model.ValidateContracts(a.Contracts); err != nil {
			return nil, err
		}
		m, err := manifest(a.Signature)
		if err != nil {
			return nil, err
		}
		self := contract.Self()
		pins := map[string]string{"trial-protocol": hex.EncodeToString(self[:])}
		for n, addr := range a.Contracts {
			if n == "trial-protocol" && addr != pins[n] {
				return nil, refuse("invalid", "the trial-protocol contract of %s is this one (%s), not %s", p.ID, pins[n], addr)
			}
			pins[n] = addr
		}
		t := model.TrialState{Protocol: p, Status: model.StatusRegistered, Registered: m, Contracts: pins}
		if !trials.Create(p.ID, t) {
			return nil, refuse("exists", "trial %q is already registered", p.ID)
		}
		saveTrial(p.ID, t)
		// The trial's consent group, not the sponsor, decides this
		// contract's code from now on.
		contract.Govern(p.ConsentGroup)
		contract.EmitJSON("trial.registered", map[string]any{"trial": p.ID, "version": 1, "outcomes": len(p.Outcomes), "hash": model.Hash(p)})
		return t, nil
	})
}

//go:wasmexport activate
func activate() {
	contract.Handle(func(a model.TrialArgs) (any, error) {
		t, err := loadTrial(a.Trial)
		if err != nil {
			return nil, err
		}
		if err := requireSponsor(&t); err != nil {
			return nil, err
		}
		if err := requireStatus(&t, model.StatusRegistered, "activate"); err != nil {
			return nil, err
		}
		if _, err := manifest(a.Signature); err != nil {
			return nil, err
		}
		t.Status = model.StatusActive
		saveTrial(t.Protocol.ID, t)
		contract.EmitJSON("trial.activated", map[string]any{"trial": t.Protocol.ID})
		return t, nil
	})
}

//go:wasmexport amend
func amend() {
	contract.Handle(func(a model.AmendArgs) (any, error) {
		t, err := loadTrial(a.Trial)
		if err != nil {
			return nil, err
		}
		if err := requireSponsor(&t); err != nil {
			return nil, err
		}
		if t.Status == model.StatusLocked || t.Status == model.StatusReported {
			return nil, refuse("wrong-state", "trial %s is %s: the protocol can no longer be amended", t.Protocol.ID, t.Status)
		}
		if a.Version != t.Protocol.Version+1 {
			return nil, refuse("invalid", "amendment version must be %d (the protocol is at version %d), have %d", t.Protocol.Version+1, t.Protocol.Version, a.Version)
		}
		parts := a.Changes.Parts()
		if len(parts) == 0 {
			return nil, refuse("invalid", "the amendment changes nothing")
		}
		if err := validText("reason", a.Reason); err != nil {
			return nil, err
		}
		m, err := manifest(a.Signature)
		if err != nil {
			return nil, err
		}
		np := a.Changes.Apply(t.Protocol)
		if err := np.Validate(); err != nil {
			return nil, err
		}
		if t.Subjects > 0 && a.Changes.Forms != nil {
			// Forms already used by entries keep their ids: refuse removal.
			for _, f := range t.Protocol.Forms {
				if _, ok := np.Form(f.ID); !ok {
					return nil, refuse("invalid", "form %q has entries and cannot be removed; add a new form instead", f.ID)
				}
			}
		}
		digest := model.AmendmentDigest(a.Trial, a.Version, a.Reason, a.Changes)
		ch, err := consentcheck.Check(t.Protocol.ConsentGroup, consentcheck.ApproveAmendment, digest, a.Consent)
		if err != nil {
			return nil, err
		}
		am := model.Amendment{
			Trial: a.Trial, Version: a.Version, Reason: a.Reason, Changes: a.Changes, Parts: parts,
			OutcomeChanges: model.DiffOutcomes(t.Protocol.Outcomes, np.Outcomes),
			AfterEnrolment: t.Subjects > 0, Digest: hex.EncodeToString(digest[:]), ConsentHash: ch,
			ConsentGroup: t.Protocol.ConsentGroup, Manifestation: m, Height: contract.BlockHeight(),
		}
		ak := a.Trial + "/" + model.Seq("", int64(a.Version))
		if !amends.Create(ak, am) {
			return nil, refuse("exists", "amendment %d of %s exists", a.Version, a.Trial)
		}
		amends.Seal(ak)
		if np.ConsentGroup != t.Protocol.ConsentGroup {
			// The current group consented (above): the contract's upgrades move with the trial's approvers.
			contract.Govern(np.ConsentGroup)
		}
		t.Protocol = np
		t.Amendments++
		saveTrial(a.Trial, t)
		contract.EmitJSON("trial.amended", map[string]any{"trial": a.Trial, "version": a.Version, "parts": parts, "outcomeChanges": am.OutcomeChanges})
		return am, nil
	})
}

//go:wasmexport enroll
func enroll() {
	contract.Handle(func(a model.EnrollArgs) (any, error) {
		t, err := loadTrial(a.Trial)
		if err != nil {
			return nil, err
		}
		if err := requireSite(&t); err != nil {
			return nil, err
		}
		if err := requireStatus(&t, model.StatusActive, "enrol"); err != nil {
			return nil, err
		}
		if err := model.ValidateSubjectID(a.Subject); err != nil {
			return nil, err
		}
		if !model.IsHash(a.ConsentDocHash) {
			return nil, refuse("invalid", "consentDocHash must be the SHA-256 (64 lowercase hex) of the signed consent document")
		}
		if a.ProtocolVersion != t.Protocol.Version {
			return nil, refuse("invalid", "the subject consented to protocol version %d but the protocol is at version %d: re-consent the subject", a.ProtocolVersion, t.Protocol.Version)
		}
		if a.Arm != "" && !hasArm(&t.Protocol, a.Arm) {
			return nil, refuse("invalid", "arm %q is not in the protocol", a.Arm)
		}
		key := a.Trial + "/" + a.Subject
		if _, ok := subjects.Get(key); ok {
			return nil, refuse("exists", "subject %s is already enrolled in %s", a.Subject, a.Trial)
		}
		m, err := manifest(a.Signature)
		if err != nil {
			return nil, err
		}
		s := model.Subject{ID: a.Subject, Trial: a.Trial, Site: contract.CallerOrg(), Arm: a.Arm,
			ConsentDocHash: a.ConsentDocHash, ProtocolVersion: a.ProtocolVersion, Manifestation: m, Height: contract.BlockHeight()}
		if !subjects.Create(key, s) {
			return nil, refuse("exists", "subject %s is already enrolled in %s", a.Subject, a.Trial)
		}
		subjects.Seal(key)
		if t.Subjects == 0 { // the first enrolment commits the outcomes
			t.Baseline = append([]model.Outcome(nil), t.Protocol.Outcomes...)
			t.BaselineAt = m.Time
			t.BaselineVer = t.Protocol.Version
			t.BaselineDate = t.Protocol.StartDate
		}
		t.Subjects++
		saveTrial(a.Trial, t)
		contract.EmitJSON("trial.enrolled", map[string]any{"trial": a.Trial, "subject": a.Subject, "site": s.Site})
		return s, nil
	})
}

func hasArm(p *model.Protocol, id string) bool {
	for _, a := range p.Arms {
		if a.ID == id {
			return true
		}
	}
	return false
}

func validText(field, s string) error {
	if len(s) == 0 {
		return refuse("invalid", "%s is required", field)
	}
	if len(s) > model.MaxText {
		return refuse("invalid", "%s is longer than %d bytes", field, model.MaxText)
	}
	return nil
}

// checkEntry validates the fields of a form submission for subject at
// visit and returns the entry to store (without id, kind and links).
func checkEntry(t *model.TrialState, subject, visit, form string, fields map[string]model.FieldValue, recordHash string, sig model.Signature) (model.Entry, error) {
	var e model.Entry
	if err := checkSubject(t.Protocol.ID, subject); err != nil {
		return e, err
	}
	v, ok := t.Protocol.Visit(visit)
	if !ok {
		return e, refuse("not-found", "visit %q is not in the protocol of %s", visit, t.Protocol.ID)
	}
	f, ok := t.Protocol.Form(form)
	if !ok {
		return e, refuse("not-found", "form %q is not in the protocol of %s", form, t.Protocol.ID)
	}
	inVisit := false
	for _, id := range v.Forms {
		inVisit = inVisit || id == form
	}
	if !inVisit {
		return e, refuse("not-found", "form %q is not collected at visit %q (visit forms: %v)", form, visit, v.Forms)
	}
	return makeEntry(t.Protocol.ID, t.Protocol.Version, subject, visit, f, fields, recordHash, sig)
}

// checkSubject checks that subject is enrolled in trial at the caller's site.
func checkSubject(trial, subject string) error {
	site, ok := subjectSite(trial + "/" + subject)
	if !ok {
		return refuse("not-found", "subject %q is not enrolled in %s", subject, trial)
	}
	if site != contract.CallerOrg() {
		return refuse("forbidden", "subject %s is enrolled at site %q, not %q", subject, site, contract.CallerOrg())
	}
	return nil
}

// subjectSite returns the site of the subject under key (trial/subject).
// A subject record is this contract's JSON of model.Subject, which
// starts with its id, trial and site: the site is read there, without
// decoding the rest (a third of a submission's decoding). A record that
// does not start so (or whose strings have escapes) is decoded in full,
// so the site is always the decoded record's.
func subjectSite(key string) (string, bool) {
	b, ok := contract.Get([]byte("subj/" + key))
	if !ok {
		return "", false
	}
	if site, ok := leadingSite(b); ok {
		return site, true
	}
	s, ok := subjects.Get(key)
	return s.Site, ok
}

// leadingSite reads {"id":"…","trial":"…","site":"…", at the start of
// b, each string without escapes, and returns the site.
func leadingSite(b []byte) (string, bool) {
	var site []byte
	for i, k := range [...]string{`{"id":`, `,"trial":`, `,"site":`} {
		if len(b) < len(k)+2 || string(b[:len(k)]) != k || b[len(k)] != '"' {
			return "", false
		}
		b = b[len(k)+1:]
		q := bytes.IndexByte(b, '"')
		if q < 0 || bytes.IndexByte(b[:q], '\\') >= 0 {
			return "", false
		}
		if i == 2 {
			site = b[:q]
		}
		b = b[q+1:]
	}
	if len(b) == 0 || b[0] != ',' {
		return "", false
	}
	return string(site), true
}

// makeEntry validates fields against form f (collected at visit) and
// returns the entry to store (without id, kind and links).
func makeEntry(trial string, version int, subject, visit string, f *model.Form, fields map[string]model.FieldValue, recordHash string, sig model.Signature) (model.Entry, error) {
	var e model.Entry
	form := f.ID
	public, err := model.ValidateSubmission(f, fields)
	if err != nil {
		return e, err
	}
	if !model.IsHash(recordHash) {
		return e, refuse("invalid", "recordHash must be the SHA-256 (64 lowercase hex) of the full record kept encrypted off chain")
	}
	m, err := manifest(sig)
	if err != nil {
		return e, err
	}
	var private []string
	var commits []string
	var names []string // sorted once, when a field is not public
	for _, fd := range f.Fields {
		if fd.Public || len(public) == len(fields) { // every value given is public: none to commit
			continue
		}
		if names == nil {
			names = sortedNames(fields)
		}
		for _, name := range names {
			if base := baseName(name); base == fd.ID && !fd.Public {
				private = append(private, name)
				commits = append(commits, name+"="+fields[name].Commit)
			}
		}
	}
	e = model.Entry{Trial: trial, Subject: subject, Visit: visit, Form: form, Site: contract.CallerOrg(),
		Public: public, Private: private, RecordHash: recordHash, ProtocolVer: version,
		Manifestation: m, Height: contract.BlockHeight()}
	if len(commits) > 0 {
		e.Commitments = model.Hash(commits)
	}
	return e, nil
}

func baseName(n string) string {
	for i := 0; i < len(n); i++ {
		if n[i] == '#' {
			return n[:i]
		}
	}
	return n
}

func sortedNames(m map[string]model.FieldValue) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func openForData(t *model.TrialState, doing string) error {
	if err := requireSite(t); err != nil {
		return err
	}
	switch t.Status {
	case model.StatusActive:
		return nil
	case model.StatusLocked, model.StatusReported:
		return refuse("wrong-state", "cannot %s: the database of %s is locked", doing, t.Protocol.ID)
	default:
		return refuse("wrong-state", "cannot %s: trial %s is %s, not active", doing, t.Protocol.ID, t.Status)
	}
}

//go:wasmexport submit
func submit() {
	contract.Handle(func(a model.SubmitArgs) (any, error) {
		e, n, ok, err := submitFast(a)
		if !ok {
			e, n, err = submitFull(a)
		}
		if err != nil {
			return nil, err
		}
		dk := a.Trial + "/" + a.Subject + "/" + a.Visit + "/" + a.Form
		if prev, ok := done.Get(dk); ok {
			return nil, refuse("exists", "form %s of visit %s for subject %s was already submitted as entry %s: submit a correction with a reason", a.Form, a.Visit, a.Subject, prev)
		}
		n++
		e.ID = model.Seq("crf-", n)
		e.Kind = model.KindSubmission
		enc, err := createEntry(a.Trial, e)
		if err != nil {
			return nil, err
		}
		done.Set(dk, e.ID) // free: read above
		done.Seal(dk)
		nentries.Set(a.Trial, n)
		contract.EmitJSON("crf.submitted", submitted{Entry: e.ID, Form: a.Form, RecordHash: a.RecordHash, Subject: a.Subject, Trial: a.Trial, Visit: a.Visit})
		return enc, nil // the entry as stored, not encoded again
	})
}

// submitted is the crf.submitted event. Its fields are in key order, so
// it encodes as the map it replaced did, without a map's reflection.
type submitted struct {
	Entry      string `json:"entry"`
	Form       string `json:"form"`
	RecordHash string `json:"recordHash"`
	Subject    string `json:"subject"`
	Trial      string `json:"trial"`
	Visit      string `json:"visit"`
}

// AppendJSONFast writes the event as encoding/json does (sdk/jsonfast).
func (s submitted) AppendJSONFast(e *jsonfast.Encoder) {
	e.Raw(`{"entry":`)
	e.String(s.Entry)
	e.Raw(`,"form":`)
	e.String(s.Form)
	e.Raw(`,"recordHash":`)
	e.String(s.RecordHash)
	e.Raw(`,"subject":`)
	e.String(s.Subject)
	e.Raw(`,"trial":`)
	e.String(s.Trial)
	e.Raw(`,"visit":`)
	e.String(s.Visit)
	e.Raw(`}`)
}

// submitFast checks a submission against the trial's head and the form's
// visit record, without decoding the trial. It reports ok only when every
// check of the trial itself passes (active, the caller a site of the
// trial, the form collected at the visit in the current version); any
// other case goes to submitFull, which finds the refusal.
func submitFast(a model.SubmitArgs) (model.Entry, int64, bool, error) {
	h, ok := heads.Get(a.Trial)
	if !ok || h.Status != model.StatusActive || contract.CheckRole("site") != nil {
		return model.Entry{}, 0, false, nil
	}
	org := contract.CallerOrg()
	p := model.Protocol{Sites: h.Sites}
	if !p.HasSite(org) {
		return model.Entry{}, 0, false, nil
	}
	version, form, ok := loadForm(a.Trial, a.Visit, a.Form)
	if !ok || version != h.Version {
		return model.Entry{}, 0, false, nil
	}
	n, ok := nentries.Get(a.Trial)
	if !ok {
		return model.Entry{}, 0, false, nil
	}
	contract.RecordScope("trial:" + a.Trial)
	if err := checkSubject(a.Trial, a.Subject); err != nil {
		return model.Entry{}, 0, true, err
	}
	e, err := makeEntry(a.Trial, h.Version, a.Subject, a.Visit, &form, a.Fields, a.RecordHash, a.Signature)
	return e, n, true, err
}

// submitFull checks a submission against the whole trial state; it
// returns the entry and the trial's entries count.
func submitFull(a model.SubmitArgs) (model.Entry, int64, error) {
	t, err := loadTrial(a.Trial)
	if err != nil {
		return model.Entry{}, 0, err
	}
	if err := openForData(&t, "submit a form"); err != nil {
		return model.Entry{}, 0, err
	}
	if _, ok := nentries.Get(a.Trial); !ok {
		nentries.Set(a.Trial, t.Entries) // state written before the count had its own key
	}
	e, err := checkEntry(&t, a.Subject, a.Visit, a.Form, a.Fields, a.RecordHash, a.Signature)
	return e, t.Entries, err
}

// createEntry stores e as a new, sealed entry of trial (its id must be
// free) and returns its encoding.
func createEntry(trial string, e model.Entry) (contract.JSON, error) {
	k := trial + "/" + e.ID
	enc, ok := entries.CreateEncoded(k, e)
	if !ok {
		return nil, refuse("exists", "entry %s of %s exists; it is never overwritten", e.ID, trial)
	}
	entries.Seal(k)
	return enc, nil
}

//go:wasmexport correct
func correct() {
	contract.Handle(func(a model.CorrectArgs) (any, error) {
		t, err := loadTrial(a.Trial)
		if err != nil {
			return nil, err
		}
		if err := openForData(&t, "correct an entry"); err != nil {
			return nil, err
		}
		orig, ok := entries.Get(a.Trial + "/" + a.Entry)
		if !ok {
			return nil, refuse("not-found", "entry %q does not exist in %s", a.Entry, a.Trial)
		}
		if err := validText("reason", a.Reason); err != nil {
			return nil, refuse("invalid", "a correction needs a reason")
		}
		e, err := checkEntry(&t, orig.Subject, orig.Visit, orig.Form, a.Fields, a.RecordHash, a.Signature)
		if err != nil {
			return nil, err
		}
		var q model.Query
		if a.Query != "" {
			if q, err = openQuery(a.Trial, a.Query); err != nil {
				return nil, err
			}
			if q.Entry != orig.ID {
				return nil, refuse("invalid", "query %s is on entry %s, not %s", q.ID, q.Entry, orig.ID)
			}
		}
		t.Entries++
		t.Corrections++
		e.ID = model.Seq("crf-", t.Entries)
		e.Kind = model.KindCorrection
		e.Corrects = orig.ID
		e.Reason = a.Reason
		if _, err := createEntry(a.Trial, e); err != nil {
			return nil, err
		}
		ck := a.Trial + "/" + orig.ID + "/" + e.ID
		if !corrs.Create(ck, e.ID) {
			return nil, refuse("exists", "correction %s of %s exists", e.ID, orig.ID)
		}
		corrs.Seal(ck)
		if a.Query != "" {
			q.Status = model.QueryAnswered
			q.Steps = append(q.Steps, model.QueryStep{Kind: "correction", Text: a.Reason, Correction: e.ID, Manifestation: e.Manifestation, Height: e.Height})
			queries.Set(a.Trial+"/"+q.ID, q)
			contract.EmitJSON("query.answered", map[string]any{"trial": a.Trial, "query": q.ID, "correction": e.ID})
		}
		saveTrial(a.Trial, t)
		contract.EmitJSON("crf.corrected", map[string]any{"trial": a.Trial, "entry": e.ID, "corrects": orig.ID, "reason": a.Reason})
		return e, nil
	})
}

// openQuery reads a query that is not closed.
func openQuery(trial, id string) (model.Query, error) {
	q, ok := queries.Get(trial + "/" + id)
	if !ok {
		return q, refuse("not-found", "query %q does not exist in %s", id, trial)
	}
	if q.Status == model.QueryClosed {
		return q, refuse("wrong-state", "query %s of %s is closed", id, trial)
	}
	return q, nil
}

//go:wasmexport query_raise
func queryRaise() {
	contract.Handle(func(a model.QueryArgs) (any, error) {
		t, err := loadTrial(a.Trial)
		if err != nil {
			return nil, err
		}
		if err := requireSponsor(&t); err != nil {
			return nil, err
		}
		if err := requireStatus(&t, model.StatusActive, "raise a query"); err != nil {
			return nil, err
		}
		if err := a.Validate(); err != nil {
			return nil, err
		}
		e, ok := entries.Get(a.Trial + "/" + a.Entry)
		if !ok {
			return nil, refuse("not-found", "entry %q does not exist in %s", a.Entry, a.Trial)
		}
		if a.Field != "" {
			f, _ := t.Protocol.Form(e.Form)
			if f == nil {
				return nil, refuse("not-found", "form %q of entry %s is no longer in the protocol", e.Form, e.ID)
			}
			if _, ok := f.FieldDef(a.Field); !ok {
				return nil, refuse("unknown-field", "form %q has no field %q", e.Form, a.Field)
			}
		}
		m, err := manifest(a.Signature)
		if err != nil {
			return nil, err
		}
		t.Queries++
		t.OpenQueries++
		q := model.Query{ID: model.Seq("q-", t.Queries), Trial: a.Trial, Entry: e.ID, Subject: e.Subject, Site: e.Site, Field: a.Field,
			Text: a.Text, Status: model.QueryOpen, Manifestation: m, Height: contract.BlockHeight()}
		if !queries.Create(a.Trial+"/"+q.ID, q) {
			return nil, refuse("exists", "query %s of %s exists; it is never overwritten", q.ID, a.Trial)
		}
		saveTrial(a.Trial, t)
		contract.EmitJSON("query.raised", map[string]any{"trial": a.Trial, "query": q.ID, "entry": e.ID})
		return q, nil
	})
}

//go:wasmexport query_answer
func queryAnswer() {
	contract.Handle(func(a model.AnswerArgs) (any, error) {
		t, err := loadTrial(a.Trial)
		if err != nil {
			return nil, err
		}
		if err := openForData(&t, "answer a query"); err != nil {
			return nil, err
		}
		if err := a.Validate(); err != nil {
			return nil, err
		}
		q, err := openQuery(a.Trial, a.Query)
		if err != nil {
			return nil, err
		}
		if q.Site != contract.CallerOrg() {
			return nil, refuse("forbidden", "query %s is for site %q, not %q", q.ID, q.Site, contract.CallerOrg())
		}
		m, err := manifest(a.Signature)
		if err != nil {
			return nil, err
		}
		q.Status = model.QueryAnswered
		q.Steps = append(q.Steps, model.QueryStep{Kind: "answer", Text: a.Text, Manifestation: m, Height: contract.BlockHeight()})
		queries.Set(a.Trial+"/"+q.ID, q)
		contract.EmitJSON("query.answered", map[string]any{"trial": a.Trial, "query": q.ID})
		return q, nil
	})
}

//go:wasmexport query_close
func queryClose() {
	contract.Handle(func(a model.AnswerArgs) (any, error) {
		t, err := loadTrial(a.Trial)
		if err != nil {
			return nil, err
		}
		if err := requireSponsor(&t); err != nil {
			return nil, err
		}
		if err := requireStatus(&t, model.StatusActive, "close a query"); err != nil {
			return nil, err
		}
		if err := a.Validate(); err != nil {
			return nil, err
		}
		q, err := openQuery(a.Trial, a.Query)
		if err != nil {
			return nil, err
		}
		m, err := manifest(a.Signature)
		if err != nil {
			return nil, err
		}
		q.Status = model.QueryClosed
		q.Steps = append(q.Steps, model.QueryStep{Kind: "close", Text: a.Text, Manifestation: m, Height: contract.BlockHeight()})
		k := a.Trial + "/" + q.ID
		queries.Set(k, q)
		queries.Seal(k)
		t.OpenQueries--
		saveTrial(a.Trial, t)
		contract.EmitJSON("query.closed", map[string]any{"trial": a.Trial, "query": q.ID})
		return q, nil
	})
}

//go:wasmexport ae
func ae() {
	contract.Handle(func(a model.AEArgs) (any, error) {
		t, err := loadTrial(a.Trial)
		if err != nil {
			return nil, err
		}
		if err := openForData(&t, "report an adverse event"); err != nil {
			return nil, err
		}
		s, ok := subjects.Get(a.Trial + "/" + a.Subject)
		if !ok {
			return nil, refuse("not-found", "subject %q is not enrolled in %s", a.Subject, a.Trial)
		}
		if s.Site != contract.CallerOrg() {
			return nil, refuse("forbidden", "subject %s is enrolled at site %q, not %q", a.Subject, s.Site, contract.CallerOrg())
		}
		now := contract.BlockTimeMilli()
		aware, late, err := a.Validate(now)
		if err != nil {
			return nil, err
		}
		m, err := manifest(a.Signature)
		if err != nil {
			return nil, err
		}
		t.AEs++
		ev := model.AdverseEvent{ID: model.Seq("ae-", t.AEs), Trial: a.Trial, Subject: a.Subject, Site: s.Site,
			Term: a.Term, Serious: a.Serious, Severity: a.Severity, Onset: a.Onset, AwareAt: a.AwareAt,
			ReportedAt: model.FormatMilli(now), Late: late, RecordHash: a.RecordHash, Manifestation: m, Height: contract.BlockHeight()}
		if a.Serious {
			t.SeriousAEs++
		}
		if late {
			ev.MinutesLate = (now - aware - model.SeriousReportWindowMilli) / 60000
			t.LateAEs++
		}
		if !aes.Create(a.Trial+"/"+ev.ID, ev) {
			return nil, refuse("exists", "adverse event %s of %s exists; it is never overwritten", ev.ID, a.Trial)
		}
		aes.Seal(a.Trial + "/" + ev.ID)
		saveTrial(a.Trial, t)
		contract.EmitJSON("ae.reported", map[string]any{"trial": a.Trial, "ae": ev.ID, "serious": a.Serious, "late": late})
		return ev, nil
	})
}

//go:wasmexport lock
func lock() {
	contract.Handle(func(a model.LockArgs) (any, error) {
		t, err := loadTrial(a.Trial)
		if err != nil {
			return nil, err
		}
		if err := requireSponsor(&t); err != nil {
			return nil, err
		}
		if err := requireStatus(&t, model.StatusActive, "lock the database"); err != nil {
			return nil, err
		}
		if len(a.Override) > model.MaxText {
			return nil, refuse("invalid", "override is longer than %d bytes", model.MaxText)
		}
		if t.OpenQueries > 0 && a.Override == "" {
			var open []string
			scan("query/"+a.Trial+"/", func(q model.Query) bool {
				if q.Status != model.QueryClosed {
					open = append(open, q.ID+" ("+q.Status+")")
				}
				return len(open) < 10
			})
			return nil, refuse("open-queries", "cannot lock %s: %d queries are not closed (%v): close them, or lock with an override reason", a.Trial, t.OpenQueries, open)
		}
		m, err := manifest(a.Signature)
		if err != nil {
			return nil, err
		}
		t.Status = model.StatusLocked
		t.Lock = &model.Lock{Manifestation: m, Height: contract.BlockHeight(), Entries: t.Entries, Subjects: t.Subjects, AEs: t.AEs,
			Checklist: &model.LockChecklist{Entries: t.Entries, Corrections: t.Corrections, Subjects: t.Subjects, QueriesRaised: t.Queries,
				OpenQueries: t.OpenQueries, SeriousAEs: t.SeriousAEs, LateSeriousAEs: t.LateAEs, Override: a.Override}}
		saveTrial(a.Trial, t)
		// Database lock: no entry, subject, correction or adverse event of
		// the trial can be added, changed or deleted any more.
		under := a.Trial + "/"
		entries.SealUnder(under)
		subjects.SealUnder(under)
		corrs.SealUnder(under)
		done.SealUnder(under)
		aes.SealUnder(under)
		queries.SealUnder(under)
		contract.EmitJSON("trial.locked", map[string]any{"trial": a.Trial, "entries": t.Entries, "subjects": t.Subjects})
		return t, nil
	})
}

//go:wasmexport results
func resultsM() {
	contract.Handle(func(a model.ResultsArgs) (any, error) {
		t, err := loadTrial(a.Trial)
		if err != nil {
			return nil, err
		}
		if err := requireSponsor(&t); err != nil {
			return nil, err
		}
		if t.Status == model.StatusReported {
			return nil, refuse("exists", "results of %s were already submitted", a.Trial)
		}
		if err := requireStatus(&t, model.StatusLocked, "submit results before database lock"); err != nil {
			return nil, err
		}
		if err := a.Validate(); err != nil {
			return nil, err
		}
		m, err := manifest(a.Signature)
		if err != nil {
			return nil, err
		}
		baseline := t.Baseline
		if baseline == nil { // no subject was ever enrolled: the registered outcomes
			baseline = t.Protocol.Outcomes
		}
		r := model.CompareOutcomes(baseline, a.Results)
		r.Trial = a.Trial
		r.BaselineVersion = t.BaselineVer
		r.BaselineAt = t.BaselineAt
		scan("amend/"+a.Trial+"/", func(am model.Amendment) bool {
			if am.AfterEnrolment {
				for _, c := range am.OutcomeChanges {
					r.AmendedOutcomes = append(r.AmendedOutcomes, "v"+itoa(am.Version)+": "+c)
				}
			}
			return true
		})
		if t.BaselineDate != "" && t.BaselineDate != t.Protocol.StartDate {
			r.AmendedOutcomes = append(r.AmendedOutcomes, "start date "+t.BaselineDate+" → "+t.Protocol.StartDate)
		}
		r.ResultsHash = model.Hash(a.Results)
		r.Time = m.Time
		r.Height = contract.BlockHeight()
		if !results.Create(a.Trial, storedResults{ResultsArgs: a, Manifestation: m, Height: r.Height}) || !reports.Create(a.Trial, r) {
			return nil, refuse("exists", "results of %s were already submitted", a.Trial)
		}
		results.Seal(a.Trial)
		reports.Seal(a.Trial)
		t.Status = model.StatusReported
		saveTrial(a.Trial, t)
		trials.Seal(a.Trial) // reported: the trial record is final
		nentries.Seal(a.Trial)
		heads.Seal(a.Trial)
		amends.SealUnder(a.Trial + "/")
		contract.EmitJSON("trial.results", map[string]any{"trial": a.Trial, "faithful": r.Faithful, "missing": len(r.Missing), "added": len(r.Added), "changed": len(r.Changed), "primarySwitched": r.PrimarySwitched})
		return r, nil
	})
}

func itoa(n int) string { return fmt.Sprint(n) }

//go:wasmexport show
func show() {
	contract.Handle(func(a model.TrialArgs) (any, error) {
		t, err := loadTrial(a.Trial)
		if err != nil {
			return nil, err
		}
		v := model.TrialView{TrialState: t, History: []model.AmendmentSummary{}}
		scan("amend/"+a.Trial+"/", func(am model.Amendment) bool {
			v.History = append(v.History, am.Summary())
			return true
		})
		return v, nil
	})
}

type entryArgs struct {
	Trial string `json:"trial"`
	Entry string `json:"entry"`
}

//go:wasmexport entry
func entry() {
	contract.Handle(func(a entryArgs) (any, error) {
		e, ok := entries.Get(a.Trial + "/" + a.Entry)
		if !ok {
			return nil, refuse("not-found", "entry %q does not exist in %s", a.Entry, a.Trial)
		}
		v := model.EntryView{Entry: e}
		scan("corr/"+a.Trial+"/"+a.Entry+"/", func(id string) bool {
			v.Corrections = append(v.Corrections, id)
			return true
		})
		return v, nil
	})
}

//go:wasmexport list
func list() {
	contract.Handle(func(a model.TrialArgs) (any, error) {
		if _, err := loadTrial(a.Trial); err != nil {
			return nil, err
		}
		switch a.Kind {
		case "subjects":
			return collect[model.Subject]("subj/" + a.Trial + "/"), nil
		case "entries":
			return collect[model.Entry]("entry/" + a.Trial + "/"), nil
		case "aes":
			return collect[model.AdverseEvent]("ae/" + a.Trial + "/"), nil
		case "amendments":
			return collect[model.Amendment]("amend/" + a.Trial + "/"), nil
		case "queries":
			return collect[model.Query]("query/" + a.Trial + "/"), nil
		}
		return nil, refuse("invalid", "kind %q must be subjects, entries, aes, amendments or queries", a.Kind)
	})
}

// maxListBytes bounds a list result (the VM's result limit is 64 KiB).
const maxListBytes = 48 << 10

// collect returns the values under the state prefix in key order, as many
// as fit in maxListBytes, and whether the list is complete.
func collect[V any](prefix string) model.List[V] {
	out := model.List[V]{Items: []V{}, Complete: true}
	size := 0
	contract.Scan([]byte(prefix), func(k, b []byte) bool {
		if size+len(b) > maxListBytes {
			out.Complete = false
			return false
		}
		var v V
		if err := json.Unmarshal(b, &v); err != nil {
			contract.Abortf("corrupt state %q: %v", k, err)
		}
		size += len(b)
		out.Items = append(out.Items, v)
		return true
	})
	return out
}

// scan calls fn with every JSON value under the state prefix, in key order,
// until fn returns false.
func scan[V any](prefix string, fn func(V) bool) {
	contract.Scan([]byte(prefix), func(k, b []byte) bool {
		var v V
		if err := json.Unmarshal(b, &v); err != nil {
			contract.Abortf("corrupt state %q: %v", k, err)
		}
		return fn(v)
	})
}

//go:wasmexport report
func report() {
	contract.Handle(func(a model.TrialArgs) (any, error) {
		if _, err := loadTrial(a.Trial); err != nil {
			return nil, err
		}
		r, ok := reports.Get(a.Trial)
		if !ok {
			return nil, refuse("not-found", "trial %s has no results yet, so no outcome-reporting report", a.Trial)
		}
		return r, nil
	})
}

// init prepares the JSON encoding of the methods' arguments during
// initialisation, once at deploy: every call starts from the initialised
// state, so work left to the first call would be paid by every call.
func init() {
	contract.Prepare[model.RegisterArgs]()
	contract.Prepare[model.TrialArgs]()
	contract.Prepare[model.AmendArgs]()
	contract.Prepare[model.EnrollArgs]()
	contract.Prepare[model.SubmitArgs]()
	contract.Prepare[model.CorrectArgs]()
	contract.Prepare[model.AEArgs]()
	contract.Prepare[model.ResultsArgs]()
	contract.Prepare[entryArgs]()
	contract.Prepare[submitted]()
	contract.Prepare[model.Entry]()
}

func main() {}
