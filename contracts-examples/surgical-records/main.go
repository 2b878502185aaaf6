// Command surgical-records is the TrialChain contract for surgical
// procedure records. A site records a procedure (pending); it becomes final
// only when the surgical team's consent group co-signs it (e.g. 2 of 3) with
// a threshold consent over model.SignDigest. Addenda and corrections are new
// records referencing the final original with a reason; the original is
// never changed. A final record can be linked to a trial subject. Build it
// with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o surgical-records.wasm ./contracts-examples/surgical-records
//
// Methods:
//
//	record  model.RecordArgs        site: a procedure, pending; returns the record and its digest to co-sign
//	cosign  model.CosignArgs        anyone relaying the team's consent: makes the record final
//	amend   model.SurgeryAmendArgs  site of the original: an addendum or correction of a final record, pending
//	link    model.LinkArgs          site of the record: link a final record to a trial subject
//	final   model.RecordQuery       anyone: the record if final, else refused
//	show    model.RecordQuery       anyone: model.RecordView
//
// Every refusal aborts the call with a reason and writes nothing.
//
// # Fixed approvers and sealed records
//
// The team group that must co-sign a record is fixed when the original is
// recorded: an addendum or correction is co-signed by the original's team
// group, and a correction naming another group is refused, so the party
// seeking approval never picks its approvers. The co-signing consent must
// mean "attest surgical record". A final record is sealed
// (contract.Seal): no transaction, under any code version, can change or
// delete it; so are amendment index entries and links. An amendment's id
// is derived from the original's (ORIGINAL.c1, .a2, ...) and skips any id
// already taken, and every new record id is checked free: a record is
// never silently replaced.
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/trialchain/trialchain/contracts-examples/internal/consentcheck"
	"github.com/trialchain/trialchain/sdk/contract"
	"github.com/trialchain/trialchain/trials/model"
)

// State layout (JSON values):
//
//	rec/<id>                 model.SurgicalRecord
//	amd/<original>/<id>      id of an amendment of original
//	link/<id>/<seq>          model.Link
//	n/<name>                 counters
//	consent/<sha256>         a consumed consent
var (
	records  = contract.NewMap[model.SurgicalRecord]("rec")
	amds     = contract.NewMap[string]("amd")
	links    = contract.NewMap[model.Link]("link")
	counters = contract.NewMap[int64]("n")
)

