package consent

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
)

// Scheme names the signature scheme of a group. Version 1 has one:
// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt derived from the
// consent message (see RATIONALE.md), verifiable with crypto/rsa.VerifyPSS
// and PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}.
const Scheme = "RSASSA-PSS-SHA256"

const schemeID uint16 = 1

// publicExponent is the only RSA public exponent accepted (CIRCL's
// GenerateKey uses it).
const publicExponent = 65537

// Group is a consent group: who may consent, how many must, and the RSA
// public key that checks their combined signature. It is public; its
// canonical encoding (MarshalBinary) is what the chain stores and its
// SHA-256 (ID) is the group id.
type Group struct {
	Name      string
	Threshold int     // signers needed, 1..len(Parties)
	Parties   []Party // Parties[i].Index == i+1
	PublicKey *rsa.PublicKey
}

// Party is one member of a group.
type Party struct {
	Index     int               // 1-based; also the CIRCL key-share index
	Name      string            // identifier, e.g. "ethics-committee"
	Role      string            // free text, e.g. "ethics committee"; may be empty
	MemberKey ed25519.PublicKey // the party's member key
}

// Validate checks g is well formed.
//
// # Errors
//
// ErrInvalidGroup, wrapped with the reason.
func (g *Group) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidGroup, fmt.Sprintf(format, args...))
	}
	if g == nil {
		return bad("nil group")
	}
	if err := checkName(g.Name); err != nil {
		return bad("group name: %v", err)
	}
	n := len(g.Parties)
	if n < 2 || n > MaxParties {
		return bad("%d parties, want 2..%d", n, MaxParties)
	}
	if g.Threshold < 1 || g.Threshold > n {
		return bad("threshold %d, want 1..%d", g.Threshold, n)
	}
	names := make(map[string]bool, n)
	keys := make(map[string]bool, n)
	for i, p := range g.Parties {
		if p.Index != i+1 {
			return bad("party %q has index %d, want %d", p.Name, p.Index, i+1)
		}
		if err := checkName(p.Name); err != nil {
			return bad("party %d name: %v", i+1, err)
		}
		if err := checkText(p.Role, maxTextLen, true); err != nil {
			return bad("party %q role: %v", p.Name, err)
		}
		if len(p.MemberKey) != ed25519.PublicKeySize {
			return bad("party %q member key: %d bytes, want %d", p.Name, len(p.MemberKey), ed25519.PublicKeySize)
		}
		if names[p.Name] {
			return bad("party name %q twice", p.Name)
		}
		if keys[string(p.MemberKey)] {
			return bad("party %q reuses another party's member key", p.Name)
		}
		names[p.Name], keys[string(p.MemberKey)] = true, true
	}
	pub := g.PublicKey
	if pub == nil || pub.N == nil {
		return bad("no public key")
	}
	if bits := pub.N.BitLen(); bits < MinKeyBits || bits > MaxKeyBits {
		return bad("modulus of %d bits, want %d..%d", bits, MinKeyBits, MaxKeyBits)
	}
	if pub.N.Sign() <= 0 || pub.N.Bit(0) == 0 {
		return bad("modulus is not odd and positive")
	}
	if pub.E != publicExponent {
		return bad("public exponent %d, want %d", pub.E, publicExponent)
	}
	return nil
}

// party returns the party with 1-based index i, or nil.
func (g *Group) party(i int) *Party {
	if i < 1 || i > len(g.Parties) {
		return nil
	}
	return &g.Parties[i-1]
}

// MarshalBinary returns the canonical encoding of g:
//
//	tag "trialchain/consent/group/v1" | name | scheme u16 (1) | threshold u16 |
//	party count u16 | per party: name, role, member key (32) |
//	modulus (big-endian, no leading zero) | exponent u32
func (g *Group) MarshalBinary() ([]byte, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g.encode(), nil
}

func (g *Group) encode() []byte {
	var e encoder
	e.str(tagGroup)
	e.str(g.Name)
	e.u16(schemeID)
	e.u16(uint16(g.Threshold))
	e.u16(uint16(len(g.Parties)))
	for _, p := range g.Parties {
		e.str(p.Name)
		e.str(p.Role)
		e.fixed(p.MemberKey)
	}
	e.bytes(g.PublicKey.N.Bytes())
	e.u32(uint32(g.PublicKey.E))
	return e.buf
}

// ID returns the group id: SHA-256 of the canonical encoding. It panics if
// g is not valid (call Validate on groups you built yourself).
func (g *Group) ID() [32]byte {
	if err := g.Validate(); err != nil {
		panic(err)
	}
	return sha256.Sum256(g.encode())
}

