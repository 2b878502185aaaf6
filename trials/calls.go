package trials

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/trialchain/trialchain/trials/model"
)

// Contract names, as the CLI deploys them.
const (
	TrialProtocol   = "trial-protocol"
	GenomeAccess    = "genome-access"
	SurgicalRecords = "surgical-records"
)

// Call is one contract call to send: which contract, which method, and
// the JSON arguments.
type Call struct {
	Contract string          `json:"contract"`
	Method   string          `json:"method"`
	Args     json.RawMessage `json:"args"`
}

func mkCall(contract, method string, args any) Call {
	b, err := json.Marshal(args)
	if err != nil {
		panic("trials: encode arguments: " + err.Error()) // plain data only
	}
	return Call{Contract: contract, Method: method, Args: b}
}

// ---- trial verbs: trial register|amend|enroll|submit|correct|ae|lock|results|show|report

// RegisterCall registers p (trial register). It checks p first.
func RegisterCall(p model.Protocol, sig model.Signature) (Call, error) {
	p.Version, p.Sponsor = 1, ""
	if err := p.Validate(); err != nil {
		return Call{}, err
	}
	if err := sig.Validate(); err != nil {
		return Call{}, err
	}
	return mkCall(TrialProtocol, "register", model.RegisterArgs{Protocol: p, Signature: sig}), nil
}

// RegisterPinnedCall registers a protocol and pins the addresses (64 hex)
// of the other contracts the trial uses, by name (e.g. GenomeAccess):
// clients then resolve them through the trial.
func RegisterPinnedCall(p model.Protocol, sig model.Signature, contracts map[string]string) (Call, error) {
	c, err := RegisterCall(p, sig)
	if err != nil {
		return c, err
	}
	if err := model.ValidateContracts(contracts); err != nil {
		return Call{}, err
	}
	p.Version, p.Sponsor = 1, ""
	return mkCall(TrialProtocol, "register", model.RegisterArgs{Protocol: p, Signature: sig, Contracts: contracts}), nil
}

// ActivateCall opens enrolment (trial register --activate, or its own verb).
func ActivateCall(trial string, sig model.Signature) Call {
	return mkCall(TrialProtocol, "activate", model.TrialArgs{Trial: trial, Signature: sig})
}

// Amendment is an amendment being prepared: the consent group signs
// Digest (as the action; see AmendmentAction), then AmendCall sends it.
type Amendment struct {
	Trial   string        `json:"trial"`
	Version int           `json:"version"`
	Reason  string        `json:"reason"`
	Changes model.Changes `json:"changes"`
}

// Digest is the action digest the consent group signs.
func (a Amendment) Digest() [32]byte {
	return model.AmendmentDigest(a.Trial, a.Version, a.Reason, a.Changes)
}

// ParseAmendment reads an amendment file: {"trial", "version", "reason",
// "changes": {...}} (strict JSON). current is the protocol as on chain; the
// result is checked against it (version current+1, the changed protocol
// valid).
func ParseAmendment(b []byte, current *model.Protocol) (Amendment, error) {
	var a Amendment
	if err := decodeStrict(b, &a); err != nil {
		return a, fmt.Errorf("trials: amendment JSON: %w", err)
	}
	if current != nil {
		if a.Trial == "" {
			a.Trial = current.ID
		}
		if a.Version == 0 {
			a.Version = current.Version + 1
		}
		if a.Version != current.Version+1 {
			return a, fmt.Errorf("trials: amendment version %d, but the protocol is at version %d: use %d", a.Version, current.Version, current.Version+1)
		}
		np := a.Changes.Apply(*current)
		if err := np.Validate(); err != nil {
			return a, fmt.Errorf("trials: the amended protocol would be invalid: %w", err)
		}
	}
	if len(a.Changes.Parts()) == 0 {
		return a, fmt.Errorf("trials: the amendment changes nothing")
	}
	if strings.TrimSpace(a.Reason) == "" {
		return a, fmt.Errorf("trials: an amendment needs a reason")
	}
	return a, nil
}

// AmendCall sends an amendment with its consent (trial amend). consent may
// be nil, which the contract refuses.
func AmendCall(a Amendment, sig model.Signature, consent []byte) Call {
	return mkCall(TrialProtocol, "amend", model.AmendArgs{Trial: a.Trial, Version: a.Version, Reason: a.Reason,
		Changes: a.Changes, Signature: sig, Consent: consent})
}

