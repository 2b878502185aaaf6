package genesis

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
)

// valKey is validator id's deterministic test key.
func valKey(id uint64) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, fmt.Sprintf("validator-%d", id))
	return ed25519.NewKeyFromSeed(seed)
}

func testVal(id uint64) Validator {
	return Validator{ID: id, Name: fmt.Sprintf("node%d", id), Key: Key(valKey(id).Public().(ed25519.PublicKey)),
		Addr: fmt.Sprintf("127.0.0.1:%d", 7000+id), API: fmt.Sprintf("127.0.0.1:%d", 8000+id)}
}

func testGenesis(n uint64) *Genesis {
	g := &Genesis{ChainID: "valset-test", Time: time.UnixMilli(1_760_000_000_000).UTC(), Params: DefaultParams()}
	for id := n; id >= 1; id-- { // out of order on purpose: sets are kept in id order
		g.Validators = append(g.Validators, testVal(id))
	}
	return g
}

// certify makes block height naming set s, signed by signers.
func certify(chainID string, height uint64, s *Set, signers ...uint64) *block.Committed {
	c := &block.Committed{Block: block.Block{Header: block.Header{ChainID: chainID, Height: height, ValidatorsHash: s.Hash(),
		TxRoot: block.TxRoot(nil)}}, Metadata: []byte{byte(height)}}
	v := block.Vote{ChainID: chainID, Height: height, BlockHash: c.Block.Hash(), MetadataHash: block.Sum(c.Metadata)}
	msg := v.Encode()
	for _, id := range signers {
		c.Cert.Sigs = append(c.Cert.Sigs, block.CommitSig{Validator: id, Msg: msg, Sig: ed25519.Sign(valKey(id), msg)})
	}
	return c
}

func TestSetHashMatchesGenesisEncoding(t *testing.T) {
	g := testGenesis(4)
	var w block.Writer // the published encoding: count ‖ (id ‖ key) in id order
	w.Uvarint(4)
	for id := uint64(1); id <= 4; id++ {
		w.Uint64(id)
		w.Fixed(testVal(id).Key)
	}
	if got, want := g.ValidatorsHash(), block.Sum(w.Bytes()); got != want {
		t.Fatalf("ValidatorsHash %s, want %s", got, want)
	}
	if g.Set().Hash() != g.ValidatorsHash() {
		t.Fatal("genesis set and ValidatorsHash differ")
	}
}

func TestSetApply(t *testing.T) {
	g := testGenesis(4)
	five := testVal(5)
	dupKey := testVal(5)
	dupKey.Key = testVal(2).Key
	tests := []struct {
		name    string
		change  Change
		from    uint64
		wantIDs []uint64
		quorum  int
		wantErr string
	}{
		{name: "add a fifth", change: Change{Op: ChangeAdd, Validator: five}, from: 10, wantIDs: []uint64{1, 2, 3, 4, 5}, quorum: 4},
		{name: "remove one", change: Change{Op: ChangeRemove, Validator: Validator{ID: 3}}, from: 10, wantIDs: []uint64{1, 2, 4}, quorum: 2},
		{name: "add an id in use", change: Change{Op: ChangeAdd, Validator: testVal(2)}, from: 10, wantErr: "id 2 is in use"},
		{name: "add a key in use", change: Change{Op: ChangeAdd, Validator: dupKey}, from: 10, wantErr: "validator 2's"},
		{name: "remove an absent one", change: Change{Op: ChangeRemove, Validator: Validator{ID: 9}}, from: 10, wantErr: "not in the set"},
		{name: "remove with a key", change: Change{Op: ChangeRemove, Validator: testVal(3)}, from: 10, wantErr: "names only the id"},
		{name: "unknown op", change: Change{Op: 3, Validator: five}, from: 10, wantErr: "unknown operation"},
		{name: "id zero", change: Change{Op: ChangeAdd, Validator: Validator{Key: five.Key, Addr: "a"}}, from: 10, wantErr: "id must be > 0"},
		{name: "no addr", change: Change{Op: ChangeAdd, Validator: Validator{ID: 5, Key: five.Key}}, from: 10, wantErr: "addr must be"},
		{name: "before the set", change: Change{Op: ChangeAdd, Validator: five}, from: 1, wantErr: "set in force is from 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := g.Set().Apply(tt.change, tt.from)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrSetChange) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want ErrSetChange with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(s.IDs()) != fmt.Sprint(tt.wantIDs) || s.Quorum() != tt.quorum || s.From != tt.from {
				t.Fatalf("set %v quorum %d from %d, want %v quorum %d from %d", s.IDs(), s.Quorum(), s.From, tt.wantIDs, tt.quorum, tt.from)
			}
			if g.Set().Hash() == s.Hash() {
				t.Fatal("changed set hashes like the genesis set")
			}
		})
	}
}

