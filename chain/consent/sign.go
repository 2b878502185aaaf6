package consent

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"time"

	trsa "github.com/cloudflare/circl/tss/rsa"
)

// Manifestation is what a signer's signature means (21 CFR 11.50): the
// printed name of the signer, the UTC date and time of signing, and the
// meaning (such as review, approval, responsibility or authorship). It is
// attested by the signer's ed25519 member key together with the consent
// message and the signer's RSA share (21 CFR 11.70: the signature cannot
// be moved to another record).
type Manifestation struct {
	PrintedName string
	Time        time.Time // stored as UTC with nanosecond precision
	Meaning     string    // must equal the consent's agreed meaning
}

func (m Manifestation) validate() error {
	if err := checkText(m.PrintedName, maxTextLen, false); err != nil {
		return fmt.Errorf("%w: printed name: %v", ErrInvalidInput, err)
	}
	if m.Time.IsZero() || m.Time.Year() < 1970 || m.Time.Year() > 2200 {
		return fmt.Errorf("%w: signing time %v out of range 1970..2200", ErrInvalidInput, m.Time)
	}
	if err := checkText(m.Meaning, maxTextLen, false); err != nil {
		return fmt.Errorf("%w: meaning: %v", ErrInvalidInput, err)
	}
	return nil
}

// SignedShare is one party's contribution to a consent: its RSA signature
// share over the consent message and its attested manifestation. Its
// encoding (MarshalBinary) is the file a party hands to whoever combines.
type SignedShare struct {
	GroupID       [32]byte
	ChainID       string
	Action        Action
	Party         int // 1-based party index
	Manifestation Manifestation
	Share         []byte // RSA signature share x_i, big-endian, modulus size
	Attestation   []byte // ed25519 signature by the party's member key
}

// Request returns the request the share is for.
func (s *SignedShare) Request() Request {
	return Request{ChainID: s.ChainID, Action: s.Action, Meaning: s.Manifestation.Meaning}
}

// pssOptions are the options to verify a group's signature with crypto/rsa.
var pssOptions = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}

// PSSOptions returns the crypto/rsa options that verify a consent
// signature: rsa.VerifyPSS(group.PublicKey, crypto.SHA256, digest, sig,
// consent.PSSOptions()), where digest is SHA-256 of the consent message.
func PSSOptions() *rsa.PSSOptions { o := *pssOptions; return &o }

// padded returns the PSS-encoded consent message digest that every share
// signs. The 32-byte salt is derived from the digest so that all parties
// pad identically (CIRCL signs the padded value, which must be the same for
// every share); see RATIONALE.md.
func padded(pub *rsa.PublicKey, msg []byte) ([]byte, error) {
	digest := sha256.Sum256(msg)
	salt := sha256.Sum256(append([]byte(tagPSSSalt), digest[:]...))
	padder := &trsa.PSSPadder{Rand: bytes.NewReader(salt[:]), Opts: pssOptions}
	return trsa.PadHash(padder, crypto.SHA256, pub, msg)
}

// attestMessage is what a party's member key signs:
//
//	tag "trialchain/consent/attestation/v1" | consent message digest (32) |
//	party u16 | printed name | time (i64 Unix ns) | meaning | RSA share
func attestMessage(digest [32]byte, party int, m Manifestation, share []byte) []byte {
	var e encoder
	e.str(tagAttest)
	e.fixed(digest[:])
	e.u16(uint16(party))
	e.str(m.PrintedName)
	e.i64(m.Time.UnixNano())
	e.str(m.Meaning)
	e.bytes(share)
	return e.buf
}

// SignShare makes party's signed share for a consent: the RSA signature
// share over the consent message of (g, chainID, action, m.Meaning) and the
// ed25519 attestation of (message digest, party, m, share) by memberKey.
//
// rand blinds the RSA exponentiation against timing attacks; pass
// crypto/rand.Reader. g must be the group from the chain (CIRCL: a key
// share used with another modulus can leak); SignShare checks that the
// share belongs to g.
//
// # Errors
//
// ErrInvalidGroup, ErrInvalidInput for a bad action, chain id or
// manifestation, ErrWrongGroup if ks is for another group,
// ErrWrongMemberKey if memberKey is not the party's key.
func SignShare(rand io.Reader, g *Group, ks *KeyShare, memberKey ed25519.PrivateKey, chainID string, action Action, m Manifestation) (*SignedShare, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	m.Time = time.Unix(0, m.Time.UnixNano()).UTC()
	if err := m.validate(); err != nil {
		return nil, err
	}
	req := Request{ChainID: chainID, Action: action, Meaning: m.Meaning}
	if err := req.validate(); err != nil {
		return nil, err
	}
	id := g.ID()
	if ks == nil || ks.groupID != id {
		return nil, fmt.Errorf("%w: key share is not for group %x", ErrWrongGroup, id[:8])
	}
	p := g.party(ks.party)
	if p == nil || ks.ks.Index != uint(ks.party) {
		return nil, fmt.Errorf("%w: key share for party %d", ErrUnknownParty, ks.party)
	}
	if len(memberKey) != ed25519.PrivateKeySize || !p.MemberKey.Equal(memberKey.Public()) {
		return nil, fmt.Errorf("%w: party %d (%s)", ErrWrongMemberKey, p.Index, p.Name)
	}
	msg := req.Message(id)
	x, err := padded(g.PublicKey, msg)
	if err != nil {
		return nil, fmt.Errorf("consent: pad message: %w", err)
	}
	ss, err := ks.ks.Sign(rand, g.PublicKey, x, true)
	if err != nil {
		return nil, fmt.Errorf("consent: sign share: %w", err)
	}
	share, err := shareBytes(&ss, g.PublicKey.Size())
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(msg)
	return &SignedShare{
		GroupID:       id,
		ChainID:       chainID,
		Action:        Action{Kind: action.Kind, Data: append([]byte(nil), action.Data...)},
		Party:         p.Index,
		Manifestation: m,
		Share:         share,
		Attestation:   ed25519.Sign(memberKey, attestMessage(digest, p.Index, m, share)),
	}, nil
}

