package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof/bundle"
	"github.com/trialchain/trialchain/trials/model"
)

var (
	siteKey  = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	contract = block.Sum([]byte("trial-protocol"))
)

func verified(t *testing.T, leaf uint64, method string, args, result any, status block.Status, errText string) *bundle.Verified {
	t.Helper()
	a, _ := json.Marshal(args)
	var res []byte
	if result != nil {
		res, _ = json.Marshal(result)
	}
	call := &block.CallPayload{Contract: contract, Method: method, Args: a}
	tx := &block.Tx{ChainID: "audit-test", Nonce: leaf, Kind: block.KindCall, GasLimit: 1, Payload: call.Encode()}
	tx.Sign(siteKey)
	rc := &block.Receipt{TxHash: tx.Hash(), Height: 10 + leaf, Status: status, Result: res, Error: errText}
	return &bundle.Verified{Index: int(leaf), Leaf: leaf, Tx: tx, TxHash: tx.Hash(), Receipt: rc, Call: call, CodeHash: block.Sum([]byte("code"))}
}

func sampleResult(t *testing.T) *bundle.Result {
	m := func(name, meaning string) model.Manifestation {
		return model.Manifestation{PrintedName: name, Meaning: meaning, Time: "2026-03-01T10:00:00.000Z", Org: "Site A"}
	}
	sig := model.Signature{PrintedName: "Dr. Sam Site", Meaning: "author"}
	orig := model.Entry{ID: "crf-000000001", Kind: model.KindSubmission, Trial: "T1", Subject: "s1", Visit: "V1", Form: "VITALS",
		Public: map[string]model.FieldValue{"SYSBP": {Value: "182", Unit: "mm[Hg]"}, "HR": {Value: "70"}}, Manifestation: m("Dr. Sam Site", "author")}
	corr := orig
	corr.ID, corr.Kind, corr.Corrects, corr.Reason = "crf-000000002", model.KindCorrection, orig.ID, "transcription error"
	corr.Public = map[string]model.FieldValue{"SYSBP": {Value: "128", Unit: "mm[Hg]"}, "HR": {Value: "70"}}
	report := model.Report{Trial: "T1", Registered: 2, Reported: 2, Faithful: false, PrimarySwitched: true, Missing: []model.Outcome{},
		Added: []model.OutcomeResult{}, Changed: []model.OutcomeChange{{Outcome: "O1", Measure: "OS", What: "type", Registered: "primary", Reported: "secondary"}}, Time: "2026-03-02T00:00:00.000Z"}
	res := &bundle.Result{ChainID: "audit-test", Scope: "trial:T1", Counts: bundle.Counts{Records: 5, Verified: 5},
		Checkpoints: []bundle.CheckpointInfo{{Height: 20, TimeUnixMilli: 1_772_400_000_000, LogSize: 30, Signers: []uint64{1, 2, 3}}}}
	res.Records = []*bundle.Verified{
		verified(t, 1, "register", model.RegisterArgs{Protocol: model.Protocol{ID: "T1", Title: "Trial <one>"}, Signature: sig},
			model.TrialState{Protocol: model.Protocol{ID: "T1", Title: "Trial <one>", Sponsor: "Sponsor Inc"}, Registered: m("Dr. Ada Sponsor", "author")}, block.StatusOK, ""),
		verified(t, 2, "submit", model.SubmitArgs{Trial: "T1", Subject: "s1", Visit: "V1", Form: "VITALS", Fields: orig.Public, Signature: sig}, orig, block.StatusOK, ""),
		verified(t, 3, "submit", model.SubmitArgs{Trial: "T1", Subject: "s1", Visit: "V2", Form: "VITALS", Signature: sig}, nil, block.StatusFailed, "contract: out-of-range: SYSBP 999"),
		verified(t, 4, "correct", model.CorrectArgs{Trial: "T1", Entry: orig.ID, Fields: corr.Public, Reason: "transcription error", Signature: sig}, corr, block.StatusOK, ""),
		verified(t, 5, "results", model.ResultsArgs{Trial: "T1", Signature: sig}, report, block.StatusOK, ""),
	}
	return res
}

