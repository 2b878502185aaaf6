package bundle

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/witness"
)

// fork copies a fake chain: blocks committed to either afterwards are not
// seen by the other; both stay certified by the same validator keys.
func (fc *fakeChain) fork() *fakeChain {
	f := &fakeChain{g: fc.g, valKeys: fc.valKeys, signers: fc.signers, member: fc.member, nonce: fc.nonce,
		blocks: slices.Clone(fc.blocks), receipts: maps.Clone(fc.receipts), logStart: slices.Clone(fc.logStart),
		log: proof.Frontier{Size: fc.log.Size, Hashes: slices.Clone(fc.log.Hashes)}, nodes: maps.Clone(fc.nodes), now: fc.now,
		st:    &state.MemState{MemKV: maps.Clone(fc.st.MemKV), MemStore: maps.Clone(fc.st.MemStore), Root: fc.st.Root},
		roots: slices.Clone(fc.roots), anchorScope: maps.Clone(fc.anchorScope)}
	f.ov = state.NewOverlay(f.st)
	return f
}

// newTestWitness starts a witness for fc's genesis in a temp home.
func newTestWitness(t *testing.T, fc *fakeChain) (*witness.Witness, witness.PublicKey) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "witness")
	if _, err := witness.Init(dir, "regulator"); err != nil {
		t.Fatal(err)
	}
	key, pk, err := witness.LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := witness.Open(dir, pk)
	if err != nil {
		t.Fatal(err)
	}
	w, err := witness.New(st, key, pk.Name, fc.g, func() time.Time { return time.Unix(1_760_000_500, 0) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, pk
}

// show submits fc's latest checkpoint to w with a consistency proof from
// the witness's latest size, from fc's own log (what fc's node would send).
func show(t *testing.T, w *witness.Witness, fc *fakeChain) (*witness.Cosignature, error) {
	t.Helper()
	cp, err := fc.Checkpoint(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	req := &witness.Request{Checkpoint: cp}
	if l := w.Latest(); l != nil {
		req.OldSize = l.LogSize
		if cp.Header.LogSize >= l.LogSize {
			req.Proof = fc.consistency(t, l.LogSize, cp.Header.LogSize).Hashes
		} else {
			req.Proof = fc.consistency(t, cp.Header.LogSize, l.LogSize).Hashes
		}
	}
	return w.Add(req)
}

// TestWitnessedSplitView is issue 11's "done when" for witnesses: two
// parties are shown different histories of one trial, both certified by
// the same genesis validators, both exporting bundles that Verify accepts.
// The witness cosigns the first and refuses the second as a fork, and
// VerifyWitnesses with its key fails for the forked bundle — without a
// cosignature, with the honest one transplanted, or with a forged one.
func TestWitnessedSplitView(t *testing.T) {
	f := newTrialFixture(t, 1, 0)
	a := f.fc
	b := a.fork()
	a.tx(block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte("SAE report, party A")), Label: "T1 SAE"}).Encode(), block.StatusOK, nil)
	a.commit(t)
	a.tx(block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte("seal A")), Label: "seal"}).Encode(), block.StatusOK, nil)
	a.commit(t)
	b.tx(block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte("no SAE, party B")), Label: "T1 note"}).Encode(), block.StatusOK, nil)
	b.commit(t)
	b.tx(block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte("seal B")), Label: "seal"}).Encode(), block.StatusOK, nil)
	b.commit(t)

	bundleA := f.export(t, false)
	fb := *f
	fb.fc = b
	bundleB := fb.export(t, false)
	for name, bu := range map[string]*Bundle{"A": bundleA, "B": bundleB} {
		if _, err := Verify(bu, a.g); err != nil {
			t.Fatalf("bundle %s: %v", name, err)
		}
	}
	if bundleA.Latest().Hash() == bundleB.Latest().Hash() {
		t.Fatal("the histories did not diverge")
	}

	w, pk := newTestWitness(t, a)
	ca, err := show(t, w, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := show(t, w, b); !errors.Is(err, witness.ErrFork) {
		t.Fatalf("the second history: got %v, want a fork", err)
	}
	// Party B's history grows: still refused.
	b.tx(block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte("later B")), Label: "later"}).Encode(), block.StatusOK, nil)
	b.commit(t)
	if _, err := show(t, w, b); !errors.Is(err, witness.ErrFork) || !errors.Is(err, witness.ErrInconsistent) {
		t.Fatalf("the second history, later: got %v, want an inconsistent log", err)
	}

	bundleA.Witnesses = []*witness.Cosignature{ca}
	res, err := VerifyWitnesses(bundleA, []witness.PublicKey{pk}, 1)
	if err != nil || len(res.Witnessed) != 1 {
		t.Fatalf("the witnessed bundle: %v", err)
	}
	// The encoding carries the cosignature and decodes canonically.
	back, err := Decode(bundleA.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyWitnesses(back, []witness.PublicKey{pk}, 1); err != nil {
		t.Fatalf("after a round trip: %v", err)
	}

	_, mallory, _ := ed25519.GenerateKey(nil)
	forged, err := witness.Sign(mallory, pk.Name, time.Unix(1_760_000_600, 0), witness.Latest, bundleB.Latest())
	if err != nil {
		t.Fatal(err)
	}
	forged.Key = pk.Key // claims the regulator's key
	tests := []struct {
		name      string
		witnesses []*witness.Cosignature
		want      error
		says      string
	}{
		{"no cosignature", nil, nil, "no cosignature in the bundle"},
		{"the honest history's cosignature transplanted", []*witness.Cosignature{ca}, witness.ErrMismatch, "cosigned block"},
		{"a forged cosignature", []*witness.Cosignature{forged}, witness.ErrBadSignature, "does not verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bundleB.Witnesses = tc.witnesses
			res, err := VerifyWitnesses(bundleB, []witness.PublicKey{pk}, 1)
			var e *Error
			if !errors.Is(err, ErrWitness) || !errors.As(err, &e) || e.Part != "witnesses" {
				t.Fatalf("got %v, want ErrWitness", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), "regulator") {
				t.Fatalf("error %q does not name the witness and say %q", err, tc.says)
			}
			if res.OK() {
				t.Fatal("result says OK")
			}
		})
	}
}

