package care_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/care"
)

var (
	payer    = newActor("payer", "insurer-1", "sponsor")
	payer2   = newActor("payer-2", "insurer-2", "sponsor")
	provider = newActor("provider", "hospital-a", "site")
	other    = newActor("other-provider", "hospital-b", "site")
)

func procHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// wantResponse checks a claim's decision, rule, payable amount and payment state.
func wantResponse(decision, rule string, payable int64, payment string) func(t *testing.T, out json.RawMessage) {
	return func(t *testing.T, out json.RawMessage) {
		t.Helper()
		var v care.ClaimView
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatal(err)
		}
		r := v.Response
		if r.Decision != decision || r.Rule != rule || r.Payable != payable || r.Payment != payment {
			t.Fatalf("response %+v, want %s/%s payable %d payment %s", r, decision, rule, payable, payment)
		}
	}
}

// TestClaims plays the claims contract on the real VM: a plan published,
// procedures recorded by hash, claims adjudicated (approved, denied,
// pended and reviewed), payment signed by both parties, and every bad
// input refused with its own code and recorded in the plan's record set.
func TestClaims(t *testing.T) {
	c := newChain(t, start)
	plan := care.Plan{ID: "plan-2026", Currency: "EUR", ReviewAbove: 500_000, Benefits: []care.Benefit{
		{Code: "80146002", Limit: 300_000, Coinsurance: 20},                     // appendectomy
		{Code: "232717009", Limit: 1_500_000, Coinsurance: 10, PriorAuth: true}, // coronary bypass
	}}
	scope := care.ClaimScope(plan.ID)
	appx, bypass, mri, never := procHash("appendectomy p-1"), procHash("bypass p-2"), procHash("mri p-3"), procHash("never recorded")
	claim := func(id, proc, patient, code string, net int64) care.ClaimArgs {
		return care.ClaimArgs{Claim: care.Claim{ID: id, Use: "claim", Patient: patient, Insurer: plan.ID, Procedure: proc,
			Items: []care.Item{{Sequence: 1, ProductOrService: code, Net: net}}}}
	}
	steps := []step{
		{name: "a provider cannot publish coverage", who: provider, method: "plan", args: care.PlanArgs{Plan: plan}, code: "forbidden", scope: scope},
		{name: "the payer publishes its plan", who: payer, method: "plan", args: care.PlanArgs{Plan: plan}, scope: scope},
		{name: "the plan is never replaced", who: payer, method: "plan", args: care.PlanArgs{Plan: plan}, code: "exists", scope: scope},
		{name: "the provider records an appendectomy", who: provider, method: "procedure", args: care.ProcedureArgs{Procedure: care.Procedure{Hash: appx, Patient: "p-1", Code: "80146002", Date: "2026-03-01"}}},
		{name: "the provider records a bypass", who: provider, method: "procedure", args: care.ProcedureArgs{Procedure: care.Procedure{Hash: bypass, Patient: "p-2", Code: "232717009", Date: "2026-03-01"}}},
		{name: "the provider records an MRI", who: provider, method: "procedure", args: care.ProcedureArgs{Procedure: care.Procedure{Hash: mri, Patient: "p-3", Code: "241615005", Date: "2026-03-01"}}},
		{name: "a claim for a procedure never recorded", who: provider, method: "submit", args: claim("cl-0", never, "p-1", "80146002", 100_000), code: care.CodeProcedureUnknown, scope: scope},
		{name: "a claim for another provider's procedure", who: other, method: "submit", args: claim("cl-0", appx, "p-1", "80146002", 100_000), code: care.CodeProcedureUnknown, scope: scope},
		{name: "the appendectomy: approved, 20% coinsurance", who: provider, method: "submit", args: claim("cl-1", appx, "p-1", "80146002", 250_000), scope: scope,
			check: wantResponse(care.Approved, "", 200_000, care.PayApproved)},
		{name: "the appendectomy claimed again", who: provider, method: "submit", args: claim("cl-2", appx, "p-1", "80146002", 250_000), code: care.CodeAlreadyClaimed, scope: scope},
		{name: "the MRI: not covered", who: provider, method: "submit", args: claim("cl-3", mri, "p-3", "241615005", 80_000), scope: scope,
			check: wantResponse(care.Denied, "not-covered", 0, care.PayNone)},
		{name: "the bypass without prior authorisation", who: provider, method: "submit", args: claim("cl-5", bypass, "p-2", "232717009", 1_200_000), scope: scope,
			check: wantResponse(care.Pended, "prior-auth", 1_080_000, care.PayNone)},
		{name: "pay a pended claim", who: payer, method: "pay", args: care.PaymentArgs{Claim: "cl-5", Ref: "tx-1"}, code: "wrong-state", scope: scope},
		{name: "another payer reviews", who: payer2, method: "review", args: care.ReviewArgs{Claim: "cl-5", Approve: true, Reason: "ok"}, code: "forbidden", scope: scope},
		{name: "the payer approves on review", who: payer, method: "review", args: care.ReviewArgs{Claim: "cl-5", Approve: true, Reason: "authorisation pa-77 found on file"}, scope: scope,
			check: wantResponse(care.Approved, "prior-auth", 1_080_000, care.PayApproved)},
		{name: "the provider confirms before payment", who: provider, method: "confirm", args: care.PaymentArgs{Claim: "cl-1", Ref: "tx-1"}, code: "wrong-state", scope: scope},
		{name: "the provider marks its own claim paid", who: provider, method: "pay", args: care.PaymentArgs{Claim: "cl-1", Ref: "tx-1"}, code: "forbidden", scope: scope},
		{name: "the payer pays", who: payer, method: "pay", args: care.PaymentArgs{Claim: "cl-1", Ref: "sepa-0001"}, scope: scope,
			check: wantResponse(care.Approved, "", 200_000, care.PayPaid)},
		{name: "the provider confirms another reference", who: provider, method: "confirm", args: care.PaymentArgs{Claim: "cl-1", Ref: "sepa-9999"}, code: "invalid", scope: scope},
		{name: "the provider confirms receipt", who: provider, method: "confirm", args: care.PaymentArgs{Claim: "cl-1", Ref: "sepa-0001"}, scope: scope,
			check: wantResponse(care.Approved, "", 200_000, care.PaySettled)},
		{name: "a settled claim cannot be paid again", who: payer, method: "pay", args: care.PaymentArgs{Claim: "cl-1", Ref: "sepa-0002"}, code: "wrong-state", scope: scope},
	}
	c.play(t, trials.Claims, steps)
	refusals := 0
	for _, j := range c.sets[scope] {
		if j.err != "" {
			refusals++
		}
	}
	if want := countRefusals(steps); refusals != want {
		t.Fatalf("record set %s holds %d refusals, want %d", scope, refusals, want)
	}
	c.replay(t, start)
}
