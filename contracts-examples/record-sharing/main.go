// Command record-sharing is the TrialChain contract that shares a
// patient's records between hospitals under the patient's FHIR R4
// Consents (package trials/care). The patient, or their delegate (a member
// with role subject), grants and revokes consents; a custodian hospital
// (role site) registers a record it holds off chain by a salted
// commitment; another hospital requests it for a purpose; the contract
// decides from the consents (care.Decide) at the block's time, and the
// custodian releases the record sealed with HPKE to the reader's member
// key (trials.SealRecord, as genome-access releases a location); the
// reader reads it, and each read is decided again. Build it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o record-sharing.wasm ./contracts-examples/record-sharing
//
// Methods:
//
//	grant    care.GrantArgs    subject: a FHIR R4 Consent of the patient (the first grant binds the pseudonym to the key)
//	revoke   care.RevokeArgs   the patient's key: the consent becomes inactive
//	record   care.RecordArgs   site: a record held off chain, by commitment
//	request  care.RequestArgs  site: decided from the consents; returns care.Access
//	release  care.ReleaseArgs  the record's custodian: the record sealed to the access's reader
//	read     care.AccessArgs   the access's reader: decided again, returns care.Access with the sealed record
//	consent  {patient, consent} anyone: care.Consent
//	access   care.AccessArgs   anyone: care.Access (its sealed record opens only with the reader's key)
//	show     {record}          anyone: care.SharedRecord
//	log      care.PatientArgs  anyone: []care.Entry, the patient's access log
//
// # Where refusals are logged
//
// Every method that concerns a patient first joins the patient's record
// set (care.Scope, contract.RecordScope), before any check: a refused call
// (a hospital reading without consent, or after revocation) writes nothing
// to state but its failed receipt, with the refusal's code and reason, is
// a record of the patient's set that the chain keeps and proves complete
// ("trialchain scope patient:ID" lists it). Permitted decisions,
// grants, revocations, releases and reads are also appended to the
// patient's sealed journal (log).
package main

import (
	"github.com/trialchain/trialchain/sdk/contract"
	"github.com/trialchain/trialchain/trials/care"
	"github.com/trialchain/trialchain/trials/model"
)

// State layout (JSON values):
//
//	pt/<patient>              hex key of the subject holding the pseudonym
//	cs/<patient>/<consent>    care.Consent
//	rec/<record>              care.SharedRecord
//	acc/<access>              care.Access
//	log/<patient>/<seq>       care.Entry (sealed; counter #log/<patient>)
//	n                         access counter
var (
	holders  = contract.NewMap[string]("pt")
	consents = contract.NewMap[care.Consent]("cs")
	records  = contract.NewMap[care.SharedRecord]("rec")
	accesses = contract.NewMap[care.Access]("acc")
	journal  = contract.NewJournal[care.Entry]("log")
	counter  = contract.NewCounter("n")
)

func now() string { return model.FormatMilli(contract.BlockTimeMilli()) }

func logEntry(patient, kind, ref, detail string) {
	journal.Append(patient, care.Entry{Kind: kind, Ref: ref, Actor: contract.CallerHex(), Org: contract.CallerOrg(),
		Detail: detail, Time: now(), Height: contract.BlockHeight()})
}

// holder checks the caller holds patient's pseudonym (binding it on the
// first grant when bind).
func holder(patient string, bind bool) error {
	if err := contract.CheckRole("subject"); err != nil {
		return contract.Refuse(care.CodeNotPatient, "only the patient or their delegate (role subject) may do this (caller role %q)", contract.CallerRole())
	}
	h, ok := holders.Get(patient)
	if !ok && bind {
		holders.Set(patient, contract.CallerHex())
		return nil
	}
	if h != contract.CallerHex() {
		return contract.Refuse(care.CodeNotPatient, "patient %s is held by another key", patient)
	}
	return nil
}

//go:wasmexport grant
func grant() {
	contract.Handle(func(a care.GrantArgs) (any, error) {
		c := a.Consent
		contract.TryRecordScope(care.Scope(c.Patient))
		if err := holder(c.Patient, true); err != nil {
			return nil, err
		}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		c.Grantor, c.GrantedAt, c.RevokedAt, c.RevokeWhy = contract.CallerHex(), now(), "", ""
		if !consents.Create(c.Patient+"/"+c.ID, c) {
			return nil, contract.Refuse("exists", "consent %s of patient %s exists; grant a new one", c.ID, c.Patient)
		}
		logEntry(c.Patient, "grant", c.ID, "consent granted")
		contract.EmitJSON("sharing.granted", map[string]string{"patient": c.Patient, "consent": c.ID})
		return c, nil
	})
}

