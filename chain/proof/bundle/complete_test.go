package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/state"
)

// completeFixture is the trial fixture continued: a site key registered
// by the admin, a submission signed by it, its rotation to a new key and
// a submission signed by that; a second trial T2 with its own records; an
// SAE narrative anchored for T1 and then redacted. Its export of T1 is a
// complete bundle: every mutation of it must fail.
type completeFixture struct {
	*trialFixture
	site, site2 ed25519.PrivateKey
	narrative   []byte
	good        []byte // the encoded bundle of T1
	t2          []byte // the encoded bundle of T2
}

func (fc *fakeChain) txAs(key ed25519.PrivateKey, kind block.Kind, payload []byte, status block.Status, events ...block.Event) *block.Tx {
	fc.nonce++
	tx := &block.Tx{ChainID: fc.g.ChainID, Nonce: fc.nonce, Kind: kind, GasLimit: 1_000_000, Payload: payload}
	tx.Sign(key)
	fc.queue(tx.Encode(), status, nil, events...)
	return tx
}

func callPayload(f *trialFixture, method string, args any) []byte {
	return (&block.CallPayload{Contract: f.contract, Method: method, Args: jsonOf(args)}).Encode()
}

func submitArgs(trial, subject, hash string) map[string]any {
	return map[string]any{"trial": trial, "subject": subject, "visit": "V2", "form": "VITALS",
		"fields": map[string]any{"SYSBP": map[string]any{"value": "121"}}, "recordHash": hash, "signature": map[string]any{"printedName": "Dr. Sam Site", "meaning": "author"}}
}

func newCompleteFixture(t testing.TB) *completeFixture {
	t.Helper()
	f := &completeFixture{trialFixture: newTrialFixture(t, 7, 0)}
	fc := f.fc
	admin := fc.valKeys[0] // the genesis admin
	f.site = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x51}, 32))
	f.site2 = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x52}, 32))
	sitePub, site2Pub := f.site.Public().(ed25519.PublicKey), f.site2.Public().(ed25519.PublicKey)
	fc.txAs(admin, block.KindRegister, (&block.RegisterPayload{Key: sitePub, Org: "Site A", Name: "Dr. Sam Site", Role: block.RoleSite}).Encode(), block.StatusOK)
	fc.commit(t)
	fc.txAs(f.site, block.KindCall, callPayload(f.trialFixture, "submit", submitArgs("T1", "0123456789abcdef0123456789abcdef", hexSum([]byte("v2 record")))), block.StatusOK)
	fc.commit(t)
	fc.txAs(f.site, block.KindRegister, (&block.RegisterPayload{Key: site2Pub, Org: "Site A", Name: "Dr. Sam Site", Role: block.RoleSite, Replaces: sitePub}).Encode(), block.StatusOK)
	fc.commit(t)
	fc.txAs(f.site2, block.KindCall, callPayload(f.trialFixture, "submit", submitArgs("T1", "00000000000000000000000000000002", hexSum([]byte("v2 record b")))), block.StatusOK)
	// Another trial on the same contract.
	fc.tx(block.KindCall, callPayload(f.trialFixture, "register", map[string]any{"protocol": map[string]any{"id": "T2", "title": "Trial two"}}), block.StatusOK, nil)
	fc.tx(block.KindCall, callPayload(f.trialFixture, "submit", submitArgs("T2", "00000000000000000000000000000003", hexSum([]byte("T2 record")))), block.StatusOK, nil)
	// An SAE narrative anchored for T1, then redacted.
	f.narrative = []byte(`{"narrative":"patient name typed by mistake"}`)
	nh := block.Sum(f.narrative)
	fc.txAs(f.site2, block.KindAnchor, (&block.AnchorPayload{Hash: nh, Label: "SAE narrative T1", Scope: "trial:T1"}).Encode(), block.StatusOK)
	fc.commit(t)
	fc.txAs(f.site2, block.KindRedact, (&block.RedactPayload{Targets: []block.Hash{nh}, Basis: block.BasisMistakenPHI, Reason: "name in the narrative", Meaning: "approval of redaction"}).Encode(),
		block.StatusOK, block.Event{Type: "payload.redacted", Data: nh[:]})
	fc.commit(t)
	fc.tx(block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte("seal 3")), Label: "seal 3"}).Encode(), block.StatusOK, nil)
	fc.commit(t)
	export := func(trial string, files []File) []byte {
		b, err := Export(context.Background(), fc, fc.g.ChainID, fc.g.Hash(), Options{Scope: "trial:" + trial, WithCode: true, Payloads: files})
		if err != nil {
			t.Fatal(err)
		}
		return b.Encode()
	}
	f.good = export("T1", []File{{Name: "crf-V1.json", Data: f.record}, {Name: "sap-v1.txt", Data: f.doc}})
	f.t2 = export("T2", nil)
	return f
}

