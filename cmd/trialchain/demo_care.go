package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/care"
)

// The care chapter (trialchain demo --chapter care, make demo-more): the
// platform carrying healthcare beyond trials as three contracts — record
// sharing under FHIR R4 Consents, claims, drug traceability — each bad
// input refused and found again in its record set.
var careSteps = []demoStep{
	{"care people", demoCarePeople},
	{"care contracts", demoCareContracts},
	{"record sharing", demoSharing},
	{"claims", demoClaims},
	{"drug traceability", demoTrace},
}

var careMembers = []demoMember{
	{"patient", "P. Seven (patient, own key)", "patients", block.RoleSubject},
	{"hospital-a", "St Mary's records office", "hospital-a", block.RoleSite},
	{"hospital-b", "City Hospital emergency", "hospital-b", block.RoleSite},
	{"hospital-c", "Harbour Clinic", "hospital-c", block.RoleSite},
	{"insurer", "Mutual Health claims", "insurer-1", block.RoleSponsor},
	{"pharma", "Pharma Co. packaging line", "pharma-co", block.RoleSponsor},
	{"wholesaler", "Wholesale One warehouse", "wholesale-1", block.RoleSite},
	{"pharmacy", "Corner Pharmacy", "pharmacy-1", block.RoleSite},
}

func demoCarePeople(d *demoEnv) error {
	d.trial = &trialDemo{addr: map[string]block.Hash{}, groups: map[string]*demoGroup{}, printed: map[string]string{}}
	d.say("The network admin registers hospitals, a patient, an insurer, a manufacturer, a wholesaler and a pharmacy")
	admin, err := d.key("admin")
	if err != nil {
		return err
	}
	var txs []*block.Tx
	for _, m := range careMembers {
		k, err := d.ring.New(m.key)
		if err != nil {
			return err
		}
		p := &block.RegisterPayload{Key: k.Public(), Org: m.org, Name: m.key, Role: m.role}
		txs = append(txs, client.Sign(admin, d.chainID, block.KindRegister, p.Encode(), 100_000))
	}
	if err := d.submitAll(txs); err != nil {
		return err
	}
	for _, m := range careMembers {
		d.detail("%-11s %-28s %-12s %s", m.key, m.printed, m.org, m.role)
	}
	return nil
}

func demoCareContracts(d *demoEnv) error {
	d.say("Three contracts written only against sdk/contract are deployed and pinned: record-sharing, claims, drug-trace")
	sponsor, err := d.key("sponsor")
	if err != nil {
		return err
	}
	admin, err := d.key("admin")
	if err != nil {
		return err
	}
	names := []string{trials.RecordSharing, trials.Claims, trials.DrugTrace}
	var txs []*block.Tx
	for _, n := range names {
		code, err := os.ReadFile(filepath.Join(d.contracts, n+".wasm"))
		if err != nil {
			return fmt.Errorf("%w (run 'make contracts' first, or pass --contracts DIR)", err)
		}
		tx := client.DeployTx(sponsor, d.chainID, code, block.PolicyOwner, nil, n)
		d.trial.addr[n] = client.ContractAddress(tx)
		txs = append(txs, tx)
		d.detail("%-15s %7d bytes  → %s", n, len(code), d.trial.addr[n])
	}
	if err := d.submitAll(txs); err != nil {
		return err
	}
	txs = txs[:0]
	for _, n := range names {
		if err := d.clients[0].WaitActive(d.ctx, d.trial.addr[n]); err != nil {
			return err
		}
		p := &block.PinPayload{Name: n, Contract: d.trial.addr[n], Reason: "the care contracts of the demo"}
		txs = append(txs, client.Sign(admin, d.chainID, block.KindPin, p.Encode(), 200_000))
	}
	if err := d.submitAll(txs); err != nil {
		return fmt.Errorf("pinning the care contracts: %w", err)
	}
	d.fact("3 care contracts deployed and pinned; the CLI finds them as 'share', or by 'contract call' on the pinned address")
	return nil
}

// careCall sends a care call and prints what happened; a refusal is an
// error unless want names its code, and then it must be that code.
func (d *demoEnv) careCall(as, what, want string, contract, method string, args any, out any) error {
	c, err := trials.CareCall(contract, method, args)
	if err != nil {
		return err
	}
	err = d.call(as, c, out)
	var r *refusal
	switch {
	case want == "" && err == nil:
		d.detail("%s: ACCEPTED", what)
		return nil
	case want == "":
		return fmt.Errorf("%s: %w", what, err)
	case errors.As(err, &r):
		msg, _ := abortMessage(r.msg)
		if !strings.HasPrefix(msg, want+": ") {
			return fmt.Errorf("%s: refused with %q, want code %s", what, msg, want)
		}
		d.detail("%s: REFUSED (%s)", what, msg)
		return nil
	case err == nil:
		return fmt.Errorf("%s: accepted, but should have been refused with %s", what, want)
	default:
		return err
	}
}

