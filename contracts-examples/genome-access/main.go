// Command genome-access is the TrialChain contract that shares genome
// datasets under GA4GH Data Use Ontology (DUO) conditions. A custodian
// registers a dataset with its hash, a commitment to its off-chain location
// and DUO codes; a researcher requests access with a purpose; the contract decides
// deterministically (model.Decide): grant, deny naming the DUO rule that
// failed, or hold for the data-access committee, whose threshold consent
// decides. Grants expire; a subject's delegate can revoke; every request,
// decision and access is logged. Build it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o genome-access.wasm ./contracts-examples/genome-access
//
// Methods:
//
//	register  model.RegisterDatasetArgs  custodian (role site or sponsor): a dataset
//	request   model.AccessRequest        researcher: returns model.Request with its decision
//	decide    model.DecideArgs           anyone relaying the committee's consent: decides a held request
//	release   model.ReleaseArgs          the dataset's custodian: the location sealed to a grant's researcher
//	access    model.GrantArgs            the grant's researcher: returns model.AccessResult (sealed location), logged
//	revoke    model.GrantArgs            a delegate of the dataset's subjects (role subject) or its custodian
//	log       model.DatasetArgs          anyone: []model.LogEntry
//	show      model.DatasetArgs          anyone: model.DatasetView
//	grant     model.GrantArgs            anyone: model.Grant
//
// Every refusal aborts the call with a reason and writes nothing.
//
// # Locations, decisions and sealed records
//
// The chain never holds a dataset's location in the clear: register
// refuses a dataset that carries one and stores only a salted SHA-256
// commitment to it (trials.LocationCommitment). Once a request is granted
// (by the DUO rule or by the committee), the dataset's custodian releases
// the location sealed with HPKE to the grant's researcher's member key
// (release: write-once and sealed, one per grant); access returns those
// sealed bytes to that researcher only, whose client opens them and checks
// them against the commitment. Refused and undecided requests have no
// grant, so nothing is released for them; other members, state proofs and
// raw queries see only the commitment and ciphertext. The committee's
// consent must mean "release genome data" to approve and "refuse genome
// data" to refuse. A decided request and every log entry are sealed
// (contract.Seal): no transaction, under any code version, can change or
// delete them. Request, grant and log ids are derived from counters and
// created only if free.
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
//	ds/<dataset>            model.DatasetView
//	req/<seq>               model.Request
//	grant/<seq>             model.Grant
//	rel/<grant>             model.Release (sealed)
//	log/<dataset>/<seq>     model.LogEntry
//	n/<counter>             int64 counters: req, grant, log/<dataset>
//	consent/<sha256>        a consumed consent
var (
	datasets = contract.NewMap[model.DatasetView]("ds")
	requests = contract.NewMap[model.Request]("req")
	grants   = contract.NewMap[model.Grant]("grant")
	releases = contract.NewMap[model.Release]("rel")
	logs     = contract.NewMap[model.LogEntry]("log")
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

func callerHex() string {
	k := contract.Caller()
	return hex.EncodeToString(k[:])
}

func now() string { return model.FormatMilli(contract.BlockTimeMilli()) }

func logEntry(dataset, kind, ref, outcome, detail string) {
	n := next("log/" + dataset)
	k := dataset + "/" + model.Seq("", n)
	if !logs.Create(k, model.LogEntry{Seq: n, Kind: kind, Ref: ref, Actor: callerHex(),
		Org: contract.CallerOrg(), Role: contract.CallerRole(), Outcome: outcome, Detail: detail,
		Time: now(), Height: contract.BlockHeight()}) {
		contract.Abortf("exists: log entry %s exists; it is never overwritten", k)
	}
	logs.Seal(k)
}

//go:wasmexport register
func register() {
	contract.Handle(func(a model.RegisterDatasetArgs) (any, error) {
		if err := contract.CheckRole("site", "sponsor"); err != nil {
			return nil, refuse("forbidden", "only a data custodian (role site or sponsor) may register a dataset (caller role %q)", contract.CallerRole())
		}
		d := a.Dataset
		d.Custodian = contract.CallerOrg()
		if err := d.Validate(); err != nil {
			return nil, err
		}
		if _, ok := datasets.Get(d.ID); ok {
			return nil, refuse("exists", "dataset %q is already registered", d.ID)
		}
		v := model.DatasetView{Dataset: d, Registered: model.Manifestation{
			PrintedName: d.Custodian, Meaning: "custodian registration", Time: now(), Signer: callerHex(), Org: d.Custodian}}
		if !datasets.Create(d.ID, v) {
			return nil, refuse("exists", "dataset %q is already registered", d.ID)
		}
		logEntry(d.ID, "register", d.ID, "", "codes "+join(d.Codes))
		contract.EmitJSON("genome.registered", map[string]any{"dataset": d.ID, "codes": d.Codes})
		return public(v), nil
	})
}

func join(xs []string) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += ", "
		}
		s += model.DUOName(x)
	}
	return s
}

