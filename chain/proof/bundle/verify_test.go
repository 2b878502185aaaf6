package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
)

// roundTrip encodes and decodes b, failing the test if the decoder refuses
// what the encoder wrote.
func roundTrip(t testing.TB, b *Bundle) *Bundle {
	t.Helper()
	enc := b.Encode()
	back, err := Decode(enc)
	if err != nil {
		t.Fatalf("decode of an encoded bundle: %v", err)
	}
	if !bytes.Equal(back.Encode(), enc) {
		t.Fatal("round trip changed the bundle")
	}
	return back
}

func TestExportVerify(t *testing.T) {
	f := newTrialFixture(t, 1, 0)
	for _, withCode := range []bool{true, false} {
		t.Run(fmt.Sprint("code=", withCode), func(t *testing.T) {
			b := roundTrip(t, f.export(t, withCode))
			res, err := Verify(b, f.fc.g)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			want := Counts{Records: 10, Verified: 10, Transactions: 10, Calls: 6, Consents: 1, Payloads: 2, Checkpoints: 1}
			if !withCode {
				want.Transactions, want.ReceiptOnly = 8, 2
			}
			if res.Counts != want {
				t.Fatalf("counts\n got %+v\nwant %+v", res.Counts, want)
			}
			if len(res.Contracts) != 2 || res.Contracts[0].CodeHash != block.Sum(f.code) || res.Contracts[1].CodeHash != block.Sum(f.code2) || res.Contracts[1].CodeSeen != withCode {
				t.Fatalf("contract versions: %+v", res.Contracts)
			}
			byMethod := map[string]*Verified{}
			for _, r := range res.Records {
				if r.Call != nil {
					byMethod[r.Call.Method] = r
				}
			}
			if byMethod["submit"].CodeHash != block.Sum(f.code) || byMethod["lock"].CodeHash != block.Sum(f.code2) {
				t.Fatal("calls not attributed to the code version that ran them")
			}
			am := byMethod["amend"]
			if len(am.Consents) != 1 || len(am.Consents[0].Signers) != 3 || am.Consents[0].Meaning != "approve amendment" ||
				am.Consents[0].Signers[0].Manifestation.PrintedName != "Dr. Ada Sponsor" {
				t.Fatalf("amendment consent: %+v", am.Consents)
			}
		})
	}
}

// tamper is one mutation of a good bundle (or of the verifier's genesis)
// and the failure it must cause.
type tamper struct {
	name     string
	mutate   func(b *Bundle, f *trialFixture)
	genesis  func(g *genesis.Genesis) *genesis.Genesis
	sentinel error
	also     error  // a lower-layer error it must wrap too
	record   string // method or kind of the record it must name ("" = not a record)
	want     string // text the message must contain
}

func recordOf(b *Bundle, pick string) (int, *Record) {
	for i, r := range b.Records {
		if len(r.Tx) == 0 {
			if pick == "receipt-only" {
				return i, r
			}
			continue
		}
		tx, _ := block.DecodeTx(r.Tx)
		name := tx.Kind.String()
		if tx.Kind == block.KindCall {
			c, _ := block.DecodeCall(tx.Payload)
			name = c.Method
		}
		if name == pick {
			return i, r
		}
	}
	panic("no record " + pick)
}

func flip(b []byte, at int) { b[at] ^= 0x01 }