// NewSubjectID draws a pseudonymous subject id: 128 random bits as 32 hex
// digits. Pass crypto/rand.Reader; the id must never be derived from the
// subject's identity.
func NewSubjectID(rand io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", fmt.Errorf("trials: subject id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// HashBytes returns the hex SHA-256 of b (e.g. a signed consent document).
func HashBytes(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// EnrollCall enrols subject (trial enroll): consentDocHash is the SHA-256
// of the signed consent document (HashBytes), version the protocol version
// consented to.
func EnrollCall(trial, subject, consentDocHash string, version int, arm string, sig model.Signature) (Call, error) {
	if err := model.ValidateSubjectID(subject); err != nil {
		return Call{}, err
	}
	if !model.IsHash(consentDocHash) {
		return Call{}, fmt.Errorf("trials: consent document hash must be a SHA-256 in hex")
	}
	return mkCall(TrialProtocol, "enroll", model.EnrollArgs{Trial: trial, Subject: subject, ConsentDocHash: consentDocHash,
		ProtocolVersion: version, Arm: arm, Signature: sig}), nil
}

// Record is the full case-report-form record a site keeps encrypted off
// chain: every value in clear and the salt of the commitments. Its Hash
// goes on chain.
type Record struct {
	Trial   string                      `json:"trial"`
	Subject string                      `json:"subject"`
	Visit   string                      `json:"visit"`
	Form    string                      `json:"form"`
	Salt    string                      `json:"salt"`
	Fields  map[string]model.FieldValue `json:"fields"`
}

// NewRecord starts a record with a fresh random salt.
func NewRecord(rand io.Reader, trial, subject, visit, form string, fields map[string]model.FieldValue) (Record, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return Record{}, fmt.Errorf("trials: record salt: %w", err)
	}
	return Record{Trial: trial, Subject: subject, Visit: visit, Form: form, Salt: hex.EncodeToString(b[:]), Fields: fields}, nil
}

// Hash is the SHA-256 of the record's JSON (what the chain holds).
func (r *Record) Hash() string { return model.Hash(r) }

// ParseFields reads NAME=VALUE[ UNIT] arguments, e.g. "SYSBP=128 mm[Hg]".
func ParseFields(args []string) (map[string]model.FieldValue, error) {
	out := map[string]model.FieldValue{}
	for _, a := range args {
		name, v, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("trials: field %q must be NAME=VALUE or NAME=VALUE UNIT", a)
		}
		fv := model.FieldValue{Value: strings.TrimSpace(v)}
		if val, unit, ok := strings.Cut(fv.Value, " "); ok {
			fv.Value, fv.Unit = val, strings.TrimSpace(unit)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("trials: field %s given twice", name)
		}
		out[name] = fv
	}
	return out, nil
}

// onChainFields checks every value of rec against the form (public and
// private alike, so the site learns what to fix before sending) and
// returns what goes on chain: public values, commitments for the others.
func onChainFields(p *model.Protocol, rec *Record) (map[string]model.FieldValue, error) {
	f, ok := p.Form(rec.Form)
	if !ok {
		return nil, fmt.Errorf("trials: form %q is not in the protocol of %s", rec.Form, p.ID)
	}
	out := map[string]model.FieldValue{}
	names := make([]string, 0, len(rec.Fields))
	for n := range rec.Fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		v := rec.Fields[name]
		var fd *model.Field
		base, _, _ := strings.Cut(name, "#")
		for i := range f.Fields {
			if f.Fields[i].ID == base {
				fd = &f.Fields[i]
			}
		}
		if fd == nil {
			return nil, &model.Error{Code: "unknown-field", Msg: fmt.Sprintf("form %q has no field %q", f.ID, name)}
		}
		if err := fd.ValidateValue(name, v); err != nil {
			return nil, err
		}
		if v.Value == "" {
			continue
		}
		if fd.Public {
			out[name] = v
		} else {
			out[name] = model.FieldValue{Commit: model.CommitValue(rec.Salt, name, v)}
		}
	}
	if _, err := model.ValidateSubmission(f, out); err != nil {
		return nil, err
	}
	return out, nil
}

