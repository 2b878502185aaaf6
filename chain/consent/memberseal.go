package consent

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/hpke"
)

// Sealing a small secret to a member: HPKE (RFC 9180, base mode, the same
// suite as key shares) to the X25519 form of the member's ed25519 key.
// Only the holder of that member key can open it; the context (info) is
// bound, so a sealed value cannot be replayed in another context. The
// genome-access flow seals a dataset's location to the researcher a grant
// was issued to.

// ErrMemberSeal: a value sealed to a member cannot be opened (another
// member's key, another context, or altered bytes).
var ErrMemberSeal = errors.New("consent: cannot open the value sealed to this member")

// MaxMemberSealed bounds a sealed value (enc and ciphertext together).
const MaxMemberSealed = 4096

// memberSealVersion is the first byte of a sealed value.
const memberSealVersion = 1

// SealToMember encrypts pt to the holder of the ed25519 member key to,
// with HPKE bound to info. The result is version 1 ‖ enc 32 ‖ ciphertext.
//
// # Errors
//
// ErrInvalidInput if to is not a usable ed25519 key (not on the curve, or
// of low order) or pt is too large.
func SealToMember(rand io.Reader, to ed25519.PublicKey, info, pt []byte) ([]byte, error) {
	if len(pt) > MaxMemberSealed-1-32-16 {
		return nil, fmt.Errorf("%w: %d bytes to seal, at most %d", ErrInvalidInput, len(pt), MaxMemberSealed-1-32-16)
	}
	u, err := x25519Public(to)
	if err != nil {
		return nil, fmt.Errorf("%w: member key: %v", ErrInvalidInput, err)
	}
	pk, err := hpke.KEM_X25519_HKDF_SHA256.Scheme().UnmarshalBinaryPublicKey(u)
	if err != nil {
		return nil, fmt.Errorf("%w: member key: %v", ErrInvalidInput, err)
	}
	sender, err := hpkeSuite.NewSender(pk, info)
	if err != nil {
		return nil, fmt.Errorf("consent: hpke sender: %w", err)
	}
	enc, sealer, err := sender.Setup(rand)
	if err != nil { // e.g. a low-order point: the key is not usable
		return nil, fmt.Errorf("%w: seal to member: %v", ErrInvalidInput, err)
	}
	ct, err := sealer.Seal(pt, nil)
	if err != nil {
		return nil, fmt.Errorf("consent: seal to member: %w", err)
	}
	out := append([]byte{memberSealVersion}, enc...)
	return append(out, ct...), nil
}

// OpenAsMember decrypts a value SealToMember sealed to key's public key
// under the same info.
//
// # Errors
//
// ErrMalformed if sealed is not a sealed value; ErrMemberSeal if it does
// not open with key and info.
func OpenAsMember(key ed25519.PrivateKey, info, sealed []byte) ([]byte, error) {
	if len(sealed) < 1+32+16 || len(sealed) > MaxMemberSealed || sealed[0] != memberSealVersion {
		return nil, fmt.Errorf("%w: sealed value of %d bytes (want version %d, 32-byte enc, ciphertext; at most %d)", ErrMalformed, len(sealed), memberSealVersion, MaxMemberSealed)
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: not an ed25519 private key", ErrInvalidInput)
	}
	skBytes := x25519Private(key)
	defer clear(skBytes)
	sk, err := hpke.KEM_X25519_HKDF_SHA256.Scheme().UnmarshalBinaryPrivateKey(skBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMemberSeal, err)
	}
	recv, err := hpkeSuite.NewReceiver(sk, info)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMemberSeal, err)
	}
	opener, err := recv.Setup(sealed[1:33])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMemberSeal, err)
	}
	pt, err := opener.Open(sealed[33:], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMemberSeal, err)
	}
	return pt, nil
}