func TestTamper(t *testing.T) {
	f := newTrialFixture(t, 1, 0)
	good := f.export(t, true).Encode()
	strangers := newFakeChain(t, 9)
	cases := []tamper{
		{name: "transaction byte", record: "submit", sentinel: ErrReceipt, want: "the transaction hashes to",
			mutate: func(b *Bundle, _ *trialFixture) { _, r := recordOf(b, "submit"); flip(r.Tx, len(r.Tx)/2) }},
		{name: "transaction signature byte", record: "correct", sentinel: ErrReceipt, want: "the transaction hashes to",
			mutate: func(b *Bundle, _ *trialFixture) { _, r := recordOf(b, "correct"); flip(r.Tx, len(r.Tx)-3) }},
		{name: "receipt byte (manifestation)", record: "register", sentinel: ErrInclusion, also: proof.ErrInclusion, want: "record hashes to",
			mutate: func(b *Bundle, _ *trialFixture) {
				_, r := recordOf(b, "register")
				i := bytes.Index(r.Proof.Record, []byte("Ada"))
				r.Proof.Record[i] = 'E'
			}},
		{name: "receipt and leaf rewritten together", record: "register", sentinel: ErrInclusion, also: proof.ErrInclusion, want: "calculated root",
			mutate: func(b *Bundle, _ *trialFixture) {
				_, r := recordOf(b, "register")
				i := bytes.Index(r.Proof.Record, []byte("Ada"))
				r.Proof.Record[i] = 'E'
				r.Proof.Leaf = proof.LeafHash(r.Proof.Record)
			}},
		{name: "inclusion proof hash", record: "amend", sentinel: ErrInclusion, also: proof.ErrInclusion, want: "calculated root",
			mutate: func(b *Bundle, _ *trialFixture) { _, r := recordOf(b, "amend"); flip(r.Proof.Hashes[0][:], 5) }},
		{name: "inclusion proof for another size", record: "lock", sentinel: ErrInclusion, want: "no certified checkpoint",
			mutate: func(b *Bundle, _ *trialFixture) { _, r := recordOf(b, "lock"); r.Proof.Size-- }},
		{name: "checkpoint signature byte", sentinel: ErrCheckpoint, also: genesis.ErrCertificate, want: "bad signature of validator 2",
			mutate: func(b *Bundle, _ *trialFixture) { flip(b.Latest().Cert.Sigs[1].Sig, 7) }},
		{name: "checkpoint below quorum", sentinel: ErrCheckpoint, also: genesis.ErrCertificate, want: "2 validator signatures, quorum is 3",
			mutate: func(b *Bundle, _ *trialFixture) { b.Latest().Cert.Sigs = b.Latest().Cert.Sigs[:2] }},
		{name: "checkpoint log root", sentinel: ErrCheckpoint, also: genesis.ErrCertificate, want: "signed another block",
			mutate: func(b *Bundle, _ *trialFixture) { flip(b.Latest().Header.LogRoot[:], 0) }},
		{name: "checkpoint re-signed by a stranger validator set", sentinel: ErrCheckpoint, want: "certified by validator set",
			mutate: func(b *Bundle, _ *trialFixture) {
				cp := b.Latest()
				cp.Header.ValidatorsHash = strangers.g.ValidatorsHash()
				c := &block.Committed{Block: block.Block{Header: cp.Header}, Metadata: cp.Metadata, VerSeq: cp.VerSeq}
				strangers.sign(c, strangers.valKeys, []uint64{1, 2, 3})
				cp.Cert = c.Cert
			}},
		{name: "checkpoint signed by strangers under the genesis set's name", sentinel: ErrCheckpoint, also: genesis.ErrCertificate, want: "bad signature of validator 1",
			mutate: func(b *Bundle, _ *trialFixture) {
				cp := b.Latest()
				c := &block.Committed{Block: block.Block{Header: cp.Header}, Metadata: cp.Metadata, VerSeq: cp.VerSeq}
				strangers.sign(c, strangers.valKeys, []uint64{1, 2, 3})
				cp.Cert = c.Cert
			}},
		{name: "verifier's genesis has another validator set", sentinel: ErrGenesis, want: "genesis file hashes to",
			genesis: func(g *genesis.Genesis) *genesis.Genesis {
				o := *g
				o.Validators = append([]genesis.Validator(nil), g.Validators...)
				o.Validators[2].Key = genesis.Key(strangers.valKeys[2].Public().(ed25519.PublicKey))
				return &o
			}},
		{name: "bundle claims another genesis", sentinel: ErrGenesis, want: "the bundle names genesis",
			mutate: func(b *Bundle, _ *trialFixture) { flip(b.GenesisHash[:], 31) }},
		{name: "payload byte", record: "submit", sentinel: ErrPayload, want: `payload 0 "crf-V1.json": bundle: payload does not match its commitment: the data hashes to`,
			mutate: func(b *Bundle, _ *trialFixture) { flip(b.Payloads[0].Data, 10) }},
		{name: "payload and its listed hash", record: "anchor", sentinel: ErrPayload, want: "the record commits to",
			mutate: func(b *Bundle, _ *trialFixture) {
				p := b.Payloads[1]
				flip(p.Data, 0)
				p.SHA256 = block.Sum(p.Data)
			}},
		{name: "payload pointed at another field", record: "submit", sentinel: ErrPayload, want: "not a lowercase hex SHA-256",
			mutate: func(b *Bundle, _ *trialFixture) { b.Payloads[0].Field = "/visit" }},
		{name: "claimed code version", record: "submit", sentinel: ErrCodeHash, want: "the record claims code",
			mutate: func(b *Bundle, f *trialFixture) { _, r := recordOf(b, "submit"); r.CodeHash = block.Sum(f.code2) }},
		{name: "contract code byte", record: "deploy", sentinel: ErrReceipt, want: "the transaction hashes to",
			mutate: func(b *Bundle, _ *trialFixture) { _, r := recordOf(b, "deploy"); flip(r.Tx, len(r.Tx)-80) }},
		{name: "upgrade record left out", record: "lock", sentinel: ErrCodeHash, want: "the record claims code",
			mutate: func(b *Bundle, _ *trialFixture) {
				i, _ := recordOf(b, "upgrade")
				b.Records = append(b.Records[:i], b.Records[i+1:]...)
			}},
		{name: "deploy record left out", record: "register", sentinel: ErrCodeHash, want: "whose deploy record is not in the bundle",
			mutate: func(b *Bundle, _ *trialFixture) {
				i, _ := recordOf(b, "deploy")
				b.Records = append(b.Records[:i], b.Records[i+1:]...)
			}},
		{name: "consent byte", record: "amend", sentinel: ErrConsent, want: "consent 0",
			mutate: func(b *Bundle, _ *trialFixture) {
				_, r := recordOf(b, "amend")
				flip(r.Consents[0], len(r.Consents[0])-10)
			}},
		{name: "consent group registration left out", record: "amend", sentinel: ErrConsent, want: "is not registered by a record of the bundle",
			mutate: func(b *Bundle, _ *trialFixture) {
				i, _ := recordOf(b, "consent-group")
				b.Records = append(b.Records[:i], b.Records[i+1:]...)
			}},
		{name: "consent group bytes", record: "consent-group", sentinel: ErrReceipt, want: "the transaction hashes to",
			mutate: func(b *Bundle, _ *trialFixture) { _, r := recordOf(b, "consent-group"); flip(r.Tx, 200) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Decode(good)
			if err != nil {
				t.Fatal(err)
			}
			g := f.fc.g
			if tc.mutate != nil {
				tc.mutate(b, f)
				b = roundTrip(t, b)
			}
			if tc.genesis != nil {
				g = tc.genesis(g)
			}
			res, err := Verify(b, g)
			if err == nil {
				t.Fatal("verify passed")
			}
			if !errors.Is(err, tc.sentinel) || (tc.also != nil && !errors.Is(err, tc.also)) {
				t.Fatalf("error %v\nwant %v (and %v)", err, tc.sentinel, tc.also)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%T is not an *Error", err)
			}
			if tc.record == "" {
				if e.Record != -1 {
					t.Fatalf("failure names record %d, want none: %v", e.Record, e)
				}
			} else {
				i, _ := recordOf(b, tc.record)
				if e.Record != i || e.TxHash.IsZero() || !strings.Contains(err.Error(), fmt.Sprintf("record %d (tx %s", i, e.TxHash)) {
					t.Fatalf("failure names record %d, want %d (%s): %v", e.Record, i, tc.record, err)
				}
			}
			if res.OK() {
				t.Fatal("result says OK")
			}
			t.Logf("%v", err)
		})
	}
}