// TestHistoryCertificates walks a fifth validator's joining (block 5) and
// validator 1's leaving (block 9), and checks certificates at each height
// against the set in force there.
func TestHistoryCertificates(t *testing.T) {
	g := testGenesis(4)
	h := NewHistory(g)
	g0 := h.Latest()
	if err := h.ApplyCertified(certify(g.ChainID, 5, g0, 1, 2, 3), []Change{{Op: ChangeAdd, Validator: testVal(5)}}); err != nil {
		t.Fatal(err)
	}
	s5 := h.Latest()
	if err := h.ApplyCertified(certify(g.ChainID, 9, s5, 2, 3, 4, 5), []Change{{Op: ChangeRemove, Validator: Validator{ID: 1}}}); err != nil {
		t.Fatal(err)
	}
	s9 := h.Latest()
	if got := len(h.Sets()); got != 3 {
		t.Fatalf("%d sets, want 3", got)
	}
	tests := []struct {
		name    string
		c       *block.Committed
		wantErr string
	}{
		{name: "genesis set before the join", c: certify(g.ChainID, 5, g0, 1, 2, 4)},
		{name: "five validators need four", c: certify(g.ChainID, 6, s5, 1, 2, 5), wantErr: "quorum is 4"},
		{name: "the new validator counts", c: certify(g.ChainID, 6, s5, 1, 2, 3, 5)},
		{name: "the new validator before it joined", c: certify(g.ChainID, 5, g0, 1, 2, 5), wantErr: "signer 5 is not a validator"},
		{name: "old set named after the join", c: certify(g.ChainID, 6, g0, 1, 2, 3, 4), wantErr: "names validator set"},
		{name: "the removed validator after leaving", c: certify(g.ChainID, 10, s9, 1, 2, 3), wantErr: "signer 1 is not a validator"},
		{name: "after leaving", c: certify(g.ChainID, 10, s9, 2, 3, 5)},
		{name: "another chain", c: certify("other", 10, s9, 2, 3, 5), wantErr: "signed another block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.VerifyCertificate(tt.c)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrCertificate) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want ErrCertificate with %q", err, tt.wantErr)
			}
		})
	}
	// A set-change block the set in force did not certify does not apply.
	if err := h.ApplyCertified(certify(g.ChainID, 12, s9, 1, 2, 3), []Change{{Op: ChangeAdd, Validator: testVal(6)}}); err == nil {
		t.Fatal("a change in a block certified by a removed validator applied")
	}
	if h.Latest() != s9 {
		t.Fatal("refused change altered the history")
	}
}

func TestHistoryTwoChangesInOneBlock(t *testing.T) {
	h := NewHistory(testGenesis(4))
	if err := h.Apply(Change{Op: ChangeAdd, Validator: testVal(5)}, 3); err != nil {
		t.Fatal(err)
	}
	if err := h.Apply(Change{Op: ChangeRemove, Validator: Validator{ID: 1}}, 3); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(h.At(4).IDs(), len(h.Sets())); got != "[2 3 4 5] 2" {
		t.Fatalf("got %s", got)
	}
	if err := h.Apply(Change{Op: ChangeRemove, Validator: Validator{ID: 2}}, 2); err == nil {
		t.Fatal("a change out of height order applied")
	}
	if err := h.Apply(Change{Op: ChangeRemove, Validator: Validator{ID: 2}}, 0); err == nil {
		t.Fatal("a change in block 0 applied")
	}
}

func TestDecodeChange(t *testing.T) {
	add := Change{Op: ChangeAdd, Validator: testVal(5)}
	rm := Change{Op: ChangeRemove, Validator: Validator{ID: 2}}
	for _, c := range []Change{add, rm} {
		got, err := DecodeChange(c.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Encode(), c.Encode()) || got.Hash() != c.Hash() {
			t.Fatalf("round trip changed %+v into %+v", c, got)
		}
	}
	badOp := rm.Encode()
	badOp[len(badOp)-9] = 7
	tests := map[string][]byte{
		"empty":     nil,
		"truncated": add.Encode()[:40],
		"trailing":  append(rm.Encode(), 0),
		"domain":    append([]byte{byte(len(changeDomain))}, bytes.Repeat([]byte{'x'}, len(changeDomain))...),
		"op":        badOp,
	}
	for name, b := range tests {
		if _, err := DecodeChange(b); !errors.Is(err, ErrSetChange) {
			t.Errorf("%s: err %v, want ErrSetChange", name, err)
		}
	}
}

func FuzzDecodeChange(f *testing.F) {
	f.Add(Change{Op: ChangeAdd, Validator: testVal(5)}.Encode())
	f.Add(Change{Op: ChangeRemove, Validator: Validator{ID: 2}}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeChange(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Encode(), b) {
			t.Fatal("accepted a non-canonical encoding")
		}
	})
}

func ExampleHistory() {
	g := testGenesis(4)
	h := NewHistory(g)
	// Block 7 carries a hospital's joining; it is in force from block 8.
	_ = h.Apply(Change{Op: ChangeAdd, Validator: testVal(5)}, 7)
	fmt.Println(h.At(7).IDs(), h.At(7).Quorum())
	fmt.Println(h.At(8).IDs(), h.At(8).Quorum())
	// Output:
	// [1 2 3 4] 3
	// [1 2 3 4 5] 4
}

func TestEncodeSet(t *testing.T) {
	g := testGenesis(4)
	s, err := g.Set().Apply(Change{Op: ChangeAdd, Validator: testVal(7)}, 12)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSet(EncodeSet(s))
	if err != nil {
		t.Fatal(err)
	}
	if got.From != 12 || got.Hash() != s.Hash() || !bytes.Equal(EncodeSet(got), EncodeSet(s)) {
		t.Fatalf("round trip: %+v", got)
	}
	swapped := &Set{From: 1, Validators: []Validator{testVal(2), testVal(1)}}
	for name, b := range map[string][]byte{
		"empty":        EncodeSet(&Set{From: 1}),
		"out of order": EncodeSet(swapped),
		"from 0":       EncodeSet(&Set{Validators: []Validator{testVal(1)}}),
		"trailing":     append(EncodeSet(s), 0),
	} {
		if _, err := DecodeSet(b); !errors.Is(err, ErrSetChange) {
			t.Errorf("%s: err %v, want ErrSetChange", name, err)
		}
	}
}

func FuzzDecodeSet(f *testing.F) {
	f.Add(EncodeSet(testGenesis(4).Set()))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSet(b)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodeSet(s), b) {
			t.Fatal("accepted a non-canonical encoding")
		}
	})
}
