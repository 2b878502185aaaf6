package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/trials/testgroups"
)

// setFixture is a certified chain whose validator set changes twice:
//
//	block 1: the validator organisations' group registered, an anchor
//	block 2: validator 5 joins (and a validator tx with a consent for
//	         another change, refused by the chain, status failed)
//	block 3: an anchor, certified by {1,2,4,5} of the five
//	block 4: validator 1 leaves (certified by {1,2,4,5})
//	block 5: an anchor, certified by {2,4,5} of {2,3,4,5}
//	block 6: a seal, certified by {2,4,5}
type setFixture struct {
	fc      *fakeChain
	board   *testgroups.Group
	failed  *block.Tx // the refused validator transaction of block 2
	add     genesis.Change
	remove  genesis.Change
	strange ed25519.PrivateKey // the key of validator 6 that never joined
}

func newSetFixture(t testing.TB) *setFixture {
	t.Helper()
	fc := newFakeChain(t, 5)
	board := testgroups.MustLoad(testgroups.AmendmentBoard)
	fc.g.Params.ValidatorGroup = board.ID
	fc.hist = genesis.NewHistory(fc.g)
	k5 := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5, 5}, 16))
	k6 := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{6, 6}, 16))
	fc.valKeys = append(fc.valKeys, k5, k6)
	f := &setFixture{fc: fc, board: board, strange: k6,
		add:    genesis.Change{Op: genesis.ChangeAdd, Validator: genesis.Validator{ID: 5, Name: "hospital-b", Key: genesis.Key(k5.Public().(ed25519.PublicKey)), Addr: "10.0.0.5:26600"}},
		remove: genesis.Change{Op: genesis.ChangeRemove, Validator: genesis.Validator{ID: 1}},
	}
	at := time.UnixMilli(fc.now).UTC()
	consentTo := func(c genesis.Change) []byte {
		h := c.Hash()
		cons, err := board.Consent(deterministicRand{}, fc.g.ChainID, consent.Action{Kind: consent.KindValidatorChange, Data: h[:]}, consent.MeaningApproveValidatorChange, at, 1, 2, 4)
		if err != nil {
			t.Fatal(err)
		}
		return cons
	}
	change := func(c genesis.Change, cons []byte, status block.Status) *block.Tx {
		p := (&block.ValidatorPayload{Change: c.Encode(), Consent: cons}).Encode()
		if status != block.StatusOK {
			return fc.tx(block.KindValidator, p, status, nil)
		}
		return fc.tx(block.KindValidator, p, status, nil, block.Event{Type: EventValidatorChanged, Data: c.Encode()})
	}
	anchor := func(label string) {
		fc.tx(block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte(label)), Label: label}).Encode(), block.StatusOK, nil)
	}
	gid := block.Sum(board.Bin)
	fc.tx(block.KindConsentGroup, board.Bin, block.StatusOK, gid[:], block.Event{Type: EventGroup, Data: gid[:]})
	anchor("before the join")
	fc.commit(t)
	// Block 2: the join; beside it a member's validator transaction whose
	// consent is for the join, not for adding validator 6: refused.
	change(f.add, consentTo(f.add), block.StatusOK)
	six := genesis.Change{Op: genesis.ChangeAdd, Validator: genesis.Validator{ID: 6, Key: genesis.Key(k6.Public().(ed25519.PublicKey)), Addr: "10.6.6.6:1"}}
	f.failed = change(six, consentTo(f.add), block.StatusFailed)
	fc.commit(t)
	if err := fc.hist.Apply(f.add, 2); err != nil {
		t.Fatal(err)
	}
	fc.signers = []uint64{1, 2, 4, 5}
	anchor("five validators")
	fc.commit(t)
	change(f.remove, consentTo(f.remove), block.StatusOK)
	fc.commit(t)
	if err := fc.hist.Apply(f.remove, 4); err != nil {
		t.Fatal(err)
	}
	fc.signers = []uint64{2, 4, 5}
	anchor("after the leave")
	fc.commit(t)
	anchor("seal")
	fc.commit(t)
	return f
}