func issue(r *model.Request, d *model.Dataset, dec model.Decision, byCommittee bool, consentHash string) model.Grant {
	n := next("grant")
	nowMs := contract.BlockTimeMilli()
	exp := nowMs + int64(dec.Days)*24*60*60*1000
	g := model.Grant{ID: model.Seq("grant-", n), Request: r.ID, Dataset: d.ID, Researcher: r.Researcher, Org: r.Org,
		Project: r.Request.Project, Conditions: dec.Conditions, IssuedAt: model.FormatMilli(nowMs),
		ExpiresAt: model.FormatMilli(exp), ExpiresMs: exp, ByCommittee: byCommittee, ConsentHash: consentHash}
	if !grants.Create(g.ID, g) {
		contract.Abortf("exists: grant %s exists; it is never overwritten", g.ID)
	}
	return g
}

// public is a dataset as anyone may see it. The location is never in
// state (register refuses it); clearing it keeps that true of answers
// even for state written before this rule.
func public(v model.DatasetView) model.DatasetView {
	v.Dataset.Location = ""
	return v
}

//go:wasmexport request
func request() {
	contract.Handle(func(a model.AccessRequest) (any, error) {
		if err := contract.CheckRole("researcher"); err != nil {
			return nil, refuse("forbidden", "only a researcher may request access (caller role %q)", contract.CallerRole())
		}
		if err := a.Validate(); err != nil {
			return nil, err
		}
		dv, ok := datasets.Get(a.Dataset)
		if !ok {
			return nil, refuse("not-found", "no dataset %q is registered", a.Dataset)
		}
		dec := model.Decide(&dv.Dataset, &a)
		r := model.Request{ID: model.Seq("req-", next("req")), Request: a, Researcher: callerHex(), Org: contract.CallerOrg(),
			Decision: dec, Status: dec.Outcome, Time: now(), Height: contract.BlockHeight()}
		logEntry(a.Dataset, "request", r.ID, "", "project "+a.Project+", purpose "+model.DUOName(a.Purpose))
		if dec.Outcome == model.Granted {
			g := issue(&r, &dv.Dataset, dec, false, "")
			r.Grant = g.ID
			logEntry(a.Dataset, "decision", r.ID, dec.Outcome, g.ID+" until "+g.ExpiresAt)
		} else {
			logEntry(a.Dataset, "decision", r.ID, dec.Outcome, dec.Rule+": "+dec.Reason)
		}
		if !requests.Create(r.ID, r) {
			return nil, refuse("exists", "request %s exists; it is never overwritten", r.ID)
		}
		if r.Status != model.Held {
			requests.Seal(r.ID) // decided
		}
		dv.Requests++
		datasets.Set(a.Dataset, dv)
		contract.EmitJSON("genome.decision", map[string]any{"request": r.ID, "outcome": dec.Outcome, "rule": dec.Rule, "grant": r.Grant})
		return r, nil
	})
}