// recordWhere is the position of the first record whose transaction
// matches, or -1.
func recordWhere(b *Bundle, match func(tx *block.Tx, call *block.CallPayload) bool) int {
	for i, r := range b.Records {
		if len(r.Tx) == 0 {
			continue
		}
		tx, err := block.DecodeTx(r.Tx)
		if err != nil {
			continue
		}
		var c *block.CallPayload
		if tx.Kind == block.KindCall {
			c, _ = block.DecodeCall(tx.Payload)
		}
		if match(tx, c) {
			return i
		}
	}
	return -1
}

func method(m string) func(*block.Tx, *block.CallPayload) bool {
	return func(_ *block.Tx, c *block.CallPayload) bool { return c != nil && c.Method == m }
}

func kind(k block.Kind) func(*block.Tx, *block.CallPayload) bool {
	return func(tx *block.Tx, _ *block.CallPayload) bool { return tx.Kind == k }
}

func dropRecord(t testing.TB, b *Bundle, match func(*block.Tx, *block.CallPayload) bool) {
	t.Helper()
	i := recordWhere(b, match)
	if i < 0 {
		t.Fatal("no such record in the bundle")
	}
	b.Records = append(b.Records[:i], b.Records[i+1:]...)
}

func scopeNamed(t testing.TB, b *Bundle, prefix string) int {
	t.Helper()
	for i, s := range b.Scopes {
		if strings.HasPrefix(s.Name, prefix) {
			return i
		}
	}
	t.Fatalf("no record set %s… in the bundle", prefix)
	return -1
}

func TestCompleteBundleVerifies(t *testing.T) {
	f := newCompleteFixture(t)
	b, err := Decode(f.good)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(b, f.fc.g)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.CompleteFor("T1"); err != nil {
		t.Fatal(err)
	}
	if res.Complete.Records != len(b.Scopes[0].Entries) || b.Scopes[0].Name != "trial:T1" {
		t.Fatalf("complete %+v, first set %s", res.Complete, b.Scopes[0].Name)
	}
	// The rotated key signed after the rotation, with the site's role.
	var signers []string
	for _, r := range res.Records {
		if r.Signer != nil && r.Signer.Role == block.RoleSite {
			signers = append(signers, r.Signer.Fingerprint())
		}
	}
	if len(signers) != 3 { // the old key's submission, the new key's, its narrative anchor, its redaction? (anchor+redact are the site's too)
		t.Logf("site-signed records: %v", signers)
	}
	if err := res.CompleteFor("T2"); !errors.Is(err, ErrForeign) {
		t.Fatalf("a T1 bundle checked as T2: %v", err)
	}
	b2, err := Decode(f.t2)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := Verify(b2, f.fc.g)
	if err != nil || res2.CompleteFor("T2") != nil || res2.CompleteFor("T1") == nil {
		t.Fatalf("T2 bundle: %v", err)
	}
}

