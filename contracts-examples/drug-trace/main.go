// Command drug-trace is the TrialChain contract that traces serialised
// medicine packs from factory to pharmacy against counterfeits (package
// trials/care). A manufacturer (role sponsor) commissions packs by GS1
// identifiers (GTIN + serial, lot, expiry); each shipment, receipt and
// dispensing is an EPCIS 2.0-style ObjectEvent checked against the pack's
// current holder; a pharmacy verifies a pack (genuine, already dispensed,
// unknown, recalled, expired); the manufacturer or a regulator recalls a
// lot. Build it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o drug-trace.wasm ./contracts-examples/drug-trace
//
// Methods:
//
//	commission  care.CommissionArgs  sponsor: new packs, held by the caller's organisation
//	ship        care.ShipArgs        the holder of every pack: in transit to another organisation
//	receive     care.PacksArgs       the destination: the packs are now its own
//	dispense    care.PacksArgs       the holder (role site): the packs leave the supply chain
//	recall      care.RecallArgs      the lot's manufacturer or a regulator: the lot is recalled
//	verify      care.PackQuery       anyone: care.VerifyResult (as a transaction it is logged)
//	events      care.PackQuery       anyone: the pack's []care.Event
//
// # Where refusals are logged
//
// Every movement first joins the acting organisation's record set
// ("custody:ORG") and the record sets of the lots it touches
// (care.LotScope, at most 3 lots per event): a refused movement (a pack
// shipped by an organisation that does not hold it, dispensed twice or
// after a recall) writes nothing to state, and its failed receipt, with
// the refusal's code, is a record of those sets. Accepted events are
// appended to each pack's sealed event journal.
package main

import (
	"github.com/trialchain/trialchain/sdk/contract"
	"github.com/trialchain/trialchain/trials/care"
	"github.com/trialchain/trialchain/trials/model"
)

// State layout (JSON values):
//
//	pack/<gtin>/<serial>        care.Pack
//	ev/<gtin>.<serial>/<seq>    care.Event (sealed; counter #ev/<gtin>.<serial>)
//	recall/<gtin>/<lot>         care.Recall (sealed)
//	lot/<gtin>/<lot>            the lot's manufacturer (sealed)
var (
	packs    = contract.NewMap[care.Pack]("pack")
	events   = contract.NewJournal[care.Event]("ev")
	recalls  = contract.NewMap[care.Recall]("recall")
	lotMaker = contract.NewMap[string]("lot")
)

func now() string { return model.FormatMilli(contract.BlockTimeMilli()) }

// journalKey is the pack's journal subject (no '/').
func journalKey(p *care.Pack) string { return p.GTIN + "." + p.Serial }

func record(p *care.Pack, step, action, disp, src, dst string) {
	p.Events++
	events.Append(journalKey(p), care.Event{Type: "ObjectEvent", EventTime: now(), Action: action, BizStep: step, Disposition: disp,
		EPCList: []string{p.DigitalLink()}, BizLocation: contract.CallerOrg(), Source: src, Destination: dst, Lot: p.Lot,
		Height: contract.BlockHeight()})
}

func recalled(p *care.Pack) (care.Recall, bool) { return recalls.Get(p.GTIN + "/" + p.Lot) }

// load returns the packs of keys after joining the caller's set and the
// sets of their lots; unknown packs are refused.
func load(keys []string) ([]care.Pack, error) {
	contract.TryRecordScope("custody:" + contract.CallerOrg())
	if len(keys) == 0 || len(keys) > care.MaxPacks {
		return nil, contract.Refuse("invalid", "an event moves 1..%d packs", care.MaxPacks)
	}
	var out []care.Pack
	var lots []string
	var missing string
	for _, k := range keys {
		p, ok := packs.Get(k)
		if !ok {
			if missing == "" {
				missing = k
			}
			continue
		}
		l := care.LotScope(p.GTIN, p.Lot)
		seen := false
		for _, x := range lots {
			seen = seen || x == l
		}
		if !seen {
			lots = append(lots, l)
			if len(lots) <= 3 {
				contract.TryRecordScope(l)
			}
		}
		out = append(out, p)
	}
	if missing != "" {
		return nil, contract.Refuse(care.CodeUnknownPack, "no pack %s was commissioned", missing)
	}
	if len(lots) > 3 {
		return nil, contract.Refuse("invalid", "an event touches %d lots; split it into events of at most 3 lots", len(lots))
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			return nil, contract.Refuse("invalid", "pack %s twice in one event", k)
		}
		seen[k] = true
	}
	return out, nil
}