// SubmitCall submits rec (trial submit): p is the protocol as on chain.
func SubmitCall(p *model.Protocol, rec Record, sig model.Signature) (Call, error) {
	fields, err := onChainFields(p, &rec)
	if err != nil {
		return Call{}, err
	}
	return mkCall(TrialProtocol, "submit", model.SubmitArgs{Trial: rec.Trial, Subject: rec.Subject, Visit: rec.Visit, Form: rec.Form,
		Fields: fields, RecordHash: rec.Hash(), Signature: sig}), nil
}

// UncheckedSubmitCall builds a submission without the local checks, as a
// misbehaving client would: the contract still refuses bad data. For
// tests and the demo's refused form.
func UncheckedSubmitCall(trial, subject, visit, form string, fields map[string]model.FieldValue, recordHash string, sig model.Signature) Call {
	return mkCall(TrialProtocol, "submit", model.SubmitArgs{Trial: trial, Subject: subject, Visit: visit, Form: form,
		Fields: fields, RecordHash: recordHash, Signature: sig})
}

// CorrectCall corrects entry with the corrected record rec and a reason
// (trial correct).
func CorrectCall(p *model.Protocol, entry string, rec Record, reason string, sig model.Signature) (Call, error) {
	if strings.TrimSpace(reason) == "" {
		return Call{}, fmt.Errorf("trials: a correction needs a reason")
	}
	fields, err := onChainFields(p, &rec)
	if err != nil {
		return Call{}, err
	}
	return mkCall(TrialProtocol, "correct", model.CorrectArgs{Trial: rec.Trial, Entry: entry, Fields: fields,
		RecordHash: rec.Hash(), Reason: reason, Signature: sig}), nil
}

// CorrectQueryCall is CorrectCall answering query: the correction is the
// site's answer (trial correct --query).
func CorrectQueryCall(p *model.Protocol, entry, query string, rec Record, reason string, sig model.Signature) (Call, error) {
	c, err := CorrectCall(p, entry, rec, reason, sig)
	if err != nil {
		return c, err
	}
	var a model.CorrectArgs
	if err := json.Unmarshal(c.Args, &a); err != nil {
		return c, err
	}
	a.Query = query
	return mkCall(TrialProtocol, "correct", a), nil
}

// AECall reports an adverse event (trial ae).
func AECall(trial, subject, term string, serious bool, severity string, awareAt time.Time, onset, recordHash string, sig model.Signature) Call {
	return mkCall(TrialProtocol, "ae", model.AEArgs{Trial: trial, Subject: subject, Term: term, Serious: serious,
		Severity: severity, Onset: onset, AwareAt: awareAt.UTC().Format(time.RFC3339), RecordHash: recordHash, Signature: sig})
}

// LockCall locks the database (trial lock).
func LockCall(trial string, sig model.Signature) Call {
	return mkCall(TrialProtocol, "lock", model.LockArgs{Trial: trial, Signature: sig})
}

// LockOverrideCall locks the database although queries are open, saying
// why (trial lock --override REASON); the reason is kept in the lock's
// checklist.
func LockOverrideCall(trial, override string, sig model.Signature) Call {
	return mkCall(TrialProtocol, "lock", model.LockArgs{Trial: trial, Override: override, Signature: sig})
}

// QueryRaiseCall raises a query on an entry (trial query raise).
func QueryRaiseCall(trial, entry, field, text string, sig model.Signature) (Call, error) {
	a := model.QueryArgs{Trial: trial, Entry: entry, Field: field, Text: text, Signature: sig}
	if err := a.Validate(); err != nil {
		return Call{}, err
	}
	return mkCall(TrialProtocol, "query_raise", a), nil
}

// QueryAnswerCall answers a query (trial query answer).
func QueryAnswerCall(trial, query, text string, sig model.Signature) (Call, error) {
	a := model.AnswerArgs{Trial: trial, Query: query, Text: text, Signature: sig}
	if err := a.Validate(); err != nil {
		return Call{}, err
	}
	return mkCall(TrialProtocol, "query_answer", a), nil
}

// QueryCloseCall closes a query, saying why (trial query close).
func QueryCloseCall(trial, query, reason string, sig model.Signature) (Call, error) {
	a := model.AnswerArgs{Trial: trial, Query: query, Text: reason, Signature: sig}
	if err := a.Validate(); err != nil {
		return Call{}, err
	}
	return mkCall(TrialProtocol, "query_close", a), nil
}

