package consent

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"time"

	trsa "github.com/cloudflare/circl/tss/rsa"
)

// Consent is a combined consent: the threshold signature over the consent
// message and, per signer, the attested share that went into it. Its
// canonical encoding (MarshalBinary) is what goes on chain.
type Consent struct {
	GroupID   [32]byte
	Request   Request
	Signature []byte     // RSASSA-PSS-SHA256 over Request.Message(GroupID)
	Signers   []Attested // ascending party index, at least the threshold
}

// Attested is one signer's part of a Consent. The meaning is the
// Request's and is not repeated.
type Attested struct {
	Party       int
	PrintedName string
	Time        time.Time
	Share       []byte // RSA signature share
	Attestation []byte // ed25519, see SignedShare
}

// Signer is a verified signer of a consent, as Verify reports it.
type Signer struct {
	Party         int    // 1-based party index
	Name          string // party name in the group
	Role          string
	MemberKey     ed25519.PublicKey
	Manifestation Manifestation
}

// ID returns the consent id: SHA-256 of the consent message (see
// Request.ID). The chain records it to refuse a second use.
func (c *Consent) ID() [32]byte { return c.Request.ID(c.GroupID) }

// maxSubsetTries bounds the subset search of Combine.
const maxSubsetTries = 4096

// Combine checks the signed shares of a consent and combines them into one
// threshold signature.
//
// Each share must be for group g and for req (chain id, action and
// meaning), from a distinct party of g, with a valid ed25519 attestation
// by that party's member key. All valid shares are combined (any
// threshold of them determine the same signature) and the result is
// verified with crypto/rsa. The Consent lists every signer.
//
// Combine is strict: it refuses any bad input share rather than dropping
// it silently, because the consent record would then miss a party who
// believes they signed. Remove the share named in the error and call again.
//
// # Errors
//
//   - ErrInvalidGroup, ErrInvalidInput for a bad g or req;
//   - one *ShareError per refused share, joined (errors.Join), wrapping
//     ErrWrongGroup, ErrWrongChain, ErrWrongAction, ErrWrongMeaning,
//     ErrUnknownParty, ErrDuplicateParty, ErrBadAttestation or
//     ErrCorruptShare (value out of range);
//   - ErrTooFewShares if fewer than the threshold are left;
//   - *BadSharesError (wrapping ErrCorruptShare) if the shares do not combine:
//     it names the bad shares found by trying subsets.
func Combine(g *Group, req Request, shares ...*SignedShare) (*Consent, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	id := g.ID()
	msg := req.Message(id)
	digest := sha256.Sum256(msg)
	x, err := padded(g.PublicKey, msg)
	if err != nil {
		return nil, fmt.Errorf("consent: pad message: %w", err)
	}
	var errs []error
	seen := make(map[int]bool)
	var valid []*SignedShare
	for _, s := range shares {
		if s == nil {
			errs = append(errs, fmt.Errorf("%w: nil share", ErrMalformed))
			continue
		}
		if err := checkShare(g, id, req, digest, s); err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[s.Party] {
			errs = append(errs, shareErr(g, s.Party, ErrDuplicateParty))
			continue
		}
		seen[s.Party] = true
		valid = append(valid, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(valid) < g.Threshold {
		return nil, fmt.Errorf("%w: have %d, need %d of %d", ErrTooFewShares, len(valid), g.Threshold, len(g.Parties))
	}
	slices.SortFunc(valid, func(a, b *SignedShare) int { return a.Party - b.Party })
	circl := make([]trsa.SignShare, len(valid))
	for i, s := range valid {
		if circl[i], err = circlShare(g, s.Party, s.Share); err != nil {
			return nil, shareErr(g, s.Party, fmt.Errorf("%w: %v", ErrCorruptShare, err))
		}
	}
	sig, ok := combine(g, circl, x, digest)
	if !ok {
		return nil, isolateBad(g, circl, x, digest)
	}
	c := &Consent{GroupID: id, Request: req, Signature: sig}
	for _, s := range valid {
		c.Signers = append(c.Signers, Attested{
			Party:       s.Party,
			PrintedName: s.Manifestation.PrintedName,
			Time:        s.Manifestation.Time,
			Share:       append([]byte(nil), s.Share...),
			Attestation: append([]byte(nil), s.Attestation...),
		})
	}
	return c, nil
}

func shareErr(g *Group, party int, err error) error {
	e := &ShareError{Party: party, Err: err}
	if p := g.party(party); p != nil {
		e.Name = p.Name
	}
	return e
}

// checkShare checks one signed share against the group and request.
func checkShare(g *Group, id [32]byte, req Request, digest [32]byte, s *SignedShare) error {
	p := g.party(s.Party)
	switch {
	case s.GroupID != id:
		return shareErr(g, s.Party, fmt.Errorf("%w: share group %x, want %x", ErrWrongGroup, s.GroupID[:8], id[:8]))
	case p == nil:
		return shareErr(g, s.Party, ErrUnknownParty)
	case s.ChainID != req.ChainID:
		return shareErr(g, s.Party, fmt.Errorf("%w: share chain %q, want %q", ErrWrongChain, s.ChainID, req.ChainID))
	case !s.Action.Equal(req.Action):
		return shareErr(g, s.Party, fmt.Errorf("%w: share action %v, want %v", ErrWrongAction, s.Action, req.Action))
	case s.Manifestation.Meaning != req.Meaning:
		return shareErr(g, s.Party, fmt.Errorf("%w: share meaning %q, want %q", ErrWrongMeaning, s.Manifestation.Meaning, req.Meaning))
	}
	if err := s.Manifestation.validate(); err != nil {
		return shareErr(g, s.Party, err)
	}
	if err := checkShareRange(g, s.Share); err != nil {
		return shareErr(g, s.Party, err)
	}
	if err := verifyAttestation(p, digest, s.Manifestation, s.Share, s.Attestation); err != nil {
		return shareErr(g, s.Party, err)
	}
	return nil
}

// combine combines CIRCL shares and verifies the result with crypto/rsa.
func combine(g *Group, shares []trsa.SignShare, x []byte, digest [32]byte) ([]byte, bool) {
	sig, err := trsa.CombineSignShares(g.PublicKey, uint(len(g.Parties)), uint(g.Threshold), shares, x)
	if err != nil {
		return nil, false
	}
	if rsa.VerifyPSS(g.PublicKey, crypto.SHA256, digest[:], sig, pssOptions) != nil {
		return nil, false
	}
	return sig, true
}

// isolateBad finds which shares spoil the combination. It looks for a
// threshold-sized subset that combines (lexicographic order, at most
// maxSubsetTries), then tests every other share against threshold-1
// members of that good subset. Every share outside a good subset that
// fails is bad. Without a good subset (too many bad shares, or exactly the
// threshold given) all shares are suspects.
func isolateBad(g *Group, shares []trsa.SignShare, x []byte, digest [32]byte) error {
	t, n := g.Threshold, len(shares)
	all := func() error {
		e := &BadSharesError{}
		for _, s := range shares {
			e.Parties = append(e.Parties, int(s.Index))
			e.Names = append(e.Names, g.party(int(s.Index)).Name)
		}
		return e
	}
	if n == t {
		return all()
	}
	idx := make([]int, t) // current subset, ascending indexes into shares
	for i := range idx {
		idx[i] = i
	}
	var good []int
	for try := 0; try < maxSubsetTries; try++ {
		sub := make([]trsa.SignShare, t)
		for i, j := range idx {
			sub[i] = shares[j]
		}
		if _, ok := combine(g, sub, x, digest); ok {
			good = slices.Clone(idx)
			break
		}
		// next combination
		i := t - 1
		for i >= 0 && idx[i] == n-t+i {
			i--
		}
		if i < 0 {
			break
		}
		idx[i]++
		for j := i + 1; j < t; j++ {
			idx[j] = idx[j-1] + 1
		}
	}
	if good == nil {
		return all()
	}
	e := &BadSharesError{Isolated: true}
	base := make([]trsa.SignShare, 0, t)
	for _, j := range good[:t-1] {
		base = append(base, shares[j])
	}
	for j := range shares {
		if slices.Contains(good, j) {
			continue
		}
		if _, ok := combine(g, append(slices.Clone(base), shares[j]), x, digest); !ok {
			e.Parties = append(e.Parties, int(shares[j].Index))
			e.Names = append(e.Names, g.party(int(shares[j].Index)).Name)
		}
	}
	if len(e.Parties) == 0 {
		// Every subset combines but all together do not: cannot happen
		// with honest arithmetic; report all as suspects.
		return all()
	}
	return e
}

// Verify checks a consent against a group, a chain id and the action it
// must authorise, and returns the verified signers in party order. It is a
// pure function: no clock, no I/O; a regulator can run it offline and the
// VM host function consent_verify calls it through VerifyEncoded.
//
// It checks that the consent is for g, chainID and action; that it has at
// least the threshold of signers, each a distinct party of g with a valid
// ed25519 attestation; that the signature is a valid RSASSA-PSS-SHA256
// signature of the consent message under g's public key (plain crypto/rsa);
// and that the signers' shares combine into exactly that signature, so
// every listed signer signed this consent. (A relay can drop signers down
// to the threshold — any t shares give the same signature — but cannot add,
// swap or alter one.)
//
// The caller checks the meaning (c.Request.Meaning) it requires and marks
// c.ID() used.
//
// # Errors
//
// ErrInvalidGroup, ErrWrongGroup, ErrWrongChain, ErrWrongAction,
// ErrTooFewShares, ErrUnknownParty, ErrDuplicateParty, ErrBadAttestation
// (in a *ShareError), ErrBadSignature, ErrCorruptShare, ErrInvalidInput.
func Verify(g *Group, chainID string, action Action, c *Consent) ([]Signer, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("%w: nil consent", ErrMalformed)
	}
	id := g.ID()
	switch {
	case c.GroupID != id:
		return nil, fmt.Errorf("%w: consent group %x, want %x", ErrWrongGroup, c.GroupID[:8], id[:8])
	case c.Request.ChainID != chainID:
		return nil, fmt.Errorf("%w: consent chain %q, want %q", ErrWrongChain, c.Request.ChainID, chainID)
	case !c.Request.Action.Equal(action):
		return nil, fmt.Errorf("%w: consent action %v, want %v", ErrWrongAction, c.Request.Action, action)
	}
	if err := c.Request.validate(); err != nil {
		return nil, err
	}
	if len(c.Signers) < g.Threshold {
		return nil, fmt.Errorf("%w: %d signers, need %d of %d", ErrTooFewShares, len(c.Signers), g.Threshold, len(g.Parties))
	}
	msg := c.Request.Message(id)
	digest := sha256.Sum256(msg)
	if len(c.Signature) != g.PublicKey.Size() || rsa.VerifyPSS(g.PublicKey, crypto.SHA256, digest[:], c.Signature, pssOptions) != nil {
		return nil, ErrBadSignature
	}
	signers := make([]Signer, 0, len(c.Signers))
	circl := make([]trsa.SignShare, 0, len(c.Signers))
	last := 0
	for _, a := range c.Signers {
		p := g.party(a.Party)
		if p == nil {
			return nil, shareErr(g, a.Party, ErrUnknownParty)
		}
		if a.Party <= last {
			return nil, shareErr(g, a.Party, fmt.Errorf("%w: signers must be in ascending party order", ErrDuplicateParty))
		}
		last = a.Party
		m := Manifestation{PrintedName: a.PrintedName, Time: a.Time, Meaning: c.Request.Meaning}
		if err := m.validate(); err != nil {
			return nil, shareErr(g, a.Party, err)
		}
		if err := checkShareRange(g, a.Share); err != nil {
			return nil, shareErr(g, a.Party, err)
		}
		if err := verifyAttestation(p, digest, m, a.Share, a.Attestation); err != nil {
			return nil, shareErr(g, a.Party, err)
		}
		ss, err := circlShare(g, a.Party, a.Share)
		if err != nil {
			return nil, shareErr(g, a.Party, fmt.Errorf("%w: %v", ErrCorruptShare, err))
		}
		circl = append(circl, ss)
		signers = append(signers, Signer{Party: p.Index, Name: p.Name, Role: p.Role, MemberKey: p.MemberKey, Manifestation: m})
	}
	x, err := padded(g.PublicKey, msg)
	if err != nil {
		return nil, fmt.Errorf("consent: pad message: %w", err)
	}
	sig, ok := combine(g, circl, x, digest)
	if !ok || !bytes.Equal(sig, c.Signature) {
		return nil, fmt.Errorf("%w: the signers' shares do not combine into the consent signature", ErrCorruptShare)
	}
	return signers, nil
}

// VerifyEncoded is Verify on encodings: a group's canonical encoding (as
// stored on chain), and a consent's canonical encoding. It is what the VM
// host function consent_verify calls. It returns the decoded consent (for
// c.ID() and c.Request.Meaning) and the verified signers.
//
// # Errors
//
// ErrMalformed for an undecodable input, otherwise as Verify.
func VerifyEncoded(groupBytes []byte, chainID string, action Action, consentBytes []byte) (*Consent, []Signer, error) {
	g, err := ParseGroup(groupBytes)
	if err != nil {
		return nil, nil, err
	}
	c, err := ParseConsent(consentBytes)
	if err != nil {
		return nil, nil, err
	}
	signers, err := Verify(g, chainID, action, c)
	if err != nil {
		return nil, nil, err
	}
	return c, signers, nil
}

// MarshalBinary returns the canonical encoding of c:
//
//	tag "trialchain/consent/consent/v1" | group id (32) | chain id |
//	action kind | action data | meaning | signature | signer count u16 |
//	per signer (ascending party): party u16 | printed name |
//	time (i64 Unix ns) | share | attestation (64)
func (c *Consent) MarshalBinary() ([]byte, error) {
	if err := c.Request.validate(); err != nil {
		return nil, err
	}
	if len(c.Signature) < minModBytes || len(c.Signature) > maxModBytes || len(c.Signers) == 0 || len(c.Signers) > MaxParties {
		return nil, fmt.Errorf("%w: consent: fields out of range", ErrMalformed)
	}
	var e encoder
	e.str(tagConsent)
	e.fixed(c.GroupID[:])
	c.Request.encode(&e)
	e.bytes(c.Signature)
	e.u16(uint16(len(c.Signers)))
	last := 0
	for _, a := range c.Signers {
		m := Manifestation{PrintedName: a.PrintedName, Time: a.Time, Meaning: c.Request.Meaning}
		if a.Party <= last || a.Party > MaxParties || m.validate() != nil ||
			len(a.Share) < minModBytes || len(a.Share) > maxModBytes || len(a.Attestation) != ed25519.SignatureSize {
			return nil, fmt.Errorf("%w: consent: signer %d out of range or order", ErrMalformed, a.Party)
		}
		last = a.Party
		e.u16(uint16(a.Party))
		e.str(a.PrintedName)
		e.i64(a.Time.UnixNano())
		e.bytes(a.Share)
		e.fixed(a.Attestation)
	}
	return e.buf, nil
}

// ParseConsent decodes the canonical encoding of a consent. It checks the
// encoding only; Verify checks the consent.
//
// # Errors
//
// ErrMalformed.
func ParseConsent(b []byte) (*Consent, error) {
	d := decoder{b: b, what: "consent"}
	d.tag(tagConsent)
	c := &Consent{}
	copy(c.GroupID[:], d.fixed("group id", 32))
	c.Request = decodeRequest(&d)
	c.Signature = d.bytes("signature", minModBytes, maxModBytes)
	n := int(d.u16("signer count"))
	if d.err == nil && (n < 1 || n > MaxParties) {
		d.fail("%d signers, want 1..%d", n, MaxParties)
	}
	last := 0
	for i := 0; d.err == nil && i < n; i++ {
		var a Attested
		a.Party = int(d.u16("party"))
		if d.err == nil && (a.Party <= last || a.Party > MaxParties) {
			d.fail("signer party %d not ascending in 1..%d", a.Party, MaxParties)
		}
		last = a.Party
		a.PrintedName = d.str("printed name", maxTextLen, func(s string) error { return checkText(s, maxTextLen, false) })
		a.Time = decodeTime(&d)
		a.Share = d.bytes("share", minModBytes, maxModBytes)
		a.Attestation = d.fixed("attestation", ed25519.SignatureSize)
		c.Signers = append(c.Signers, a)
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return c, nil
}