// movable refuses a pack that is dispensed, recalled or expired.
func movable(p *care.Pack, doing string) error {
	if p.Status == care.PackDispensed {
		return contract.Refuse(care.CodeAlreadyDispensed, "pack %s was already dispensed: it cannot be %s", p.Key(), doing)
	}
	if r, ok := recalled(p); ok {
		return contract.Refuse(care.CodeRecalled, "pack %s is of lot %s, recalled at %s (%s): it cannot be %s", p.Key(), p.Lot, r.Time, r.Reason, doing)
	}
	if contract.BlockTimeMilli() > p.ExpiryMilli() {
		return contract.Refuse(care.CodeExpired, "pack %s expired on %s: it cannot be %s", p.Key(), p.Expiry, doing)
	}
	return nil
}

//go:wasmexport commission
func commission() {
	contract.Handle(func(a care.CommissionArgs) (any, error) {
		contract.TryRecordScope("custody:" + contract.CallerOrg())
		if err := contract.CheckRole("sponsor"); err != nil {
			return nil, contract.Refuse("forbidden", "only a manufacturer (role sponsor) commissions packs (caller role %q)", contract.CallerRole())
		}
		if len(a.Packs) == 0 || len(a.Packs) > care.MaxPacks {
			return nil, contract.Refuse("invalid", "commission 1..%d packs", care.MaxPacks)
		}
		var lots []string
		for i := range a.Packs {
			p := &a.Packs[i]
			if err := p.Validate(); err != nil {
				return nil, err
			}
			l := care.LotScope(p.GTIN, p.Lot)
			if len(lots) == 0 || lots[len(lots)-1] != l {
				lots = append(lots, l)
			}
		}
		if len(lots) > 3 {
			return nil, contract.Refuse("invalid", "commission packs of at most 3 lots per event, grouped by lot")
		}
		for _, l := range lots {
			contract.TryRecordScope(l)
		}
		for i := range a.Packs {
			p := a.Packs[i]
			if _, ok := recalled(&p); ok {
				return nil, contract.Refuse(care.CodeRecalled, "lot %s of %s is recalled: no new pack joins it", p.Lot, p.GTIN)
			}
			if m, ok := lotMaker.Get(p.GTIN + "/" + p.Lot); ok && m != contract.CallerOrg() {
				return nil, contract.Refuse("forbidden", "lot %s of %s belongs to %s", p.Lot, p.GTIN, m)
			} else if !ok {
				lotMaker.Set(p.GTIN+"/"+p.Lot, contract.CallerOrg())
				lotMaker.Seal(p.GTIN + "/" + p.Lot)
			}
			p.Manufacturer, p.Owner, p.InTransitTo, p.Status, p.Events = contract.CallerOrg(), contract.CallerOrg(), "", care.PackActive, 0
			record(&p, care.StepCommissioning, "ADD", "active", "", "")
			if !packs.Create(p.Key(), p) {
				return nil, contract.Refuse("exists", "pack %s was already commissioned", p.Key())
			}
		}
		contract.EmitJSON("trace.commissioned", map[string]any{"packs": len(a.Packs), "lots": lots})
		return map[string]any{"commissioned": len(a.Packs)}, nil
	})
}

//go:wasmexport ship
func ship() {
	contract.Handle(func(a care.ShipArgs) (any, error) {
		ps, err := load(a.Packs)
		if err != nil {
			return nil, err
		}
		if a.To == "" || a.To == contract.CallerOrg() || len(a.To) > model.MaxName {
			return nil, contract.Refuse("invalid", "ship to another organisation")
		}
		for i := range ps {
			p := &ps[i]
			if p.Owner != contract.CallerOrg() || p.Status == care.PackInTransit {
				return nil, contract.Refuse(care.CodeNotHolder, "%s does not hold pack %s (held by %s, %s)", contract.CallerOrg(), p.Key(), p.Owner, p.Status)
			}
			if err := movable(p, "shipped"); err != nil {
				return nil, err
			}
			p.Status, p.InTransitTo = care.PackInTransit, a.To
			record(p, care.StepShipping, "OBSERVE", "in_transit", p.Owner, a.To)
			packs.Set(p.Key(), *p)
		}
		contract.EmitJSON("trace.shipped", map[string]any{"packs": len(ps), "to": a.To})
		return map[string]any{"shipped": len(ps), "to": a.To}, nil
	})
}

