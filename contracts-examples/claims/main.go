// Command claims is the TrialChain contract that settles insurance claims
// by published rules (package trials/care). A payer (role sponsor: the
// funding organisation) publishes a coverage plan; a provider (role site)
// records a performed procedure by the hash of its off-chain record and
// submits a claim for it, shaped after FHIR R4 Claim with a pseudonymous
// patient; the contract adjudicates deterministically (care.Adjudicate):
// approved, denied with the rule that failed, or pended for the payer's
// review. Payment then moves approved → paid (the payer's transaction) →
// settled (the provider's), so both parties sign the money's path. Build
// it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o claims.wasm ./contracts-examples/claims
//
// Methods:
//
//	plan       care.PlanArgs       sponsor: publishes a plan (new id; a plan is never changed, publish a new one)
//	procedure  care.ProcedureArgs  site: records a performed procedure by hash
//	submit     care.ClaimArgs      site that recorded the procedure: returns care.ClaimView
//	review     care.ReviewArgs     the plan's payer: decides a pended claim
//	pay        care.PaymentArgs    the plan's payer: approved → paid
//	confirm    care.PaymentArgs    the claim's provider: paid → settled
//	show       care.ClaimQuery     anyone: care.ClaimView
//
// # Where refusals are logged
//
// submit, review, pay and confirm first join the plan's record set
// (care.ClaimScope), before any check, so a refused claim (for a
// procedure never recorded, or already claimed) is a failed receipt in
// the plan's set with its code and reason; procedure joins the provider's
// set "procedures:ORG". A claim and each response state are also kept in
// state; a claimed procedure is sealed with its claim id.
package main

import (
	"github.com/trialchain/trialchain/sdk/contract"
	"github.com/trialchain/trialchain/trials/care"
	"github.com/trialchain/trialchain/trials/model"
)

// State layout (JSON values):
//
//	plan/<id>        care.Plan (sealed)
//	proc/<hash>      care.Procedure (sealed once claimed)
//	claim/<id>       care.ClaimView
var (
	plans  = contract.NewMap[care.Plan]("plan")
	procs  = contract.NewMap[care.Procedure]("proc")
	claims = contract.NewMap[care.ClaimView]("claim")
)

func now() string { return model.FormatMilli(contract.BlockTimeMilli()) }