// ParseGroup decodes the canonical encoding made by MarshalBinary.
//
// # Errors
//
// ErrMalformed for a bad encoding, ErrInvalidGroup for a well-encoded but
// invalid group.
func ParseGroup(b []byte) (*Group, error) {
	d := decoder{b: b, what: "group"}
	d.tag(tagGroup)
	g := &Group{}
	g.Name = d.str("name", maxNameLen, checkName)
	if s := d.u16("scheme"); d.err == nil && s != schemeID {
		d.fail("unknown scheme %d", s)
	}
	g.Threshold = int(d.u16("threshold"))
	n := int(d.u16("party count"))
	if d.err == nil && (n < 2 || n > MaxParties) {
		d.fail("%d parties, want 2..%d", n, MaxParties)
	}
	for i := 0; d.err == nil && i < n; i++ {
		p := Party{Index: i + 1}
		p.Name = d.str("party name", maxNameLen, checkName)
		p.Role = d.str("party role", maxTextLen, func(s string) error { return checkText(s, maxTextLen, true) })
		p.MemberKey = d.fixed("member key", ed25519.PublicKeySize)
		g.Parties = append(g.Parties, p)
	}
	nb := d.bytes("modulus", minModBytes, maxModBytes)
	if d.err == nil && nb[0] == 0 {
		d.fail("modulus has a leading zero byte")
	}
	e := d.u32("exponent")
	if err := d.finish(); err != nil {
		return nil, err
	}
	g.PublicKey = &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(e)}
	if e != publicExponent {
		return nil, fmt.Errorf("%w: public exponent %d, want %d", ErrInvalidGroup, e, publicExponent)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

// The group.json file: the same content as the canonical encoding, for
// people, plus the id so that a reader can compare it with the chain.
type groupJSON struct {
	Version   int         `json:"version"`
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Scheme    string      `json:"scheme"`
	Threshold int         `json:"threshold"`
	Parties   []partyJSON `json:"parties"`
	PublicKey pubKeyJSON  `json:"public_key"`
}

type partyJSON struct {
	Index     int    `json:"index"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	MemberKey string `json:"member_key"` // hex, 32 bytes
}

type pubKeyJSON struct {
	N string `json:"n"` // hex, big-endian, no leading zero byte
	E int    `json:"e"`
}

// MarshalJSON returns the group.json form of g (indented).
func (g *Group) MarshalJSON() ([]byte, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	id := g.ID()
	j := groupJSON{
		Version:   1,
		ID:        hex.EncodeToString(id[:]),
		Name:      g.Name,
		Scheme:    Scheme,
		Threshold: g.Threshold,
		PublicKey: pubKeyJSON{N: hex.EncodeToString(g.PublicKey.N.Bytes()), E: g.PublicKey.E},
	}
	for _, p := range g.Parties {
		j.Parties = append(j.Parties, partyJSON{Index: p.Index, Name: p.Name, Role: p.Role, MemberKey: hex.EncodeToString(p.MemberKey)})
	}
	return json.MarshalIndent(j, "", "  ")
}

// UnmarshalJSON reads group.json strictly: unknown fields, trailing data,
// a wrong version, scheme or id, and anything Validate refuses are errors.
func (g *Group) UnmarshalJSON(b []byte) error {
	parsed, err := ParseGroupJSON(b)
	if err != nil {
		return err
	}
	*g = *parsed
	return nil
}

// ParseGroupJSON decodes a group.json file (see UnmarshalJSON).
//
// # Errors
//
// ErrMalformed for bad JSON or a wrong id, ErrInvalidGroup for an invalid
// group.
func ParseGroupJSON(b []byte) (*Group, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j groupJSON
	if err := dec.Decode(&j); err != nil {
		return nil, malformed("group.json", "%v", err)
	}
	if dec.More() {
		return nil, malformed("group.json", "trailing data")
	}
	if _, err := dec.Token(); err == nil {
		return nil, malformed("group.json", "trailing data")
	}
	if j.Version != 1 {
		return nil, malformed("group.json", "version %d, want 1", j.Version)
	}
	if j.Scheme != Scheme {
		return nil, malformed("group.json", "scheme %q, want %q", j.Scheme, Scheme)
	}
	g := &Group{Name: j.Name, Threshold: j.Threshold}
	if len(j.Parties) > MaxParties {
		return nil, fmt.Errorf("%w: %d parties, want at most %d", ErrInvalidGroup, len(j.Parties), MaxParties)
	}
	for _, p := range j.Parties {
		key, err := strictHex(p.MemberKey)
		if err != nil {
			return nil, malformed("group.json", "party %q member key: %v", p.Name, err)
		}
		g.Parties = append(g.Parties, Party{Index: p.Index, Name: p.Name, Role: p.Role, MemberKey: key})
	}
	nb, err := strictHex(j.PublicKey.N)
	if err != nil || len(nb) == 0 || nb[0] == 0 || len(nb) > maxModBytes {
		return nil, malformed("group.json", "public key n: not minimal hex of at most %d bytes", maxModBytes)
	}
	g.PublicKey = &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: j.PublicKey.E}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	id := g.ID()
	if j.ID != hex.EncodeToString(id[:]) {
		return nil, malformed("group.json", "id %q does not match the content (%x)", j.ID, id)
	}
	return g, nil
}

// strictHex decodes lowercase hex only, so group.json has one spelling.
func strictHex(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if hex.EncodeToString(b) != s {
		return nil, fmt.Errorf("hex must be lowercase")
	}
	return b, nil
}
