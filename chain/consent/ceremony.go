package consent

import (
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"io"
	"math/big"

	"github.com/cloudflare/circl/hpke"
	trsa "github.com/cloudflare/circl/tss/rsa"
)

// hpkeSuite seals key shares: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// ChaCha20-Poly1305 (RFC 9180 base mode).
var hpkeSuite = hpke.NewSuite(hpke.KEM_X25519_HKDF_SHA256, hpke.KDF_HKDF_SHA256, hpke.AEAD_ChaCha20Poly1305)

// PartySpec names one party for NewGroup.
type PartySpec struct {
	Name      string
	Role      string
	MemberKey ed25519.PublicKey
}

// GroupSpec is the input of the key ceremony.
type GroupSpec struct {
	Name      string
	Threshold int
	Parties   []PartySpec // party i gets index i+1
	Bits      int         // RSA modulus size; 0 means 2048; MinKeyBits..MaxKeyBits
}

// NewGroup runs the key ceremony: it generates an RSA key whose primes are
// safe primes (slow: tens of seconds to minutes for 2048 bits, more for
// 3072), deals one CIRCL key share per party, seals each share to its
// party's member key with HPKE, and wipes the private key.
//
// The caller is the trusted dealer: whoever runs NewGroup sees the private
// key while it exists and could keep it. Run it on a machine all parties
// trust, offline, and publish the group on chain; see RATIONALE.md.
//
// rand is the randomness for key generation, dealing and sealing; pass
// crypto/rand.Reader.
//
// # Notes
//
// Wiping is best effort. The words of the RSA private key (d, p, q and the
// CRT values) and the plaintext share encodings are zeroed. Not reachable
// from here: CIRCL's copies inside Deal (the polynomial coefficients, m and
// the key shares' s_i, which are unexported), the copy crypto/rsa keeps in
// its precomputed FIPS key, and any copies the garbage collector made
// while moving or growing big.Int buffers.
//
// # Errors
//
// ErrInvalidGroup for a bad spec (names, threshold, duplicate or invalid
// member keys, key size); errors from the random source are wrapped.
func NewGroup(rand io.Reader, spec GroupSpec) (*Group, []*SealedShare, error) {
	bits := spec.Bits
	if bits == 0 {
		bits = MinKeyBits
	}
	if bits < MinKeyBits || bits > MaxKeyBits || bits%8 != 0 {
		return nil, nil, fmt.Errorf("%w: key size %d bits, want a multiple of 8 in %d..%d", ErrInvalidGroup, bits, MinKeyBits, MaxKeyBits)
	}
	// Check the spec before the expensive key generation.
	if _, err := groupFromSpec(spec, nil); err != nil {
		return nil, nil, err
	}
	key, err := trsa.GenerateKey(rand, bits)
	if err != nil {
		return nil, nil, fmt.Errorf("consent: generate group key: %w", err)
	}
	defer wipeKey(key)
	return deal(rand, spec, key)
}

// DealWithKey is NewGroup with an existing RSA key instead of a freshly
// generated one: the key must be made of safe primes (CIRCL's
// GenerateKey). It exists for demonstrations and tests, where minutes of
// safe-prime search per group are too slow; whoever holds the key file can
// sign alone, so a real consent group is made with NewGroup. The caller
// keeps ownership of key (it is not wiped).
func DealWithKey(rand io.Reader, spec GroupSpec, key *rsa.PrivateKey) (*Group, []*SealedShare, error) {
	if key == nil || key.N.BitLen() < MinKeyBits || key.N.BitLen() > MaxKeyBits {
		return nil, nil, fmt.Errorf("%w: dealer key must be %d..%d bits", ErrInvalidGroup, MinKeyBits, MaxKeyBits)
	}
	return deal(rand, spec, key)
}

