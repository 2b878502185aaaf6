package witness_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"

	"github.com/trialchain/trialchain/chain/witness"
	"github.com/trialchain/trialchain/chain/witness/witnesstest"
)

func edKey(seed byte) (ed25519.PublicKey, ed25519.PrivateKey, witness.PublicKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	pub := priv.Public().(ed25519.PublicKey)
	return pub, priv, witness.PublicKey{Name: "regulator", Key: pub}
}

func TestCosignatureRoundTrip(t *testing.T) {
	c := witnesstest.New(t, "trial-net", 7)
	grow(t, c, "x", 3, 2)
	cp := c.Checkpoint(t, 0)
	_, priv, pk := edKey(1)
	cs, err := witness.Sign(priv, "regulator", clock(), witness.Latest, cp)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.VerifyBy(pk); err != nil {
		t.Fatal(err)
	}
	if err := cs.Matches(cp); err != nil {
		t.Fatal(err)
	}
	bin, err := witness.DecodeCosignature(cs.Encode())
	if err != nil || !bytes.Equal(bin.Encode(), cs.Encode()) {
		t.Fatalf("binary round trip: %v", err)
	}
	j, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	var back witness.Cosignature
	if err := json.Unmarshal(j, &back); err != nil || !bytes.Equal(back.Encode(), cs.Encode()) {
		t.Fatalf("json round trip: %v", err)
	}
	// The message binds the witness's name and key, the time, the
	// statement and every checkpoint field: each changed alone breaks the
	// signature.
	mutate := map[string]func(c *witness.Cosignature){
		"name":       func(c *witness.Cosignature) { c.Name = "ethics-committee" },
		"time":       func(c *witness.Cosignature) { c.Time++ },
		"statement":  func(c *witness.Cosignature) { c.Statement = witness.Prefix },
		"chain":      func(c *witness.Cosignature) { c.ChainID = "other-net" },
		"height":     func(c *witness.Cosignature) { c.Height++ },
		"block hash": func(c *witness.Cosignature) { c.BlockHash[0] ^= 1 },
		"log size":   func(c *witness.Cosignature) { c.LogSize++ },
		"log root":   func(c *witness.Cosignature) { c.LogRoot[0] ^= 1 },
		"state root": func(c *witness.Cosignature) { c.StateRoot[0] ^= 1 },
		"signature":  func(c *witness.Cosignature) { c.Sig = bytes.Clone(c.Sig); c.Sig[5] ^= 1 },
	}
	for name, m := range mutate {
		t.Run(name, func(t *testing.T) {
			bad, _ := witness.DecodeCosignature(cs.Encode())
			m(bad)
			if err := bad.Verify(); !errors.Is(err, witness.ErrBadSignature) {
				t.Fatalf("got %v, want a bad signature", err)
			}
		})
	}
}

// TestForgedCosignature: a cosignature made with another key but naming
// the trusted witness, one re-signed by its own (untrusted) key, and one
// for another checkpoint are each refused with their own error.
func TestForgedCosignature(t *testing.T) {
	c := witnesstest.New(t, "trial-net", 7)
	grow(t, c, "x", 3, 2)
	cp := c.Checkpoint(t, 0)
	_, _, pk := edKey(1)
	_, mallory, _ := edKey(2)
	// Mallory signs but claims the regulator's key.
	forged, err := witness.Sign(mallory, "regulator", clock(), witness.Latest, cp)
	if err != nil {
		t.Fatal(err)
	}
	forged.Key = pk.Key
	if err := forged.VerifyBy(pk); !errors.Is(err, witness.ErrBadSignature) {
		t.Fatalf("forged: got %v, want a bad signature", err)
	}
	// Mallory signs with her own key: valid, but not the trusted witness.
	own, _ := witness.Sign(mallory, "regulator", clock(), witness.Latest, cp)
	if err := own.VerifyBy(pk); !errors.Is(err, witness.ErrWrongWitness) {
		t.Fatalf("other key: got %v, want a wrong witness", err)
	}
	// The regulator's genuine cosignature of an earlier checkpoint.
	_, priv, _ := edKey(1)
	old, _ := witness.Sign(priv, "regulator", clock(), witness.Latest, c.Checkpoint(t, 2))
	if err := old.Matches(cp); !errors.Is(err, witness.ErrMismatch) {
		t.Fatalf("other checkpoint: got %v, want a mismatch", err)
	}
}

func TestPublicKeyFile(t *testing.T) {
	_, _, pk := edKey(3)
	back, err := witness.ParsePublicKey(pk.Encode())
	if err != nil || back.Name != pk.Name || !bytes.Equal(back.Key, pk.Key) {
		t.Fatalf("round trip: %v", err)
	}
	for name, in := range map[string]string{
		"member key file": `{"name":"regulator","type":"ed25519","public_key":"00","private_key":"00"}`,
		"short key":       `{"format":"trialchain-witness-key","name":"regulator","public_key":"0011"}`,
		"bad name":        `{"format":"trialchain-witness-key","name":"a b","public_key":"` + string(bytes.Repeat([]byte("00"), 32)) + `"}`,
		"trailing":        string(pk.Encode()) + "{}",
	} {
		if _, err := witness.ParsePublicKey([]byte(in)); !errors.Is(err, witness.ErrKeyFile) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}