// TestSignatureOfCommittedTx: a transaction whose signature does not hold
// (a node that admitted it was faulty) is refused even though its receipt
// and proofs are genuine.
func TestSignatureOfCommittedTx(t *testing.T) {
	fc := newFakeChain(t, 3)
	tx := &block.Tx{ChainID: fc.g.ChainID, Nonce: 1, Kind: block.KindAnchor, GasLimit: 1000, Payload: (&block.AnchorPayload{Hash: block.Sum([]byte("x")), Label: "x"}).Encode()}
	tx.Sign(fc.member)
	tx.Signature[3] ^= 1
	fc.queue(tx.Encode(), block.StatusOK, nil)
	fc.commit(t)
	fc.commit(t)
	b, err := Export(t.Context(), fc, fc.g.ChainID, fc.g.Hash(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Verify(roundTrip(t, b), fc.g)
	var e *Error
	if !errors.Is(err, ErrSignature) || !errors.Is(err, block.ErrBadSignature) || !errors.As(err, &e) || e.Record != 0 || e.TxHash != tx.Hash() {
		t.Fatalf("got %v", err)
	}
}

// TestCheckpoints: a bundle may carry several checkpoints linked by
// consistency proofs; a forked history certified by a (Byzantine) quorum
// and an altered proof are both refused.
func TestCheckpoints(t *testing.T) {
	f := newTrialFixture(t, 1, 0)
	b := f.export(t, false)
	latest := b.Latest()
	old, _ := f.fc.Checkpoint(t.Context(), 3)
	b.Checkpoints = []*proof.Checkpoint{old, latest}
	b.Consistency = []*proof.ConsistencyProof{f.fc.consistency(t, old.Header.LogSize, latest.Header.LogSize)}
	good := roundTrip(t, b).Encode()
	res, err := Verify(roundTrip(t, b), f.fc.g)
	if err != nil || res.Counts.Checkpoints != 2 {
		t.Fatalf("two checkpoints: %v %+v", err, res.Counts)
	}

	// The same validators certify another history (more than f of them
	// are Byzantine, or their keys leaked): same genesis, other records.
	fork := newFakeChain(t, 1)
	fork.tx(block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte("rewritten")), Label: "rewritten"}).Encode(), block.StatusOK, nil)
	fork.commit(t)
	for i := 0; i < 4; i++ {
		fork.tx(block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte(fmt.Sprint("f", i))), Label: "f"}).Encode(), block.StatusOK, nil)
		fork.commit(t)
	}
	forkCp, _ := fork.Checkpoint(t.Context(), 3)
	if err := forkCp.Verify(f.fc.g); err != nil {
		t.Fatalf("the fork's checkpoint should be validly certified: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(b *Bundle)
		want   string
	}{
		{"forked earlier checkpoint", func(b *Bundle) {
			b.Checkpoints[0] = forkCp
			b.Consistency[0] = f.fc.consistency(t, forkCp.Header.LogSize, latest.Header.LogSize)
		}, "calculated"},
		{"consistency proof hash", func(b *Bundle) { flip(b.Consistency[0].Hashes[0][:], 9) }, "calculated"},
		{"consistency proof for other sizes", func(b *Bundle) { b.Consistency[0].From-- }, "proof is for log sizes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Decode(good)
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(b)
			_, err = Verify(roundTrip(t, b), f.fc.g)
			var e *Error
			if !errors.Is(err, ErrConsistency) || !errors.Is(err, proof.ErrConsistency) || !errors.As(err, &e) || e.Record != -1 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrConsistency containing %q", err, tc.want)
			}
			t.Log(err)
		})
	}
}