// auditSet lists a record set as an auditor does and reports its refusals.
func (d *demoEnv) auditSet(name string) (int, error) {
	recs, count, err := listScope(d.ctx, d.clients[3], name, 1000)
	if err != nil {
		return 0, err
	}
	refused := 0
	for _, r := range recs {
		if r.Status != "ok" {
			refused++
		}
	}
	d.detail("an auditor lists record set %s on node3: %d records, %d of them refusals with their reasons", name, count, refused)
	return refused, nil
}

const (
	demoPatient = "p-7f3a9c"
	demoTreat   = "http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT"
	demoClass   = "urn:ietf:bcp:13|application/fhir+json"
	demoSummary = "http://loinc.org|34133-9"
)

func demoSharing(d *demoEnv) error {
	d.say("Record sharing: a patient's FHIR R4 Consent lets City Hospital read a discharge summary St Mary's holds")
	if d.fixturesDir != "" {
		if b, err := os.ReadFile(filepath.Join(d.fixturesDir, "fhir-r4/Consent-consent-example-signature.json")); err == nil {
			c, err := care.ImportConsent(b)
			if err != nil {
				return fmt.Errorf("the HL7 example consent: %w", err)
			}
			d.detail("the HL7 example Consent imports: %s, period %s..%s, %d nested provision (%s, class %s)", c.ID, c.Root.Start, c.Root.End,
				len(c.Provisions), c.Provisions[0].Type, c.Provisions[0].Classes[0])
		}
	}
	consentDoc := care.Consent{ID: "c-2026-001", Patient: demoPatient, Status: care.StatusActive,
		Scope: care.SystemConsentScope + "|patient-privacy", PolicyRule: care.SystemActCode + "|OPTIN",
		Root:       care.Provision{Start: "2026-01-01", End: "2030-12-31", Actors: []care.Actor{{Role: care.SystemParticipation + "|PRCP", Reference: care.OrgActor("hospital-b")}}},
		Provisions: []care.Provision{{Type: care.Permit, Purposes: []string{demoTreat}, Classes: []string{demoClass}}}}
	fhir, err := care.ExportConsent(&consentDoc)
	if err != nil {
		return err
	}
	grant, _, err := trials.GrantConsentCall(fhir)
	if err != nil {
		return err
	}
	summary := []byte(`{"resourceType":"Composition","title":"Discharge summary","subject":{"reference":"Patient/p-7f3a9c"}}`)
	custodian, err := d.key("hospital-a")
	if err != nil {
		return err
	}
	rec := care.SharedRecord{ID: "r-1", Patient: demoPatient, Class: demoClass, Code: demoSummary,
		Commitment: trials.RecordCommitment(trials.RecordSalt(custodian, "r-1"), summary)}
	rs := trials.RecordSharing
	if err := d.careCall("hospital-a", "St Mary's registers the summary by a salted commitment (the bytes stay with it)", "", rs, "record", care.RecordArgs{Record: rec}, nil); err != nil {
		return err
	}
	if err := d.careCall("hospital-b", "City Hospital reads without consent", care.CodeNoConsent, rs, "request", care.RequestArgs{Record: "r-1", Purpose: demoTreat}, nil); err != nil {
		return err
	}
	if err := d.call("patient", grant, nil); err != nil {
		return fmt.Errorf("grant: %w", err)
	}
	d.detail("the patient grants FHIR R4 Consent c-2026-001 (%d bytes of JSON): permit Organization/hospital-b, purpose TREAT, class application/fhir+json: ACCEPTED", len(fhir))
	var acc care.Access
	if err := d.careCall("hospital-b", "City Hospital requests it for treatment", "", rs, "request", care.RequestArgs{Record: "r-1", Purpose: demoTreat}, &acc); err != nil {
		return err
	}
	if err := d.careCall("hospital-c", "Harbour Clinic, not named by the consent, requests it", care.CodeNoConsent, rs, "request", care.RequestArgs{Record: "r-1", Purpose: demoTreat}, nil); err != nil {
		return err
	}
	sealed, err := sealShared(custodian, d.trial.addr[rs], acc, rec, summary)
	if err != nil {
		return err
	}
	if err := d.careCall("hospital-a", "St Mary's releases it sealed with HPKE to City Hospital's member key", "", rs, "release", care.ReleaseArgs{Access: acc.ID, Sealed: sealed}, nil); err != nil {
		return err
	}
	var read care.Access
	if err := d.careCall("hospital-b", "City Hospital reads", "", rs, "read", care.AccessArgs{Access: acc.ID}, &read); err != nil {
		return err
	}
	reader, err := d.key("hospital-b")
	if err != nil {
		return err
	}
	got, err := openShared(reader, d.trial.addr[rs], read, rec.Commitment)
	if err != nil {
		return err
	}
	d.detail("City Hospital opens it with its key: %d bytes, matching the commitment; nobody else can open them", len(got))
	if err := d.careCall("patient", "the patient revokes the consent", "", rs, "revoke", care.RevokeArgs{Patient: demoPatient, Consent: "c-2026-001", Reason: "treatment finished"}, nil); err != nil {
		return err
	}
	if err := d.careCall("hospital-b", "City Hospital reads after the revocation", care.CodeRevoked, rs, "read", care.AccessArgs{Access: acc.ID}, nil); err != nil {
		return err
	}
	n, err := d.auditSet(care.Scope(demoPatient))
	if err != nil {
		return err
	}
	if n != 3 {
		return fmt.Errorf("record set %s holds %d refusals, want 3", care.Scope(demoPatient), n)
	}
	d.fact("record sharing: reads without consent, by a hospital the consent does not name and after revocation refused; all 3 refusals in the patient's record set")
	return nil
}

func demoHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func demoClaims(d *demoEnv) error {
	d.say("Claims: an insurer publishes coverage rules; a hospital claims for a recorded procedure; both sign the payment's path")
	cl := trials.Claims
	plan := care.Plan{ID: "plan-2026", Currency: "EUR", ReviewAbove: 500_000, Benefits: []care.Benefit{
		{Code: "80146002", Limit: 300_000, Coinsurance: 20}, {Code: "232717009", Limit: 1_500_000, Coinsurance: 10, PriorAuth: true}}}
	appx := demoHash("St Mary's appendectomy record, patient p-1")
	claim := func(id, proc string) care.ClaimArgs {
		return care.ClaimArgs{Claim: care.Claim{ID: id, Use: "claim", Patient: "p-1", Insurer: plan.ID, Procedure: proc,
			Items: []care.Item{{Sequence: 1, ProductOrService: "80146002", Net: 250_000}}}}
	}
	steps := []struct {
		as, what, want, method string
		args                   any
	}{
		{"insurer", "the insurer publishes plan-2026 (appendectomy up to 3000.00 EUR, 20% coinsurance)", "", "plan", care.PlanArgs{Plan: plan}},
		{"hospital-a", "St Mary's records an appendectomy by its record's hash", "", "procedure", care.ProcedureArgs{Procedure: care.Procedure{Hash: appx, Patient: "p-1", Code: "80146002", Date: "2026-03-01"}}},
		{"hospital-a", "a claim for a procedure never recorded", care.CodeProcedureUnknown, "submit", claim("cl-0", demoHash("no such procedure"))},
	}
	for _, s := range steps {
		if err := d.careCall(s.as, s.what, s.want, cl, s.method, s.args, nil); err != nil {
			return err
		}
	}
	var v care.ClaimView
	if err := d.careCall("hospital-a", "St Mary's claims 2500.00 EUR for it", "", cl, "submit", claim("cl-1", appx), &v); err != nil {
		return err
	}
	d.detail("  adjudicated by the contract: %s, payable %s EUR, patient's share %s EUR", v.Response.Decision, cents(v.Response.Payable), cents(v.Response.Patient))
	for _, s := range []struct {
		as, what, want, method string
		args                   any
	}{
		{"hospital-a", "the same procedure claimed again", care.CodeAlreadyClaimed, "submit", claim("cl-2", appx)},
		{"insurer", "the insurer marks it paid (its signature)", "", "pay", care.PaymentArgs{Claim: "cl-1", Ref: "sepa-0001"}},
		{"hospital-a", "St Mary's confirms receipt (its signature): settled", "", "confirm", care.PaymentArgs{Claim: "cl-1", Ref: "sepa-0001"}},
	} {
		if err := d.careCall(s.as, s.what, s.want, cl, s.method, s.args, nil); err != nil {
			return err
		}
	}
	n, err := d.auditSet(care.ClaimScope(plan.ID))
	if err != nil {
		return err
	}
	if n != 2 {
		return fmt.Errorf("record set %s holds %d refusals, want 2", care.ClaimScope(plan.ID), n)
	}
	d.fact("claims: approved by rule (%s EUR payable), paid and settled by both parties; unrecorded and duplicate claims refused and in the plan's record set", cents(v.Response.Payable))
	return nil
}