func (f *setFixture) export(t testing.TB) *Bundle {
	t.Helper()
	b, err := Export(context.Background(), f.fc, f.fc.g.ChainID, f.fc.g.Hash(), Options{Scope: "all",
		Select: func(tx *block.Tx) bool { return tx.Kind == block.KindAnchor }})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSetChangesVerify: a bundle of a chain whose set changed carries the
// two changes (not the refused one), round-trips, and verifies: its
// latest checkpoint is certified by a set the genesis alone does not know.
func TestSetChangesVerify(t *testing.T) {
	f := newSetFixture(t)
	b := roundTrip(t, f.export(t))
	if len(b.SetChanges) != 2 || b.SetChanges[0].Height() != 2 || b.SetChanges[1].Height() != 4 || !bytes.Equal(b.ValidatorGroup, f.board.Bin) {
		t.Fatalf("exported %d set changes, group %d bytes; want the join (block 2) and the leave (block 4)", len(b.SetChanges), len(b.ValidatorGroup))
	}
	res, err := Verify(b, f.fc.g)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(res.SetChanges) != 2 || res.SetChanges[0] != (SetChangeInfo{Height: 2, Op: "add", Validator: 5, Name: "hospital-b", TxHash: block.Sum(b.SetChanges[0].Tx), SetHash: f.fc.hist.At(3).Hash(), Size: 5}) ||
		res.SetChanges[1].Op != "remove" || res.SetChanges[1].Validator != 1 || res.SetChanges[1].Size != 4 {
		t.Fatalf("set changes: %+v", res.SetChanges)
	}
	if res.Counts.Verified != 3 {
		t.Fatalf("verified %d records, want the 3 anchors before the seal", res.Counts.Verified)
	}
	// The genesis set alone does not certify the latest checkpoint.
	if err := b.Latest().Verify(f.fc.g); err == nil {
		t.Fatal("the latest checkpoint verified against the genesis set")
	}
}

// TestSetChangeAttacks: a bundle that leaves out, reorders or forges a
// change, or whose certificates are signed by a validator outside the set
// in force at their height, fails, naming the change or checkpoint.
func TestSetChangeAttacks(t *testing.T) {
	f := newSetFixture(t)
	good := f.export(t).Encode()
	fc := f.fc
	resign := func(cp *proof.Checkpoint, ids ...uint64) {
		c := &block.Committed{Block: block.Block{Header: cp.Header}, Metadata: cp.Metadata, VerSeq: cp.VerSeq}
		fc.sign(c, fc.valKeys, ids)
		cp.Cert = c.Cert
	}
	// withCheckpoint puts the checkpoint of height h before the latest.
	withCheckpoint := func(b *Bundle, h uint64) *proof.Checkpoint {
		cp, _ := fc.Checkpoint(t.Context(), h)
		cp = proof.CheckpointOf(&block.Committed{Block: block.Block{Header: cp.Header}, Metadata: cp.Metadata, VerSeq: cp.VerSeq, Cert: cp.Cert})
		latest := b.Latest()
		b.Checkpoints = []*proof.Checkpoint{cp, latest}
		b.Consistency = []*proof.ConsistencyProof{fc.consistency(t, cp.Header.LogSize, latest.Header.LogSize)}
		return cp
	}
	failedChange := func() *SetChange {
		c := fc.blocks[1]
		var leaves []block.Hash
		for _, r := range c.Block.Txs {
			leaves = append(leaves, block.Sum(r))
		}
		raw := f.failed.Encode()
		rp, err := fc.InclusionProof(t.Context(), block.Sum(raw), fc.log.Size-1)
		if err != nil {
			t.Fatal(err)
		}
		_ = rp
		latest, _ := fc.Checkpoint(t.Context(), 0)
		rp, err = fc.InclusionProof(t.Context(), block.Sum(raw), latest.Header.LogSize)
		if err != nil {
			t.Fatal(err)
		}
		return &SetChange{Block: proof.CheckpointOf(c), TxIndex: 1, TxPath: txPath(leaves, 1), Tx: raw, Receipt: rp}
	}
	cases := []struct {
		name     string
		mutate   func(b *Bundle)
		sentinel error
		want     string
	}{
		{"join left out", func(b *Bundle) { b.SetChanges = b.SetChanges[1:] }, ErrSetChange,
			"set change 0 (block 4): bundle: validator-set change not proven: the block that carries it is not certified by the set in force at height 4 (4 validators [1 2 3 4], from height 1)"},
		{"leave left out", func(b *Bundle) { b.SetChanges = b.SetChanges[:1] }, ErrCheckpoint,
			"checkpoint 0 (height 6): bundle: checkpoint not certified by the validators in force at its height: block 6 names validator set"},
		{"every change left out", func(b *Bundle) { b.SetChanges, b.ValidatorGroup = nil, nil }, ErrCheckpoint,
			"checkpoint 0 (height 6)"},
		{"changes reordered", func(b *Bundle) { b.SetChanges[0], b.SetChanges[1] = b.SetChanges[1], b.SetChanges[0] }, ErrSetChange,
			"set change 1 (block 2): bundle: validator-set change not proven: out of order: it follows set change 0 (block 4"},
		{"a refused change claimed (consent for another change)", func(b *Bundle) {
			b.SetChanges = append([]*SetChange{b.SetChanges[0], failedChange()}, b.SetChanges[1:]...)
		}, ErrSetChange, "set change 1 (block 2): bundle: validator-set change not proven: add of validator 6: the validator organisations' consent"},
		{"change transaction rewritten (join of another key)", func(b *Bundle) {
			tx, _ := block.DecodeTx(b.SetChanges[0].Tx)
			p, _ := block.DecodeValidator(tx.Payload)
			ch := f.add
			ch.Validator.Key = genesis.Key(f.strange.Public().(ed25519.PublicKey))
			p.Change = ch.Encode()
			tx.Payload = p.Encode()
			tx.Sign(fc.member)
			b.SetChanges[0].Tx = tx.Encode()
		}, ErrSetChange, "set change 0 (block 2): bundle: validator-set change not proven: transaction "},
		{"change transaction path", func(b *Bundle) { flip(b.SetChanges[0].TxPath[0][:], 3) }, ErrSetChange,
			"set change 0 (block 2): bundle: validator-set change not proven: transaction "},
		{"receipt of another transaction", func(b *Bundle) { b.SetChanges[0].Receipt = b.SetChanges[1].Receipt }, ErrSetChange,
			"set change 0 (block 2) receipt: bundle: validator-set change not proven: the receipt is of transaction"},
		{"receipt proof for an uncertified size", func(b *Bundle) { b.SetChanges[1].Receipt.Size-- }, ErrSetChange,
			"set change 1 (block 4) receipt: bundle: validator-set change not proven: its proof is for log size"},
		{"another validator group", func(b *Bundle) { b.ValidatorGroup = testgroups.MustLoad(testgroups.SurgicalTeam).Bin }, ErrSetChange,
			"validator group: bundle: validator-set change not proven: the bundle's validator group hashes to"},
		{"change block signed by the joining validator before it joined", func(b *Bundle) { resign(b.SetChanges[0].Block, 1, 2, 5) }, ErrSetChange,
			"set change 0 (block 2): bundle: validator-set change not proven: the block that carries it is not certified by the set in force at height 2 (4 validators [1 2 3 4], from height 1): proof: invalid checkpoint: genesis: invalid commit certificate: block 2 signature 2: signer 5 is not a validator"},
		{"checkpoint signed by the joining validator before it joined", func(b *Bundle) { resign(withCheckpoint(b, 2), 1, 2, 5) }, ErrCheckpoint,
			"checkpoint 0 (height 2): bundle: checkpoint not certified by the validators in force at its height: proof: invalid checkpoint: genesis: invalid commit certificate: block 2 signature 2: signer 5 is not a validator"},
		{"checkpoint signed by the leaving validator after it left", func(b *Bundle) { resign(b.Latest(), 1, 2, 4) }, ErrCheckpoint,
			"checkpoint 0 (height 6): bundle: checkpoint not certified by the validators in force at its height: proof: invalid checkpoint: genesis: invalid commit certificate: block 6 signature 0: signer 1 is not a validator"},
		{"checkpoint of the five signed by three", func(b *Bundle) { resign(withCheckpoint(b, 4), 1, 2, 4) }, ErrCheckpoint,
			"checkpoint 0 (height 4): bundle: checkpoint not certified by the validators in force at its height: proof: invalid checkpoint: genesis: invalid commit certificate: block 4 has 3 validator signatures, quorum is 4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Decode(good)
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(b)
			_, err = Verify(roundTrip(t, b), fc.g)
			if !errors.Is(err, tc.sentinel) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %v containing %q", err, tc.sentinel, tc.want)
			}
			words := Words(b, err, nil)
			if len(words) == 0 || !strings.Contains(words[0], "block") && !strings.Contains(words[0], "group") {
				t.Fatalf("in words: %q, want a first sentence naming the block (or the group)", words)
			}
			t.Log(err, words)
		})
	}
	// The walk's checkpoints are in force as well: the real checkpoints of
	// heights 2 and 4 verify beside the latest.
	for _, h := range []uint64{2, 4} {
		b, _ := Decode(good)
		withCheckpoint(b, h)
		if _, err := Verify(roundTrip(t, b), fc.g); err != nil {
			t.Fatalf("checkpoint %d beside the latest: %v", h, err)
		}
	}
}

