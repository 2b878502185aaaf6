package bundle

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
)

// Scope is a record set (chain/state scope.go) as the bundle carries it:
// every entry of the set at the bundle's latest checkpoint, and the state
// proof of the set's head there. The head is a count and a hash chain
// over the entries, kept by the chain on every record-producing
// transaction (never by contract code), so the proof pins the exact list:
// Verify checks the bundle holds a verified record for each entry and,
// for the trial's own set, no record outside it.
type Scope struct {
	Name    string
	Entries []*state.ScopeEntry
	// Proof proves state.ScopeKey(Name) → state.HeadOf(Entries) (or the
	// key's absence when there are no entries) in the state root of the
	// bundle's latest checkpoint.
	Proof *smt.Proof
}

// MaxScopes bounds the record sets of one bundle.
const MaxScopes = 1 << 16

type scopeJSON struct {
	Name    string            `json:"name"`
	Entries []*scopeEntryJSON `json:"entries"`
	Proof   *smt.Proof        `json:"proof"`
}

type scopeEntryJSON struct {
	Tx     block.Hash `json:"tx"`
	Height uint64     `json:"height"`
	Index  uint64     `json:"index"`
	Kind   string     `json:"kind"`
}

func encodeScopes(ss []*Scope) []*scopeJSON {
	out := []*scopeJSON{}
	for _, s := range ss {
		sj := &scopeJSON{Name: s.Name, Proof: s.Proof, Entries: []*scopeEntryJSON{}}
		for _, e := range s.Entries {
			sj.Entries = append(sj.Entries, &scopeEntryJSON{Tx: e.TxHash, Height: e.Height, Index: e.Index, Kind: e.Kind})
		}
		out = append(out, sj)
	}
	return out
}

func decodeScopes(js []*scopeJSON) ([]*Scope, error) {
	if len(js) > MaxScopes {
		return nil, fmt.Errorf("%w: %d record sets, limit %d", ErrMalformed, len(js), MaxScopes)
	}
	seen := map[string]bool{}
	total := 0
	var out []*Scope
	for i, sj := range js {
		switch {
		case sj == nil || sj.Proof == nil:
			return nil, fmt.Errorf("%w: record set %d: null or without its state proof", ErrMalformed, i)
		case sj.Name == "" || len(sj.Name) > block.MaxScopeBytes:
			return nil, fmt.Errorf("%w: record set %d: name of %d bytes", ErrMalformed, i, len(sj.Name))
		case seen[sj.Name]:
			return nil, fmt.Errorf("%w: record set %q listed twice", ErrMalformed, sj.Name)
		}
		seen[sj.Name] = true
		total += len(sj.Entries)
		if total > MaxRecords {
			return nil, fmt.Errorf("%w: more than %d record set entries", ErrMalformed, MaxRecords)
		}
		s := &Scope{Name: sj.Name, Proof: sj.Proof}
		for k, ej := range sj.Entries {
			if ej == nil || len(ej.Kind) > state.MaxScopeKindBytes {
				return nil, fmt.Errorf("%w: record set %q: entry %d is null or its kind too long", ErrMalformed, sj.Name, k)
			}
			s.Entries = append(s.Entries, &state.ScopeEntry{TxHash: ej.Tx, Height: ej.Height, Index: ej.Index, Kind: ej.Kind})
		}
		out = append(out, s)
	}
	return out, nil
}

// Completeness is what Verify proved about the bundle's own record set.
type Completeness struct {
	Scope         string `json:"scope"`   // "trial:ID"
	Records       int    `json:"records"` // entries of the set, each present and verified
	Height        uint64 `json:"height"`  // the checkpoint the set was proved at
	TimeUnixMilli int64  `json:"time_unix_ms"`
	Validators    int    `json:"validators"` // signatures on that checkpoint
}

// Signer is who signed a record, as the membership history in the bundle
// proves it at the record's height.
type Signer struct {
	Key   ed25519.PublicKey
	Name  string
	Org   string
	Role  block.Role
	Since uint64 // height of the registration in force (0: genesis)
	// RotatedFrom is the key this one replaced, if it came from a rotation.
	RotatedFrom ed25519.PublicKey
}

