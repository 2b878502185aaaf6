package trials

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"unicode/utf8"

	"github.com/trialchain/trialchain/trials/model"
)

// A genome dataset's location never goes on chain in the clear. The
// custodian registers a commitment to it,
//
//	commitment = SHA-256("trialchain/genome-location/v1\x00" ‖ salt 32 ‖ location)
//
// with a secret salt (LocationSalt derives it from the custodian's member
// key and the dataset id, so the custodian need not store it; a plain hash
// of a guessable location such as "blob:wgs-1" would hide nothing). Once a
// request is granted, the custodian releases salt ‖ location sealed with
// HPKE to the researcher's member key (chain/consent.SealToMember, bound to
// LocationSealInfo), and the researcher opens it locally and checks it
// against the commitment (OpenedLocation). The chain, the other members and
// every state proof see only the commitment and the sealed bytes.

const (
	locationCommitTag = "trialchain/genome-location/v1\x00"
	locationSaltTag   = "trialchain/genome-location-salt/v1\x00"
	locationSealTag   = "trialchain/genome-location-seal/v1\x00"
)

// LocationSalt is the commitment salt of dataset's location, derived from
// the custodian's member key: HMAC-SHA256(seed, tag ‖ dataset). Only the
// key's holder can compute it, and it is the same at registration and at
// every release.
func LocationSalt(custodian ed25519.PrivateKey, dataset string) [32]byte {
	m := hmac.New(sha256.New, custodian.Seed())
	m.Write([]byte(locationSaltTag))
	m.Write([]byte(dataset))
	var s [32]byte
	copy(s[:], m.Sum(nil))
	return s
}

// LocationCommitment is the hex commitment to location under salt.
func LocationCommitment(salt [32]byte, location string) string {
	h := sha256.New()
	h.Write([]byte(locationCommitTag))
	h.Write(salt[:])
	h.Write([]byte(location))
	return hex.EncodeToString(h.Sum(nil))
}

// LocationSealInfo is the HPKE context of a released location: the
// contract, the grant and the dataset, so a sealed location cannot be
// replayed under another grant.
func LocationSealInfo(contract [32]byte, grant, dataset string) []byte {
	b := append([]byte(locationSealTag), contract[:]...)
	b = append(b, grant...)
	b = append(b, 0)
	return append(b, dataset...)
}

// LocationPlaintext is what is sealed to the researcher: salt ‖ location.
func LocationPlaintext(salt [32]byte, location string) []byte {
	return append(salt[:], location...)
}

// OpenedLocation checks an opened plaintext (salt ‖ location) against the
// dataset's commitment and returns the location.
func OpenedLocation(pt []byte, commitment string) (string, error) {
	if len(pt) <= 32 || len(pt) > 32+model.MaxName || !utf8.Valid(pt[32:]) {
		return "", fmt.Errorf("trials: released location: %d bytes, not a salt and a location", len(pt))
	}
	var salt [32]byte
	copy(salt[:], pt[:32])
	loc := string(pt[32:])
	if subtle.ConstantTimeCompare([]byte(LocationCommitment(salt, loc)), []byte(commitment)) != 1 {
		return "", fmt.Errorf("trials: the released location does not match the dataset's commitment %s…: the custodian released another location", shortHex(commitment))
	}
	return loc, nil
}

func shortHex(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