// TestVerifyWitnessesThreshold: t of n trusted witnesses, duplicates
// counted once, unknown cosigners ignored, a bad threshold refused.
func TestVerifyWitnessesThreshold(t *testing.T) {
	f := newTrialFixture(t, 1, 0)
	b := f.export(t, false)
	cp := b.Latest()
	var pks []witness.PublicKey
	var privs []ed25519.PrivateKey
	for i, name := range []string{"regulator", "ethics-committee", "auditor"} {
		priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i + 1)}, 32))
		pks = append(pks, witness.PublicKey{Name: name, Key: priv.Public().(ed25519.PublicKey)})
		privs = append(privs, priv)
	}
	sign := func(i int) *witness.Cosignature {
		c, err := witness.Sign(privs[i], pks[i].Name, time.Unix(1_760_000_600, 0), witness.Prefix, cp)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	stranger := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	sc, _ := witness.Sign(stranger, "stranger", time.Unix(1_760_000_600, 0), witness.Latest, cp)
	b.Witnesses = []*witness.Cosignature{sign(0), sign(2), sc}
	res, err := VerifyWitnesses(b, pks, 2)
	if err != nil || len(res.Witnessed) != 2 || res.Unknown != 1 || len(res.Missing) != 1 || res.Missing[0].Name != "ethics-committee" {
		t.Fatalf("2 of 3: %+v %v", res, err)
	}
	if _, err := VerifyWitnesses(b, pks, 3); !errors.Is(err, ErrWitness) || !strings.Contains(err.Error(), "ethics-committee") {
		t.Fatalf("3 of 3: got %v", err)
	}
	if _, err := VerifyWitnesses(b, []witness.PublicKey{pks[0], pks[0]}, 2); err == nil {
		t.Fatal("a key given twice counted twice")
	}
	if _, err := VerifyWitnesses(b, pks, 0); err == nil {
		t.Fatal("threshold 0 accepted")
	}
}

// TestDecodeWitnesses: a bundle's witness cosignatures decode strictly.
func TestDecodeWitnesses(t *testing.T) {
	f := newTrialFixture(t, 1, 0)
	b := f.export(t, false)
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	c, _ := witness.Sign(priv, "regulator", time.Unix(1_760_000_600, 0), witness.Latest, b.Latest())
	b.Witnesses = []*witness.Cosignature{c}
	enc := b.Encode()
	for name, edit := range map[string]func([]byte) []byte{
		"null cosignature": func(e []byte) []byte {
			return bytes.Replace(e, []byte(`"witnesses": [`), []byte(`"witnesses": [null,`), 1)
		},
		"unknown statement": func(e []byte) []byte {
			return bytes.Replace(e, []byte(`"statement": "latest"`), []byte(`"statement": "maybe"`), 1)
		},
		"short signature": func(e []byte) []byte {
			return bytes.Replace(e, []byte(`"signature": "`), []byte(`"signature": "00`), 1)
		},
		"unknown field": func(e []byte) []byte {
			return bytes.Replace(e, []byte(`"witness": "regulator"`), []byte(`"witness": "regulator", "x": 1`), 1)
		},
	} {
		bad := edit(bytes.Clone(enc))
		if bytes.Equal(bad, enc) {
			t.Fatalf("%s: edit did nothing", name)
		}
		if _, err := Decode(bad); !errors.Is(err, ErrMalformed) && !errors.Is(err, witness.ErrMalformed) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	// Without witnesses the encoding is what it was before the field existed.
	b.Witnesses = nil
	if bytes.Contains(b.Encode(), []byte(`"witnesses"`)) {
		t.Fatal("an unwitnessed bundle mentions witnesses")
	}
}

// FuzzDecodeWitnessed: Decode of a bundle carrying witness cosignatures
// never panics, accepts only the canonical form, and VerifyWitnesses never
// panics on what it accepts.
func FuzzDecodeWitnessed(f *testing.F) {
	fx := newTrialFixture(f, 1, 0)
	b := fx.export(f, false)
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	c, err := witness.Sign(priv, "regulator", time.Unix(1_760_000_600, 0), witness.Latest, b.Latest())
	if err != nil {
		f.Fatal(err)
	}
	b.Witnesses = []*witness.Cosignature{c}
	pk := witness.PublicKey{Name: "regulator", Key: priv.Public().(ed25519.PublicKey)}
	f.Add(b.Encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Decode(data)
		if err != nil {
			return
		}
		if !bytes.Equal(got.Encode(), data) {
			t.Fatal("decoded a non-canonical bundle")
		}
		_, _ = VerifyWitnesses(got, []witness.PublicKey{pk}, 1)
	})
}