var flipAll = flag.Bool("flip-all", false, "TestFlipBytes: flip every byte (about 80 s)")

// exempt reports whether position at is inside the value of a "scope" or
// "name" field: labels for people, the only bytes that are not evidence.
func exemptRanges(enc []byte) [][2]int {
	var out [][2]int
	for _, key := range []string{`"scope": "`, `"name": "`} {
		for off := 0; ; {
			i := bytes.Index(enc[off:], []byte(key))
			if i < 0 {
				break
			}
			start := off + i + len(key)
			end := start + bytes.IndexByte(enc[start:], '"')
			out = append(out, [2]int{start, end})
			off = end
		}
	}
	return out
}

// TestFlipBytes flips bytes all over an encoded bundle (every 5th byte,
// every 13th with -short, every one with -flip-all; three ways each): each
// change is refused by Decode or Verify, except inside the labels scope
// and payload names.
func TestFlipBytes(t *testing.T) {
	f := newTrialFixture(t, 1, 0)
	enc := f.export(t, false).Encode()
	exempt := exemptRanges(enc)
	stride := 5
	switch {
	case *flipAll:
		stride = 1
	case testing.Short():
		stride = 13
	}
	checked := 0
	for at := 0; at < len(enc); at += stride {
		skip := false
		for _, r := range exempt {
			skip = skip || (at >= r[0] && at < r[1])
		}
		if skip {
			continue
		}
		for _, mask := range []byte{0x01, 0x20, 0x04} {
			mut := bytes.Clone(enc)
			mut[at] ^= mask
			b, err := Decode(mut)
			if err != nil {
				continue
			}
			if _, err := Verify(b, f.fc.g); err == nil {
				t.Fatalf("byte %d ^ %#x (%q → %q) passed: context %q", at, mask, enc[at], mut[at], enc[max(0, at-40):min(len(enc), at+40)])
			}
			checked++
		}
	}
	t.Logf("%d bytes, %d mutations decoded and were refused by Verify", len(enc), checked)
}

