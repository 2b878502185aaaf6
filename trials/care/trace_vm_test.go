package care_test

import (
	"encoding/json"
	"testing"

	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/care"
)

var (
	maker      = newActor("maker", "pharma-co", "sponsor")
	wholesaler = newActor("wholesaler", "wholesale-1", "site")
	pharmacy   = newActor("pharmacy", "pharmacy-1", "site")
	pharmacy2  = newActor("pharmacy-2", "pharmacy-2", "site")
	regulator  = newActor("regulator", "ema", "regulator")
)

// gtinA is the GTIN of the GS1 Digital Link examples; gtinA's lots L1, L2
// and the expired L3 are commissioned by maker.
const gtinA = "09506000134352"

func verifyIs(answer string) func(t *testing.T, out json.RawMessage) {
	return func(t *testing.T, out json.RawMessage) {
		t.Helper()
		var v care.VerifyResult
		if err := json.Unmarshal(out, &v); err != nil || v.Answer != answer {
			t.Fatalf("verify %s (%v), want %s", out, err, answer)
		}
	}
}

// TestDrugTrace plays the drug-trace contract on the real VM: packs
// commissioned, shipped, received and dispensed as EPCIS events checked
// against the holder, verified by a pharmacy, a lot recalled, and every
// bad input refused with its own code and recorded in the lot's record set.
func TestDrugTrace(t *testing.T) {
	c := newChain(t, start)
	pack := func(serial, lot, expiry string) care.Pack {
		return care.Pack{GTIN: gtinA, Serial: serial, Lot: lot, Expiry: expiry}
	}
	key := func(serial string) string { return gtinA + "/" + serial }
	q := func(serial string) care.PackQuery { return care.PackQuery{GTIN: gtinA, Serial: serial} }
	l1, l3 := care.LotScope(gtinA, "L1"), care.LotScope(gtinA, "L3")
	s1, s2, s3, s4 := key("S1"), key("S2"), key("S3"), key("S4")
	steps := []step{
		{name: "a pharmacy cannot commission", who: pharmacy, method: "commission", args: care.CommissionArgs{Packs: []care.Pack{pack("S9", "L1", "2027-06-30")}}, code: "forbidden", scope: "custody:pharmacy-1"},
		{name: "a bad check digit", who: maker, method: "commission", args: care.CommissionArgs{Packs: []care.Pack{{GTIN: "09506000134353", Serial: "S1", Lot: "L1", Expiry: "2027-06-30"}}}, code: "invalid"},
		{name: "the maker commissions lots L1, L2, L3", who: maker, method: "commission", args: care.CommissionArgs{Packs: []care.Pack{
			pack("S1", "L1", "2027-06-30"), pack("S2", "L1", "2027-06-30"), pack("S3", "L1", "2027-06-30"), pack("S4", "L2", "2027-09-30"),
			pack("S5", "L3", "2026-03-01")}}, scope: l1},
		{name: "a serial commissioned twice", who: maker, method: "commission", args: care.CommissionArgs{Packs: []care.Pack{pack("S1", "L1", "2027-06-30")}}, code: "exists", scope: l1},
		{name: "the wholesaler ships a pack it does not hold", who: wholesaler, method: "ship", args: care.ShipArgs{Packs: []string{s1}, To: "pharmacy-1"}, code: care.CodeNotHolder, scope: l1},
		{name: "an expired pack is shipped", who: maker, method: "ship", args: care.ShipArgs{Packs: []string{key("S5")}, To: "wholesale-1"}, code: care.CodeExpired, scope: l3},
		{name: "the maker ships to the wholesaler", who: maker, method: "ship", args: care.ShipArgs{Packs: []string{s1, s2, s3, s4}, To: "wholesale-1"}, scope: l1},
		{name: "a pack in transit is shipped again", who: maker, method: "ship", args: care.ShipArgs{Packs: []string{s1}, To: "pharmacy-1"}, code: care.CodeNotHolder, scope: l1},
		{name: "the pharmacy receives a pack not sent to it", who: pharmacy, method: "receive", args: care.PacksArgs{Packs: []string{s1}}, code: care.CodeNotHolder, scope: l1},
		{name: "the wholesaler receives", who: wholesaler, method: "receive", args: care.PacksArgs{Packs: []string{s1, s2, s3, s4}}, scope: l1},
		{name: "the wholesaler ships to the pharmacy", who: wholesaler, method: "ship", args: care.ShipArgs{Packs: []string{s1, s2, s4}, To: "pharmacy-1"}, scope: l1},
		{name: "the pharmacy receives", who: pharmacy, method: "receive", args: care.PacksArgs{Packs: []string{s1, s2, s4}}, scope: l1},
		{name: "the pharmacy verifies S1", who: pharmacy, method: "verify", args: q("S1"), scope: l1, check: verifyIs(care.Genuine)},
		{name: "another pharmacy dispenses S1", who: pharmacy2, method: "dispense", args: care.PacksArgs{Packs: []string{s1}}, code: care.CodeNotHolder, scope: l1},
		{name: "the pharmacy dispenses S1", who: pharmacy, method: "dispense", args: care.PacksArgs{Packs: []string{s1}}, scope: l1},
		{name: "S1 dispensed twice", who: pharmacy, method: "dispense", args: care.PacksArgs{Packs: []string{s1}}, code: care.CodeAlreadyDispensed, scope: l1},
		{name: "a dispensed pack is shipped", who: pharmacy, method: "ship", args: care.ShipArgs{Packs: []string{s1}, To: "pharmacy-2"}, code: care.CodeAlreadyDispensed, scope: l1},
		{name: "the pharmacy verifies S1 again", who: pharmacy, method: "verify", args: q("S1"), scope: l1, check: verifyIs(care.AlreadyDispensed)},
		{name: "the pharmacy verifies a counterfeit", who: pharmacy, method: "verify", args: q("FAKE1"), check: verifyIs(care.Unknown)},
		{name: "a counterfeit is dispensed", who: pharmacy, method: "dispense", args: care.PacksArgs{Packs: []string{key("FAKE1")}}, code: care.CodeUnknownPack, scope: "custody:pharmacy-1"},
		{name: "a pharmacy recalls a lot", who: pharmacy, method: "recall", args: care.RecallArgs{Recall: care.Recall{GTIN: gtinA, Lot: "L1", Reason: "x"}}, code: "forbidden", scope: l1},
		{name: "the maker recalls L1", who: maker, method: "recall", args: care.RecallArgs{Recall: care.Recall{GTIN: gtinA, Lot: "L1", Reason: "particulate matter found in retained samples"}}, scope: l1},
		{name: "S2 dispensed after the recall", who: pharmacy, method: "dispense", args: care.PacksArgs{Packs: []string{s2}}, code: care.CodeRecalled, scope: l1},
		{name: "S3 shipped after the recall", who: wholesaler, method: "ship", args: care.ShipArgs{Packs: []string{s3}, To: "pharmacy-1"}, code: care.CodeRecalled, scope: l1},
		{name: "the pharmacy verifies S2", who: pharmacy, method: "verify", args: q("S2"), scope: l1, check: verifyIs(care.Recalled)},
		{name: "a dispensed pack of the lot shows the recall", who: pharmacy, method: "verify", args: q("S1"), scope: l1, check: verifyIs(care.Recalled)},
		{name: "a new pack joins the recalled lot", who: maker, method: "commission", args: care.CommissionArgs{Packs: []care.Pack{pack("S6", "L1", "2027-06-30")}}, code: care.CodeRecalled, scope: l1},
		{name: "the regulator recalls L2", who: regulator, method: "recall", args: care.RecallArgs{Recall: care.Recall{GTIN: gtinA, Lot: "L2", Reason: "label error"}}},
		{name: "L2 recalled twice", who: maker, method: "recall", args: care.RecallArgs{Recall: care.Recall{GTIN: gtinA, Lot: "L2", Reason: "label error"}}, code: "exists"},
		{name: "S4 dispensed after the regulator's recall", who: pharmacy, method: "dispense", args: care.PacksArgs{Packs: []string{s4}}, code: care.CodeRecalled},
	}
	c.play(t, trials.DrugTrace, steps)

	var evs []care.Event
	c.ok(pharmacy, mkCall(t, trials.DrugTrace, "events", q("S1")), &evs)
	var got []string
	for _, e := range evs {
		got = append(got, e.BizStep+"@"+e.BizLocation)
		if len(e.EPCList) != 1 || e.EPCList[0] != care.DigitalLink(gtinA, "S1") {
			t.Fatalf("event %+v: epcList", e)
		}
	}
	want := "[commissioning@pharma-co shipping@pharma-co receiving@wholesale-1 shipping@wholesale-1 receiving@pharmacy-1 dispensing@pharmacy-1]"
	if fmtList(got) != want {
		t.Fatalf("events of S1 %v, want %s", got, want)
	}
	refusals := 0
	for _, j := range c.sets[l1] {
		if j.err != "" {
			refusals++
		}
	}
	want1 := 0
	for _, s := range steps {
		if s.code != "" && s.scope == l1 {
			want1++
		}
	}
	if refusals != want1 {
		t.Fatalf("record set %s holds %d refusals, want %d", l1, refusals, want1)
	}
	c.replay(t, start)
}