// Fingerprint is the first 8 bytes of the key in hex, for people.
func (s *Signer) Fingerprint() string { return hex.EncodeToString(s.Key[:min(8, len(s.Key))]) }

// DescribeKind says what a record set entry's kind is, for people: it is
// replaced by the domain (trials/audit) with the names of its methods.
var DescribeKind = func(kind string) string {
	if m, ok := strings.CutPrefix(kind, "call:"); ok {
		return "a call of " + m
	}
	if kind != "" && strings.ContainsRune("aeiou", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}

// scopes checks the bundle's record sets against the latest checkpoint,
// then completeness, binding to the trial, code history and signers.
func (v *verifier) scopes() {
	latest := v.b.Latest()
	if latest == nil || len(v.res.Checkpoints) == 0 || v.res.Checkpoints[len(v.res.Checkpoints)-1].Height != latest.Height() {
		return // the checkpoint's failure says why
	}
	root := latest.Header.StateRoot
	byName := map[string]*Scope{}
	proven := map[string]bool{}
	for _, s := range v.b.Scopes {
		byName[s.Name] = s
		key := state.ScopeKey(s.Name)
		var err error
		if len(s.Entries) == 0 {
			err = s.Proof.VerifyAbsent(root, key)
		} else {
			err = s.Proof.VerifyValue(root, key, state.HeadOf(s.Entries).Encode())
		}
		if err != nil {
			v.fail(-1, block.Hash{}, 0, fmt.Sprintf("record set %q", s.Name), ErrIncomplete,
				"the bundle lists %d records, which are not the set certified at block %d: %s (%w)", len(s.Entries), latest.Height(), v.diagnose(s), err)
			continue
		}
		proven[s.Name] = true
	}
	// Every record of the bundle, by transaction, verified or not.
	all := make(map[block.Hash]int, len(v.b.Records))
	for i, r := range v.b.Records {
		if rc := v.pre[i].rc; rc != nil { // decoded once, by precheck
			all[rc.TxHash] = i
		} else if len(r.Tx) > 0 {
			all[block.Sum(r.Tx)] = i // a damaged receipt: its record is here, and failed
		}
	}
	inSet := map[block.Hash]string{} // record → the set that justifies it
	for _, s := range v.b.Scopes {
		if !proven[s.Name] {
			continue
		}
		for k, e := range s.Entries {
			what := func() string { // only for a failure: a set may have 10^5 entries
				return fmt.Sprintf("record %d of %d of %s, %s at block %d", k+1, len(s.Entries), s.Name, DescribeKind(e.Kind), e.Height)
			}
			i, ok := all[e.TxHash]
			if !ok {
				v.fail(-1, e.TxHash, 0, "", ErrIncomplete, "%s, is missing from the bundle", what())
				continue
			}
			if v.failedTx[e.TxHash] {
				continue // its own failure says why
			}
			vr := v.byTx[e.TxHash]
			if vr == nil {
				continue
			}
			if vr.Receipt.Height != e.Height || vr.Receipt.Index != e.Index {
				v.fail(i, e.TxHash, vr.Leaf, what(), ErrIncomplete, "the set places it at block %d position %d, its receipt at block %d position %d", e.Height, e.Index, vr.Receipt.Height, vr.Receipt.Index)
				continue
			}
			if !hasScopeEvent(vr.Receipt, s.Name) {
				v.fail(i, e.TxHash, vr.Leaf, what(), ErrIncomplete, "its receipt does not name the set %q", s.Name)
				continue
			}
			if _, ok := inSet[e.TxHash]; !ok {
				inSet[e.TxHash] = s.Name
			}
		}
	}
	primary := v.b.Scope
	if !strings.HasPrefix(primary, "trial:") {
		return // "all" or another export: completeness of a set is not claimed
	}
	ps, ok := byName[primary]
	if !ok {
		v.fail(-1, block.Hash{}, 0, "scope", ErrIncomplete, "the bundle is for %s but carries no certified record set of it: nothing proves it holds all of its records", primary)
		return
	}
	if !proven[primary] {
		return
	}
	primaryTx := make(map[block.Hash]bool, len(ps.Entries))
	for _, e := range ps.Entries {
		primaryTx[e.TxHash] = true
	}
	// None foreign: each record is the trial's, or evidence for one of its
	// records (a contract version, a membership change, a consent group).
	usedGroups := map[block.Hash]bool{}
	contracts := map[block.Hash]bool{}
	signers := map[string]ed25519.PublicKey{}
	for _, vr := range v.res.Records {
		if !primaryTx[vr.TxHash] {
			continue
		}
		for _, c := range vr.Consents {
			usedGroups[c.Group] = true
		}
		if vr.Call != nil && !vr.CodeHash.IsZero() {
			contracts[vr.Call.Contract] = true
		}
		if vr.Tx != nil {
			signers[string(vr.Tx.Sender)] = vr.Tx.Sender
		}
	}
	for _, vr := range v.res.Records {
		if primaryTx[vr.TxHash] {
			continue
		}
		set, justified := inSet[vr.TxHash]
		switch {
		case justified && strings.HasPrefix(set, "code:"):
		case justified && strings.HasPrefix(set, "member:"):
		case vr.Tx != nil && vr.Tx.Kind == block.KindConsentGroup && usedGroups[block.Sum(vr.Tx.Payload)]:
		default:
			v.fail(vr.Index, vr.TxHash, vr.Leaf, "scope", ErrForeign, "%s is not a record of %s: its transaction is not in the certified record set of %s", describeRecord(vr), primary, primary)
		}
	}
	// Code history: every version of every contract the trial's records ran.
	for _, addr := range sortedHashes(contracts) {
		name := state.CodeScope(addr)
		if !proven[name] {
			if _, listed := byName[name]; !listed {
				v.fail(-1, block.Hash{}, 0, "code history", ErrIncomplete, "the records call contract %s, but the bundle does not prove its code history (record set %q): an upgrade could be hidden", addr, name)
			}
		}
	}
	// Signers: each held an active membership when the record was committed.
	members := v.memberHistories(signers, byName, proven)
	for _, vr := range v.res.Records {
		if !primaryTx[vr.TxHash] || vr.Tx == nil {
			continue
		}
		h, ok := members[string(vr.Tx.Sender)]
		if !ok {
			continue // reported by memberHistories
		}
		s, err := h.at(vr.Receipt.Height, vr.Receipt.Index)
		if err != nil {
			v.fail(vr.Index, vr.TxHash, vr.Leaf, "signer", ErrSigner, "%s: %v", describeRecord(vr), err)
			continue
		}
		vr.Signer = s
	}
	v.primaryTx = primaryTx
	v.complete = &Completeness{Scope: primary, Records: len(ps.Entries), Height: latest.Height(),
		TimeUnixMilli: latest.Header.TimeUnixMilli, Validators: len(latest.Cert.Sigs)}
}

// documents checks, for a trial bundle, that each document anchored by
// the trial's records is carried (under its anchor's label), shown
// redacted by a redaction record, or declared withheld by the exporter:
// a document deleted or renamed by hand fails.
func (v *verifier) documents() {
	if v.primaryTx == nil {
		return
	}
	carried := map[block.Hash]bool{}
	for _, vr := range v.res.Records {
		for _, p := range vr.Payloads {
			carried[p.SHA256] = true
			if p.Field == FieldAnchor && vr.Anchor != nil && vr.Anchor.Label != "" && p.Name != vr.Anchor.Label {
				v.fail(vr.Index, vr.TxHash, vr.Leaf, fmt.Sprintf("payload %q", p.Name), ErrPayload,
					"the document was renamed: its anchor's label on chain is %q", vr.Anchor.Label)
			}
		}
	}
	redacted := map[block.Hash]bool{}
	for _, vr := range v.res.Records {
		if vr.Redact != nil && vr.Receipt.Status == block.StatusOK {
			for _, t := range vr.Redact.Targets {
				redacted[t] = true
			}
		}
	}
	withheld := map[block.Hash]bool{}
	for _, w := range v.b.Withheld {
		withheld[w.SHA256] = true
	}
	anchored := map[block.Hash]bool{}
	for _, vr := range v.res.Records {
		if !v.primaryTx[vr.TxHash] || vr.Anchor == nil || vr.Receipt.Status != block.StatusOK {
			continue
		}
		h := vr.Anchor.Hash
		anchored[h] = true
		if !carried[h] && !redacted[h] && !withheld[h] {
			v.fail(vr.Index, vr.TxHash, vr.Leaf, "document", ErrPayload,
				"the document %q (SHA-256 %s) anchored for the trial is not in the bundle, not redacted, and not declared withheld: it was removed", vr.Anchor.Label, h)
		}
	}
	for _, w := range v.b.Withheld {
		if !anchored[w.SHA256] {
			v.fail(-1, block.Hash{}, 0, "withheld document "+w.SHA256.String(), ErrPayload, "no record of the trial anchors it")
		}
	}
	v.res.Withheld = v.b.Withheld
}

// CompleteFor refuses a result that is not a proven-complete bundle of
// trial: what `verify --trial` and the audit report require.
func (r *Result) CompleteFor(trial string) error {
	want := "trial:" + trial
	if r.Scope != want {
		return fmt.Errorf("%w: the bundle is for %q, not for trial %s", ErrForeign, r.Scope, trial)
	}
	if r.Complete == nil || r.Complete.Scope != want {
		return fmt.Errorf("%w: the bundle does not prove it holds every record of trial %s", ErrIncomplete, trial)
	}
	return nil
}

func hasScopeEvent(rc *block.Receipt, name string) bool {
	for _, e := range rc.Events {
		if e.Source.IsZero() && e.Type == state.EventScope && string(e.Data) == name {
			return true
		}
	}
	return false
}

func describeRecord(vr *Verified) string {
	kind := "a record"
	switch {
	case vr.Call != nil:
		kind = DescribeKind("call:" + vr.Call.Method)
	case vr.Tx != nil:
		kind = DescribeKind(vr.Tx.Kind.String())
	}
	return fmt.Sprintf("record %d (%s at block %d)", vr.Index, kind, vr.Receipt.Height)
}

func sortedHashes(m map[block.Hash]bool) []block.Hash {
	out := make([]block.Hash, 0, len(m))
	for h := range m {
		out = append(out, h)
	}
	sort.Slice(out, func(i, k int) bool { return bytes.Compare(out[i][:], out[k][:]) < 0 })
	return out
}

// memberChange is one step of a key's membership history.
type memberChange struct {
	height, index uint64
	signer        *Signer // nil: revoked
	what          string
}

type memberHistory struct {
	key     ed25519.PublicKey
	changes []memberChange // in commit order; the first may be genesis (height 0, index 0)
}

// at returns the membership in force for a record at (height, index).
func (h *memberHistory) at(height, index uint64) (*Signer, error) {
	var cur *memberChange
	for k := range h.changes {
		c := &h.changes[k]
		if c.height < height || (c.height == height && c.index < index) {
			cur = c
		}
	}
	switch {
	case cur == nil:
		return nil, fmt.Errorf("signer %x was not a member at block %d (neither in the genesis nor registered before)", []byte(h.key), height)
	case cur.signer == nil:
		return nil, fmt.Errorf("signer %x was no longer a member at block %d (%s at block %d)", []byte(h.key), height, cur.what, cur.height)
	}
	return cur.signer, nil
}

// memberHistories rebuilds each signer's membership from the genesis and
// the register records of its proven record set "member:KEY".
func (v *verifier) memberHistories(signers map[string]ed25519.PublicKey, byName map[string]*Scope, proven map[string]bool) map[string]*memberHistory {
	out := map[string]*memberHistory{}
	keys := make([]string, 0, len(signers))
	for k := range signers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		key := signers[k]
		name := state.MemberScope(key)
		s, listed := byName[name]
		if !listed {
			v.fail(-1, block.Hash{}, 0, "membership history", ErrIncomplete, "key %x signed records of the trial, but the bundle does not prove its membership history (record set %q)", []byte(key), name)
			continue
		}
		if !proven[name] {
			continue // reported
		}
		h := &memberHistory{key: key}
		for _, m := range v.g.Members {
			if bytes.Equal(m.Key, key) {
				h.changes = append(h.changes, memberChange{signer: &Signer{Key: key, Name: m.Name, Org: m.Org, Role: m.Role}, what: "genesis"})
			}
		}
		ok := true
		for _, e := range s.Entries {
			vr := v.byTx[e.TxHash]
			if vr == nil || vr.Tx == nil || vr.Tx.Kind != block.KindRegister {
				if vr != nil { // a missing or failed record is reported already
					v.fail(vr.Index, vr.TxHash, vr.Leaf, "membership history", ErrIncomplete, "entry of %q is not a register transaction with its payload", name)
				}
				ok = false
				continue
			}
			if vr.Receipt.Status != block.StatusOK {
				continue
			}
			p, err := block.DecodeRegister(vr.Tx.Payload)
			if err != nil {
				v.fail(vr.Index, vr.TxHash, vr.Leaf, "membership history", ErrTx, "%v", err)
				ok = false
				continue
			}
			c := memberChange{height: vr.Receipt.Height, index: vr.Receipt.Index}
			switch {
			case bytes.Equal(p.Key, key) && p.Revoke:
				c.what = "revoked"
			case bytes.Equal(p.Key, key):
				c.signer = &Signer{Key: key, Name: p.Name, Org: p.Org, Role: p.Role, Since: c.height, RotatedFrom: p.Replaces}
				c.what = "registered"
			case bytes.Equal(p.Replaces, key):
				c.what = fmt.Sprintf("replaced by key %x", []byte(p.Key))
			default:
				v.fail(vr.Index, vr.TxHash, vr.Leaf, "membership history", ErrIncomplete, "entry of %q changes another key", name)
				ok = false
				continue
			}
			h.changes = append(h.changes, c)
		}
		if ok {
			out[k] = h
		}
	}
	return out
}

