package consent

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestEndToEnd is the 3-of-5 story: ceremony, three parties open their
// HPKE-sealed shares and sign, combine, plain crypto/rsa verifies the
// signature, Verify names the signers, and two shares are refused.
func TestEndToEnd(t *testing.T) {
	spec := testSpec()
	g, sealed, err := dealTest(rand.Reader, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 5 || g.Threshold != 3 || g.PublicKey.N.BitLen() != 2048 {
		t.Fatalf("ceremony: %d shares, threshold %d, %d bits", len(sealed), g.Threshold, g.PublicKey.N.BitLen())
	}
	// The group file round-trips and the sealed shares travel as files.
	js, err := g.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	g2, err := ParseGroupJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	if g2.ID() != g.ID() {
		t.Fatal("group id changed through group.json")
	}

	signers := []int{1, 3, 4} // sponsor, principal investigator, data safety board
	var signed []*SignedShare
	for _, party := range signers {
		file, err := sealed[party-1].MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseSealedShare(file)
		if err != nil {
			t.Fatal(err)
		}
		member := seededKey(testParties[party-1].name)
		ks, err := OpenShare(g2, s, member)
		if err != nil {
			t.Fatalf("party %d opens its share: %v", party, err)
		}
		m := Manifestation{PrintedName: testParties[party-1].printed, Time: testTime, Meaning: MeaningApproveAmendment}
		ss, err := SignShare(rand.Reader, g2, ks, member, testChain, testAction(), m)
		ks.Wipe()
		if err != nil {
			t.Fatal(err)
		}
		b, err := ss.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseSignedShare(b)
		if err != nil {
			t.Fatal(err)
		}
		signed = append(signed, back)
	}

	c, err := Combine(g2, testRequest(), signed...)
	if err != nil {
		t.Fatalf("Combine: %v", err)
	}
	// A regulator with nothing but crypto/rsa and the group's public key.
	digest := sha256.Sum256(testRequest().Message(g.ID()))
	if err := rsa.VerifyPSS(g.PublicKey, crypto.SHA256, digest[:], c.Signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
		t.Fatalf("rsa.VerifyPSS: %v", err)
	}
	if c.ID() != digest {
		t.Fatal("ConsentID is not the signed digest")
	}

	enc, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	gb, err := g.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c2, got, err := VerifyEncoded(gb, testChain, testAction(), enc)
	if err != nil {
		t.Fatalf("VerifyEncoded: %v", err)
	}
	if c2.ID() != c.ID() || c2.Request.Meaning != MeaningApproveAmendment {
		t.Fatal("decoded consent differs")
	}
	if len(got) != 3 {
		t.Fatalf("got %d signers, want 3", len(got))
	}
	for i, s := range got {
		p := testParties[signers[i]-1]
		if s.Party != signers[i] || s.Name != p.name || s.Role != p.role || s.Manifestation.PrintedName != p.printed ||
			!s.Manifestation.Time.Equal(testTime) || s.Manifestation.Time.Location() != time.UTC || s.Manifestation.Meaning != MeaningApproveAmendment {
			t.Errorf("signer %d = %+v, want party %d %s", i, s, signers[i], p.name)
		}
	}

	// Two shares are refused.
	if _, err := Combine(g2, testRequest(), signed[:2]...); !errors.Is(err, ErrTooFewShares) {
		t.Fatalf("Combine(2 shares) = %v, want ErrTooFewShares", err)
	}
}

func TestCombineAllFiveAndAnyThree(t *testing.T) {
	f := testFixture(t)
	var all []*SignedShare
	for p := 1; p <= 5; p++ {
		all = append(all, f.sign(t, p))
	}
	c5, err := Combine(f.group, testRequest(), all...)
	if err != nil {
		t.Fatal(err)
	}
	if len(c5.Signers) != 5 {
		t.Fatalf("%d signers, want 5", len(c5.Signers))
	}
	if _, err := Verify(f.group, testChain, testAction(), c5); err != nil {
		t.Fatal(err)
	}
	// Documented limit: a relay can drop signers down to the threshold
	// (any three shares give the same signature), and the id is unchanged.
	dropped := *c5
	dropped.Signers = []Attested{c5.Signers[0], c5.Signers[2], c5.Signers[4]}
	if got, err := Verify(f.group, testChain, testAction(), &dropped); err != nil || len(got) != 3 || dropped.ID() != c5.ID() {
		t.Fatalf("Verify(dropped to 3) = %d signers, %v", len(got), err)
	}
	// The signature is the same whichever threshold of parties signs, and
	// the input order does not matter.
	for _, set := range [][]int{{1, 2, 3}, {5, 4, 3}, {2, 4, 5}, {1, 2, 3, 4}} {
		var in []*SignedShare
		for _, p := range set {
			in = append(in, all[p-1])
		}
		c, err := Combine(f.group, testRequest(), in...)
		if err != nil {
			t.Fatalf("%v: %v", set, err)
		}
		if !bytes.Equal(c.Signature, c5.Signature) {
			t.Errorf("%v: signature differs from the 5-party one", set)
		}
		if _, err := Verify(f.group, testChain, testAction(), c); err != nil {
			t.Errorf("%v: Verify: %v", set, err)
		}
	}
}

// corrupt returns a copy of s whose RSA share is wrong but whose
// attestation is valid: a malicious or broken party re-attests garbage.
func (f *fixture) corrupt(t testing.TB, s *SignedShare) *SignedShare {
	c := *s
	x := new(big.Int).SetBytes(s.Share)
	x.Add(x, big.NewInt(2)).Mod(x, f.group.PublicKey.N)
	c.Share = x.FillBytes(make([]byte, len(s.Share)))
	digest := sha256.Sum256(s.Request().Message(s.GroupID))
	c.Attestation = ed25519.Sign(f.members[s.Party-1], attestMessage(digest, s.Party, s.Manifestation, c.Share))
	return &c
}

func TestCombineBadInputs(t *testing.T) {
	f := testFixture(t)
	good := func() []*SignedShare { return []*SignedShare{f.sign(t, 1), f.sign(t, 2), f.sign(t, 3)} }
	otherGroup := func() *SignedShare {
		s := f.sign(t, 2)
		s.GroupID[0] ^= 1
		return s
	}
	tests := []struct {
		name    string
		shares  func() []*SignedShare
		wantErr error
		want    string // substring of the message
	}{
		{"too few shares", func() []*SignedShare { return good()[:2] }, ErrTooFewShares, "have 2, need 3 of 5"},
		{"no shares", func() []*SignedShare { return nil }, ErrTooFewShares, "have 0"},
		{"party not in group", func() []*SignedShare {
			s := good()
			s[2].Party = 9
			return s
		}, ErrUnknownParty, "party 9"},
		{"share for another action", func() []*SignedShare {
			s := good()
			s[1] = f.signFor(t, 2, testChain, RecordAction([32]byte{1}), MeaningApproveAmendment)
			return s
		}, ErrWrongAction, "party 2 (ethics-committee)"},
		{"share for another chain", func() []*SignedShare {
			s := good()
			s[1] = f.signFor(t, 2, "other-chain", testAction(), MeaningApproveAmendment)
			return s
		}, ErrWrongChain, `"other-chain"`},
		{"share for another meaning", func() []*SignedShare {
			s := good()
			s[1] = f.signFor(t, 2, testChain, testAction(), MeaningReleaseGenomeData)
			return s
		}, ErrWrongMeaning, "release genome data"},
		{"share for another group", func() []*SignedShare {
			s := good()
			s[1] = otherGroup()
			return s
		}, ErrWrongGroup, "party 2"},
		{"forged attestation", func() []*SignedShare {
			s := good()
			s[0].Attestation = ed25519.Sign(f.members[1], []byte("not the attested message"))
			return s
		}, ErrBadAttestation, "party 1 (sponsor)"},
		{"attestation by another party's key", func() []*SignedShare {
			s := good()
			digest := sha256.Sum256(s[0].Request().Message(s[0].GroupID))
			s[0].Attestation = ed25519.Sign(f.members[1], attestMessage(digest, 1, s[0].Manifestation, s[0].Share))
			return s
		}, ErrBadAttestation, "party 1 (sponsor)"},
		{"manifestation altered after signing", func() []*SignedShare {
			s := good()
			s[2].Manifestation.PrintedName = "Someone Else"
			return s
		}, ErrBadAttestation, "party 3"},
		{"signing time altered", func() []*SignedShare {
			s := good()
			s[2].Manifestation.Time = s[2].Manifestation.Time.Add(time.Hour)
			return s
		}, ErrBadAttestation, "party 3"},
		{"share bytes altered (attestation breaks)", func() []*SignedShare {
			s := good()
			s[1].Share = append([]byte(nil), s[1].Share...)
			s[1].Share[100] ^= 0x40
			return s
		}, ErrBadAttestation, "party 2"},
		{"share out of range", func() []*SignedShare {
			s := good()
			s[1].Share = make([]byte, len(s[1].Share))
			return s
		}, ErrCorruptShare, "out of range"},
		{"share of wrong length", func() []*SignedShare {
			s := good()
			s[1].Share = s[1].Share[1:]
			return s
		}, ErrCorruptShare, "255 bytes"},
		{"duplicate party", func() []*SignedShare {
			s := good()
			return append(s[:2], f.sign(t, 2))
		}, ErrDuplicateParty, "party 2"},
		{"corrupted share, exactly threshold", func() []*SignedShare {
			s := good()
			s[1] = f.corrupt(t, s[1])
			return s
		}, ErrCorruptShare, "among party 1 (sponsor), party 2 (ethics-committee), party 3 (principal-investigator); supply more"},
		{"corrupted share isolated", func() []*SignedShare {
			s := append(good(), f.sign(t, 4))
			s[1] = f.corrupt(t, s[1])
			return s
		}, ErrCorruptShare, "corrupted signature share from party 2 (ethics-committee)"},
		{"two corrupted shares isolated", func() []*SignedShare {
			s := append(good(), f.sign(t, 4), f.sign(t, 5))
			s[0] = f.corrupt(t, s[0])
			s[3] = f.corrupt(t, s[3])
			return s
		}, ErrCorruptShare, "from party 1 (sponsor), party 4 (data-safety-board)"},
		{"nil share", func() []*SignedShare { return append(good(), nil) }, ErrMalformed, "nil share"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Combine(f.group, testRequest(), tt.shares()...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Combine() = %v, %v; want error %v", c, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestBadSharesErrorIsTyped(t *testing.T) {
	f := testFixture(t)
	s := []*SignedShare{f.sign(t, 1), f.sign(t, 2), f.sign(t, 3), f.sign(t, 5)}
	s[3] = f.corrupt(t, s[3])
	_, err := Combine(f.group, testRequest(), s...)
	var bad *BadSharesError
	if !errors.As(err, &bad) {
		t.Fatalf("Combine() = %v, want *BadSharesError", err)
	}
	if !bad.Isolated || len(bad.Parties) != 1 || bad.Parties[0] != 5 || bad.Names[0] != "statistician" {
		t.Fatalf("BadSharesError = %+v, want party 5 isolated", bad)
	}
	// Dropping the named share gives a valid consent.
	c, err := Combine(f.group, testRequest(), s[:3]...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(f.group, testChain, testAction(), c); err != nil {
		t.Fatal(err)
	}
	// Several refused shares are all reported.
	s2 := []*SignedShare{f.sign(t, 1), f.sign(t, 2), f.sign(t, 3)}
	s2[0].Party, s2[2].Attestation = 7, make([]byte, 64)
	_, err = Combine(f.group, testRequest(), s2...)
	if !errors.Is(err, ErrUnknownParty) || !errors.Is(err, ErrBadAttestation) {
		t.Fatalf("Combine() = %v, want both ErrUnknownParty and ErrBadAttestation", err)
	}
	var se *ShareError
	if !errors.As(err, &se) || se.Party != 7 {
		t.Fatalf("first ShareError = %+v, want party 7", se)
	}
}

func TestVerifyBadInputs(t *testing.T) {
	f := testFixture(t)
	c, err := Combine(f.group, testRequest(), f.sign(t, 1), f.sign(t, 2), f.sign(t, 4))
	if err != nil {
		t.Fatal(err)
	}
	// A second valid consent for another action, to splice from.
	other, err := Combine(f.group, Request{ChainID: testChain, Action: RecordAction([32]byte{7}), Meaning: MeaningApproveAmendment},
		f.signFor(t, 1, testChain, RecordAction([32]byte{7}), MeaningApproveAmendment),
		f.signFor(t, 2, testChain, RecordAction([32]byte{7}), MeaningApproveAmendment),
		f.signFor(t, 3, testChain, RecordAction([32]byte{7}), MeaningApproveAmendment))
	if err != nil {
		t.Fatal(err)
	}
	otherGroup, _, err := dealTest(rand.Reader, func() GroupSpec { s := testSpec(); s.Threshold = 2; return s }())
	if err != nil {
		t.Fatal(err)
	}
	clone := func() *Consent {
		d := *c
		d.Signers = append([]Attested(nil), c.Signers...)
		d.Signature = append([]byte(nil), c.Signature...)
		return &d
	}
	tests := []struct {
		name    string
		group   *Group
		chain   string
		action  Action
		consent func() *Consent
		wantErr error
	}{
		{"for another chain", f.group, "other-chain", testAction(), clone, ErrWrongChain},
		{"for another group", otherGroup, testChain, testAction(), clone, ErrWrongGroup},
		{"for another action", f.group, testChain, RecordAction([32]byte{7}), clone, ErrWrongAction},
		{"too few signers", f.group, testChain, testAction(), func() *Consent {
			d := clone()
			d.Signers = d.Signers[:2]
			return d
		}, ErrTooFewShares},
		{"signature flipped", f.group, testChain, testAction(), func() *Consent {
			d := clone()
			d.Signature[10] ^= 1
			return d
		}, ErrBadSignature},
		{"signature from another consent", f.group, testChain, testAction(), func() *Consent {
			d := clone()
			d.Signature = other.Signature
			return d
		}, ErrBadSignature},
		{"unknown signer", f.group, testChain, testAction(), func() *Consent {
			d := clone()
			d.Signers[2].Party = 6
			return d
		}, ErrUnknownParty},
		{"duplicate signer", f.group, testChain, testAction(), func() *Consent {
			d := clone()
			d.Signers[1] = d.Signers[0]
			return d
		}, ErrDuplicateParty},
		{"forged attestation", f.group, testChain, testAction(), func() *Consent {
			d := clone()
			d.Signers[1].Attestation = ed25519.Sign(f.members[0], []byte("x"))
			return d
		}, ErrBadAttestation},
		{"printed name altered", f.group, testChain, testAction(), func() *Consent {
			d := clone()
			d.Signers[0].PrintedName = "Mallory"
			return d
		}, ErrBadAttestation},
		{"meaning altered", f.group, testChain, testAction(), func() *Consent {
			d := clone()
			d.Request.Meaning = MeaningReleaseGenomeData
			return d
		}, ErrBadSignature},
		{"signer swapped for a non-signer", f.group, testChain, testAction(), func() *Consent {
			// party 3's valid attestation from the other consent does not
			// belong to this message.
			d := clone()
			d.Signers[2] = other.Signers[2]
			return d
		}, ErrBadAttestation},
		{"signer list does not produce the signature", f.group, testChain, testAction(), func() *Consent {
			// a correctly attested but corrupted share: the shares no
			// longer combine into the signature.
			d := clone()
			bad := f.corrupt(t, f.sign(t, 4))
			d.Signers[2] = Attested{Party: 4, PrintedName: bad.Manifestation.PrintedName, Time: bad.Manifestation.Time, Share: bad.Share, Attestation: bad.Attestation}
			return d
		}, ErrCorruptShare},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Verify(tt.group, tt.chain, tt.action, tt.consent())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() = %v, %v; want %v", s, err, tt.wantErr)
			}
		})
	}
	if _, err := Verify(f.group, testChain, testAction(), c); err != nil {
		t.Fatalf("the unmodified consent: %v", err)
	}
}

func TestOpenShareErrors(t *testing.T) {
	f := testFixture(t)
	other, otherSealed, err := dealTest(rand.Reader, func() GroupSpec { s := testSpec(); s.Name = "genome-committee"; return s }())
	if err != nil {
		t.Fatal(err)
	}
	tampered := *f.sealed[0]
	tampered.Ciphertext = append([]byte(nil), tampered.Ciphertext...)
	tampered.Ciphertext[5] ^= 1
	moved := *f.sealed[0]
	moved.Party = 2 // party 1's share presented as party 2's
	tests := []struct {
		name    string
		group   *Group
		sealed  *SealedShare
		key     ed25519.PrivateKey
		wantErr error
	}{
		{"wrong member key", f.group, f.sealed[0], f.members[1], ErrWrongMemberKey},
		{"other group's share", f.group, otherSealed[0], f.members[0], ErrWrongGroup},
		{"share opened with other group", other, f.sealed[0], f.members[0], ErrWrongGroup},
		{"tampered ciphertext", f.group, &tampered, f.members[0], ErrSealedShare},
		{"share moved to another party", f.group, &moved, f.members[1], ErrSealedShare},
		{"unknown party", f.group, &SealedShare{GroupID: f.group.ID(), Party: 6}, f.members[0], ErrUnknownParty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := OpenShare(tt.group, tt.sealed, tt.key); !errors.Is(err, tt.wantErr) {
				t.Fatalf("OpenShare() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestSignShareErrors(t *testing.T) {
	f := testFixture(t)
	m := Manifestation{PrintedName: "Dr. Ada Sponsor", Time: testTime, Meaning: MeaningApproveAmendment}
	tests := []struct {
		name    string
		ks      *KeyShare
		key     ed25519.PrivateKey
		chain   string
		action  Action
		m       Manifestation
		wantErr error
	}{
		{"other party's member key", f.shares[0], f.members[1], testChain, testAction(), m, ErrWrongMemberKey},
		{"empty chain id", f.shares[0], f.members[0], "", testAction(), m, ErrInvalidInput},
		{"empty action", f.shares[0], f.members[0], testChain, Action{Kind: KindRecord}, m, ErrInvalidInput},
		{"bad action kind", f.shares[0], f.members[0], testChain, Action{Kind: "Bad Kind", Data: []byte{1}}, m, ErrInvalidInput},
		{"no printed name", f.shares[0], f.members[0], testChain, testAction(), Manifestation{Time: testTime, Meaning: "x"}, ErrInvalidInput},
		{"no time", f.shares[0], f.members[0], testChain, testAction(), Manifestation{PrintedName: "A", Meaning: "x"}, ErrInvalidInput},
		{"control character in meaning", f.shares[0], f.members[0], testChain, testAction(), Manifestation{PrintedName: "A", Time: testTime, Meaning: "approve\n"}, ErrInvalidInput},
		{"nil key share", nil, f.members[0], testChain, testAction(), m, ErrWrongGroup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := SignShare(rand.Reader, f.group, tt.ks, tt.key, tt.chain, tt.action, tt.m); !errors.Is(err, tt.wantErr) {
				t.Fatalf("SignShare() = %v, want %v", err, tt.wantErr)
			}
		})
	}
	// A share of one group used with another group is refused before any
	// exponentiation with the other modulus.
	other, _, err := dealTest(rand.Reader, func() GroupSpec { s := testSpec(); s.Name = "other"; return s }())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SignShare(rand.Reader, other, f.shares[0], f.members[0], testChain, testAction(), m); !errors.Is(err, ErrWrongGroup) {
		t.Fatalf("SignShare(other group) = %v, want ErrWrongGroup", err)
	}
	// The secret is not printed.
	for _, s := range []string{f.shares[0].String(), f.shares[0].GoString()} {
		if strings.Contains(s, "si") || len(s) > 80 {
			t.Errorf("KeyShare prints %q", s)
		}
	}
}

func TestGroupSpecErrors(t *testing.T) {
	good := testSpec()
	mod := func(fn func(*GroupSpec)) GroupSpec {
		s := testSpec()
		s.Parties = append([]PartySpec(nil), s.Parties...)
		fn(&s)
		return s
	}
	badPoint := make([]byte, 32)
	badPoint[0] = 2 // y = 2 is not on the curve
	tests := []struct {
		name string
		spec GroupSpec
	}{
		{"threshold 0", mod(func(s *GroupSpec) { s.Threshold = 0 })},
		{"threshold above parties", mod(func(s *GroupSpec) { s.Threshold = 6 })},
		{"one party", mod(func(s *GroupSpec) { s.Parties = s.Parties[:1]; s.Threshold = 1 })},
		{"bad group name", mod(func(s *GroupSpec) { s.Name = "board of 5" })},
		{"duplicate party name", mod(func(s *GroupSpec) { s.Parties[1].Name = s.Parties[0].Name })},
		{"duplicate member key", mod(func(s *GroupSpec) { s.Parties[1].MemberKey = s.Parties[0].MemberKey })},
		{"short member key", mod(func(s *GroupSpec) { s.Parties[1].MemberKey = s.Parties[1].MemberKey[:31] })},
		{"member key not on curve", mod(func(s *GroupSpec) { s.Parties[1].MemberKey = badPoint })},
		{"identity member key", mod(func(s *GroupSpec) { k := make([]byte, 32); k[0] = 1; s.Parties[1].MemberKey = k })},
		{"key too small", mod(func(s *GroupSpec) { s.Bits = 1024 })},
		{"key too big", mod(func(s *GroupSpec) { s.Bits = 8192 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// NewGroup checks the spec before the slow key generation, so
			// these return at once.
			if _, _, err := NewGroup(rand.Reader, tt.spec); !errors.Is(err, ErrInvalidGroup) {
				t.Fatalf("NewGroup() = %v, want ErrInvalidGroup", err)
			}
		})
	}
	// A key without safe primes is refused by the dealer.
	plain, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := deal(rand.Reader, good, plain); !errors.Is(err, ErrInvalidGroup) {
		t.Fatalf("deal(non-safe primes) = %v, want ErrInvalidGroup", err)
	}
}

func TestWipeKey(t *testing.T) {
	k := loadTestKey()
	p := k.Primes[0]
	words := p.Bits()
	wipeKey(k)
	for _, w := range words {
		if w != 0 {
			t.Fatal("prime words not zeroed")
		}
	}
	if k.D.Sign() != 0 || k.Precomputed.Dp.Sign() != 0 {
		t.Fatal("private exponent not zeroed")
	}
}

func TestMemberKeyConversion(t *testing.T) {
	// The converted private key's X25519 public key equals the converted
	// public key, for many keys.
	for i := 0; i < 64; i++ {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		u, err := x25519Public(pub)
		if err != nil {
			t.Fatal(err)
		}
		want, err := x25519Base(x25519Private(priv))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(u, want) {
			t.Fatalf("key %d: converted public %x, X25519(converted private) %x", i, u, want)
		}
	}
	// Refused encodings.
	p := [32]byte{0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f} // y = p
	one := [32]byte{1}
	minusOne := p
	minusOne[0] = 0xec // y = p-1 = -1
	for name, k := range map[string][]byte{"y = p": p[:], "identity": one[:], "order 2": minusOne[:], "short": p[:31]} {
		if _, err := x25519Public(k); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
