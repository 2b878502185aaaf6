// Package audit turns a verified export bundle (chain/proof/bundle) into a
// 21 CFR Part 11 audit report an inspector can read without knowing what a
// blockchain is: who did what, when (UTC), why, original and corrected
// values side by side, the signature manifestations, the consents with
// every signer, the outcome-reporting report, and the result of the
// cryptographic verification in plain words. It also says which
// transactions belong to a trial (Selector), for the exporter.
//
// # Usage
//
//	b, _ := bundle.Decode(data)
//	res, verr := bundle.Verify(b, g)
//	rep := audit.Build(res, verr, "T1")
//	err = rep.WriteHTML(w)   // or WriteCSV, WriteJSON
//
// Only records that verified are reported as evidence; failures are listed
// in the verification section, naming each record.
package audit

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof/bundle"
	"github.com/trialchain/trialchain/trials/model"
)

// Selector picks the transactions of trial id: contract calls whose JSON
// arguments name it ("trial", or "protocol.id" for a registration), and
// anchors whose label contains it.
func Selector(id string) bundle.Selector {
	return func(tx *block.Tx) bool {
		switch tx.Kind {
		case block.KindCall:
			c, err := block.DecodeCall(tx.Payload)
			if err != nil {
				return false
			}
			var a struct {
				Trial    string `json:"trial"`
				Protocol struct {
					ID string `json:"id"`
				} `json:"protocol"`
			}
			if json.Unmarshal(c.Args, &a) != nil {
				return false
			}
			return a.Trial == id || a.Protocol.ID == id
		case block.KindAnchor:
			a, err := block.DecodeAnchor(tx.Payload)
			return err == nil && strings.Contains(a.Label, id)
		}
		return false
	}
}

// CountSelected counts the canonical transactions txs that sel picks (an
// undecodable one is not counted).
func CountSelected(txs [][]byte, sel bundle.Selector) int {
	n := 0
	for _, raw := range txs {
		if tx, err := block.DecodeTx(raw); err == nil && (sel == nil || sel(tx)) {
			n++
		}
	}
	return n
}

// Report is the audit report.
type Report struct {
	Trial        string        `json:"trial"`
	ChainID      string        `json:"chain_id"`
	GenesisHash  string        `json:"genesis_hash"`
	Scope        string        `json:"scope"`
	Verification Verification  `json:"verification"`
	Protocol     *Protocol     `json:"protocol,omitempty"`
	Trail        []Event       `json:"audit_trail"`
	Corrections  []Correction  `json:"corrections"`
	Consents     []Consent     `json:"consents"`
	Outcomes     *model.Report `json:"outcome_reporting,omitempty"`
	Documents    []Document    `json:"documents"`
	Redactions   []Redaction   `json:"redactions"`
	Contracts    []Contract    `json:"contract_versions"`
	Notes        []string      `json:"notes"`
}

// Verification is the outcome of the cryptographic checks, in words.
type Verification struct {
	OK         bool          `json:"ok"`
	Summary    string        `json:"summary"`
	Proof      Proof         `json:"proven"`
	Counts     bundle.Counts `json:"counts"`
	Checkpoint *Checkpoint   `json:"checkpoint,omitempty"`
	Failures   []string      `json:"failures,omitempty"`        // one plain sentence per failure (bundle.Words)
	Details    []string      `json:"failure_details,omitempty"` // the verifier's own text of each
}

// Proof is exactly what the verification proved, for the banner: whether
// the evidence is complete, as of which certified block and time, against
// how many of the network's validators, and witnessed by whom. Build fills
// it from the bundle.Result (see proofOf).
type Proof struct {
	Complete   bool     `json:"complete"`             // the bundle proved it holds every record of its scope
	Scope      string   `json:"scope"`                // "trial:ID", "all"
	Height     uint64   `json:"block"`                // the newest verified checkpoint
	Time       string   `json:"time_utc"`             // its block time
	Validators int      `json:"validators"`           // validators whose signatures certify it
	Of         int      `json:"of_validators"`        // validators in the genesis (0: not known)
	Witnesses  []string `json:"witnesses"`            // independent organisations that cosigned it
	Sealed     bool     `json:"sealed"`               // the log was sealed before export: every earlier record is covered
	LeftOut    int      `json:"left_out"`             // records of the scope committed after the checkpoint, not in the evidence (-1: not known)
	Reason     string   `json:"completeness_unknown"` // why completeness is not proven
}