func TestBuild(t *testing.T) {
	rep := Build(sampleResult(t), nil, "T1")
	if v := rep.Verification; !v.OK || !strings.HasPrefix(v.Summary, "5 records verified; completeness NOT proven") || strings.Contains(v.Summary, "VERIFIED") ||
		!strings.Contains(v.Summary, "as of block 20 (2026-03-01T21:20:00.000Z UTC), certified by 3 validators") || v.Checkpoint.Time != "2026-03-01T21:20:00.000Z" {
		t.Fatalf("verification: %+v", rep.Verification)
	}
	if len(rep.Trail) != 5 || rep.Trail[0].Who != "Dr. Ada Sponsor" || rep.Protocol == nil || rep.Protocol.Sponsor != "Sponsor Inc" {
		t.Fatalf("trail: %+v", rep.Trail)
	}
	if e := rep.Trail[2]; e.Status != "refused" || !strings.HasPrefix(e.Action, "Attempted: Submitted form VITALS") || e.Who != "Dr. Sam Site" ||
		e.Refusal != "SYSBP 999" && e.Refusal != "A value is outside its allowed range: SYSBP 999" || e.RawError != "contract: out-of-range: SYSBP 999" || e.Org != "Site A" {
		t.Fatalf("refused submission: %+v", e)
	}
	e := rep.Trail[3]
	if e.Original != "HR=70; SYSBP=182 mm[Hg]" || e.Corrected != "HR=70; SYSBP=128 mm[Hg]" || e.Reason != "transcription error" || e.Time != "2026-03-01T10:00:00.000Z" {
		t.Fatalf("correction event: %+v", e)
	}
	if len(rep.Corrections) != 1 || len(rep.Corrections[0].Fields) != 2 || !rep.Corrections[0].Fields[1].Changed || rep.Corrections[0].Fields[0].Changed {
		t.Fatalf("corrections: %+v", rep.Corrections)
	}
	if rep.Outcomes == nil || !rep.Outcomes.PrimarySwitched {
		t.Fatalf("outcomes: %+v", rep.Outcomes)
	}

	var html bytes.Buffer
	if err := rep.Write(&html, "html", "2026-03-03T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	h := html.String()
	for _, want := range []string{"completeness NOT proven", "Trial &lt;one&gt;", "SYSBP=182 mm[Hg]", "transcription error", "DIFFER", "class=\"refused\"", "meaning of signature", "A value is outside its allowed range", `title="contract: out-of-range: SYSBP 999"`} {
		if !strings.Contains(h, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	if strings.Contains(h, "<script") || strings.Contains(h, "http://") || strings.Contains(h, "https://") {
		t.Error("html must be self-contained (no scripts, no external assets)")
	}
	var c bytes.Buffer
	if err := rep.Write(&c, "csv", ""); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil || len(rows) != 6 || rows[4][11] != "HR=70; SYSBP=182 mm[Hg]" || rows[4][12] != "HR=70; SYSBP=128 mm[Hg]" || rows[3][21] != "contract: out-of-range: SYSBP 999" {
		t.Fatalf("csv: %v %q", err, rows)
	}
	var j bytes.Buffer
	if err := rep.Write(&j, "json", ""); err != nil || !json.Valid(j.Bytes()) {
		t.Fatalf("json: %v", err)
	}
	if err := rep.Write(&j, "pdf", ""); err == nil {
		t.Fatal("unknown format accepted")
	}
}

func TestBuildFailed(t *testing.T) {
	res := sampleResult(t)
	fail := &bundle.Error{Record: 2, TxHash: res.Records[1].TxHash, Leaf: 2, Part: "inclusion proof", Err: bundle.ErrInclusion}
	res.Failures = bundle.Failures{fail}
	res.Records = append(res.Records[:1], res.Records[2:]...)
	rep := Build(res, res.Failures, "T1")
	if rep.Verification.OK || !strings.HasPrefix(rep.Verification.Summary, "FAILED") || len(rep.Verification.Failures) != 1 ||
		!strings.HasPrefix(rep.Verification.Failures[0], "record 3 (tx ") || !strings.Contains(rep.Verification.Details[0], "record 2 (tx") {
		t.Fatalf("%+v", rep.Verification)
	}
	var html bytes.Buffer
	if err := rep.Write(&html, "html", ""); err != nil || !strings.Contains(html.String(), "must not be relied on") {
		t.Fatalf("html: %v", err)
	}
	if !errors.Is(res.Failures, bundle.ErrInclusion) {
		t.Fatal("failures lose their sentinel")
	}
}

func TestSelector(t *testing.T) {
	sel := Selector("T1")
	mk := func(kind block.Kind, payload []byte) *block.Tx {
		return &block.Tx{Kind: kind, Payload: payload}
	}
	call := func(args string) *block.Tx {
		return mk(block.KindCall, (&block.CallPayload{Contract: contract, Method: "m", Args: []byte(args)}).Encode())
	}
	cases := []struct {
		tx   *block.Tx
		want bool
	}{
		{call(`{"trial":"T1","subject":"s"}`), true},
		{call(`{"protocol":{"id":"T1"}}`), true},
		{call(`{"trial":"T10"}`), false},
		{call(`not json`), false},
		{mk(block.KindAnchor, (&block.AnchorPayload{Label: "T1 SAP v1"}).Encode()), true},
		{mk(block.KindAnchor, (&block.AnchorPayload{Label: "other"}).Encode()), false},
		{mk(block.KindDeploy, nil), false},
	}
	for i, tc := range cases {
		if got := sel(tc.tx); got != tc.want {
			t.Errorf("case %d: got %v, want %v", i, got, tc.want)
		}
	}
}

// TestBuildRedaction: a redaction of a document a record commits to is a
// line of the trail (who, why, meaning) and a row of the redacted
// documents, in every format.
func TestBuildRedaction(t *testing.T) {
	res := sampleResult(t)
	target := block.Sum([]byte("the form with a patient's name"))
	p := &block.RedactPayload{Targets: []block.Hash{target}, Basis: block.BasisMistakenPHI, Reason: "patient name in the form", Meaning: "approval of redaction"}
	tx := &block.Tx{ChainID: "audit-test", Nonce: 6, Kind: block.KindRedact, GasLimit: 1, Payload: p.Encode()}
	tx.Sign(siteKey)
	rc := &block.Receipt{TxHash: tx.Hash(), Height: 16, Status: block.StatusOK}
	res.Records = append(res.Records, &bundle.Verified{Index: 6, Leaf: 6, Tx: tx, TxHash: tx.Hash(), Receipt: rc, Redact: p})
	rep := Build(res, nil, "T1")
	e := rep.Trail[len(rep.Trail)-1]
	if !strings.Contains(e.Action, "redacted (mistaken-phi)") || !strings.Contains(e.Action, target.String()) || e.Reason != p.Reason || e.Meaning != p.Meaning {
		t.Fatalf("trail: %+v", e)
	}
	if len(rep.Redactions) != 1 || rep.Redactions[0].SHA256 != target.String() || rep.Redactions[0].Block != 16 || rep.Redactions[0].Org != "Site A" {
		t.Fatalf("redactions: %+v", rep.Redactions)
	}
	var html bytes.Buffer
	if err := rep.Write(&html, "html", ""); err != nil || !strings.Contains(html.String(), "Redacted documents") || !strings.Contains(html.String(), "patient name in the form") {
		t.Fatalf("html: %v", err)
	}
}

// TestBuildWho: with the genesis and proven block times, every row says
// who (printed name, organisation, role, key), when (its own block's
// time) and why; activation and lock carry their own time and meaning,
// not the registration's; a refused attempt carries its time and
// organisation; a member registration in the bundle changes the role of
// later rows; the redaction carries its signer and time.
func TestBuildWho(t *testing.T) {
	res := sampleResult(t)
	reg := model.Manifestation{PrintedName: "Dr. Ada Sponsor", Meaning: "registration", Time: "2026-03-01T10:00:00.000Z", Org: "Sponsor Inc"}
	state := model.TrialState{Protocol: model.Protocol{ID: "T1"}, Status: "active", Registered: reg}
	act := verified(t, 6, "activate", model.TrialArgs{Trial: "T1", Signature: model.Signature{PrintedName: "Dr. Ada Sponsor", Meaning: "approval of enrolment"}}, state, block.StatusOK, "")
	lockM := model.Manifestation{PrintedName: "Dr. Ada Sponsor", Meaning: "approval of database lock", Time: "2026-03-05T09:00:00.000Z", Org: "Sponsor Inc"}
	locked := state
	locked.Status, locked.Lock = "locked", &model.Lock{Manifestation: lockM}
	lock := verified(t, 9, "lock", model.TrialArgs{Trial: "T1", Signature: model.Signature{PrintedName: "Dr. Ada Sponsor", Meaning: "approval of database lock"}}, locked, block.StatusOK, "")
	// The admin re-registers the site key as a regulator between the two.
	admin := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	rp := &block.RegisterPayload{Key: siteKey.Public().(ed25519.PublicKey), Org: "Site A", Name: "site-a", Role: block.RoleRegulator}
	rtx := &block.Tx{ChainID: "audit-test", Nonce: 1, Kind: block.KindRegister, GasLimit: 1, Payload: rp.Encode()}
	rtx.Sign(admin)
	regRec := &bundle.Verified{Index: 7, Leaf: 7, Tx: rtx, TxHash: rtx.Hash(), Receipt: &block.Receipt{TxHash: rtx.Hash(), Height: 17, Status: block.StatusOK}}
	p := &block.RedactPayload{Targets: []block.Hash{block.Sum([]byte("doc"))}, Basis: block.BasisMistakenPHI, Reason: "name in the form", Meaning: "approval of redaction"}
	dtx := &block.Tx{ChainID: "audit-test", Nonce: 8, Kind: block.KindRedact, GasLimit: 1, Payload: p.Encode()}
	dtx.Sign(siteKey)
	red := &bundle.Verified{Index: 8, Leaf: 8, Tx: dtx, TxHash: dtx.Hash(), Receipt: &block.Receipt{TxHash: dtx.Hash(), Height: 18, Status: block.StatusOK}, Redact: p}
	res.Records = append(res.Records, act, regRec, red, lock)
	res.Checkpoints[0].BlockHash = block.Sum([]byte("checkpoint"))

	g := &genesis.Genesis{Validators: make([]genesis.Validator, 4), Members: []genesis.Member{
		{Name: "site-a", Org: "Site A", Role: block.RoleSite, Key: genesis.Key(siteKey.Public().(ed25519.PublicKey))},
		{Name: "admin", Org: "Network", Role: block.RoleAdmin, Key: genesis.Key(admin.Public().(ed25519.PublicKey))}}}
	times := map[uint64]int64{}
	for h := uint64(1); h <= 20; h++ {
		times[h] = 1_772_400_000_000 + int64(h)*60_000 // block h at 21:(20+h):00
	}
	rep := BuildWith(res, nil, Options{Trial: "T1", Genesis: g, Times: &BlockTimes{Checkpoint: res.Checkpoints[0].BlockHash, Times: times}, LeftOut: -1})
	byLeaf := map[uint64]Event{}
	for _, e := range rep.Trail {
		byLeaf[e.Leaf] = e
	}
	key := hex.EncodeToString(siteKey.Public().(ed25519.PublicKey))
	for leaf, want := range map[uint64]Event{
		2: {Time: "2026-03-01T21:32:00.000Z", Who: "Dr. Sam Site", Org: "Site A", Role: "site", Meaning: "author"},
		3: {Time: "2026-03-01T21:33:00.000Z", Who: "Dr. Sam Site", Org: "Site A", Role: "site", Meaning: "author", Status: "refused"},
		6: {Time: "2026-03-01T21:36:00.000Z", Who: "Dr. Ada Sponsor", Org: "Site A", Role: "site", Meaning: "approval of enrolment"},
		8: {Time: "2026-03-01T21:38:00.000Z", Who: "site-a", Org: "Site A", Role: "regulator", Meaning: "approval of redaction"},
		9: {Time: "2026-03-01T21:39:00.000Z", Who: "Dr. Ada Sponsor", Org: "Sponsor Inc", Role: "regulator", Meaning: "approval of database lock"},
	} {
		e := byLeaf[leaf]
		if e.Time != want.Time || e.Who != want.Who || e.Org != want.Org || e.Role != want.Role || e.Meaning != want.Meaning ||
			e.Signer != key || e.KeyFP != key[:8]+"…"+key[60:] || (want.Status != "" && e.Status != want.Status) {
			t.Errorf("log record %d:\n got %+v\nwant %+v", leaf, e, want)
		}
	}
	if e := byLeaf[7]; !strings.Contains(e.Action, "Member site-a (Site A, role regulator") || e.Org != "Network" || e.Role != "admin" {
		t.Errorf("membership record: %+v", e)
	}
	if len(rep.Redactions) != 1 || rep.Redactions[0].Time != "2026-03-01T21:38:00.000Z" || rep.Redactions[0].Who != "site-a" || rep.Redactions[0].Role != "regulator" || rep.Redactions[0].Signer != key {
		t.Errorf("redaction: %+v", rep.Redactions)
	}
	if !strings.Contains(rep.Verification.Summary, "certified by 3 of the network's 4 validators") {
		t.Errorf("summary: %s", rep.Verification.Summary)
	}

	// Without proven block times (a bundle read from a file): the
	// activation does not borrow the registration's time, and the refused
	// attempt takes its block's time only if another action of that block
	// recorded one.
	rep = BuildWith(res, nil, Options{Trial: "T1", Genesis: g, LeftOut: -1})
	for _, e := range rep.Trail {
		switch e.Leaf {
		case 6:
			if e.Time != "" || e.Meaning != "approval of enrolment" {
				t.Errorf("activation without block times: %+v", e)
			}
		case 9:
			if e.Time != lockM.Time || e.Meaning != lockM.Meaning {
				t.Errorf("lock: %+v", e)
			}
		}
	}
	var html bytes.Buffer
	if err := rep.Write(&html, "html", ""); err != nil || !strings.Contains(html.String(), "(time not in the evidence)") {
		t.Fatalf("html: %v", err)
	}
	// Times from a checkpoint that did not verify are not used.
	rep = BuildWith(res, nil, Options{Genesis: g, Times: &BlockTimes{Checkpoint: block.Sum([]byte("other")), Times: times}, LeftOut: -1})
	if rep.Trail[5].Time != "" {
		t.Errorf("unverified times used: %+v", rep.Trail[5])
	}
}

// TestSummary: the banner says exactly what was proven.
func TestSummary(t *testing.T) {
	res := sampleResult(t)
	base := Proof{Scope: "trial:T1", Height: 40, Time: "2026-03-01T10:00:00.000Z", Validators: 3, Of: 4, Witnesses: []string{}, LeftOut: -1, Reason: "no proof of the count"}
	cases := []struct {
		name   string
		ok     bool
		proof  func(p *Proof)
		want   []string
		refuse []string
	}{
		{"incomplete", true, func(*Proof) {}, []string{"5 records verified; completeness NOT proven (no proof of the count)", "as of block 40 (2026-03-01T10:00:00.000Z UTC)", "certified by 3 of the network's 4 validators", "no independent witness"}, []string{"VERIFIED"}},
		{"complete, witnessed", true, func(p *Proof) { p.Complete, p.Witnesses = true, []string{"Regulator Agency", "Ethics Board"} },
			[]string{"VERIFIED COMPLETE: all 5 records of trial T1, as of block 40", "witnessed by Regulator Agency, Ethics Board"}, []string{"NOT proven"}},
		{"left out", true, func(p *Proof) { p.LeftOut = 2 }, []string{"2 record(s) of the trial committed in block 40 or later are NOT in this evidence"}, []string{"VERIFIED"}},
		{"sealed", true, func(p *Proof) { p.Sealed, p.LeftOut = true, 0 }, []string{"sealed before export"}, nil},
		{"failed", false, func(p *Proof) { p.Complete = true }, []string{"FAILED"}, []string{"VERIFIED"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := &Verification{OK: tc.ok, Proof: base}
			tc.proof(&v.Proof)
			r := *res
			if !tc.ok {
				r.Failures = bundle.Failures{{Record: 0, Err: bundle.ErrReceipt}}
			}
			s := summary(&r, v)
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("%q lacks %q", s, w)
				}
			}
			for _, w := range tc.refuse {
				if strings.Contains(s, w) {
					t.Errorf("%q contains %q", s, w)
				}
			}
		})
	}
}

func TestRefusal(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"vm: abort: out-of-range: field \"SYSBP\" = 300 mm[Hg] is above the maximum 250 mm[Hg]", "A value is outside its allowed range: field \"SYSBP\" = 300 mm[Hg] is above the maximum 250 mm[Hg]"},
		{"vm: abort: consent-required: this needs the consent of consent group e9d8571432231f803729a452f43c3ef3267011b7d694b57fe4389bd28d0ed48e over action b1; none was given",
			"The required multi-party consent was missing or not valid: this needs the consent of consent group e9d857143223… over action b1; none was given"},
		{"vm: abort: site-not-allowed: site \"x\" is not allowed", "This site is not part of the trial protocol: site \"x\" is not allowed"},
		{"vm: abort: something odd", "The program refused it: something odd"},
		{"vm: out of gas", "It ran out of its computation allowance."},
		{"vm: trap: unreachable", "The program stopped with an internal error: unreachable"},
		{"out of gas: anchoring needs 5, limit 1", "It ran out of its computation allowance: anchoring needs 5, limit 1"},
		{"state: sender is not a member", "Sender is not a member"},
		{`vm: abort: consent-required: the consent is not a valid consent of group 86 meaning "approve amendment" for action b1 (consent_verify: contracts: consent refused: contracts: the consent means something else: this needs signers meaning "approve amendment", but Prof. Ben Ethics (party 2, "REJECT amendment: we object") signed meaning "REJECT amendment: we object")`,
			`The multi-party consent does not approve it (its signers meant something else): this needs signers meaning "approve amendment", but Prof. Ben Ethics (party 2, "REJECT amendment: we object") signed meaning "REJECT amendment: we object"`},
		{"", ""},
	} {
		if got := Refusal(tc.raw); got != tc.want {
			t.Errorf("Refusal(%q)\n got %q\nwant %q", tc.raw, got, tc.want)
		}
	}
}