// groupFromSpec builds and validates the public group. With a nil pub it
// only checks the spec (using a placeholder key).
func groupFromSpec(spec GroupSpec, pub *rsa.PublicKey) (*Group, error) {
	check := pub == nil
	if check {
		n := new(big.Int).Lsh(big.NewInt(1), MinKeyBits-1)
		pub = &rsa.PublicKey{N: n.SetBit(n, 0, 1), E: publicExponent}
	}
	g := &Group{Name: spec.Name, Threshold: spec.Threshold, PublicKey: pub}
	for i, p := range spec.Parties {
		g.Parties = append(g.Parties, Party{Index: i + 1, Name: p.Name, Role: p.Role, MemberKey: append(ed25519.PublicKey(nil), p.MemberKey...)})
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	for _, p := range g.Parties {
		if _, err := x25519Public(p.MemberKey); err != nil {
			return nil, fmt.Errorf("%w: party %q member key: %v", ErrInvalidGroup, p.Name, err)
		}
	}
	return g, nil
}

// deal is NewGroup after key generation. key must be the product of two
// safe primes (as trsa.GenerateKey makes); the tests use it with a stored
// key to avoid minutes of prime search.
func deal(rand io.Reader, spec GroupSpec, key *rsa.PrivateKey) (*Group, []*SealedShare, error) {
	if err := checkSafePrimes(key); err != nil {
		return nil, nil, err
	}
	g, err := groupFromSpec(spec, &rsa.PublicKey{N: new(big.Int).Set(key.N), E: key.E})
	if err != nil {
		return nil, nil, err
	}
	n := uint(len(g.Parties))
	keyShares, err := trsa.Deal(rand, n, uint(g.Threshold), key, false)
	if err != nil {
		return nil, nil, fmt.Errorf("consent: deal key shares: %w", err)
	}
	id := g.ID()
	sealed := make([]*SealedShare, n)
	for i := range keyShares {
		pt, err := keyShares[i].MarshalBinary()
		if err != nil {
			return nil, nil, fmt.Errorf("consent: encode key share %d: %w", i+1, err)
		}
		sealed[i], err = seal(rand, id, i+1, g.Parties[i].MemberKey, pt)
		clear(pt)
		if err != nil {
			return nil, nil, err
		}
	}
	return g, sealed, nil
}

func checkSafePrimes(key *rsa.PrivateKey) error {
	if key == nil || len(key.Primes) != 2 || key.E != publicExponent {
		return fmt.Errorf("%w: group key must be a two-prime RSA key with e = %d", ErrInvalidGroup, publicExponent)
	}
	for _, p := range key.Primes {
		half := new(big.Int).Rsh(p, 1) // (p-1)/2 for odd p
		if p.Bit(0) != 1 || !half.ProbablyPrime(20) {
			return fmt.Errorf("%w: group key primes must be safe primes", ErrInvalidGroup)
		}
	}
	return nil
}

// wipeKey zeroes the words of the private parts of key (best effort, see
// NewGroup).
func wipeKey(key *rsa.PrivateKey) {
	wipe := func(x *big.Int) {
		if x != nil {
			clear(x.Bits())
			x.SetInt64(0)
		}
	}
	wipe(key.D)
	for _, p := range key.Primes {
		wipe(p)
	}
	wipe(key.Precomputed.Dp)
	wipe(key.Precomputed.Dq)
	wipe(key.Precomputed.Qinv)
	for _, v := range key.Precomputed.CRTValues {
		wipe(v.Exp)
		wipe(v.Coeff)
		wipe(v.R)
	}
}

// SealedShare is one party's key share, encrypted with HPKE to the X25519
// form of the party's member key. Only that party can open it (OpenShare).
type SealedShare struct {
	GroupID    [32]byte
	Party      int    // 1-based party index
	Enc        []byte // HPKE encapsulated key (32 bytes)
	Ciphertext []byte
}

// shareInfo is the HPKE info: it binds the sealed share to its group and
// party, so a share cannot be opened as another group's or party's.
func shareInfo(groupID [32]byte, party int) []byte {
	var e encoder
	e.str(tagShareInfo)
	e.fixed(groupID[:])
	e.u16(uint16(party))
	return e.buf
}

func seal(rand io.Reader, groupID [32]byte, party int, member ed25519.PublicKey, pt []byte) (*SealedShare, error) {
	u, err := x25519Public(member)
	if err != nil {
		return nil, fmt.Errorf("%w: party %d member key: %v", ErrInvalidGroup, party, err)
	}
	pk, err := hpke.KEM_X25519_HKDF_SHA256.Scheme().UnmarshalBinaryPublicKey(u)
	if err != nil {
		return nil, fmt.Errorf("%w: party %d member key: %v", ErrInvalidGroup, party, err)
	}
	sender, err := hpkeSuite.NewSender(pk, shareInfo(groupID, party))
	if err != nil {
		return nil, fmt.Errorf("consent: hpke sender: %w", err)
	}
	enc, sealer, err := sender.Setup(rand)
	if err != nil {
		return nil, fmt.Errorf("consent: seal share for party %d: %w", party, err)
	}
	ct, err := sealer.Seal(pt, nil)
	if err != nil {
		return nil, fmt.Errorf("consent: seal share for party %d: %w", party, err)
	}
	return &SealedShare{GroupID: groupID, Party: party, Enc: enc, Ciphertext: ct}, nil
}

// MarshalBinary returns the canonical encoding of s (the share file):
//
//	tag "trialchain/consent/sealed-share/v1" | group id (32) | party u16 |
//	kem u16 | kdf u16 | aead u16 | enc | ciphertext
func (s *SealedShare) MarshalBinary() ([]byte, error) {
	if s.Party < 1 || s.Party > MaxParties || len(s.Enc) != 32 || len(s.Ciphertext) == 0 || len(s.Ciphertext) > maxSealedBytes {
		return nil, fmt.Errorf("%w: sealed share: fields out of range", ErrMalformed)
	}
	var e encoder
	e.str(tagSealedShare)
	e.fixed(s.GroupID[:])
	e.u16(uint16(s.Party))
	kem, kdf, aead := hpkeSuite.Params()
	e.u16(uint16(kem))
	e.u16(uint16(kdf))
	e.u16(uint16(aead))
	e.bytes(s.Enc)
	e.bytes(s.Ciphertext)
	return e.buf, nil
}

// ParseSealedShare decodes a share file made by SealedShare.MarshalBinary.
//
// # Errors
//
// ErrMalformed.
func ParseSealedShare(b []byte) (*SealedShare, error) {
	d := decoder{b: b, what: "sealed share"}
	d.tag(tagSealedShare)
	s := &SealedShare{}
	copy(s.GroupID[:], d.fixed("group id", 32))
	s.Party = int(d.u16("party"))
	if d.err == nil && (s.Party < 1 || s.Party > MaxParties) {
		d.fail("party %d out of range", s.Party)
	}
	kem, kdf, aead := hpkeSuite.Params()
	if k, f, a := d.u16("kem"), d.u16("kdf"), d.u16("aead"); d.err == nil && (k != uint16(kem) || f != uint16(kdf) || a != uint16(aead)) {
		d.fail("unsupported HPKE suite %#x/%#x/%#x", k, f, a)
	}
	s.Enc = d.bytes("enc", 32, 32)
	s.Ciphertext = d.bytes("ciphertext", 1, maxSealedBytes)
	if err := d.finish(); err != nil {
		return nil, err
	}
	return s, nil
}

// KeyShare is a party's opened key share. It is secret: keep it in memory
// only as long as needed and call Wipe. Its String method does not print
// the secret.
type KeyShare struct {
	groupID [32]byte
	party   int
	ks      trsa.KeyShare
}

// Party returns the share's 1-based party index.
func (k *KeyShare) Party() int { return k.party }

// GroupID returns the id of the group the share belongs to.
func (k *KeyShare) GroupID() [32]byte { return k.groupID }

// String describes the share without its secret.
func (k *KeyShare) String() string {
	return fmt.Sprintf("consent.KeyShare{group %x, party %d}", k.groupID[:6], k.party)
}

// GoString is String, so %#v does not print the secret either.
func (k *KeyShare) GoString() string { return k.String() }

// Wipe drops the secret. Best effort: CIRCL keeps s_i in an unexported
// big.Int that cannot be zeroed from here; Wipe removes the reference so
// that it can be collected.
func (k *KeyShare) Wipe() { k.ks = trsa.KeyShare{} }

// OpenShare decrypts party's sealed share with its ed25519 member key.
//
// # Errors
//
// ErrWrongGroup if s is for another group, ErrUnknownParty if its party is
// not in g, ErrWrongMemberKey if memberKey is not that party's key,
// ErrSealedShare if decryption fails or the plaintext is not the party's
// share.
func OpenShare(g *Group, s *SealedShare, memberKey ed25519.PrivateKey) (*KeyShare, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("%w: nil sealed share", ErrMalformed)
	}
	id := g.ID()
	if s.GroupID != id {
		return nil, fmt.Errorf("%w: sealed share is for group %x, not %x", ErrWrongGroup, s.GroupID[:8], id[:8])
	}
	p := g.party(s.Party)
	if p == nil {
		return nil, fmt.Errorf("%w: sealed share for party %d", ErrUnknownParty, s.Party)
	}
	if len(memberKey) != ed25519.PrivateKeySize || !p.MemberKey.Equal(memberKey.Public()) {
		return nil, fmt.Errorf("%w: party %d (%s)", ErrWrongMemberKey, p.Index, p.Name)
	}
	skBytes := x25519Private(memberKey)
	defer clear(skBytes)
	sk, err := hpke.KEM_X25519_HKDF_SHA256.Scheme().UnmarshalBinaryPrivateKey(skBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSealedShare, err)
	}
	recv, err := hpkeSuite.NewReceiver(sk, shareInfo(id, s.Party))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSealedShare, err)
	}
	opener, err := recv.Setup(s.Enc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSealedShare, err)
	}
	pt, err := opener.Open(s.Ciphertext, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: party %d (%s): %v", ErrSealedShare, p.Index, p.Name, err)
	}
	defer clear(pt)
	k := &KeyShare{groupID: id, party: s.Party}
	if err := k.ks.UnmarshalBinary(pt); err != nil {
		return nil, fmt.Errorf("%w: party %d (%s): %v", ErrSealedShare, p.Index, p.Name, err)
	}
	if k.ks.Players != uint(len(g.Parties)) || k.ks.Threshold != uint(g.Threshold) || k.ks.Index != uint(s.Party) {
		k.Wipe()
		return nil, fmt.Errorf("%w: party %d (%s): share is for (t=%d, n=%d, index %d)", ErrSealedShare, p.Index, p.Name, k.ks.Threshold, k.ks.Players, k.ks.Index)
	}
	return k, nil
}