// ResultsCall submits results (trial results).
func ResultsCall(trial string, results []model.OutcomeResult, datasetHash, source string, sig model.Signature) (Call, error) {
	a := model.ResultsArgs{Trial: trial, Results: results, DatasetHash: datasetHash, Source: source, Signature: sig}
	if err := a.Validate(); err != nil {
		return Call{}, err
	}
	return mkCall(TrialProtocol, "results", a), nil
}

// ShowCall shows a trial (trial show).
func ShowCall(trial string) Call { return mkCall(TrialProtocol, "show", model.TrialArgs{Trial: trial}) }

// ReportCall fetches the outcome-reporting report (trial report).
func ReportCall(trial string) Call {
	return mkCall(TrialProtocol, "report", model.TrialArgs{Trial: trial})
}

// ListCall lists subjects, entries, aes or amendments of a trial.
func ListCall(trial, kind string) Call {
	return mkCall(TrialProtocol, "list", model.TrialArgs{Trial: trial, Kind: kind})
}

// EntryCall shows an entry and its corrections.
func EntryCall(trial, entry string) Call {
	return mkCall(TrialProtocol, "entry", map[string]string{"trial": trial, "entry": entry})
}

// ---- genome verbs: genome register|request|decide|revoke|log

// RegisterDatasetCall registers a dataset (genome register).
func RegisterDatasetCall(d model.Dataset) (Call, error) {
	d.Custodian = ""
	if err := d.Validate(); err != nil {
		return Call{}, err
	}
	return mkCall(GenomeAccess, "register", model.RegisterDatasetArgs{Dataset: d}), nil
}

// ParseDUOCodes turns shorthands or ids ("HMB", "DUO:0000046") into ids.
func ParseDUOCodes(codes []string) ([]string, error) {
	var out []string
	for _, c := range codes {
		t, ok := model.LookupDUO(strings.TrimSpace(c))
		if !ok {
			return nil, fmt.Errorf("trials: %q is not a DUO term (e.g. GRU, HMB, DS, NCU, IRB or DUO:0000042)", c)
		}
		out = append(out, t.ID)
	}
	return out, nil
}

// RequestCall asks for access (genome request).
func RequestCall(r model.AccessRequest) (Call, error) {
	if err := r.Validate(); err != nil {
		return Call{}, err
	}
	return mkCall(GenomeAccess, "request", r), nil
}

// DecisionDigest is the action digest the data-access committee signs.
func DecisionDigest(request, dataset string, approve bool, days int, reason string) [32]byte {
	return model.DecisionDigest(request, dataset, approve, days, reason)
}

// DecideCall sends the committee's decision with its consent (genome decide).
func DecideCall(request string, approve bool, days int, reason string, consent []byte) Call {
	return mkCall(GenomeAccess, "decide", model.DecideArgs{Request: request, Approve: approve, Days: days, Reason: reason, Consent: consent})
}

// AccessCall uses a grant (genome access).
func AccessCall(grant string) Call {
	return mkCall(GenomeAccess, "access", model.GrantArgs{Grant: grant})
}

// ReleaseCall releases a dataset's location to a grant's researcher,
// sealed to their member key (genome release): sealed is hex.
func ReleaseCall(grant, sealed string) (Call, error) {
	a := model.ReleaseArgs{Grant: grant, Sealed: sealed}
	if err := a.Validate(); err != nil {
		return Call{}, err
	}
	return mkCall(GenomeAccess, "release", a), nil
}

// RevokeCall revokes a grant (genome revoke).
func RevokeCall(grant, reason string) Call {
	return mkCall(GenomeAccess, "revoke", model.GrantArgs{Grant: grant, Reason: reason})
}

// LogCall reads a dataset's log (genome log).
func LogCall(dataset string) Call {
	return mkCall(GenomeAccess, "log", model.DatasetArgs{Dataset: dataset})
}

// ShowDatasetCall shows a dataset (genome show): never its location.
func ShowDatasetCall(dataset string) Call {
	return mkCall(GenomeAccess, "show", model.DatasetArgs{Dataset: dataset})
}

// GrantCall shows a grant.
func GrantCall(grant string) Call {
	return mkCall(GenomeAccess, "grant", model.GrantArgs{Grant: grant})
}