func cents(n int64) string { return fmt.Sprintf("%d.%02d", n/100, n%100) }

func demoTrace(d *demoEnv) error {
	d.say("Drug traceability: GS1-serialised packs from the factory to the pharmacy, EPCIS events checked against the holder")
	const gtin = "09506000134352"
	dt := trials.DrugTrace
	key := func(serial string) string { return gtin + "/" + serial }
	packs := []care.Pack{{GTIN: gtin, Serial: "S1", Lot: "L1", Expiry: "2030-06-30"}, {GTIN: gtin, Serial: "S2", Lot: "L1", Expiry: "2030-06-30"}}
	var ans care.VerifyResult
	for _, s := range []struct {
		as, what, want, method string
		args                   any
		out                    any
	}{
		{"pharma", "Pharma Co. commissions packs S1, S2 of lot L1 (GTIN " + gtin + ")", "", "commission", care.CommissionArgs{Packs: packs}, nil},
		{"wholesaler", "the wholesaler ships S1, which it does not hold", care.CodeNotHolder, "ship", care.ShipArgs{Packs: []string{key("S1")}, To: "pharmacy-1"}, nil},
		{"pharma", "Pharma Co. ships both to the wholesaler", "", "ship", care.ShipArgs{Packs: []string{key("S1"), key("S2")}, To: "wholesale-1"}, nil},
		{"wholesaler", "the wholesaler receives them", "", "receive", care.PacksArgs{Packs: []string{key("S1"), key("S2")}}, nil},
		{"wholesaler", "and ships them to the pharmacy", "", "ship", care.ShipArgs{Packs: []string{key("S1"), key("S2")}, To: "pharmacy-1"}, nil},
		{"pharmacy", "the pharmacy receives them", "", "receive", care.PacksArgs{Packs: []string{key("S1"), key("S2")}}, nil},
		{"pharmacy", "the pharmacy verifies S1", "", "verify", care.PackQuery{GTIN: gtin, Serial: "S1"}, &ans},
		{"pharmacy", "the pharmacy dispenses S1", "", "dispense", care.PacksArgs{Packs: []string{key("S1")}}, nil},
		{"pharmacy", "S1 dispensed twice", care.CodeAlreadyDispensed, "dispense", care.PacksArgs{Packs: []string{key("S1")}}, nil},
		{"pharma", "Pharma Co. recalls lot L1", "", "recall", care.RecallArgs{Recall: care.Recall{GTIN: gtin, Lot: "L1", Reason: "particulate matter in retained samples"}}, nil},
		{"pharmacy", "S2 dispensed after the recall", care.CodeRecalled, "dispense", care.PacksArgs{Packs: []string{key("S2")}}, nil},
	} {
		if err := d.careCall(s.as, s.what, s.want, dt, s.method, s.args, s.out); err != nil {
			return err
		}
		if s.method == "verify" {
			d.detail("  answer: %s (held by %s, lot %s, expiry %s)", ans.Answer, ans.Owner, ans.Lot, ans.Expiry)
			if ans.Answer != care.Genuine {
				return fmt.Errorf("S1 verified as %s, want genuine", ans.Answer)
			}
		}
	}
	var fake care.VerifyResult
	if err := d.careCall("pharmacy", "the pharmacy verifies a counterfeit serial", "", dt, "verify", care.PackQuery{GTIN: gtin, Serial: "FAKE1"}, &fake); err != nil {
		return err
	}
	d.detail("  answer: %s", fake.Answer)
	n, err := d.auditSet(care.LotScope(gtin, "L1"))
	if err != nil {
		return err
	}
	if n != 3 || fake.Answer != care.Unknown {
		return fmt.Errorf("lot record set holds %d refusals (want 3), counterfeit answered %s", n, fake.Answer)
	}
	d.fact("drug traceability: shipping by a non-holder, dispensing twice and after the recall refused (3 refusals in the lot's record set); a counterfeit answers %s", fake.Answer)
	return nil
}