//go:wasmexport plan
func plan() {
	contract.Handle(func(a care.PlanArgs) (any, error) {
		p := a.Plan
		contract.TryRecordScope(care.ClaimScope(p.ID))
		if err := contract.CheckRole("sponsor"); err != nil {
			return nil, contract.Refuse("forbidden", "only a payer (role sponsor) publishes coverage (caller role %q)", contract.CallerRole())
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
		p.Payer = contract.CallerOrg()
		if !plans.Create(p.ID, p) {
			return nil, contract.Refuse("exists", "plan %s exists; publish a new plan id", p.ID)
		}
		plans.Seal(p.ID)
		contract.EmitJSON("claims.plan", map[string]any{"plan": p.ID, "payer": p.Payer, "benefits": len(p.Benefits)})
		return p, nil
	})
}

//go:wasmexport procedure
func procedure() {
	contract.Handle(func(a care.ProcedureArgs) (any, error) {
		p := a.Procedure
		contract.TryRecordScope("procedures:" + contract.CallerOrg())
		if err := contract.CheckRole("site"); err != nil {
			return nil, contract.Refuse("forbidden", "only a provider (role site) records procedures (caller role %q)", contract.CallerRole())
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
		p.Provider, p.Claim = contract.CallerOrg(), ""
		if !procs.Create(p.Hash, p) {
			return nil, contract.Refuse("exists", "procedure %s is already recorded", p.Hash)
		}
		contract.EmitJSON("claims.procedure", map[string]string{"procedure": p.Hash, "code": p.Code})
		return p, nil
	})
}

//go:wasmexport submit
func submit() {
	contract.Handle(func(a care.ClaimArgs) (any, error) {
		c := a.Claim
		contract.TryRecordScope(care.ClaimScope(c.Insurer))
		if err := contract.CheckRole("site"); err != nil {
			return nil, contract.Refuse("forbidden", "only a provider (role site) submits claims (caller role %q)", contract.CallerRole())
		}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		pl, ok := plans.Get(c.Insurer)
		if !ok {
			return nil, contract.Refuse("not-found", "no plan %q", c.Insurer)
		}
		proc, ok := procs.Get(c.Procedure)
		if !ok || proc.Provider != contract.CallerOrg() {
			return nil, contract.Refuse(care.CodeProcedureUnknown, "procedure %s was never recorded by %s: record it before claiming", c.Procedure, contract.CallerOrg())
		}
		if proc.Claim != "" {
			return nil, contract.Refuse(care.CodeAlreadyClaimed, "procedure %s was already claimed by claim %s", c.Procedure, proc.Claim)
		}
		if proc.Patient != c.Patient {
			return nil, contract.Refuse("invalid", "claim %s names patient %s, the procedure was recorded for %s", c.ID, c.Patient, proc.Patient)
		}
		c.Provider, c.Created = contract.CallerOrg(), now()
		r := care.Adjudicate(&pl, &proc, &c)
		r.Created = c.Created
		if !claims.Create(c.ID, care.ClaimView{Claim: c, Response: r}) {
			return nil, contract.Refuse("exists", "claim %s exists", c.ID)
		}
		proc.Claim = c.ID
		procs.Set(proc.Hash, proc)
		procs.Seal(proc.Hash) // claimed once, forever
		contract.EmitJSON("claims.adjudicated", map[string]any{"claim": c.ID, "decision": r.Decision, "rule": r.Rule, "payable": r.Payable})
		return care.ClaimView{Claim: c, Response: r}, nil
	})
}

// load returns claim id, having joined its plan's record set.
func load(id string) (care.ClaimView, care.Plan, error) {
	v, ok := claims.Get(id)
	if !ok {
		return v, care.Plan{}, contract.Refuse("not-found", "no claim %q", id)
	}
	contract.RecordScope(care.ClaimScope(v.Claim.Insurer))
	p, _ := plans.Get(v.Claim.Insurer)
	return v, p, nil
}

func requirePayer(p *care.Plan) error {
	if contract.CheckRole("sponsor") != nil || contract.CallerOrg() != p.Payer {
		return contract.Refuse("forbidden", "only %s, the payer of plan %s (role sponsor), may do this", p.Payer, p.ID)
	}
	return nil
}

//go:wasmexport review
func review() {
	contract.Handle(func(a care.ReviewArgs) (any, error) {
		v, p, err := load(a.Claim)
		if err != nil {
			return nil, err
		}
		if err := requirePayer(&p); err != nil {
			return nil, err
		}
		if v.Response.Decision != care.Pended {
			return nil, contract.Refuse("wrong-state", "claim %s is %s, not pended for review", a.Claim, v.Response.Decision)
		}
		if a.Reason == "" || len(a.Reason) > model.MaxText {
			return nil, contract.Refuse("invalid", "a review needs a reason (at most %d bytes)", model.MaxText)
		}
		r := &v.Response
		r.Outcome, r.Reason, r.ReviewedBy = "complete", a.Reason, contract.CallerHex()
		if a.Approve {
			r.Decision, r.Payment = care.Approved, care.PayApproved
		} else {
			r.Decision, r.Payment, r.Payable, r.Patient = care.Denied, care.PayNone, 0, 0
		}
		claims.Set(a.Claim, v)
		contract.EmitJSON("claims.reviewed", map[string]any{"claim": a.Claim, "decision": r.Decision})
		return v, nil
	})
}

//go:wasmexport pay
func pay() {
	contract.Handle(func(a care.PaymentArgs) (any, error) {
		v, p, err := load(a.Claim)
		if err != nil {
			return nil, err
		}
		if err := requirePayer(&p); err != nil {
			return nil, err
		}
		if v.Response.Payment != care.PayApproved {
			return nil, contract.Refuse("wrong-state", "claim %s payment is %s, not approved", a.Claim, v.Response.Payment)
		}
		if model.Ident("ref", a.Ref) != nil {
			return nil, contract.Refuse("invalid", "a payment needs its reference (letters, digits, . _ : -)")
		}
		v.Response.Payment, v.Response.PaymentRef, v.Response.PaidBy = care.PayPaid, a.Ref, contract.CallerHex()
		claims.Set(a.Claim, v)
		contract.EmitJSON("claims.paid", map[string]any{"claim": a.Claim, "amount": v.Response.Payable, "ref": a.Ref})
		return v, nil
	})
}

//go:wasmexport confirm
func confirm() {
	contract.Handle(func(a care.PaymentArgs) (any, error) {
		v, _, err := load(a.Claim)
		if err != nil {
			return nil, err
		}
		if contract.CheckRole("site") != nil || contract.CallerOrg() != v.Claim.Provider {
			return nil, contract.Refuse("forbidden", "only %s, the provider of claim %s, may confirm its payment", v.Claim.Provider, a.Claim)
		}
		if v.Response.Payment != care.PayPaid {
			return nil, contract.Refuse("wrong-state", "claim %s payment is %s, not paid", a.Claim, v.Response.Payment)
		}
		if a.Ref != v.Response.PaymentRef {
			return nil, contract.Refuse("invalid", "payment reference %q is not the payer's %q", a.Ref, v.Response.PaymentRef)
		}
		v.Response.Payment, v.Response.ConfirmedBy = care.PaySettled, contract.CallerHex()
		claims.Set(a.Claim, v)
		claims.Seal(a.Claim) // settled: final
		contract.EmitJSON("claims.settled", map[string]any{"claim": a.Claim})
		return v, nil
	})
}

//go:wasmexport show
func show() {
	contract.Handle(func(a care.ClaimQuery) (any, error) {
		v, ok := claims.Get(a.Claim)
		if !ok {
			return nil, contract.Refuse("not-found", "no claim %q", a.Claim)
		}
		return v, nil
	})
}

// init prepares the JSON encoding of the methods' arguments and results
// during initialisation, once at deploy: every call starts from the
// initialised state, so work left to the first call is paid by every call.
func init() {
	contract.Prepare[care.PlanArgs]()
	contract.Prepare[care.ProcedureArgs]()
	contract.Prepare[care.ClaimArgs]()
	contract.Prepare[care.ReviewArgs]()
	contract.Prepare[care.PaymentArgs]()
	contract.Prepare[care.ClaimQuery]()
	contract.Prepare[care.ClaimView]()
}

func main() {}