// TestExportFetch: documents the exporter may read are fetched by the
// hashes the records commit to, attached and re-hashed; a fetcher that
// answers with other bytes stops the export.
func TestExportFetch(t *testing.T) {
	f := newTrialFixture(t, 1, 0)
	docs := map[block.Hash][]byte{block.Sum(f.record): f.record, block.Sum(f.doc): f.doc}
	tests := []struct {
		name    string
		fetch   func(h block.Hash) (*File, error)
		offered []File
		asked   int // Fetch calls for the two documents
		want    int // documents in the bundle
		err     string
	}{
		{"both fetched", func(h block.Hash) (*File, error) {
			if d, ok := docs[h]; ok {
				return &File{Name: h.String(), Data: d}, nil
			}
			return nil, nil
		}, nil, 2, 2, ""},
		{"one offered, one fetched", func(h block.Hash) (*File, error) {
			if d, ok := docs[h]; ok {
				return &File{Name: h.String(), Data: d}, nil
			}
			return nil, nil
		}, []File{{Name: "crf-V1.json", Data: f.record}}, 1, 2, ""},
		{"none available", func(block.Hash) (*File, error) { return nil, nil }, nil, 2, 0, ""},
		{"wrong bytes", func(h block.Hash) (*File, error) {
			if _, ok := docs[h]; ok {
				return &File{Name: "x", Data: []byte("something else")}, nil
			}
			return nil, nil
		}, nil, 1, 0, "got data hashing to"},
		{"fetch error", func(h block.Hash) (*File, error) {
			if _, ok := docs[h]; ok {
				return nil, errors.New("node down")
			}
			return nil, nil
		}, nil, 1, 0, "node down"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			asked := 0
			b, err := Export(context.Background(), f.fc, f.fc.g.ChainID, f.fc.g.Hash(), Options{Scope: "trial:T1",
				Select:   func(tx *block.Tx) bool { return tx.Kind == block.KindCall || tx.Kind == block.KindAnchor },
				Payloads: tc.offered,
				Fetch: func(_ context.Context, h block.Hash) (*File, error) {
					if _, ok := docs[h]; ok {
						asked++
					}
					return tc.fetch(h)
				}})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if asked != tc.asked || len(b.Payloads) != tc.want {
				t.Fatalf("asked %d (want %d), attached %d (want %d)", asked, tc.asked, len(b.Payloads), tc.want)
			}
			res, err := Verify(roundTrip(t, b), f.fc.g)
			if err != nil || res.Counts.Payloads != tc.want {
				t.Fatalf("verify: %v, %d documents", err, res.Counts.Payloads)
			}
		})
	}
}

// TestExportRedaction: the redaction of a document a record commits to
// travels with the records (who, why, in the certified log); a redaction
// of something else does not.
func TestExportRedaction(t *testing.T) {
	f := newTrialFixture(t, 1, 0)
	fc := f.fc
	mine := &block.RedactPayload{Targets: []block.Hash{block.Sum(f.record)}, Basis: block.BasisMistakenPHI, Reason: "name in the form", Meaning: "approval of redaction"}
	other := &block.RedactPayload{Targets: []block.Hash{block.Sum([]byte("another trial's narrative"))}, Basis: block.BasisWithdrawalErasure, Reason: "withdrawal", Meaning: "approval of redaction"}
	ev := func(h block.Hash) block.Event { return block.Event{Type: "payload.redacted", Data: h[:]} }
	// Redaction needs an anchored document; the site anchored the record for the trial.
	fc.tx(block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum(f.record), Label: "crf record", Scope: "trial:T1"}).Encode(), block.StatusOK, nil)
	red := fc.tx(block.KindRedact, mine.Encode(), block.StatusOK, nil, ev(mine.Targets[0]))
	fc.tx(block.KindRedact, other.Encode(), block.StatusOK, nil, ev(other.Targets[0]))
	fc.commit(t)
	fc.tx(block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte("seal 2")), Label: "seal 2"}).Encode(), block.StatusOK, nil)
	fc.commit(t)

	b, err := Export(context.Background(), fc, fc.g.ChainID, fc.g.Hash(), Options{Scope: "trial:T1",
		Select: func(tx *block.Tx) bool { return tx.Kind == block.KindCall }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(roundTrip(t, b), fc.g)
	if err != nil {
		t.Fatal(err)
	}
	var got []*Verified
	for _, r := range res.Records {
		if r.Redact != nil {
			got = append(got, r)
		}
	}
	if res.Counts.Redactions != 1 || len(got) != 1 || got[0].TxHash != red.Hash() || got[0].Redact.Reason != "name in the form" {
		t.Fatalf("redactions in the bundle: %d %+v", res.Counts.Redactions, got)
	}
}