// TestCompleteBundleAlterations alters a real exported bundle as a
// dishonest exporter or a hand editor would; each must fail with its own
// message.
func TestCompleteBundleAlterations(t *testing.T) {
	f := newCompleteFixture(t)
	g := f.fc.g
	t2, err := Decode(f.t2)
	if err != nil {
		t.Fatal(err)
	}
	sitePub := f.site.Public().(ed25519.PublicKey)
	cases := []struct {
		name  string
		alter func(t *testing.T, b *Bundle)
		want  error
		text  string
	}{
		{"drop the registration", func(t *testing.T, b *Bundle) { dropRecord(t, b, method("register")) }, ErrIncomplete, "a call of register at block 2, is missing"},
		{"drop the refused submission", func(t *testing.T, b *Bundle) {
			i := recordWhere(b, method("submit"))
			rc, _ := b.Records[i+1].Proof.Receipt()
			if rc.Status != block.StatusFailed {
				t.Fatal("fixture: the second submit is not the refused one")
			}
			b.Records = append(b.Records[:i+1], b.Records[i+2:]...)
		}, ErrIncomplete, "record 3 of"},
		{"drop the correction's original", func(t *testing.T, b *Bundle) { dropRecord(t, b, method("submit")) }, ErrIncomplete, "record 2 of"},
		{"drop the correction", func(t *testing.T, b *Bundle) { dropRecord(t, b, method("correct")) }, ErrIncomplete, "a call of correct"},
		{"drop the amendment", func(t *testing.T, b *Bundle) { dropRecord(t, b, method("amend")) }, ErrIncomplete, "a call of amend"},
		{"drop the lock", func(t *testing.T, b *Bundle) { dropRecord(t, b, method("lock")) }, ErrIncomplete, "a call of lock"},
		{"drop the analysis plan's anchor", func(t *testing.T, b *Bundle) {
			dropRecord(t, b, func(tx *block.Tx, _ *block.CallPayload) bool {
				a, err := block.DecodeAnchor(tx.Payload)
				return tx.Kind == block.KindAnchor && err == nil && a.Label == "T1 SAP v1"
			})
			b.Payloads = b.Payloads[:0]
		}, ErrIncomplete, "an anchor at block 2, is missing"},
		{"drop the redaction", func(t *testing.T, b *Bundle) { dropRecord(t, b, kind(block.KindRedact)) }, ErrIncomplete, "a redact at block"},
		{"keep only the registration", func(t *testing.T, b *Bundle) {
			keep := b.Records[:0]
			for _, r := range b.Records {
				tx, err := block.DecodeTx(r.Tx)
				if len(r.Tx) == 0 || err != nil || tx.Kind != block.KindCall && tx.Kind != block.KindAnchor && tx.Kind != block.KindRedact {
					keep = append(keep, r)
					continue
				}
				if c, _ := block.DecodeCall(tx.Payload); c != nil && c.Method == "register" {
					keep = append(keep, r)
				}
			}
			b.Records, b.Payloads = keep, nil
		}, ErrIncomplete, "is missing from the bundle"},
		{"drop the deploy", func(t *testing.T, b *Bundle) { dropRecord(t, b, kind(block.KindDeploy)) }, ErrCodeHash, "whose deploy record is not in the bundle"},
		{"drop the upgrade", func(t *testing.T, b *Bundle) { dropRecord(t, b, kind(block.KindUpgrade)) }, ErrCodeHash, "but contract"},
		{"drop the consent group", func(t *testing.T, b *Bundle) { dropRecord(t, b, kind(block.KindConsentGroup)) }, ErrConsent, "is not registered by a record of the bundle"},
		{"drop the site's registration", func(t *testing.T, b *Bundle) {
			dropRecord(t, b, func(tx *block.Tx, _ *block.CallPayload) bool {
				p, err := block.DecodeRegister(tx.Payload)
				return tx.Kind == block.KindRegister && err == nil && len(p.Replaces) == 0
			})
		}, ErrIncomplete, "a register at block"},
		{"drop the key rotation", func(t *testing.T, b *Bundle) {
			dropRecord(t, b, func(tx *block.Tx, _ *block.CallPayload) bool {
				p, err := block.DecodeRegister(tx.Payload)
				return tx.Kind == block.KindRegister && err == nil && len(p.Replaces) > 0
			})
		}, ErrIncomplete, "of member:"},
		{"delete the analysis plan document", func(t *testing.T, b *Bundle) {
			for i, p := range b.Payloads {
				if p.Field == FieldAnchor {
					b.Payloads = append(b.Payloads[:i], b.Payloads[i+1:]...)
					return
				}
			}
			t.Fatal("no anchored document")
		}, ErrPayload, "it was removed"},
		{"rename the analysis plan document", func(t *testing.T, b *Bundle) {
			for _, p := range b.Payloads {
				if p.Field == FieldAnchor {
					p.Name = "SAP v9 (final)"
					return
				}
			}
		}, ErrPayload, "was renamed"},
		{"declare a document withheld that no record anchors", func(t *testing.T, b *Bundle) {
			b.Withheld = append(b.Withheld, &Withheld{SHA256: block.Sum([]byte("nothing")), Reason: "not available"})
		}, ErrPayload, "no record of the trial anchors it"},
		{"splice in a record of another trial", func(t *testing.T, b *Bundle) {
			i := recordWhere(t2, method("submit"))
			b.Records = append(b.Records, t2.Records[i])
			b.Sort()
		}, ErrForeign, "is not a record of trial:T1"},
		{"edit the scope to another trial", func(t *testing.T, b *Bundle) { b.Scope = "trial:T2" }, ErrIncomplete, "carries no certified record set"},
		{"edit the scope to all", func(t *testing.T, b *Bundle) { b.Scope = "all" }, ErrForeign, "not for trial T1"},
		{"rename the trial's record set", func(t *testing.T, b *Bundle) { b.Scopes[0].Name = "trial:T2"; b.Scope = "trial:T2" }, ErrIncomplete, "not the set certified"},
		{"remove every record set", func(t *testing.T, b *Bundle) { b.Scopes = nil }, ErrIncomplete, "carries no certified record set"},
		{"drop an entry of the trial's set with its record", func(t *testing.T, b *Bundle) {
			// (the message cannot name a record the bundle no longer lists)
			e := b.Scopes[0].Entries[1]
			b.Scopes[0].Entries = append(b.Scopes[0].Entries[:1], b.Scopes[0].Entries[2:]...)
			dropRecord(t, b, func(tx *block.Tx, _ *block.CallPayload) bool { return tx.Hash() == e.TxHash })
		}, ErrIncomplete, "records were added to or removed from its list"},
		{"relabel an entry's kind", func(t *testing.T, b *Bundle) { b.Scopes[0].Entries[0].Kind = "call:withdraw" }, ErrIncomplete, "the entry was relabelled"},
		{"reorder the trial's entries", func(t *testing.T, b *Bundle) {
			es := b.Scopes[0].Entries
			es[0], es[1] = es[1], es[0]
		}, ErrIncomplete, "the entries were reordered"},
		{"move an entry to another block", func(t *testing.T, b *Bundle) { b.Scopes[0].Entries[0].Height++ }, ErrIncomplete, "the record's receipt says block"},
		{"another trial's set proof", func(t *testing.T, b *Bundle) { b.Scopes[0].Proof = t2.Scopes[0].Proof }, ErrIncomplete, "not the set certified"},
		{"remove the contract's code history", func(t *testing.T, b *Bundle) {
			i := scopeNamed(t, b, "code:")
			b.Scopes = append(b.Scopes[:i], b.Scopes[i+1:]...)
		}, ErrIncomplete, "does not prove its code history"},
		{"remove the site's membership history", func(t *testing.T, b *Bundle) {
			name := state.MemberScope(sitePub)
			for i, s := range b.Scopes {
				if s.Name == name {
					b.Scopes = append(b.Scopes[:i], b.Scopes[i+1:]...)
					return
				}
			}
			t.Fatal("no membership history of the site")
		}, ErrIncomplete, "does not prove its membership history"},
		{"shorten the site's membership history", func(t *testing.T, b *Bundle) {
			name := state.MemberScope(sitePub)
			for _, s := range b.Scopes {
				if s.Name == name {
					s.Entries = s.Entries[:1]
					return
				}
			}
		}, ErrIncomplete, "not the set certified"},
		{"attach a consent twice", func(t *testing.T, b *Bundle) {
			i := recordWhere(b, method("amend"))
			b.Records[i].Consents = append(b.Records[i].Consents, b.Records[i].Consents[0])
		}, ErrConsent, "attached twice"},
		{"keep an older checkpoint only", func(t *testing.T, b *Bundle) {
			old, err := f.fc.Checkpoint(context.Background(), b.Latest().Height()-2)
			if err != nil {
				t.Fatal(err)
			}
			b.Checkpoints = []*proof.Checkpoint{old}
		}, ErrInclusion, "which no certified checkpoint of the bundle has"},
		{"a receipt claims another set", func(t *testing.T, b *Bundle) {
			// Record of T2 relabelled in the index of T1: its receipt names T2.
			i := recordWhere(t2, method("register"))
			b.Records = append(b.Records, t2.Records[i])
			b.Sort()
			rc, _ := t2.Records[i].Proof.Receipt()
			b.Scopes[0].Entries = append(b.Scopes[0].Entries, &state.ScopeEntry{TxHash: rc.TxHash, Height: rc.Height, Index: rc.Index, Kind: "call:register"})
		}, ErrIncomplete, "it was added from elsewhere"},
	}
	seen := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Decode(f.good)
			if err != nil {
				t.Fatal(err)
			}
			tc.alter(t, b)
			enc := b.Encode()
			b2, err := Decode(enc)
			if err != nil {
				t.Fatalf("the altered bundle does not decode: %v", err)
			}
			res, err := Verify(b2, g)
			if err == nil {
				err = res.CompleteFor("T1")
			}
			if err == nil {
				t.Fatal("the altered bundle verified as complete for T1")
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("got %v\nwant %v containing %q", err, tc.want, tc.text)
			}
			if other, dup := seen[err.Error()]; dup {
				t.Fatalf("same message as %q: %v", other, err)
			}
			seen[err.Error()] = tc.name
		})
	}
	if len(cases) < 30 {
		t.Fatalf("%d alterations, want at least 30", len(cases))
	}
}

