package care

import (
	"github.com/trialchain/trialchain/trials/model"
)

// Benefit is one covered procedure of a plan: the most the payer pays for
// it, the patient's share, and whether it needs prior authorisation.
type Benefit struct {
	Code        string `json:"code"`        // procedure code (e.g. SNOMED CT 80146002)
	Limit       int64  `json:"limit"`       // the most paid per claim, minor units (cents)
	Coinsurance int    `json:"coinsurance"` // the patient's share, percent 0..100
	PriorAuth   bool   `json:"priorAuth"`   // needs a prior-authorisation reference
}

// Plan is a payer's coverage rules, published as contract state.
type Plan struct {
	ID          string    `json:"id"`
	Currency    string    `json:"currency"` // ISO 4217, e.g. EUR
	Benefits    []Benefit `json:"benefits"`
	ReviewAbove int64     `json:"reviewAbove,omitempty"` // a claim above this total pends for review; 0: none
	Payer       string    `json:"payer,omitempty"`       // set by the contract: the publishing organisation
}

// Validate checks a plan before it is published.
func (p *Plan) Validate() error {
	if err := model.Ident("plan.id", p.ID); err != nil {
		return err
	}
	if len(p.Currency) != 3 {
		return errf("invalid", "plan %s: currency %q is not an ISO 4217 code", p.ID, p.Currency)
	}
	if len(p.Benefits) == 0 || len(p.Benefits) > model.MaxList {
		return errf("invalid", "plan %s: 1..%d benefits", p.ID, model.MaxList)
	}
	seen := map[string]bool{}
	for i, b := range p.Benefits {
		if err := model.Ident(sprintf("benefits[%d].code", i), b.Code); err != nil {
			return err
		}
		if seen[b.Code] {
			return errf("invalid", "plan %s: benefit %s twice", p.ID, b.Code)
		}
		seen[b.Code] = true
		if b.Limit <= 0 || b.Coinsurance < 0 || b.Coinsurance > 100 {
			return errf("invalid", "plan %s: benefit %s: limit must be > 0 and coinsurance 0..100", p.ID, b.Code)
		}
	}
	if p.ReviewAbove < 0 {
		return errf("invalid", "plan %s: reviewAbove must be >= 0", p.ID)
	}
	return nil
}

// Procedure is a performed procedure as the provider records it for
// billing: the hash of its off-chain record (e.g. a surgical record's
// digest), the code and a pseudonymous patient.
type Procedure struct {
	Hash     string `json:"hash"` // 64 hex: the procedure record's SHA-256
	Patient  string `json:"patient"`
	Code     string `json:"code"`
	Date     string `json:"date"` // YYYY-MM-DD
	Provider string `json:"provider,omitempty"`
	Claim    string `json:"claim,omitempty"` // the claim made for it, once claimed
}

// Validate checks a procedure before it is recorded.
func (p *Procedure) Validate() error {
	if !model.IsHash(p.Hash) {
		return errf("invalid", "procedure hash must be 64 lowercase hex")
	}
	if err := model.Ident("procedure.patient", p.Patient); err != nil {
		return err
	}
	if err := model.Ident("procedure.code", p.Code); err != nil {
		return err
	}
	if _, err := model.ParseDate("procedure.date", p.Date); err != nil {
		return err
	}
	return nil
}

// Item is a line of a claim (FHIR R4 Claim.item).
type Item struct {
	Sequence         int    `json:"sequence"`
	ProductOrService string `json:"productOrService"` // the procedure code
	Net              int64  `json:"net"`              // minor units
}

// Claim is a provider's claim, shaped after FHIR R4 Claim: use "claim",
// the patient a pseudonym, the insurer the plan, the procedure by hash.
type Claim struct {
	ID         string `json:"id"`
	Use        string `json:"use"` // claim
	Patient    string `json:"patient"`
	Insurer    string `json:"insurer"`   // the plan id
	Procedure  string `json:"procedure"` // the procedure record's hash
	PreAuthRef string `json:"preAuthRef,omitempty"`
	Items      []Item `json:"item"`
	Provider   string `json:"provider,omitempty"` // set by the contract
	Created    string `json:"created,omitempty"`  // set by the contract
}

// Total is the sum of the items' net amounts.
func (c *Claim) Total() int64 {
	var t int64
	for _, it := range c.Items {
		t += it.Net
	}
	return t
}

// Validate checks a claim's shape before it is submitted.
func (c *Claim) Validate() error {
	if err := model.Ident("claim.id", c.ID); err != nil {
		return err
	}
	if c.Use != "claim" {
		return errf("invalid", "claim %s: use %q: only \"claim\" is settled here", c.ID, c.Use)
	}
	if err := model.Ident("claim.patient", c.Patient); err != nil {
		return err
	}
	if err := model.Ident("claim.insurer", c.Insurer); err != nil {
		return err
	}
	if !model.IsHash(c.Procedure) {
		return errf("invalid", "claim %s: procedure must be the 64-hex hash of a recorded procedure", c.ID)
	}
	if c.PreAuthRef != "" {
		if err := model.Ident("claim.preAuthRef", c.PreAuthRef); err != nil {
			return err
		}
	}
	if len(c.Items) == 0 || len(c.Items) > model.MaxList {
		return errf("invalid", "claim %s: 1..%d items", c.ID, model.MaxList)
	}
	for i, it := range c.Items {
		if it.Sequence != i+1 || it.Net <= 0 || it.Net > 1e12 {
			return errf("invalid", "claim %s: item %d: sequence must be %d and net 1..1e12 minor units", c.ID, i, i+1)
		}
		if err := model.Ident("claim.item.productOrService", it.ProductOrService); err != nil {
			return err
		}
	}
	return nil
}