// diagnose says, for people, what is wrong with a set whose entries do
// not hash to the certified head: the first entry that contradicts its
// record, or else that entries were added, removed or belong elsewhere.
func (v *verifier) diagnose(s *Scope) string {
	for k, e := range s.Entries {
		vr := v.byTx[e.TxHash]
		if vr == nil {
			continue
		}
		if vr.Receipt.Height != e.Height || vr.Receipt.Index != e.Index {
			return fmt.Sprintf("entry %d places its record at block %d position %d, the record's receipt says block %d position %d", k+1, e.Height, e.Index, vr.Receipt.Height, vr.Receipt.Index)
		}
		if got := recordKind(vr); got != "" && got != e.Kind {
			return fmt.Sprintf("entry %d says the record is %q, the record is %q: the entry was relabelled", k+1, e.Kind, got)
		}
		if !hasScopeEvent(vr.Receipt, s.Name) {
			return fmt.Sprintf("entry %d is record %d, whose receipt does not name the set %q: it was added from elsewhere", k+1, vr.Index, s.Name)
		}
	}
	for k := 1; k < len(s.Entries); k++ {
		e, p := s.Entries[k], s.Entries[k-1]
		if e.Height < p.Height || e.Height == p.Height && e.Index <= p.Index {
			return fmt.Sprintf("entry %d (block %d, position %d) is not after entry %d (block %d, position %d): the entries were reordered", k+1, e.Height, e.Index, k, p.Height, p.Index)
		}
	}
	return "records were added to or removed from its list, or the proof is not this set's"
}

// recordKind is the kind a record set entry gives a verified record.
func recordKind(vr *Verified) string {
	switch {
	case vr.Call != nil:
		return "call:" + vr.Call.Method
	case vr.Tx != nil:
		return vr.Tx.Kind.String()
	}
	return ""
}