// TestSignersHeldTheirRole: records signed before a key rotation verify
// with the old key, after it with the new; a record the old key signed
// after the rotation (a chain that let it through: a lying quorum or a
// bug) fails verification, as does a record signed by a key that was
// never a member.
func TestSignersHeldTheirRole(t *testing.T) {
	f := newCompleteFixture(t)
	b, err := Decode(f.good)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(b, f.fc.g)
	if err != nil {
		t.Fatal(err)
	}
	sitePub, site2Pub := f.site.Public().(ed25519.PublicKey), f.site2.Public().(ed25519.PublicKey)
	var old, rotated int
	for _, r := range res.Records {
		switch {
		case r.Signer == nil:
		case bytes.Equal(r.Signer.Key, sitePub):
			old++
		case bytes.Equal(r.Signer.Key, site2Pub) && bytes.Equal(r.Signer.RotatedFrom, sitePub) && r.Signer.Role == block.RoleSite && r.Signer.Org == "Site A":
			rotated++
		}
	}
	if old != 1 || rotated != 3 { // the old key's submission; the new key's submission, anchor and redaction
		t.Fatalf("records signed by the old key %d (want 1), by the rotated key %d (want 3)", old, rotated)
	}

	fc := f.fc
	stranger := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x53}, 32))
	for _, tc := range []struct {
		name string
		key  ed25519.PrivateKey
		text string
	}{
		{"old key after its rotation", f.site, "was no longer a member at block"},
		{"never a member", stranger, "was not a member at block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc.txAs(tc.key, block.KindCall, callPayload(f.trialFixture, "submit", submitArgs("T1", "00000000000000000000000000000009", hexSum([]byte(tc.name)))), block.StatusOK)
			fc.commit(t)
			fc.tx(block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte(tc.name)), Label: "seal"}).Encode(), block.StatusOK, nil)
			fc.commit(t)
			b, err := Export(context.Background(), fc, fc.g.ChainID, fc.g.Hash(), Options{Scope: "trial:T1", Payloads: []File{{Name: "sap", Data: f.doc}}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = Verify(roundTrip(t, b), fc.g)
			if !errors.Is(err, ErrSigner) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("got %v, want ErrSigner %q", err, tc.text)
			}
		})
	}
}

