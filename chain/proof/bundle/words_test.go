package bundle

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
)

// sentinelTexts are the verifier's own words; a plain-words sentence that
// contains one fell back to them (a failure Words does not explain).
func sentinelTexts() []string {
	var out []string
	for _, e := range []error{ErrMalformed, ErrGenesis, ErrCheckpoint, ErrConsistency, ErrInclusion, ErrTx, ErrSignature, ErrReceipt, ErrCodeHash, ErrConsent, ErrPayload} {
		out = append(out, strings.TrimPrefix(e.Error(), "bundle: "))
	}
	return out
}

func testNamer(tx *block.Tx) string {
	if tx.Kind != block.KindCall {
		return ""
	}
	c, _ := block.DecodeCall(tx.Payload)
	if c != nil && c.Method == "submit" {
		return "a case-report form"
	}
	return ""
}

// TestWords: each way of tampering with a real exported bundle fails with
// one sentence that says what was changed, in words, and names the record
// (1-based position, kind, block, transaction) it concerns.
func TestWords(t *testing.T) {
	f := newTrialFixture(t, 1, 0)
	good := f.export(t, true).Encode()
	cases := []struct {
		name    string
		mutate  func(b *Bundle)
		subject string // method, kind or "" (the sentence names no record)
		kind    string // how the subject is named
		want    string
	}{
		{"transaction byte", func(b *Bundle) { _, r := recordOf(b, "submit"); flip(r.Tx, len(r.Tx)/2) },
			"submit", "a case-report form at block 2", "the transaction was changed — its bytes no longer match the receipt the record log certified at block 5 holds for it"},
		{"receipt byte", func(b *Bundle) {
			_, r := recordOf(b, "register")
			r.Proof.Record[bytes.Index(r.Proof.Record, []byte("Ada"))] = 'E'
		}, "register", "a call of register at block 2", "the receipt was changed — it no longer matches the record log certified at block 5"},
		{"receipt and leaf together", func(b *Bundle) {
			_, r := recordOf(b, "register")
			r.Proof.Record[bytes.Index(r.Proof.Record, []byte("Ada"))] = 'E'
			r.Proof.Leaf = proof.LeafHash(r.Proof.Record)
		}, "register", "a call of register", "the record or its proof of inclusion was changed — it no longer leads to the record log certified at block 5"},
		{"receipt unreadable", func(b *Bundle) { _, r := recordOf(b, "lock"); r.Proof.Record = r.Proof.Record[:10] },
			"lock", "a call of lock, tx", "the receipt was changed: it can no longer be read"},
		{"inclusion proof hash", func(b *Bundle) { _, r := recordOf(b, "amend"); flip(r.Proof.Hashes[0][:], 5) },
			"amend", "a call of amend at block 3", "proof of inclusion was changed"},
		{"proof for another log size", func(b *Bundle) { _, r := recordOf(b, "lock"); r.Proof.Size-- },
			"lock", "a call of lock at block 4", "its proof refers to a record log of 9 records that no certified checkpoint in the file has"},
		{"checkpoint signature", func(b *Bundle) { flip(b.Latest().Cert.Sigs[1].Sig, 7) },
			"", "", "The certified checkpoint at block 5 carries a signature of validator 2 that does not hold"},
		{"checkpoint below quorum", func(b *Bundle) { b.Latest().Cert.Sigs = b.Latest().Cert.Sigs[:2] },
			"", "", "carries the signatures of only 2 validators; a quorum of 3 is needed"},
		{"checkpoint header", func(b *Bundle) { flip(b.Latest().Header.LogRoot[:], 0) },
			"", "", "The certified checkpoint at block 5 was changed after the validators signed it"},
		{"another genesis", func(b *Bundle) { flip(b.GenesisHash[:], 31) },
			"", "", "The evidence file names another network founding file (genesis)"},
		{"document byte", func(b *Bundle) { flip(b.Payloads[0].Data, 10) },
			"submit", "a case-report form at block 2", `document "crf-V1.json" was changed: its contents no longer match its fingerprint (SHA-256)`},
		{"document and its listed hash", func(b *Bundle) { p := b.Payloads[1]; flip(p.Data, 0); p.SHA256 = block.Sum(p.Data) },
			"anchor", "a document anchor at block 2", `document "T1 SAP v1" was changed: its contents no longer match the fingerprint the record holds`},
		{"claimed code version", func(b *Bundle) { _, r := recordOf(b, "submit"); r.CodeHash = block.Sum(f.code2) },
			"submit", "a case-report form", "names a program version other than the one that ran it"},
		{"upgrade removed", func(b *Bundle) { i, _ := recordOf(b, "upgrade"); b.Records = append(b.Records[:i], b.Records[i+1:]...) },
			"lock", "a call of lock", "an upgrade record was removed"},
		{"deploy removed", func(b *Bundle) { i, _ := recordOf(b, "deploy"); b.Records = append(b.Records[:i], b.Records[i+1:]...) },
			"register", "a call of register", "the record of the program's installation was removed from the file"},
		{"contract code byte", func(b *Bundle) { _, r := recordOf(b, "deploy"); flip(r.Tx, len(r.Tx)-80) },
			"deploy", "a contract installation at block 1", "the transaction was changed"},
		{"consent byte", func(b *Bundle) { _, r := recordOf(b, "amend"); flip(r.Consents[0], len(r.Consents[0])-10) },
			"amend", "a call of amend", "the multi-party consent attached to it"},
		{"consent group removed", func(b *Bundle) {
			i, _ := recordOf(b, "consent-group")
			b.Records = append(b.Records[:i], b.Records[i+1:]...)
		}, "amend", "a call of amend", "the registration of the consent group that approved it was removed from the file"},
		{"transaction removed", func(b *Bundle) { _, r := recordOf(b, "anchor"); r.Tx = nil },
			"receipt-only", "a record at block 2", "the transaction itself was removed from the file"},
	}
	sentinels := sentinelTexts()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Decode(good)
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(b)
			b = roundTrip(t, b)
			_, verr := Verify(b, f.fc.g)
			if verr == nil {
				t.Fatal("verify passed")
			}
			words := Words(b, verr, testNamer)
			if len(words) == 0 {
				t.Fatal("no words")
			}
			w := words[0]
			t.Log(w)
			if !strings.Contains(w, tc.want) {
				t.Fatalf("%q\nwant it to contain %q", w, tc.want)
			}
			if !strings.HasSuffix(w, ".") || strings.ToUpper(w[:1]) != w[:1] && !strings.HasPrefix(w, "record ") {
				t.Errorf("not a sentence: %q", w)
			}
			for _, s := range sentinels {
				if strings.Contains(w, s) {
					t.Errorf("%q falls back to the verifier's words %q", w, s)
				}
			}
			if tc.subject == "" {
				if strings.HasPrefix(w, "record ") {
					t.Errorf("names a record: %q", w)
				}
				return
			}
			i, _ := recordOf(b, tc.subject)
			prefix := "record " + strconv.Itoa(i+1) + " of " + strconv.Itoa(len(b.Records)) + " (" + tc.kind
			if !strings.HasPrefix(w, prefix) {
				t.Fatalf("%q\nwant it to start with %q", w, prefix)
			}
		})
	}

	t.Run("not a bundle", func(t *testing.T) {
		_, err := Decode(append(bytes.Clone(good), "x"...))
		w := Words(nil, err, nil)
		if len(w) != 1 || !strings.HasPrefix(w[0], "The file is not a readable evidence bundle") {
			t.Fatalf("%q", w)
		}
	})
	t.Run("nil", func(t *testing.T) {
		if w := Words(nil, nil, nil); w != nil {
			t.Fatalf("%q", w)
		}
	})
}