//go:wasmexport revoke
func revoke() {
	contract.Handle(func(a care.RevokeArgs) (any, error) {
		contract.TryRecordScope(care.Scope(a.Patient))
		if err := holder(a.Patient, false); err != nil {
			return nil, err
		}
		c, ok := consents.Get(a.Patient + "/" + a.Consent)
		if !ok {
			return nil, contract.Refuse("not-found", "patient %s has no consent %q", a.Patient, a.Consent)
		}
		if c.Status != care.StatusActive {
			return nil, contract.Refuse(care.CodeRevoked, "consent %s was revoked at %s", c.ID, c.RevokedAt)
		}
		if a.Reason == "" || len(a.Reason) > model.MaxText {
			return nil, contract.Refuse("invalid", "a revocation needs a reason (at most %d bytes)", model.MaxText)
		}
		c.Status, c.RevokedAt, c.RevokeWhy = care.StatusInactive, now(), a.Reason
		consents.Set(a.Patient+"/"+c.ID, c)
		logEntry(a.Patient, "revoke", c.ID, a.Reason)
		contract.EmitJSON("sharing.revoked", map[string]string{"patient": a.Patient, "consent": c.ID})
		return c, nil
	})
}

//go:wasmexport record
func record() {
	contract.Handle(func(a care.RecordArgs) (any, error) {
		r := a.Record
		contract.TryRecordScope(care.Scope(r.Patient))
		if err := contract.CheckRole("site"); err != nil {
			return nil, contract.Refuse(care.CodeNotCustodian, "only a hospital (role site) holds records (caller role %q)", contract.CallerRole())
		}
		if err := r.Validate(); err != nil {
			return nil, err
		}
		r.Custodian, r.Time = contract.CallerOrg(), now()
		if !records.Create(r.ID, r) {
			return nil, contract.Refuse("exists", "record %s exists", r.ID)
		}
		records.Seal(r.ID)
		logEntry(r.Patient, "record", r.ID, r.Class+" "+r.Code+" held by "+r.Custodian)
		return r, nil
	})
}

// decide applies the patient's consents to org reading rec for purpose now.
func decide(rec *care.SharedRecord, org, purpose string) (care.Decision, error) {
	var cs []care.Consent
	consents.EachUnder(rec.Patient+"/", func(_ string, c care.Consent) bool { cs = append(cs, c); return true })
	return care.Decide(cs, care.Read{Actor: care.OrgActor(org), Purpose: purpose, Class: rec.Class, Code: rec.Code,
		AtMilli: contract.BlockTimeMilli()})
}

func loadRecord(id string) (care.SharedRecord, error) {
	r, ok := records.Get(id)
	if !ok {
		return r, contract.Refuse("not-found", "no record %q", id)
	}
	return r, nil
}

//go:wasmexport request
func request() {
	contract.Handle(func(a care.RequestArgs) (any, error) {
		rec, err := loadRecord(a.Record)
		if err != nil {
			return nil, err
		}
		contract.RecordScope(care.Scope(rec.Patient))
		if err := contract.CheckRole("site"); err != nil {
			return nil, contract.Refuse("forbidden", "only a hospital (role site) may request a record (caller role %q)", contract.CallerRole())
		}
		if a.Purpose == "" || len(a.Purpose) > model.MaxName {
			return nil, contract.Refuse("invalid", "a request needs a purpose (e.g. TREAT)")
		}
		d, err := decide(&rec, contract.CallerOrg(), a.Purpose)
		if err != nil {
			return nil, err
		}
		acc := care.Access{ID: model.Seq("acc-", counter.Next()), Record: rec.ID, Patient: rec.Patient, Reader: contract.CallerHex(),
			Org: contract.CallerOrg(), Purpose: a.Purpose, Consent: d.Consent, Time: now(), Custody: rec.Custodian, Decision: d.Reason}
		if !accesses.Create(acc.ID, acc) {
			return nil, contract.Refuse("exists", "access %s exists", acc.ID)
		}
		logEntry(rec.Patient, "permit", acc.ID, d.Reason)
		contract.EmitJSON("sharing.permitted", map[string]string{"access": acc.ID, "record": rec.ID, "consent": d.Consent})
		return acc, nil
	})
}

func loadAccess(id string) (care.Access, error) {
	a, ok := accesses.Get(id)
	if !ok {
		return a, contract.Refuse("not-found", "no access %q", id)
	}
	contract.RecordScope(care.Scope(a.Patient))
	return a, nil
}