// TestCompleteWords: an inspector reads each completeness failure in
// words, naming the missing record.
func TestCompleteWords(t *testing.T) {
	f := newCompleteFixture(t)
	b, err := Decode(f.good)
	if err != nil {
		t.Fatal(err)
	}
	dropRecord(t, b, method("lock"))
	_, verr := Verify(roundTrip(t, b), f.fc.g)
	ws := Words(b, verr, nil)
	if len(ws) != 1 || !strings.Contains(ws[0], "a call of lock at block") || !strings.Contains(ws[0], "the file leaves out a record of the trial") {
		t.Fatalf("words: %q", ws)
	}
}

// TestDamagedReceiptNotAlsoMissing: a trial record whose receipt was
// damaged is reported once, as damaged, not a second time as missing.
func TestDamagedReceiptNotAlsoMissing(t *testing.T) {
	f := newCompleteFixture(t)
	b, err := Decode(f.good)
	if err != nil {
		t.Fatal(err)
	}
	i := recordWhere(b, method("lock"))
	b.Records[i].Proof.Record = append(proof.HexBytes(nil), 0xff)
	_, err = Verify(roundTrip(t, b), f.fc.g)
	var fs Failures
	if !errors.As(err, &fs) || len(fs) != 1 || !errors.Is(fs[0], ErrInclusion) {
		t.Fatalf("got %v, want one receipt failure", err)
	}
}