//go:wasmexport decide
func decide() {
	contract.Handle(func(a model.DecideArgs) (any, error) {
		r, ok := requests.Get(a.Request)
		if !ok {
			return nil, refuse("not-found", "no request %q", a.Request)
		}
		if r.Status != model.Held {
			return nil, refuse("wrong-state", "request %s is %s, not held for the committee", r.ID, r.Status)
		}
		if a.Days < 0 || a.Days > model.MaxGrantDays {
			return nil, refuse("invalid", "days must be 0..%d", model.MaxGrantDays)
		}
		if a.Reason == "" || len(a.Reason) > model.MaxText {
			return nil, refuse("invalid", "the committee's decision needs a reason (at most %d bytes)", model.MaxText)
		}
		dv, _ := datasets.Get(r.Request.Dataset)
		digest := model.DecisionDigest(r.ID, dv.Dataset.ID, a.Approve, a.Days, a.Reason)
		meaning := consentcheck.RefuseGenomeData
		if a.Approve {
			meaning = consentcheck.ReleaseGenomeData
		}
		ch, err := consentcheck.Check(dv.Dataset.CommitteeGroup, meaning, digest, a.Consent)
		if err != nil {
			return nil, err
		}
		if a.Approve {
			dec := r.Decision
			if a.Days > 0 {
				dec.Days = a.Days
				if dv.Dataset.MaxDays > 0 && dec.Days > dv.Dataset.MaxDays {
					dec.Days = dv.Dataset.MaxDays
				}
			}
			g := issue(&r, &dv.Dataset, dec, true, ch)
			r.Grant, r.Status = g.ID, "approved"
			logEntry(dv.Dataset.ID, "committee", r.ID, "approved", g.ID+" until "+g.ExpiresAt+": "+a.Reason)
		} else {
			r.Status = "refused"
			logEntry(dv.Dataset.ID, "committee", r.ID, "refused", a.Reason)
		}
		requests.Set(r.ID, r)
		requests.Seal(r.ID) // decided
		contract.EmitJSON("genome.committee", map[string]any{"request": r.ID, "status": r.Status, "grant": r.Grant})
		return r, nil
	})
}

func loadGrant(id string) (model.Grant, error) {
	g, ok := grants.Get(id)
	if !ok {
		return g, refuse("not-found", "no grant %q", id)
	}
	return g, nil
}

//go:wasmexport access
func access() {
	contract.Handle(func(a model.GrantArgs) (any, error) {
		g, err := loadGrant(a.Grant)
		if err != nil {
			return nil, err
		}
		if callerHex() != g.Researcher {
			return nil, refuse("forbidden", "grant %s is held by another researcher", g.ID)
		}
		if g.Revoked {
			return nil, refuse("revoked", "grant %s was revoked at %s: %s", g.ID, g.RevokedAt, g.RevokeWhy)
		}
		if contract.BlockTimeMilli() >= g.ExpiresMs {
			return nil, refuse("expired", "grant %s expired at %s", g.ID, g.ExpiresAt)
		}
		rel, ok := releases.Get(g.ID)
		if !ok {
			return nil, refuse("not-released", "the custodian of dataset %s has not released its location to grant %s yet", g.Dataset, g.ID)
		}
		dv, _ := datasets.Get(g.Dataset)
		g.Accesses++
		grants.Set(g.ID, g)
		logEntry(g.Dataset, "access", g.ID, "", fmt.Sprintf("access %d by %s", g.Accesses, g.Org))
		contract.EmitJSON("genome.access", map[string]any{"grant": g.ID, "dataset": g.Dataset, "access": g.Accesses})
		return model.AccessResult{Grant: g.ID, Dataset: g.Dataset, LocationCommitment: dv.Dataset.LocationCommitment, Sealed: rel.Sealed,
			Hash: dv.Dataset.Hash, ExpiresAt: g.ExpiresAt, Access: g.Accesses}, nil
	})
}