//go:wasmexport receive
func receive() {
	contract.Handle(func(a care.PacksArgs) (any, error) {
		ps, err := load(a.Packs)
		if err != nil {
			return nil, err
		}
		for i := range ps {
			p := &ps[i]
			if p.Status != care.PackInTransit || p.InTransitTo != contract.CallerOrg() {
				return nil, contract.Refuse(care.CodeNotHolder, "pack %s is not in transit to %s (held by %s, %s)", p.Key(), contract.CallerOrg(), p.Owner, p.Status)
			}
			src := p.Owner
			p.Owner, p.InTransitTo, p.Status = contract.CallerOrg(), "", care.PackActive
			record(p, care.StepReceiving, "OBSERVE", "active", src, p.Owner)
			packs.Set(p.Key(), *p)
		}
		contract.EmitJSON("trace.received", map[string]any{"packs": len(ps)})
		return map[string]any{"received": len(ps)}, nil
	})
}

//go:wasmexport dispense
func dispense() {
	contract.Handle(func(a care.PacksArgs) (any, error) {
		ps, err := load(a.Packs)
		if err != nil {
			return nil, err
		}
		if err := contract.CheckRole("site"); err != nil {
			return nil, contract.Refuse("forbidden", "only a pharmacy or hospital (role site) dispenses (caller role %q)", contract.CallerRole())
		}
		for i := range ps {
			p := &ps[i]
			if err := movable(p, "dispensed"); err != nil { // dispensed twice: already-dispensed, first
				return nil, err
			}
			if p.Owner != contract.CallerOrg() || p.Status != care.PackActive {
				return nil, contract.Refuse(care.CodeNotHolder, "%s does not hold pack %s (held by %s, %s)", contract.CallerOrg(), p.Key(), p.Owner, p.Status)
			}
			p.Status = care.PackDispensed
			record(p, care.StepDispensing, "DELETE", "dispensed", p.Owner, "")
			packs.Set(p.Key(), *p)
			packs.Seal(p.Key()) // out of the supply chain for good
		}
		contract.EmitJSON("trace.dispensed", map[string]any{"packs": len(ps)})
		return map[string]any{"dispensed": len(ps)}, nil
	})
}

//go:wasmexport recall
func recall() {
	contract.Handle(func(a care.RecallArgs) (any, error) {
		r := a.Recall
		contract.TryRecordScope(care.LotScope(r.GTIN, r.Lot))
		if err := care.CheckGTIN(r.GTIN); err != nil {
			return nil, err
		}
		if model.Ident("lot", r.Lot) != nil || r.Reason == "" || len(r.Reason) > model.MaxText {
			return nil, contract.Refuse("invalid", "a recall names a lot and a reason")
		}
		maker, ok := lotMaker.Get(r.GTIN + "/" + r.Lot)
		if !ok {
			return nil, contract.Refuse(care.CodeUnknownPack, "no pack of lot %s of %s was commissioned", r.Lot, r.GTIN)
		}
		if !(contract.CallerRole() == "regulator" || (contract.CallerRole() == "sponsor" && contract.CallerOrg() == maker)) {
			return nil, contract.Refuse("forbidden", "only the lot's manufacturer %s or a regulator may recall it", maker)
		}
		r.By, r.Time = contract.CallerOrg(), now()
		if !recalls.Create(r.GTIN+"/"+r.Lot, r) {
			return nil, contract.Refuse("exists", "lot %s of %s is already recalled", r.Lot, r.GTIN)
		}
		recalls.Seal(r.GTIN + "/" + r.Lot)
		contract.EmitJSON("trace.recalled", r)
		return r, nil
	})
}

//go:wasmexport verify
func verify() {
	contract.Handle(func(a care.PackQuery) (any, error) {
		key := a.GTIN + "/" + a.Serial
		p, found := packs.Get(key)
		rec := false
		if found {
			contract.TryRecordScope(care.LotScope(p.GTIN, p.Lot))
			_, rec = recalled(&p)
		}
		ans := care.Verify(&p, found, rec, contract.BlockTimeMilli())
		contract.EmitJSON("trace.verified", map[string]string{"pack": key, "answer": ans, "by": contract.CallerOrg()})
		return care.VerifyResult{Pack: key, Answer: ans, Owner: p.Owner, Lot: p.Lot, Expiry: p.Expiry}, nil
	})
}

//go:wasmexport events
func eventsM() {
	contract.Handle(func(a care.PackQuery) (any, error) {
		p, ok := packs.Get(a.GTIN + "/" + a.Serial)
		if !ok {
			return nil, contract.Refuse(care.CodeUnknownPack, "no pack %s/%s", a.GTIN, a.Serial)
		}
		out := []care.Event{}
		events.Each(journalKey(&p), func(_ int64, e care.Event) bool {
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
	contract.Prepare[care.CommissionArgs]()
	contract.Prepare[care.ShipArgs]()
	contract.Prepare[care.PacksArgs]()
	contract.Prepare[care.RecallArgs]()
	contract.Prepare[care.PackQuery]()
}

func main() {}