func refuse(code, format string, args ...any) error {
	return &model.Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

func next(name string) int64 {
	n, _ := counters.Get(name)
	n++
	counters.Set(name, n)
	return n
}

func manifest(s model.Signature) (model.Manifestation, error) {
	if err := s.Validate(); err != nil {
		return model.Manifestation{}, err
	}
	return model.Manifest(s, contract.BlockTimeMilli(), contract.Caller(), contract.CallerOrg()), nil
}

func requireSite(org string) error {
	if err := contract.CheckRole("site"); err != nil {
		return refuse("forbidden", "only a site may do this (caller role %q)", contract.CallerRole())
	}
	if org != "" && contract.CallerOrg() != org {
		return refuse("forbidden", "the record belongs to site %q, not %q", org, contract.CallerOrg())
	}
	return nil
}

func load(id string) (model.SurgicalRecord, error) {
	r, ok := records.Get(id)
	if !ok {
		return r, refuse("not-found", "no surgical record %q", id)
	}
	return r, nil
}

func requireFinal(r *model.SurgicalRecord, doing string) error {
	if r.Status != model.RecordFinal {
		return refuse("wrong-state", "cannot %s: record %s is %s, not final: it must first be co-signed by its surgical team's consent group %s", doing, r.ID, r.Status, r.Procedure.TeamGroup)
	}
	return nil
}

//go:wasmexport record
func record() {
	contract.Handle(func(a model.RecordArgs) (any, error) {
		if err := requireSite(""); err != nil {
			return nil, err
		}
		p := a.Procedure
		if p.Site != contract.CallerOrg() {
			return nil, refuse("forbidden", "procedure site %q is not the recording organisation %q", p.Site, contract.CallerOrg())
		}
		if err := p.ValidateOnChain(contract.BlockTimeMilli()); err != nil {
			return nil, err
		}
		if _, ok := records.Get(p.ID); ok {
			return nil, refuse("exists", "record %q exists; add an addendum or correction instead", p.ID)
		}
		if p.TeamGroup == "" {
			return nil, refuse("invalid", "teamGroup: the consent group that must co-sign the record is required")
		}
		m, err := manifest(a.Signature)
		if err != nil {
			return nil, err
		}
		r := model.SurgicalRecord{ID: p.ID, Kind: model.RecordOriginal, Procedure: p, Status: model.RecordPending,
			Manifestation: m, Height: contract.BlockHeight()}
		d := model.SignDigest(&r)
		r.Digest = hex.EncodeToString(d[:])
		if !records.Create(r.ID, r) {
			return nil, refuse("exists", "record %q exists", r.ID)
		}
		contract.EmitJSON("surgery.recorded", map[string]any{"record": r.ID, "digest": r.Digest})
		return r, nil
	})
}

//go:wasmexport cosign
func cosign() {
	contract.Handle(func(a model.CosignArgs) (any, error) {
		r, err := load(a.Record)
		if err != nil {
			return nil, err
		}
		if r.Status == model.RecordFinal {
			return nil, refuse("wrong-state", "record %s is already final", r.ID)
		}
		d := model.SignDigest(&r)
		ch, err := consentcheck.Check(r.Procedure.TeamGroup, consentcheck.AttestSurgicalRecord, d, a.Consent)
		if err != nil {
			return nil, err
		}
		r.Status = model.RecordFinal
		r.Cosign = &model.Cosign{ConsentHash: ch, Group: r.Procedure.TeamGroup, Time: model.FormatMilli(contract.BlockTimeMilli()), Height: contract.BlockHeight()}
		records.Set(r.ID, r)
		records.Seal(r.ID) // final: never changed again
		contract.EmitJSON("surgery.final", map[string]any{"record": r.ID})
		return r, nil
	})
}

//go:wasmexport amend
func amend() {
	contract.Handle(func(a model.SurgeryAmendArgs) (any, error) {
		orig, err := load(a.Record)
		if err != nil {
			return nil, err
		}
		if err := requireSite(orig.Procedure.Site); err != nil {
			return nil, err
		}
		if err := requireFinal(&orig, "amend it"); err != nil {
			return nil, err
		}
		if a.Reason == "" || len(a.Reason) > model.MaxText {
			return nil, refuse("invalid", "an addendum or correction needs a reason (at most %d bytes)", model.MaxText)
		}
		r := model.SurgicalRecord{Kind: a.Kind, Amends: orig.ID, Reason: a.Reason, Status: model.RecordPending, Height: contract.BlockHeight()}
		switch a.Kind {
		case model.RecordAddendum:
			if !model.IsHash(a.Text) || a.Procedure != nil {
				return nil, refuse("phi", "an addendum carries the SHA-256 of its text (64 hex; the text stays in the encrypted off-chain record) and no procedure")
			}
			r.Text = a.Text
			r.Procedure = orig.Procedure
		case model.RecordCorrection:
			if a.Procedure == nil {
				return nil, refuse("invalid", "a correction carries the whole corrected procedure")
			}
			p := *a.Procedure
			if p.ID != orig.ID || p.Site != orig.Procedure.Site || p.Patient != orig.Procedure.Patient {
				return nil, refuse("invalid", "a correction keeps the record id, site and patient of %s", orig.ID)
			}
			if p.TeamGroup != orig.Procedure.TeamGroup {
				return nil, refuse("forbidden", "a correction is co-signed by the team group of %s (%s), fixed when it was recorded; it cannot name group %s", orig.ID, orig.Procedure.TeamGroup, p.TeamGroup)
			}
			if err := p.ValidateOnChain(contract.BlockTimeMilli()); err != nil {
				return nil, err
			}
			if a.Text != "" && !model.IsHash(a.Text) {
				return nil, refuse("phi", "a correction's text is the SHA-256 of the text kept off chain")
			}
			r.Text = a.Text
			r.Procedure = p
		default:
			return nil, refuse("invalid", "kind %q must be addendum or correction", a.Kind)
		}
		m, err := manifest(a.Signature)
		if err != nil {
			return nil, err
		}
		r.Manifestation = m
		r.ID = orig.ID + "." + a.Kind[:1] + itoa(next("amd/"+orig.ID))
		for { // derived, and never an id someone else recorded (an original may be named "X.c1")
			if _, taken := records.Get(r.ID); !taken {
				break
			}
			r.ID = orig.ID + "." + a.Kind[:1] + itoa(next("amd/"+orig.ID))
		}
		d := model.SignDigest(&r)
		r.Digest = hex.EncodeToString(d[:])
		if !records.Create(r.ID, r) {
			return nil, refuse("exists", "record %q exists", r.ID)
		}
		if !amds.Create(orig.ID+"/"+r.ID, r.ID) {
			return nil, refuse("exists", "amendment %s of %s exists", r.ID, orig.ID)
		}
		amds.Seal(orig.ID + "/" + r.ID)
		contract.EmitJSON("surgery.amended", map[string]any{"record": r.ID, "amends": orig.ID, "kind": a.Kind, "digest": r.Digest})
		return r, nil
	})
}

func itoa(n int64) string { return fmt.Sprint(n) }

//go:wasmexport link
func link() {
	contract.Handle(func(a model.LinkArgs) (any, error) {
		r, err := load(a.Record)
		if err != nil {
			return nil, err
		}
		if err := requireSite(r.Procedure.Site); err != nil {
			return nil, err
		}
		if err := requireFinal(&r, "link it to a trial subject"); err != nil {
			return nil, err
		}
		if a.Trial == "" || len(a.Trial) > model.MaxID {
			return nil, refuse("invalid", "trial is required")
		}
		if model.Ident("trial", a.Trial) == nil {
			contract.RecordScope("trial:" + a.Trial) // the link is a record of the trial
		}
		if err := model.ValidateSubjectID(a.Subject); err != nil {
			return nil, err
		}
		m, err := manifest(a.Signature)
		if err != nil {
			return nil, err
		}
		l := model.Link{Trial: a.Trial, Subject: a.Subject, Manifestation: m, Height: contract.BlockHeight()}
		lk := r.ID + "/" + model.Seq("", next("link/"+r.ID))
		if !links.Create(lk, l) {
			return nil, refuse("exists", "link %s exists", lk)
		}
		links.Seal(lk)
		contract.EmitJSON("surgery.linked", map[string]any{"record": r.ID, "trial": a.Trial, "subject": a.Subject})
		return l, nil
	})
}

//go:wasmexport final
func final() {
	contract.Handle(func(a model.RecordQuery) (any, error) {
		r, err := load(a.Record)
		if err != nil {
			return nil, err
		}
		if err := requireFinal(&r, "use it as final"); err != nil {
			return nil, err
		}
		return r, nil
	})
}

//go:wasmexport show
func show() {
	contract.Handle(func(a model.RecordQuery) (any, error) {
		r, err := load(a.Record)
		if err != nil {
			return nil, err
		}
		v := model.RecordView{Record: r}
		contract.Scan([]byte("amd/"+r.ID+"/"), func(_, b []byte) bool {
			var id string
			if json.Unmarshal(b, &id) == nil {
				v.Amendments = append(v.Amendments, id)
			}
			return true
		})
		contract.Scan([]byte("link/"+r.ID+"/"), func(k, b []byte) bool {
			var l model.Link
			if err := json.Unmarshal(b, &l); err != nil {
				contract.Abortf("corrupt state %q: %v", k, err)
			}
			v.Links = append(v.Links, l)
			return true
		})
		return v, nil
	})
}

// init prepares the JSON encoding of the methods' arguments during
// initialisation, once at deploy: every call starts from the initialised
// state, so work left to the first call would be paid by every call.
func init() {
	contract.Prepare[model.RecordArgs]()
	contract.Prepare[model.CosignArgs]()
	contract.Prepare[model.SurgeryAmendArgs]()
	contract.Prepare[model.LinkArgs]()
	contract.Prepare[model.RecordQuery]()
}

func main() {}