// TestSetChangeFlipBytes flips bytes of the set changes and the validator
// group (every 11th, three ways): each flip fails decoding or
// verification.
func TestSetChangeFlipBytes(t *testing.T) {
	f := newSetFixture(t)
	enc := f.export(t).Encode()
	from := bytes.Index(enc, []byte(`"set_changes": [`))
	if from < 0 {
		t.Fatal("no set_changes in the bundle")
	}
	stride := 11
	if testing.Short() {
		stride = 37
	}
	n := 0
	for at := from; at < len(enc)-2; at += stride {
		for _, x := range []byte{0x01, 0x20, 0x80} {
			data := bytes.Clone(enc)
			data[at] ^= x
			b, err := Decode(data)
			if err != nil {
				continue
			}
			if _, err := Verify(b, f.fc.g); err == nil {
				t.Fatalf("byte %d ^ %#x (%q): verified", at, x, enc[max(0, at-20):min(len(enc), at+20)])
			}
			n++
		}
	}
	t.Logf("%d flips decoded and failed verification", n)
}

// FuzzDecodeSetChanges: Decode of a bundle with set changes never
// panics, accepts only the canonical form, and Verify never panics on
// what it accepts.
func FuzzDecodeSetChanges(f *testing.F) {
	fx := newSetFixture(f)
	enc := fx.export(f).Encode()
	f.Add(enc)
	at := bytes.Index(enc, []byte(`"set_changes"`))
	f.Add(append(append([]byte(nil), enc[:at]...), []byte(`"set_changes": [null], "validator_group": "00"}`)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Decode(data)
		if err != nil {
			return
		}
		if !bytes.Equal(b.Encode(), data) {
			t.Fatal("decoded a non-canonical bundle")
		}
		_, _ = Verify(b, fx.fc.g)
	})
}
