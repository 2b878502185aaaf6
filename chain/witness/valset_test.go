package witness_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/witness"
	"github.com/trialchain/trialchain/chain/witness/witnesstest"
)

// TestCheckAcrossSetChanges: a witness given the sets walked from the
// genesis (CheckAgainst, Witness.SetValidators) cosigns checkpoints
// certified after a set change, and still refuses a certificate by a
// validator before its addition or after its removal, or a header naming
// the set no longer in force. Validator 5 joins by block 5 (in force from
// 6), validator 4 leaves by block 8 (in force from 9).
func TestCheckAcrossSetChanges(t *testing.T) {
	c := witnesstest.New(t, "trial-net", 7)
	grow(t, c, "x", 10, 1)
	keys := append([]ed25519.PrivateKey(nil), c.Keys...)
	k5 := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7, 5}, 16))
	keys = append(keys, k5)
	hist := genesis.NewHistory(c.G)
	add := genesis.Change{Op: genesis.ChangeAdd, Validator: genesis.Validator{ID: 5, Name: "node4", Key: genesis.Key(k5.Public().(ed25519.PublicKey)), Addr: "127.0.0.1:26604", API: "127.0.0.1:26704"}}
	if err := hist.Apply(add, 5); err != nil {
		t.Fatal(err)
	}
	if err := hist.Apply(genesis.Change{Op: genesis.ChangeRemove, Validator: genesis.Validator{ID: 4}}, 8); err != nil {
		t.Fatal(err)
	}
	// at re-certifies block height, its header naming set, by signers.
	at := func(height uint64, set *genesis.Set, signers ...uint64) *proof.Checkpoint {
		cp := c.Checkpoint(t, height)
		cp.Header.ValidatorsHash = set.Hash()
		cm := &block.Committed{Block: block.Block{Header: cp.Header}, Metadata: cp.Metadata, VerSeq: cp.VerSeq}
		witnesstest.Certify(cm, keys, signers...)
		return proof.CheckpointOf(cm)
	}
	g, b, d := hist.At(1), hist.At(6), hist.At(9) // {1,2,3,4}, {1,...,5}, {1,2,3,5}
	tests := []struct {
		name string
		cp   *proof.Checkpoint
		vals proof.Validators
		ok   bool
	}{
		{"before the changes, genesis set", at(3, g, 1, 2, 3), hist, true},
		{"after the add, 4 of 5", at(7, b, 1, 2, 3, 5), hist, true},
		{"after the removal, 3 of 4 with the added one", at(10, d, 1, 2, 5), hist, true},
		{"after the removal, against the genesis alone", at(10, d, 1, 2, 5), c.G, false},
		{"added validator signs before its addition", at(3, g, 1, 2, 5), hist, false},
		{"removed validator signs after its removal", at(10, d, 1, 2, 4), hist, false},
		{"after the add, a header naming the genesis set", at(7, g, 1, 2, 3), hist, false},
		{"after the add, 3 of 5 is below the quorum", at(7, b, 1, 2, 5), hist, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := witness.CheckAgainst(c.G, tc.vals, nil, &witness.Request{Checkpoint: tc.cp})
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, witness.ErrNotCertified) {
				t.Fatalf("got %v, want ErrNotCertified", err)
			}
		})
	}
	// A running witness checks against the genesis until told the sets.
	w, _ := newWitness(t, c)
	late := at(10, d, 1, 2, 5)
	if _, err := w.Add(&witness.Request{Checkpoint: late}); !errors.Is(err, witness.ErrNotCertified) {
		t.Fatalf("a witness told no set change cosigned block 10: %v", err)
	}
	w.SetValidators(hist.Clone())
	if cs, err := w.Add(&witness.Request{Checkpoint: late}); err != nil || cs.Height != 10 {
		t.Fatalf("with the sets walked: %v %+v", err, cs)
	}
}
