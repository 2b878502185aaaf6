package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
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
	if !rep.Verification.OK || !strings.HasPrefix(rep.Verification.Summary, "VERIFIED") || rep.Verification.Checkpoint.Time != "2026-03-01T21:20:00.000Z" {
		t.Fatalf("verification: %+v", rep.Verification)
	}
	if len(rep.Trail) != 5 || rep.Trail[0].Who != "Dr. Ada Sponsor" || rep.Protocol == nil || rep.Protocol.Sponsor != "Sponsor Inc" {
		t.Fatalf("trail: %+v", rep.Trail)
	}
	if e := rep.Trail[2]; e.Status != "refused" || !strings.HasPrefix(e.Action, "Attempted: Submitted form VITALS") || e.Who != "Dr. Sam Site" {
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
	for _, want := range []string{"VERIFIED", "Trial &lt;one&gt;", "SYSBP=182 mm[Hg]", "transcription error", "DIFFER", "class=\"refused\"", "Signature meaning"} {
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
	if err != nil || len(rows) != 6 || rows[4][11] != "HR=70; SYSBP=182 mm[Hg]" || rows[4][12] != "HR=70; SYSBP=128 mm[Hg]" {
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
		!strings.Contains(rep.Verification.Failures[0], "record 2 (tx") {
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
	if len(rep.Redactions) != 1 || rep.Redactions[0].SHA256 != target.String() || rep.Redactions[0].Block != 16 {
		t.Fatalf("redactions: %+v", rep.Redactions)
	}
	var html bytes.Buffer
	if err := rep.Write(&html, "html", ""); err != nil || !strings.Contains(html.String(), "Redacted documents") || !strings.Contains(html.String(), "patient name in the form") {
		t.Fatalf("html: %v", err)
	}
}
