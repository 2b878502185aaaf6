package consent

import (
	"crypto/ed25519"
	"crypto/sha512"
	"errors"

	"github.com/cloudflare/circl/math/fp25519"
)

// Member keys are ed25519. HPKE needs X25519 keys, so the ceremony uses the
// birationally equivalent Montgomery form of each member's key (as
// libsodium's crypto_sign_ed25519_pk_to_curve25519 does). Field arithmetic
// is CIRCL's math/fp25519; nothing here is hand-rolled beyond the formulae.

// edwardsD is the Edwards curve constant d = -121665/121666 mod p, little-endian.
var edwardsD = fp25519.Elt{
	0xa3, 0x78, 0x59, 0x13, 0xca, 0x4d, 0xeb, 0x75, 0xab, 0xd8, 0x41, 0x41, 0x4d, 0x0a, 0x70, 0x00,
	0x98, 0xe8, 0x79, 0x77, 0x79, 0x40, 0xc7, 0x8c, 0x73, 0xfe, 0x6f, 0x2b, 0xee, 0x6c, 0x03, 0x52,
}

var errBadMemberKey = errors.New("not a valid ed25519 public key")

// x25519Public converts an ed25519 public key to an X25519 public key:
// u = (1+y)/(1-y). It refuses encodings that are not canonical, not on the
// curve, or the points (0,±1).
func x25519Public(pub ed25519.PublicKey) ([]byte, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, errBadMemberKey
	}
	var y fp25519.Elt
	copy(y[:], pub)
	y[31] &= 0x7f
	reduced := y
	fp25519.Modp(&reduced)
	if reduced != y {
		return nil, errBadMemberKey // y >= p: not canonical
	}
	var one, y2, num, den, x fp25519.Elt
	fp25519.SetOne(&one)
	fp25519.Sqr(&y2, &y)
	fp25519.Sub(&num, &y2, &one)          // y² - 1
	fp25519.Mul(&den, &y2, &edwardsD)     // d·y²
	fp25519.Add(&den, &den, &one)         // d·y² + 1
	if !fp25519.InvSqrt(&x, &num, &den) { // x² = (y²-1)/(d·y²+1)
		return nil, errBadMemberKey
	}
	if fp25519.IsZero(&num) {
		// y = ±1: the identity or the point of order 2 (and a set sign
		// bit with x = 0 is not canonical anyway).
		return nil, errBadMemberKey
	}
	var u fp25519.Elt
	fp25519.Add(&num, &one, &y) // 1 + y
	fp25519.Sub(&den, &one, &y) // 1 - y
	fp25519.Inv(&den, &den)
	fp25519.Mul(&u, &num, &den)
	fp25519.Modp(&u)
	return u[:], nil
}

// x25519Private converts an ed25519 private key to the X25519 private
// scalar matching x25519Public: the clamped first half of SHA-512(seed).
// The caller must wipe the result.
func x25519Private(priv ed25519.PrivateKey) []byte {
	h := sha512.Sum512(priv.Seed())
	s := make([]byte, 32)
	copy(s, h[:32])
	clear(h[:])
	s[0] &= 248
	s[31] &= 127
	s[31] |= 64
	return s
}