//go:wasmexport release
func release() {
	contract.Handle(func(a model.ReleaseArgs) (any, error) {
		if err := a.Validate(); err != nil {
			return nil, err
		}
		g, err := loadGrant(a.Grant)
		if err != nil {
			return nil, err
		}
		dv, _ := datasets.Get(g.Dataset)
		if !((contract.CallerRole() == "site" || contract.CallerRole() == "sponsor") && contract.CallerOrg() == dv.Dataset.Custodian) {
			return nil, refuse("forbidden", "only the custodian of %s (%s, role site or sponsor) may release its location (caller %s, role %q)",
				g.Dataset, dv.Dataset.Custodian, contract.CallerOrg(), contract.CallerRole())
		}
		if g.Revoked {
			return nil, refuse("revoked", "grant %s was revoked at %s: nothing is released to it", g.ID, g.RevokedAt)
		}
		if contract.BlockTimeMilli() >= g.ExpiresMs {
			return nil, refuse("expired", "grant %s expired at %s: nothing is released to it", g.ID, g.ExpiresAt)
		}
		r := model.Release{Grant: g.ID, Dataset: g.Dataset, Researcher: g.Researcher, Sealed: a.Sealed, Releaser: callerHex(),
			Org: contract.CallerOrg(), Time: now(), Height: contract.BlockHeight()}
		if !releases.Create(g.ID, r) {
			return nil, refuse("exists", "the location of %s was already released to grant %s; a release is never replaced", g.Dataset, g.ID)
		}
		releases.Seal(g.ID)
		g.Released, g.ReleasedAt = true, r.Time
		grants.Set(g.ID, g)
		logEntry(g.Dataset, "release", g.ID, "", "location sealed to the researcher of "+g.ID)
		contract.EmitJSON("genome.released", map[string]any{"grant": g.ID, "dataset": g.Dataset})
		return r, nil
	})
}

//go:wasmexport revoke
func revoke() {
	contract.Handle(func(a model.GrantArgs) (any, error) {
		g, err := loadGrant(a.Grant)
		if err != nil {
			return nil, err
		}
		dv, _ := datasets.Get(g.Dataset)
		me := callerHex()
		delegate := false
		for _, k := range dv.Dataset.Delegates {
			delegate = delegate || k == me
		}
		custodian := (contract.CallerRole() == "site" || contract.CallerRole() == "sponsor") && contract.CallerOrg() == dv.Dataset.Custodian
		if !(delegate && contract.CallerRole() == "subject") && !custodian {
			return nil, refuse("forbidden", "only a delegate of the subjects of %s (role subject, a registered delegate key) or its custodian may revoke", g.Dataset)
		}
		if g.Revoked {
			return nil, refuse("revoked", "grant %s is already revoked", g.ID)
		}
		if a.Reason == "" || len(a.Reason) > model.MaxText {
			return nil, refuse("invalid", "a revocation needs a reason (at most %d bytes)", model.MaxText)
		}
		g.Revoked, g.RevokedBy, g.RevokedAt, g.RevokeWhy = true, me, now(), a.Reason
		grants.Set(g.ID, g)
		logEntry(g.Dataset, "revoke", g.ID, "revoked", a.Reason)
		contract.EmitJSON("genome.revoked", map[string]any{"grant": g.ID})
		return g, nil
	})
}

//go:wasmexport log
func logM() {
	contract.Handle(func(a model.DatasetArgs) (any, error) {
		if _, ok := datasets.Get(a.Dataset); !ok {
			return nil, refuse("not-found", "no dataset %q is registered", a.Dataset)
		}
		out := []model.LogEntry{}
		contract.Scan([]byte("log/"+a.Dataset+"/"), func(k, b []byte) bool {
			var e model.LogEntry
			if err := json.Unmarshal(b, &e); err != nil {
				contract.Abortf("corrupt state %q: %v", k, err)
			}
			out = append(out, e)
			return len(out) < 1000
		})
		return out, nil
	})
}

//go:wasmexport show
func show() {
	contract.Handle(func(a model.DatasetArgs) (any, error) {
		dv, ok := datasets.Get(a.Dataset)
		if !ok {
			return nil, refuse("not-found", "no dataset %q is registered", a.Dataset)
		}
		return public(dv), nil
	})
}

//go:wasmexport grant
func grant() {
	contract.Handle(func(a model.GrantArgs) (any, error) {
		return loadGrant(a.Grant)
	})
}

// init prepares the JSON encoding of the methods' arguments during
// initialisation, once at deploy: every call starts from the initialised
// state, so work left to the first call would be paid by every call.
func init() {
	contract.Prepare[model.RegisterDatasetArgs]()
	contract.Prepare[model.AccessRequest]()
	contract.Prepare[model.DecideArgs]()
	contract.Prepare[model.GrantArgs]()
	contract.Prepare[model.ReleaseArgs]()
	contract.Prepare[model.DatasetArgs]()
}

func main() {}