// recheck decides acc again now: a revoked consent refuses with CodeRevoked.
func recheck(acc *care.Access, rec *care.SharedRecord) error {
	c, _ := consents.Get(acc.Patient + "/" + acc.Consent)
	if c.Status == care.StatusInactive {
		return contract.Refuse(care.CodeRevoked, "consent %s of patient %s that permitted %s was revoked at %s: %s", c.ID, acc.Patient, acc.ID, c.RevokedAt, c.RevokeWhy)
	}
	_, err := decide(rec, acc.Org, acc.Purpose)
	return err
}

//go:wasmexport release
func release() {
	contract.Handle(func(a care.ReleaseArgs) (any, error) {
		acc, err := loadAccess(a.Access)
		if err != nil {
			return nil, err
		}
		rec, _ := records.Get(acc.Record)
		if contract.CheckRole("site") != nil || contract.CallerOrg() != rec.Custodian {
			return nil, contract.Refuse(care.CodeNotCustodian, "only %s, the custodian of record %s, may release it", rec.Custodian, rec.ID)
		}
		if acc.Sealed != "" {
			return nil, contract.Refuse("exists", "record %s was already released to %s", rec.ID, acc.ID)
		}
		if len(a.Sealed) == 0 || len(a.Sealed) > 32<<10 || !isHex(a.Sealed) {
			return nil, contract.Refuse("invalid", "sealed must be the hex HPKE ciphertext to the reader (at most 32 KiB of hex)")
		}
		if err := recheck(&acc, &rec); err != nil {
			return nil, err
		}
		acc.Sealed = a.Sealed
		accesses.Set(acc.ID, acc)
		logEntry(acc.Patient, "release", acc.ID, "record "+rec.ID+" sealed to the reader of "+acc.ID)
		contract.EmitJSON("sharing.released", map[string]string{"access": acc.ID})
		return acc, nil
	})
}

func isHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

//go:wasmexport read
func read() {
	contract.Handle(func(a care.AccessArgs) (any, error) {
		acc, err := loadAccess(a.Access)
		if err != nil {
			return nil, err
		}
		if acc.Reader != contract.CallerHex() {
			return nil, contract.Refuse(care.CodeNotReader, "access %s belongs to another reader", acc.ID)
		}
		rec, _ := records.Get(acc.Record)
		if err := recheck(&acc, &rec); err != nil {
			return nil, err
		}
		if acc.Sealed == "" {
			return nil, contract.Refuse(care.CodeNotReleased, "the custodian %s has not released record %s to %s yet", rec.Custodian, rec.ID, acc.ID)
		}
		acc.Reads++
		accesses.Set(acc.ID, acc)
		logEntry(acc.Patient, "read", acc.ID, "read "+model.Seq("", int64(acc.Reads))+" by "+acc.Org)
		contract.EmitJSON("sharing.read", map[string]any{"access": acc.ID, "reads": acc.Reads})
		return acc, nil
	})
}

//go:wasmexport consent
func consentM() {
	contract.Handle(func(a struct {
		Patient string `json:"patient"`
		Consent string `json:"consent"`
	}) (any, error) {
		c, ok := consents.Get(a.Patient + "/" + a.Consent)
		if !ok {
			return nil, contract.Refuse("not-found", "patient %s has no consent %q", a.Patient, a.Consent)
		}
		return c, nil
	})
}

//go:wasmexport access
func accessM() {
	contract.Handle(func(a care.AccessArgs) (any, error) {
		acc, ok := accesses.Get(a.Access)
		if !ok {
			return nil, contract.Refuse("not-found", "no access %q", a.Access)
		}
		return acc, nil
	})
}

//go:wasmexport show
func show() {
	contract.Handle(func(a struct {
		Record string `json:"record"`
	}) (any, error) {
		return loadRecord(a.Record)
	})
}

//go:wasmexport log
func logM() {
	contract.Handle(func(a care.PatientArgs) (any, error) {
		if err := model.Ident("patient", a.Patient); err != nil {
			return nil, err
		}
		out := []care.Entry{}
		journal.Each(a.Patient, func(_ int64, e care.Entry) bool {
			out = append(out, e)
			return len(out) < 1000
		})
		return out, nil
	})
}

// init prepares the JSON encoding of the methods' arguments and results
// during initialisation, once at deploy: every call starts from the
// initialised state, so work left to the first call is paid by every call.
func init() {
	contract.Prepare[care.GrantArgs]()
	contract.Prepare[care.RevokeArgs]()
	contract.Prepare[care.RecordArgs]()
	contract.Prepare[care.RequestArgs]()
	contract.Prepare[care.ReleaseArgs]()
	contract.Prepare[care.AccessArgs]()
	contract.Prepare[care.PatientArgs]()
	contract.Prepare[care.Access]()
}

func main() {}