// TestWordsFlipBytes: every byte change Verify refuses gets sentences that
// explain it (none falls back to the verifier's own words) and name a
// record wherever the failure is about one.
func TestWordsFlipBytes(t *testing.T) {
	f := newTrialFixture(t, 1, 0)
	enc := f.export(t, false).Encode()
	exempt := exemptRanges(enc)
	stride := 7
	if testing.Short() {
		stride = 31
	}
	sentinels := sentinelTexts()
	explained := 0
	for at := 0; at < len(enc); at += stride {
		skip := false
		for _, r := range exempt {
			skip = skip || (at >= r[0] && at < r[1])
		}
		if skip {
			continue
		}
		mut := bytes.Clone(enc)
		mut[at] ^= 0x01
		b, err := Decode(mut)
		if err != nil {
			continue
		}
		_, verr := Verify(b, f.fc.g)
		if verr == nil {
			t.Fatalf("byte %d passed", at)
		}
		var fs Failures
		if !asFailures(verr, &fs) {
			t.Fatalf("byte %d: %T", at, verr)
		}
		words := Words(b, verr, nil)
		if len(words) != len(fs) {
			t.Fatalf("byte %d: %d failures, %d sentences", at, len(fs), len(words))
		}
		for k, w := range words {
			for _, s := range sentinels {
				if strings.Contains(w, s) {
					t.Fatalf("byte %d: %q falls back to the verifier's words (%v)", at, w, fs[k])
				}
			}
			if fs[k].Record >= 0 && !strings.HasPrefix(w, "record "+strconv.Itoa(fs[k].Record+1)+" of ") {
				t.Fatalf("byte %d: %q does not name record %d (%v)", at, w, fs[k].Record, fs[k])
			}
			explained++
		}
	}
	t.Logf("%d failures explained", explained)
}

func asFailures(err error, fs *Failures) bool {
	f, ok := err.(Failures)
	*fs = f
	return ok
}