// Adjudication outcomes (ClaimResponse.outcome is "complete" for approved
// and denied, "queued" for pended) and payment states.
const (
	Approved = "approved"
	Denied   = "denied"
	Pended   = "pended"

	PayNone     = "none"     // nothing to pay (denied) or not yet decided (pended)
	PayApproved = "approved" // the payer owes Payable
	PayPaid     = "paid"     // the payer says it paid (signed by the payer)
	PaySettled  = "settled"  // the provider confirms receipt (signed by the provider)
)

// Response is the payer's answer, shaped after FHIR R4 ClaimResponse.
type Response struct {
	Claim       string `json:"request"`
	Outcome     string `json:"outcome"` // complete | queued
	Decision    string `json:"decision"`
	Reason      string `json:"disposition"`
	Rule        string `json:"rule,omitempty"` // the rule that decided: not-covered, over-limit, prior-auth, review
	Payable     int64  `json:"payable"`        // the payer's share, minor units
	Patient     int64  `json:"patientShare"`
	Payment     string `json:"payment"`
	PaymentRef  string `json:"paymentRef,omitempty"`
	Currency    string `json:"currency"`
	Created     string `json:"created,omitempty"`
	ReviewedBy  string `json:"reviewedBy,omitempty"`
	PaidBy      string `json:"paidBy,omitempty"`
	ConfirmedBy string `json:"confirmedBy,omitempty"`
}

// Adjudicate applies plan to c: every item's code must be a benefit of
// the plan (else denied: not-covered); the procedure's code must be billed;
// a benefit needing prior authorisation without preAuthRef pends
// (prior-auth); a total above the plan's review threshold pends (review).
// An approved item pays min(net, limit) less the coinsurance, in integer
// minor units rounded down.
func Adjudicate(plan *Plan, proc *Procedure, c *Claim) Response {
	r := Response{Claim: c.ID, Outcome: "complete", Currency: plan.Currency}
	billed := false
	var pay, total int64
	pend := ""
	for _, it := range c.Items {
		var b *Benefit
		for i := range plan.Benefits {
			if plan.Benefits[i].Code == it.ProductOrService {
				b = &plan.Benefits[i]
			}
		}
		if b == nil {
			r.Decision, r.Rule, r.Payment = Denied, "not-covered", PayNone
			r.Reason = sprintf("item %d: %s is not a benefit of plan %s", it.Sequence, it.ProductOrService, plan.ID)
			return r
		}
		billed = billed || it.ProductOrService == proc.Code
		amt := min(it.Net, b.Limit)
		pay += amt - amt*int64(b.Coinsurance)/100
		total += it.Net
		if b.PriorAuth && c.PreAuthRef == "" && pend == "" {
			pend = sprintf("item %d: %s needs prior authorisation and the claim has no preAuthRef", it.Sequence, it.ProductOrService)
		}
	}
	if !billed {
		r.Decision, r.Rule, r.Payment = Denied, "procedure-mismatch", PayNone
		r.Reason = sprintf("no item bills the recorded procedure's code %s", proc.Code)
		return r
	}
	r.Payable, r.Patient = pay, total-pay
	switch {
	case pend != "":
		r.Decision, r.Rule, r.Reason = Pended, "prior-auth", pend
	case plan.ReviewAbove > 0 && total > plan.ReviewAbove:
		r.Decision, r.Rule, r.Reason = Pended, "review", sprintf("total %d above the plan's review threshold %d", total, plan.ReviewAbove)
	default:
		r.Decision, r.Reason = Approved, sprintf("covered by plan %s", plan.ID)
	}
	if r.Decision == Pended {
		r.Outcome, r.Payment = "queued", PayNone
	} else {
		r.Payment = PayApproved
	}
	return r
}

// Arguments of the claims methods.
type (
	PlanArgs struct {
		Plan Plan `json:"plan"`
	}
	ProcedureArgs struct {
		Procedure Procedure `json:"procedure"`
	}
	ClaimArgs struct {
		Claim Claim `json:"claim"`
	}
	ReviewArgs struct {
		Claim   string `json:"claim"`
		Approve bool   `json:"approve"`
		Reason  string `json:"reason"`
	}
	PaymentArgs struct {
		Claim string `json:"claim"`
		Ref   string `json:"ref"` // the payment's reference (e.g. a bank transfer id)
	}
	ClaimQuery struct {
		Claim string `json:"claim"`
	}
)

// ClaimView is a claim with its response, as the contract returns it.
type ClaimView struct {
	Claim    Claim    `json:"claim"`
	Response Response `json:"response"`
}

// ClaimScope is the record set of a plan's claims: every procedure
// recorded for it, claim, review and payment step, refused ones included.
func ClaimScope(plan string) string { return "claims:" + plan }