// ---- surgery verbs: surgery record|cosign|amend|show

// RecordCall records a procedure (surgery record): p is the full
// procedure, checked whole; only its de-identified part goes on chain
// (model.Procedure.Deidentified), committing to the full record by
// p.RecordHash (set it with SealProcedure, whose salted record the site
// keeps encrypted; if empty, the hash of p itself). now bounds its end.
func RecordCall(p model.Procedure, sig model.Signature, now time.Time) (Call, error) {
	if err := p.Validate(now.UnixMilli()); err != nil {
		return Call{}, err
	}
	return mkCall(SurgicalRecords, "record", model.RecordArgs{Procedure: onChainProcedure(p), Signature: sig}), nil
}

func onChainProcedure(p model.Procedure) model.Procedure {
	h := p.RecordHash
	if h == "" {
		h = model.Hash(p)
	}
	return p.Deidentified(h)
}

// ProcedureRecord is a procedure's full record, kept off chain: the whole
// procedure (surgeon, exact times, notes, device) with a random salt, so
// its hash on chain cannot be confirmed by guessing.
type ProcedureRecord struct {
	Salt      string          `json:"salt"`
	Procedure model.Procedure `json:"procedure"`
}

// Hash is what the chain holds as the procedure's RecordHash.
func (r *ProcedureRecord) Hash() string { return model.Hash(r) }

// SealProcedure makes the full record of p with a fresh salt from rand and
// returns p with RecordHash set to its hash, ready for RecordCall.
func SealProcedure(rand io.Reader, p model.Procedure) (model.Procedure, ProcedureRecord, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return p, ProcedureRecord{}, fmt.Errorf("trials: procedure salt: %w", err)
	}
	p.RecordHash = ""
	rec := ProcedureRecord{Salt: hex.EncodeToString(b[:]), Procedure: p}
	p.RecordHash = rec.Hash()
	return p, rec, nil
}

// RecordDigest is the digest the surgical team signs for a record as
// stored (the record returned by record or amend).
func RecordDigest(r *model.SurgicalRecord) [32]byte { return model.SignDigest(r) }

// CosignCall makes a record final with the team's consent (surgery cosign).
func CosignCall(record string, consent []byte) Call {
	return mkCall(SurgicalRecords, "cosign", model.CosignArgs{Record: record, Consent: consent})
}

// AddendumCall adds an addendum to a final record (surgery amend --addendum).
// The text stays off chain: the chain holds its SHA-256 (keep the text in
// the site's record, e.g. beside the ProcedureRecord).
func AddendumCall(record, text, reason string, sig model.Signature) Call {
	return mkCall(SurgicalRecords, "amend", model.SurgeryAmendArgs{Record: record, Kind: model.RecordAddendum, Text: HashBytes([]byte(text)), Reason: reason, Signature: sig})
}

// CorrectionCall corrects a final record with the whole corrected
// procedure (surgery amend --correction).
// p is the full corrected procedure; only its de-identified part goes on
// chain, as with RecordCall.
func CorrectionCall(record string, p model.Procedure, reason string, sig model.Signature) Call {
	on := onChainProcedure(p)
	return mkCall(SurgicalRecords, "amend", model.SurgeryAmendArgs{Record: record, Kind: model.RecordCorrection, Procedure: &on, Reason: reason, Signature: sig})
}

// LinkCall links a final record to a trial subject (surgery record --trial/--subject after co-signing).
func LinkCall(record, trial, subject string, sig model.Signature) Call {
	return mkCall(SurgicalRecords, "link", model.LinkArgs{Record: record, Trial: trial, Subject: subject, Signature: sig})
}

// ShowRecordCall shows a record with its amendments and links (surgery show).
func ShowRecordCall(record string) Call {
	return mkCall(SurgicalRecords, "show", model.RecordQuery{Record: record})
}

// FinalCall returns the record only if it is final.
func FinalCall(record string) Call {
	return mkCall(SurgicalRecords, "final", model.RecordQuery{Record: record})
}

// ConsentMessage is the message a consent covers for a contract digest:
// its 32 raw bytes (write them to the --message-file of trialchain consent
// action, with the contract's address and the method).
func ConsentMessage(digest [32]byte) []byte { return append([]byte(nil), digest[:]...) }