// Checkpoint is the certified state of the record log the evidence is
// checked against.
type Checkpoint struct {
	Height     uint64   `json:"block"`
	Time       string   `json:"time_utc"`
	Records    uint64   `json:"log_size"`
	Root       string   `json:"log_root"`
	Validators []uint64 `json:"signed_by_validators"`
}

// Protocol is the registered protocol as recorded.
type Protocol struct {
	ID         string              `json:"id"`
	Title      string              `json:"title"`
	Sponsor    string              `json:"sponsor"`
	Registered model.Manifestation `json:"registered"`
	Outcomes   []model.Outcome     `json:"registered_outcomes"`
}

// Event is one line of the audit trail.
type Event struct {
	Seq       int    `json:"seq"`
	Time      string `json:"time_utc"` // the block time (UTC); empty if the evidence does not prove it
	Block     uint64 `json:"block"`
	Who       string `json:"who"`  // printed name
	Org       string `json:"org"`  // organisation of the signer
	Role      string `json:"role"` // the signer's role on the network (genesis or member registration)
	Member    string `json:"member,omitempty"`
	Signer    string `json:"signer_key"`
	KeyFP     string `json:"signer_key_short"`
	Meaning   string `json:"meaning"` // of the signature
	Action    string `json:"action"`  // in plain words
	Subject   string `json:"subject,omitempty"`
	Entry     string `json:"entry,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Original  string `json:"original_values,omitempty"`
	Corrected string `json:"corrected_values,omitempty"`
	Status    string `json:"status"`            // accepted | refused
	Refusal   string `json:"refusal,omitempty"` // in plain words
	RawError  string `json:"refusal_raw,omitempty"`
	Tx        string `json:"transaction"`
	Leaf      uint64 `json:"log_record"`
	CodeHash  string `json:"contract_code,omitempty"`
}

// Correction is an entry and its correction side by side.
type Correction struct {
	Entry    string        `json:"entry"`
	Corrects string        `json:"corrects"`
	Subject  string        `json:"subject"`
	Visit    string        `json:"visit"`
	Form     string        `json:"form"`
	Time     string        `json:"time_utc"`
	Who      string        `json:"who"`
	Reason   string        `json:"reason"`
	Fields   []FieldChange `json:"fields"`
}

// FieldChange is one field of a correction.
type FieldChange struct {
	Field     string `json:"field"`
	Original  string `json:"original"`
	Corrected string `json:"corrected"`
	Changed   bool   `json:"changed"`
}

// Consent is a verified multi-party consent.
type Consent struct {
	Action  string   `json:"action"`
	Time    string   `json:"time_utc"`
	ID      string   `json:"consent_id"`
	Group   string   `json:"group"`
	Meaning string   `json:"meaning"`
	Signers []Signer `json:"signers"`
	Tx      string   `json:"transaction"`
}

// Signer is one party of a consent.
type Signer struct {
	Party       int    `json:"party"`
	Name        string `json:"name"`
	Role        string `json:"role"`
	PrintedName string `json:"printed_name"`
	Time        string `json:"time_utc"`
}

// Document is an off-chain file whose hash the chain holds.
type Document struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int    `json:"bytes"`
	Field  string `json:"committed_at"`
	Tx     string `json:"transaction"`
}

// Redaction is an off-chain document destroyed on every node by a signed
// redaction record; its fingerprint and the records committing to it stay.
type Redaction struct {
	SHA256  string `json:"sha256"`
	Basis   string `json:"basis"`
	Reason  string `json:"reason"`
	Meaning string `json:"meaning"`
	Who     string `json:"who"`
	Org     string `json:"org"`
	Role    string `json:"role"`
	Signer  string `json:"signer_key"`
	KeyFP   string `json:"signer_key_short"`
	Time    string `json:"time_utc"`
	Block   uint64 `json:"block"`
	Tx      string `json:"transaction"`
}

// Contract is a contract code version.
type Contract struct {
	Address  string `json:"address"`
	CodeHash string `json:"code_hash"`
	Block    uint64 `json:"block"`
	Upgrade  bool   `json:"upgrade"`
	CodeSeen bool   `json:"code_included"`
}

func utc(ms int64) string { return model.FormatMilli(ms) }

// Options of BuildWith. Every field may be left zero.
type Options struct {
	Trial string // for the title; "" for a whole-chain export
	// Genesis gives the members (printed name, organisation, role of each
	// key) and the size of the validator set; member registration records
	// in the bundle update it in log order.
	Genesis *genesis.Genesis
	// Bundle is the bundle that was verified: failing records are named
	// from it (kind, block) in the verification section.
	Bundle *bundle.Bundle
	// Times are block times proven by the hash chain from a verified
	// checkpoint (bundle.HeaderLog.BlockTimes); used only if that
	// checkpoint is one of the result's.
	Times *BlockTimes
	// Sealed says the exporter sealed the log first (every record
	// committed before the export is covered by the checkpoint); LeftOut
	// counts the records of the scope committed after the checkpoint
	// (-1: not known, e.g. a bundle read from a file).
	Sealed  bool
	LeftOut int
	// Witnesses name the independent witnesses whose cosignatures of the
	// bundle's checkpoint were verified with their trusted keys
	// (bundle.VerifyWitnesses), e.g. "regulator (key 3fa2…)".
	Witnesses []string
}

// BlockTimes are the times of blocks proven from the checkpoint whose
// block hash is Checkpoint.
type BlockTimes struct {
	Checkpoint block.Hash
	Times      map[uint64]int64 // height → Unix ms
}

// Build makes the report of a verification (res from bundle.Verify, verr
// its error) for trial (for the title; "" for a whole-chain export), with
// nothing else known: see BuildWith.
func Build(res *bundle.Result, verr error, trial string) *Report {
	return BuildWith(res, verr, Options{Trial: trial, LeftOut: -1})
}

// BuildWith makes the report of a verification (res from bundle.Verify,
// verr its error).
func BuildWith(res *bundle.Result, verr error, o Options) *Report {
	r := &Report{Trial: o.Trial, ChainID: res.ChainID, GenesisHash: res.GenesisHash.String(), Scope: res.Scope,
		Trail: []Event{}, Corrections: []Correction{}, Consents: []Consent{}, Documents: []Document{}, Redactions: []Redaction{}, Contracts: []Contract{}}
	r.verification(res, verr, o)
	dir := newDirectory(o.Genesis)
	times := blockTimes(res, o.Times)
	entries := map[string]model.Entry{}
	for _, v := range res.Records {
		r.record(v, entries, dir, times)
		if v.Tx != nil && v.Tx.Kind == block.KindRegister && v.Receipt.Status == block.StatusOK {
			dir.apply(v.Tx.Payload)
		}
	}
	r.sameBlockTimes()
	r.attestedOrgs()
	for i := range r.Trail {
		r.Trail[i].Seq = i + 1
	}
	for _, c := range res.Contracts {
		r.Contracts = append(r.Contracts, Contract{Address: c.Address.String(), CodeHash: c.CodeHash.String(), Block: c.Height, Upgrade: c.Upgrade, CodeSeen: c.CodeSeen})
	}
	r.Notes = []string{
		"Every line of this report comes from a record whose digital signature, position in the tamper-evident record log and certification by a quorum of the network's validators were re-checked from the raw bytes when the report was made.",
		"Times are the UTC times of the blocks that recorded each action. Where the evidence does not prove a block's time, the block number alone is given.",
		"Who: the printed name the signer stated, with the organisation and role the network's membership gives the signing key, and the key itself (shortened; the full key is in the JSON and CSV).",
	}
	if !r.Verification.Proof.Complete {
		r.Notes = append(r.Notes, "This evidence proves that these records exist unaltered; it does not prove that no other record of the trial exists.")
	}
	return r
}

// sameBlockTimes gives an event whose block time is not proven otherwise
// the time a verified contract recorded for another action of the same
// block (a block has one time), and the redactions their event's time.
func (r *Report) sameBlockTimes() {
	at := map[uint64]string{}
	for _, e := range r.Trail {
		if e.Time != "" {
			at[e.Block] = e.Time
		}
	}
	for i := range r.Trail {
		if r.Trail[i].Time == "" {
			r.Trail[i].Time = at[r.Trail[i].Block]
		}
	}
	for i := range r.Redactions {
		if r.Redactions[i].Time == "" {
			r.Redactions[i].Time = at[r.Redactions[i].Block]
		}
	}
}

// attestedOrgs gives a row whose signing key the membership does not
// name (a member registered after the genesis, whose registration is not
// in the bundle) the organisation the contract recorded for the same key
// in an accepted action (its manifestation: the chain's membership as
// the verified contract code read it).
func (r *Report) attestedOrgs() {
	org := map[string]string{}
	for _, e := range r.Trail {
		if e.Signer != "" && e.Org != "" && e.Status == "accepted" {
			if _, ok := org[e.Signer]; !ok {
				org[e.Signer] = e.Org
			}
		}
	}
	for i := range r.Trail {
		if e := &r.Trail[i]; e.Org == "" && e.Signer != "" {
			e.Org = org[e.Signer]
		}
	}
	for i := range r.Redactions {
		if d := &r.Redactions[i]; d.Org == "" {
			d.Org = org[d.Signer]
		}
	}
}

// blockTimes are the block times the evidence proves: the verified
// checkpoints' and, if their checkpoint verified, the caller's.
func blockTimes(res *bundle.Result, bt *BlockTimes) map[uint64]int64 {
	times := map[uint64]int64{}
	for _, cp := range res.Checkpoints {
		times[cp.Height] = cp.TimeUnixMilli
		if bt != nil && cp.BlockHash == bt.Checkpoint {
			for h, t := range bt.Times {
				times[h] = t
			}
		}
	}
	return times
}

// proofOf says what the result proves: completeness from the bundle's
// certified record set (bundle.Result.Complete), the checkpoint, and the
// witnesses the caller verified.
func proofOf(res *bundle.Result, o Options) Proof {
	p := Proof{Scope: res.Scope, Sealed: o.Sealed, LeftOut: o.LeftOut, Witnesses: append([]string{}, o.Witnesses...),
		Reason: "the evidence file carries no proof of the number of the trial's records"}
	if c := res.Complete; c != nil {
		p.Complete, p.Reason = true, ""
	}
	if o.Genesis != nil {
		p.Of = len(o.Genesis.Validators)
	}
	if n := len(res.Checkpoints); n > 0 {
		cp := res.Checkpoints[n-1]
		p.Height, p.Time, p.Validators = cp.Height, utc(cp.TimeUnixMilli), len(cp.Signers)
	}
	return p
}

func (r *Report) verification(res *bundle.Result, verr error, o Options) {
	v := &r.Verification
	v.OK = verr == nil
	v.Counts = res.Counts
	v.Proof = proofOf(res, o)
	if len(res.Checkpoints) > 0 {
		cp := res.Checkpoints[len(res.Checkpoints)-1]
		v.Checkpoint = &Checkpoint{Height: cp.Height, Time: utc(cp.TimeUnixMilli), Records: cp.LogSize, Root: cp.LogRoot.String(), Validators: cp.Signers}
	}
	for _, f := range res.Failures {
		v.Details = append(v.Details, f.Error())
	}
	if verr != nil {
		v.Failures = bundle.Words(o.Bundle, verr, Describe)
	}
	v.Summary = summary(res, v)
}

// summary is the banner: exactly what was proven.
func summary(res *bundle.Result, v *Verification) string {
	p := v.Proof
	if !v.OK {
		return fmt.Sprintf("FAILED: %d check(s) failed; %d of %d records verified. Do not rely on the records named below.", len(res.Failures), res.Counts.Verified, res.Counts.Records)
	}
	var b strings.Builder
	what := p.Scope
	if t, ok := strings.CutPrefix(p.Scope, "trial:"); ok {
		what = "trial " + t
	}
	if p.Complete {
		n := res.Counts.Records
		if res.Complete != nil {
			n = res.Complete.Records
		}
		fmt.Fprintf(&b, "VERIFIED COMPLETE: all %d records of %s", n, what)
		if extra := res.Counts.Records - n; extra > 0 {
			fmt.Fprintf(&b, " (with %d records of supporting evidence: contract versions, memberships, consent groups)", extra)
		}
	} else {
		fmt.Fprintf(&b, "%d records verified; completeness NOT proven (%s)", res.Counts.Records, p.Reason)
	}
	if p.Height > 0 {
		fmt.Fprintf(&b, ", as of block %d (%s UTC)", p.Height, p.Time)
		if p.Of > 0 {
			fmt.Fprintf(&b, ", certified by %d of the network's %d validators", p.Validators, p.Of)
		} else {
			fmt.Fprintf(&b, ", certified by %d validators", p.Validators)
		}
	}
	if len(p.Witnesses) > 0 {
		fmt.Fprintf(&b, ", witnessed by %s", strings.Join(p.Witnesses, ", "))
	} else {
		b.WriteString("; no independent witness cosigned it")
	}
	b.WriteString(".")
	switch {
	case p.LeftOut > 0:
		fmt.Fprintf(&b, " %d record(s) of the %s committed in block %d or later are NOT in this evidence (the log was not sealed before export).", p.LeftOut, scopeWord(p.Scope), p.Height)
	case p.Sealed:
		b.WriteString(" The log was sealed before export: every record committed before the export is covered.")
	case p.LeftOut < 0:
		fmt.Fprintf(&b, " Records committed in block %d or later, if any, are not in this evidence.", p.Height)
	}
	return b.String()
}

func scopeWord(scope string) string {
	if strings.HasPrefix(scope, "trial:") {
		return "trial"
	}
	return "export"
}

// member is what the network's membership says about a key.
type member struct {
	Name, Org, Role string
	Revoked         bool
}

// directory is the membership as of a point of the log: the genesis
// members, then each member registration record in log order.
type directory map[string]member

func newDirectory(g *genesis.Genesis) directory {
	d := directory{}
	if g != nil {
		for _, m := range g.Members {
			d[hex.EncodeToString(m.Key)] = member{Name: m.Name, Org: m.Org, Role: m.Role.String()}
		}
	}
	return d
}

func (d directory) apply(payload []byte) {
	p, err := block.DecodeRegister(payload)
	if err != nil {
		return
	}
	d[hex.EncodeToString(p.Key)] = member{Name: p.Name, Org: p.Org, Role: p.Role.String(), Revoked: p.Revoke}
}

// fingerprint shortens a key for people: its first 8 and last 4 hex digits.
func fingerprint(key string) string {
	if len(key) <= 16 {
		return key
	}
	return key[:8] + "…" + key[len(key)-4:]
}

// manifestation finds a call's own Part 11 manifestation in its contract
// result: a registration's "registered", a lock's "lock.manifestation",
// every other method's "manifestation". A result that only repeats the
// trial's state (activation returns the trial, whose "registered" is the
// registration's) gives none.
func manifestation(method string, result []byte) (model.Manifestation, bool) {
	var m struct {
		Manifestation *model.Manifestation `json:"manifestation"`
		Registered    *model.Manifestation `json:"registered"`
		Lock          *struct {
			Manifestation *model.Manifestation `json:"manifestation"`
		} `json:"lock"`
	}
	if json.Unmarshal(result, &m) != nil {
		return model.Manifestation{}, false
	}
	var got *model.Manifestation
	switch method {
	case "register":
		got = m.Registered
	case "lock":
		if m.Lock != nil {
			got = m.Lock.Manifestation
		}
	default:
		got = m.Manifestation
	}
	if got == nil || got.PrintedName == "" {
		return model.Manifestation{}, false
	}
	return *got, true
}

func (r *Report) record(v *bundle.Verified, entries map[string]model.Entry, dir directory, times map[uint64]int64) {
	rc := v.Receipt
	e := Event{Block: rc.Height, Leaf: v.Leaf, Tx: v.TxHash.String(), Status: "accepted"}
	if t, ok := times[rc.Height]; ok {
		e.Time = utc(t)
	}
	if rc.Status != block.StatusOK {
		e.Status, e.Refusal, e.RawError = "refused", Refusal(rc.Error), rc.Error
	}
	if v.Tx != nil {
		e.Signer = hex.EncodeToString(v.Tx.Sender)
		e.KeyFP = fingerprint(e.Signer)
		if m, ok := dir[e.Signer]; ok {
			e.Org, e.Role, e.Member = m.Org, m.Role, m.Name
			if m.Revoked {
				e.Role += " (revoked)"
			}
		}
	}
	switch {
	case v.Tx == nil || v.Tx.Kind == block.KindDeploy || v.Tx.Kind == block.KindUpgrade:
		e.Action = "Contract code installed (the program that checks and records trial data)"
		for _, c := range chainEventsOf(rc, bundle.EventUpgraded) {
			e.Action = fmt.Sprintf("Contract %s upgraded to code %s", short(c[:32]), short(c[64:96]))
		}
		for _, c := range chainEventsOf(rc, bundle.EventDeployed) {
			e.Action = fmt.Sprintf("Contract %s installed with code %s", short(c[:32]), short(c[32:64]))
		}
	case v.Tx.Kind == block.KindConsentGroup:
		e.Action = fmt.Sprintf("Consent group %s registered (its members approve amendments and sign-offs together)", short(rc.Result))
	case v.Tx.Kind == block.KindRegister:
		e.Action = "Network membership changed"
		if p, err := block.DecodeRegister(v.Tx.Payload); err == nil {
			verb := "admitted"
			if p.Revoke {
				verb = "revoked"
			}
			e.Action = fmt.Sprintf("Member %s (%s, role %s, key %s) %s", p.Name, p.Org, p.Role, fingerprint(hex.EncodeToString(p.Key)), verb)
		}
	case v.Anchor != nil:
		e.Action = fmt.Sprintf("Document %q recorded by its fingerprint (SHA-256 %s)", v.Anchor.Label, v.Anchor.Hash)
	case v.Redact != nil:
		var hs []string
		for _, h := range v.Redact.Targets {
			hs = append(hs, h.String())
			if rc.Status == block.StatusOK {
				r.Redactions = append(r.Redactions, Redaction{SHA256: h.String(), Basis: v.Redact.Basis.String(), Reason: v.Redact.Reason,
					Meaning: v.Redact.Meaning, Who: e.Member, Org: e.Org, Role: e.Role, Signer: e.Signer, KeyFP: e.KeyFP, Time: e.Time, Block: rc.Height, Tx: v.TxHash.String()})
			}
		}
		e.Action = fmt.Sprintf("Off-chain document redacted (%s): every node's copy destroyed; its fingerprint stays (SHA-256 %s)", v.Redact.Basis, strings.Join(hs, ", "))
		e.Reason, e.Meaning = v.Redact.Reason, v.Redact.Meaning
	case v.Call != nil:
		e.CodeHash = v.CodeHash.String()
		r.call(v, &e, entries)
	default:
		e.Action = fmt.Sprintf("%s transaction", v.Tx.Kind)
	}
	if e.Who == "" {
		e.Who = e.Member // no printed name stated: the member's name on the network
	}
	for _, p := range v.Payloads {
		r.Documents = append(r.Documents, Document{Name: p.Name, SHA256: p.SHA256.String(), Bytes: len(p.Data), Field: p.Field, Tx: v.TxHash.String()})
	}
	for _, c := range v.Consents {
		rc := Consent{Action: e.Action, Time: e.Time, ID: c.ID.String(), Group: c.Group.String(), Meaning: c.Meaning, Tx: v.TxHash.String()}
		for _, s := range c.Signers {
			rc.Signers = append(rc.Signers, Signer{Party: s.Party, Name: s.Name, Role: s.Role, PrintedName: s.Manifestation.PrintedName, Time: s.Manifestation.Time.UTC().Format("2006-01-02T15:04:05.000Z")})
		}
		r.Consents = append(r.Consents, rc)
	}
	r.Trail = append(r.Trail, e)
}

func chainEventsOf(rc *block.Receipt, typ string) [][]byte {
	var out [][]byte
	for _, e := range rc.Events {
		if e.Source.IsZero() && e.Type == typ && len(e.Data) >= 64 {
			out = append(out, e.Data)
		}
	}
	return out
}

func short(b []byte) string {
	s := hex.EncodeToString(b)
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

// callArgs is the union of the trial methods' arguments that the report reads.
type callArgs struct {
	Trial     string                      `json:"trial"`
	Subject   string                      `json:"subject"`
	Visit     string                      `json:"visit"`
	Form      string                      `json:"form"`
	Entry     string                      `json:"entry"`
	Reason    string                      `json:"reason"`
	Version   int                         `json:"version"`
	Term      string                      `json:"term"`
	Severity  string                      `json:"severity"`
	Serious   bool                        `json:"serious"`
	Signature model.Signature             `json:"signature"`
	Protocol  *model.Protocol             `json:"protocol"`
	Fields    map[string]model.FieldValue `json:"fields"`
}

func (r *Report) call(v *bundle.Verified, e *Event, entries map[string]model.Entry) {
	rc, c := v.Receipt, v.Call
	var a callArgs
	_ = json.Unmarshal(c.Args, &a) // a call of another contract: words from the method alone
	e.Who, e.Meaning, e.Subject, e.Reason = a.Signature.PrintedName, a.Signature.Meaning, a.Subject, a.Reason
	if m, ok := manifestation(c.Method, rc.Result); ok && rc.Status == block.StatusOK {
		e.Who, e.Meaning = m.PrintedName, m.Meaning
		if m.Org != "" {
			e.Org = m.Org
		}
		if e.Time == "" {
			e.Time = m.Time // the contract's record of its block time
		}
	}
	ok := rc.Status == block.StatusOK
	switch c.Method {
	case "register":
		e.Action = "Registered the trial protocol"
		if a.Protocol != nil {
			e.Action = fmt.Sprintf("Registered trial protocol %s (%q, %d pre-specified outcomes)", a.Protocol.ID, a.Protocol.Title, len(a.Protocol.Outcomes))
		}
		var ts model.TrialState
		if ok && json.Unmarshal(rc.Result, &ts) == nil && ts.Protocol.ID != "" {
			r.Protocol = &Protocol{ID: ts.Protocol.ID, Title: ts.Protocol.Title, Sponsor: ts.Protocol.Sponsor, Registered: ts.Registered, Outcomes: ts.Protocol.Outcomes}
		}
	case "activate":
		e.Action = "Opened enrolment"
	case "amend":
		e.Action = fmt.Sprintf("Amended the protocol to version %d", a.Version)
		var am model.Amendment
		if ok && json.Unmarshal(rc.Result, &am) == nil && len(am.Parts) > 0 {
			e.Action += " (changed: " + strings.Join(am.Parts, ", ") + ")"
			if len(am.OutcomeChanges) > 0 {
				e.Action += "; outcomes: " + strings.Join(am.OutcomeChanges, "; ")
			}
		}
	case "enroll":
		e.Action = fmt.Sprintf("Enrolled subject %s", a.Subject)
	case "submit", "correct":
		var en model.Entry
		if ok && json.Unmarshal(rc.Result, &en) == nil && en.ID != "" {
			entries[en.ID] = en
			e.Entry, e.Subject = en.ID, en.Subject
		}
		if c.Method == "submit" {
			e.Action = fmt.Sprintf("Submitted form %s of visit %s for subject %s", a.Form, a.Visit, a.Subject)
			if e.Entry != "" {
				e.Action += " as entry " + e.Entry
			}
			e.Corrected = fields(a.Fields)
			break
		}
		e.Action = fmt.Sprintf("Corrected entry %s", a.Entry)
		orig, have := entries[a.Entry]
		if have {
			e.Original = fields(orig.Public)
		}
		e.Corrected = fields(a.Fields)
		if ok && have {
			r.Corrections = append(r.Corrections, correction(orig, entries[e.Entry], e))
		}
	case "ae":
		e.Action = fmt.Sprintf("Reported adverse event %q (%s%s)", a.Term, a.Severity, map[bool]string{true: ", serious", false: ""}[a.Serious])
		var ae model.AdverseEvent
		if ok && json.Unmarshal(rc.Result, &ae) == nil && ae.Late {
			e.Action += fmt.Sprintf(" — reported %d minutes after the 24-hour deadline", ae.MinutesLate)
		}
	case "lock":
		e.Action = "Locked the database"
	case "results":
		e.Action = "Submitted the trial results"
		var rep model.Report
		if ok && json.Unmarshal(rc.Result, &rep) == nil && rep.Trial != "" {
			r.Outcomes = &rep
		}
	default:
		e.Action = fmt.Sprintf("Called %s on contract %s", c.Method, short(c.Contract[:]))
	}
	if !ok {
		e.Action = "Attempted: " + e.Action
	}
}

// fields formats field values "NAME=VALUE UNIT; …" in name order; private
// values show as "(held off chain)".
func fields(m map[string]model.FieldValue) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, n+"="+value(m[n]))
	}
	return strings.Join(parts, "; ")
}

func value(v model.FieldValue) string {
	switch {
	case v.Commit != "":
		return "(held off chain, fingerprint " + v.Commit[:min(12, len(v.Commit))] + "…)"
	case v.Unit != "":
		return v.Value + " " + v.Unit
	}
	return v.Value
}

func correction(orig, corr model.Entry, e *Event) Correction {
	c := Correction{Entry: corr.ID, Corrects: orig.ID, Subject: orig.Subject, Visit: orig.Visit, Form: orig.Form,
		Time: e.Time, Who: e.Who, Reason: e.Reason}
	if c.Entry == "" {
		c.Entry = e.Entry
	}
	names := map[string]bool{}
	for n := range orig.Public {
		names[n] = true
	}
	for n := range corr.Public {
		names[n] = true
	}
	keys := make([]string, 0, len(names))
	for n := range names {
		keys = append(keys, n)
	}
	sort.Strings(keys)
	for _, n := range keys {
		o, hasO := orig.Public[n]
		nv, hasN := corr.Public[n]
		fc := FieldChange{Field: n, Original: value(o), Corrected: value(nv), Changed: hasO != hasN || o != nv}
		if !hasO {
			fc.Original = "(none)"
		}
		if !hasN {
			fc.Corrected = "(none)"
		}
		c.Fields = append(c.Fields, fc)
	}
	if len(orig.Private) > 0 || len(corr.Private) > 0 {
		c.Fields = append(c.Fields, FieldChange{Field: "(private fields)", Original: strings.Join(orig.Private, ", "),
			Corrected: strings.Join(corr.Private, ", "), Changed: orig.Commitments != corr.Commitments})
	}
	return c
}