// shareBytes returns x_i of a CIRCL signature share as size big-endian bytes.
func shareBytes(ss *trsa.SignShare, size int) ([]byte, error) {
	b, err := ss.MarshalBinary() // players u16 | threshold u16 | index u16 | len u16 | x_i
	if err != nil {
		return nil, fmt.Errorf("consent: encode signature share: %w", err)
	}
	if len(b) < 8 || len(b)-8 > size {
		return nil, fmt.Errorf("consent: encode signature share: %d bytes for a %d-byte modulus", len(b), size)
	}
	out := make([]byte, size)
	copy(out[size-(len(b)-8):], b[8:])
	return out, nil
}

// circlShare rebuilds a CIRCL signature share for party from its x_i.
func circlShare(g *Group, party int, share []byte) (trsa.SignShare, error) {
	x := new(big.Int).SetBytes(share)
	xb := x.Bytes()
	if len(xb) == 0 {
		xb = []byte{0}
	}
	b := make([]byte, 8, 8+len(xb))
	binary.BigEndian.PutUint16(b[0:], uint16(len(g.Parties)))
	binary.BigEndian.PutUint16(b[2:], uint16(g.Threshold))
	binary.BigEndian.PutUint16(b[4:], uint16(party))
	binary.BigEndian.PutUint16(b[6:], uint16(len(xb)))
	var ss trsa.SignShare
	err := ss.UnmarshalBinary(append(b, xb...))
	return ss, err
}

// checkShareRange refuses a share that is not an element 1 < x_i < N-1 of
// the right length (0, 1 and N-1 are never honest shares of a PSS message).
func checkShareRange(g *Group, share []byte) error {
	if len(share) != g.PublicKey.Size() {
		return fmt.Errorf("%w: share is %d bytes, want %d", ErrCorruptShare, len(share), g.PublicKey.Size())
	}
	x := new(big.Int).SetBytes(share)
	nm1 := new(big.Int).Sub(g.PublicKey.N, big.NewInt(1))
	if x.Cmp(big.NewInt(1)) <= 0 || x.Cmp(nm1) >= 0 {
		return fmt.Errorf("%w: share value out of range", ErrCorruptShare)
	}
	return nil
}

// verifyAttestation checks the party's ed25519 attestation.
func verifyAttestation(p *Party, digest [32]byte, m Manifestation, share, sig []byte) error {
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(p.MemberKey, attestMessage(digest, p.Index, m, share), sig) {
		return ErrBadAttestation
	}
	return nil
}

// MarshalBinary returns the canonical encoding of s (the signed-share file):
//
//	tag "trialchain/consent/signed-share/v1" | group id (32) | chain id |
//	action kind | action data | meaning | party u16 | printed name |
//	time (i64 Unix ns) | share | attestation (64)
func (s *SignedShare) MarshalBinary() ([]byte, error) {
	if err := s.Request().validate(); err != nil {
		return nil, err
	}
	if err := s.Manifestation.validate(); err != nil {
		return nil, err
	}
	if s.Party < 1 || s.Party > MaxParties || len(s.Share) < minModBytes || len(s.Share) > maxModBytes || len(s.Attestation) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: signed share: fields out of range", ErrMalformed)
	}
	var e encoder
	e.str(tagSignedShare)
	e.fixed(s.GroupID[:])
	s.Request().encode(&e)
	e.u16(uint16(s.Party))
	e.str(s.Manifestation.PrintedName)
	e.i64(s.Manifestation.Time.UnixNano())
	e.bytes(s.Share)
	e.fixed(s.Attestation)
	return e.buf, nil
}

// ParseSignedShare decodes a signed-share file. It checks the encoding
// only; Combine checks the share against the group.
//
// # Errors
//
// ErrMalformed.
func ParseSignedShare(b []byte) (*SignedShare, error) {
	d := decoder{b: b, what: "signed share"}
	d.tag(tagSignedShare)
	s := &SignedShare{}
	copy(s.GroupID[:], d.fixed("group id", 32))
	req := decodeRequest(&d)
	s.ChainID, s.Action, s.Manifestation.Meaning = req.ChainID, req.Action, req.Meaning
	s.Party = int(d.u16("party"))
	if d.err == nil && (s.Party < 1 || s.Party > MaxParties) {
		d.fail("party %d out of range", s.Party)
	}
	s.Manifestation.PrintedName = d.str("printed name", maxTextLen, func(s string) error { return checkText(s, maxTextLen, false) })
	s.Manifestation.Time = decodeTime(&d)
	s.Share = d.bytes("share", minModBytes, maxModBytes)
	s.Attestation = d.fixed("attestation", ed25519.SignatureSize)
	if err := d.finish(); err != nil {
		return nil, err
	}
	return s, nil
}

func decodeTime(d *decoder) time.Time {
	ns := d.i64("time")
	if d.err != nil {
		return time.Time{}
	}
	t := time.Unix(0, ns).UTC()
	if err := (Manifestation{PrintedName: "x", Meaning: "x", Time: t}).validate(); err != nil {
		d.fail("time: %v", err)
	}
	return t
}
