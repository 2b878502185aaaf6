package block

import (
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"testing"

	"filippo.io/edwards25519"
)

// Encodings of the eight small-order points of edwards25519, canonical
// and not (y ≥ p, or a sign bit set on x = 0): the fourteen the ZIP-215
// test vectors combine (github.com/hdevalence/ed25519consensus,
// zip215_test.go).
var smallOrder = []struct {
	name, hex string
}{
	{"identity", "0100000000000000000000000000000000000000000000000000000000000000"},
	{"identity, sign bit (non-canonical)", "0100000000000000000000000000000000000000000000000000000000000080"},
	{"identity, y=p+1 (non-canonical)", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"identity, y=p+1, sign bit (non-canonical)", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
	{"order 2", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"order 2, sign bit (non-canonical)", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
	{"order 4", "0000000000000000000000000000000000000000000000000000000000000000"},
	{"order 4, negative", "0000000000000000000000000000000000000000000000000000000000000080"},
	{"order 4, y=p (non-canonical)", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"order 4, y=p, sign bit (non-canonical)", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
	{"order 8", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"},
	{"order 8, negative", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"},
	{"order 8 (2)", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"},
	{"order 8 (2), negative", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"},
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// secretScalar is the ed25519 secret scalar of key (RFC 8032, 5.1.5).
func secretScalar(key ed25519.PrivateKey) *edwards25519.Scalar {
	h := sha512.Sum512(key.Seed())
	a, err := new(edwards25519.Scalar).SetBytesWithClamping(h[:32])
	if err != nil {
		panic(err)
	}
	return a
}

// forge sets tx's sender to the encoding senderEnc and its signature to
// (rEnc, r + k·a), k the challenge of (rEnc, senderEnc, the signing bytes):
// a valid signature by the key a·B when senderEnc encodes it and rEnc
// encodes r·B, and a crafted one otherwise.
func forge(tx *Tx, senderEnc, rEnc []byte, r, a *edwards25519.Scalar) *Tx {
	tx.Sender = ed25519.PublicKey(senderEnc)
	h := sha512.New()
	h.Write(rEnc)
	h.Write(senderEnc)
	h.Write(tx.SigningBytes())
	k, err := new(edwards25519.Scalar).SetUniformBytes(h.Sum(nil))
	if err != nil {
		panic(err)
	}
	s := new(edwards25519.Scalar).MultiplyAdd(k, a, r)
	tx.Signature = append(append([]byte(nil), rEnc...), s.Bytes()...)
	return tx
}

// addOrder returns the little-endian 32-byte s + ℓ, the group order: the
// same scalar, non-canonically encoded (it still fits: s < ℓ < 2²⁵³).
func addOrder(s []byte) []byte {
	l := mustHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	out := make([]byte, 32)
	carry := 0
	for i := range out {
		v := int(s[i]) + int(l[i]) + carry
		out[i], carry = byte(v), v>>8
	}
	return out
}

// stdlib is the rule transaction signatures used before ZIP-215.
func stdlib(tx *Tx) bool {
	return len(tx.Sender) == ed25519.PublicKeySize && len(tx.Signature) == ed25519.SignatureSize &&
		ed25519.Verify(tx.Sender, tx.SigningBytes(), tx.Signature)
}

const (
	stdReject = iota
	stdAccept
	stdDepends // on the challenge k modulo the small order: on the message
)

// sigVectors are transactions with valid, invalid and edge-case
// signatures, with what ZIP-215 and crypto/ed25519 say of each.
func sigVectors(t testing.TB) []struct {
	name   string
	tx     *Tx
	zip215 bool
	std    int
} {
	t.Helper()
	key := testKey(1)
	pub := key.Public().(ed25519.PublicKey)
	a := secretScalar(key)
	if got := new(edwards25519.Point).ScalarBaseMult(a).Bytes(); hex.EncodeToString(got) != hex.EncodeToString(pub) {
		t.Fatal("secretScalar does not give the key's public point")
	}
	nonce := sha512.Sum512([]byte("nonce"))
	r, err := new(edwards25519.Scalar).SetUniformBytes(nonce[:])
	if err != nil {
		t.Fatal(err)
	}
	rB := new(edwards25519.Point).ScalarBaseMult(r)
	zero := edwards25519.NewScalar()
	order8, err := new(edwards25519.Point).SetBytes(mustHex(smallOrder[12].hex))
	if err != nil {
		t.Fatal(err)
	}
	withTorsion := new(edwards25519.Point).Add(rB, order8) // r·B plus an order-8 component

	mutate := func(f func(tx *Tx)) *Tx {
		tx := sampleTx()
		f(tx)
		return tx
	}
	return []struct {
		name   string
		tx     *Tx
		zip215 bool
		std    int
	}{
		{"valid", sampleTx(), true, stdAccept},
		{"valid, bounded (v2)", sampleBoundedTx(), true, stdAccept},
		{"valid, rebuilt from the secret scalar", forge(sampleTx(), pub, rB.Bytes(), r, a), true, stdAccept},
		{"invalid: s bit flipped", mutate(func(tx *Tx) { tx.Signature[40] ^= 1 }), false, stdReject},
		{"invalid: R bit flipped", mutate(func(tx *Tx) { tx.Signature[3] ^= 1 }), false, stdReject},
		{"wrong key", mutate(func(tx *Tx) { tx.Sender = testKey(2).Public().(ed25519.PublicKey) }), false, stdReject},
		{"mutated message", mutate(func(tx *Tx) { tx.Nonce++ }), false, stdReject},
		{"mutated payload", mutate(func(tx *Tx) { tx.Payload = append([]byte(nil), tx.Payload...); tx.Payload[5] ^= 0x80 }), false, stdReject},
		{"non-canonical s (s+ℓ)", mutate(func(tx *Tx) { tx.Signature = append(tx.Signature[:32:32], addOrder(tx.Signature[32:])...) }), false, stdReject},
		{"s with its top bits set", mutate(func(tx *Tx) { tx.Signature[63] |= 0xe0 }), false, stdReject},
		{"short signature", mutate(func(tx *Tx) { tx.Signature = tx.Signature[:63] }), false, stdReject},
		{"short key", mutate(func(tx *Tx) { tx.Sender = tx.Sender[:31] }), false, stdReject},
		{"key not on the curve", mutate(func(tx *Tx) { tx.Sender = mustHex("0200000000000000000000000000000000000000000000000000000000000000") }), false, stdReject},
		{"R not on the curve", mutate(func(tx *Tx) {
			copy(tx.Signature, mustHex("0200000000000000000000000000000000000000000000000000000000000000"))
		}), false, stdReject},
		// R = r·B + T, T of order 8, s = r + k·a: holds only up to the cofactor.
		{"real key, R with a small-order component", forge(sampleTx(), pub, withTorsion.Bytes(), r, a), true, stdReject},
		// The identity key: R = r·B, s = r verifies any message, under both rules.
		{"identity key", forge(sampleTx(), mustHex(smallOrder[0].hex), rB.Bytes(), r, zero), true, stdAccept},
		{"identity key, non-canonical (y=p+1)", forge(sampleTx(), mustHex(smallOrder[2].hex), rB.Bytes(), r, zero), true, stdAccept},
		{"order-8 key, R = r·B, s = r", forge(sampleTx(), mustHex(smallOrder[12].hex), rB.Bytes(), r, zero), true, stdDepends},
		{"all-zero key and signature (order 4)", mutate(func(tx *Tx) { tx.Sender, tx.Signature = make([]byte, 32), make([]byte, 64) }), true, stdDepends},
		{"identity key, non-canonical identity R, s=0", mutate(func(tx *Tx) {
			tx.Sender, tx.Signature = mustHex(smallOrder[0].hex), append(mustHex(smallOrder[2].hex), make([]byte, 32)...)
		}), true, stdReject},
		{"non-canonical order-4 key and R, s=0", mutate(func(tx *Tx) {
			tx.Sender, tx.Signature = mustHex(smallOrder[9].hex), append(mustHex(smallOrder[8].hex), make([]byte, 32)...)
		}), true, stdDepends},
		{"non-canonical small-order key, real R, s bit flipped", mutate(func(tx *Tx) {
			forge(tx, mustHex(smallOrder[3].hex), rB.Bytes(), r, zero)
			tx.Signature[33] ^= 1
		}), false, stdReject},
	}
}

// TestSignatureRules: each vector gets ZIP-215's verdict from
// VerifySignature, crypto/ed25519 never accepts what ZIP-215 refuses
// (so switching kept every valid chain valid), and VerifySignatures
// agrees with VerifySignature on every vector alone, among valid ones
// at each position, and all together.
func TestSignatureRules(t *testing.T) {
	vectors := sigVectors(t)
	good := make([]*Tx, 9)
	for i := range good {
		good[i] = sampleTx()
		good[i].Nonce = uint64(100 + i)
		good[i].Sign(testKey(byte(10 + i)))
	}
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			if err := v.tx.VerifySignature(); (err == nil) != v.zip215 {
				t.Fatalf("VerifySignature: %v, want valid %v", err, v.zip215)
			}
			std := stdlib(v.tx)
			if std && !v.zip215 {
				t.Fatal("crypto/ed25519 accepts a signature ZIP-215 refuses")
			}
			if v.std != stdDepends && std != (v.std == stdAccept) {
				t.Fatalf("crypto/ed25519 says %v, want %v", std, v.std == stdAccept)
			}
			for _, at := range []int{0, 4, len(good)} {
				batch := append(append(append([]*Tx(nil), good[:at]...), v.tx), good[at:]...)
				errs := VerifySignatures(batch)
				if v.zip215 {
					if errs != nil {
						t.Fatalf("at %d of %d: %v", at, len(batch), errs)
					}
					continue
				}
				if len(errs) != len(batch) {
					t.Fatalf("at %d of %d: %d errors", at, len(batch), len(errs))
				}
				for i, err := range errs {
					if want := i != at; (err == nil) != want || (err != nil && err != ErrBadSignature) {
						t.Fatalf("at %d: transaction %d: %v, want valid %v", at, i, err, want)
					}
				}
			}
			errs := VerifySignatures([]*Tx{v.tx})
			if (errs == nil) != v.zip215 {
				t.Fatalf("alone: %v, want valid %v", errs, v.zip215)
			}
		})
	}
	t.Run("all together", func(t *testing.T) {
		batch := make([]*Tx, len(vectors))
		for i, v := range vectors {
			batch[i] = v.tx
		}
		errs := VerifySignatures(batch)
		if len(errs) != len(batch) {
			t.Fatalf("%d errors for %d transactions", len(errs), len(batch))
		}
		for i, v := range vectors {
			if (errs[i] == nil) != v.zip215 {
				t.Errorf("%s: %v, want valid %v", v.name, errs[i], v.zip215)
			}
		}
	})
	t.Run("empty", func(t *testing.T) {
		if errs := VerifySignatures(nil); errs != nil {
			t.Fatal(errs)
		}
	})
}

// TestZIP215SmallOrder: the 196 ZIP-215 vectors (a small-order key and R
// in any of their 14 encodings, s = 0) hold for any message, here a
// transaction's, one at a time and as one batch.
func TestZIP215SmallOrder(t *testing.T) {
	var batch []*Tx
	for _, k := range smallOrder {
		for _, r := range smallOrder {
			tx := sampleTx()
			tx.Sender, tx.Signature = mustHex(k.hex), append(mustHex(r.hex), make([]byte, 32)...)
			if err := tx.VerifySignature(); err != nil {
				t.Errorf("key %s, R %s: %v", k.name, r.name, err)
			}
			batch = append(batch, tx)
		}
	}
	if errs := VerifySignatures(batch); errs != nil {
		t.Fatalf("batch of %d: %v", len(batch), errs)
	}
	bad := sampleTx()
	bad.Signature[40] ^= 1
	errs := VerifySignatures(append(batch, bad))
	for i, err := range errs {
		if (err != nil) != (i == len(batch)) {
			t.Fatalf("with a bad one last: transaction %d: %v", i, err)
		}
	}
}

// FuzzVerifySignatures: for any sender and signature bytes, a batch
// holding them among valid transactions says what VerifySignature says
// of each.
func FuzzVerifySignatures(f *testing.F) {
	good := sampleTx()
	f.Add([]byte(good.Sender), good.Signature)
	for _, k := range smallOrder[:4] {
		for _, r := range smallOrder[10:] {
			f.Add(mustHex(k.hex), append(mustHex(r.hex), make([]byte, 32)...))
		}
	}
	f.Add(make([]byte, 32), make([]byte, 64))
	f.Fuzz(func(t *testing.T, sender, sig []byte) {
		tx := sampleTx()
		tx.Sender, tx.Signature = sender, sig
		single := tx.VerifySignature()
		errs := VerifySignatures([]*Tx{sampleTx(), tx, sampleBoundedTx()})
		if single == nil {
			if errs != nil {
				t.Fatalf("VerifySignature accepts, the batch says %v", errs)
			}
			return
		}
		if len(errs) != 3 || errs[0] != nil || errs[1] != single || errs[2] != nil {
			t.Fatalf("VerifySignature says %v, the batch %v", single, errs)
		}
	})
}
