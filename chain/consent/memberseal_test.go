package consent

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
)

func TestSealToMember(t *testing.T) {
	_, alice, _ := ed25519.GenerateKey(rand.Reader)
	_, bob, _ := ed25519.GenerateKey(rand.Reader)
	info, pt := []byte("ctx/grant-1"), []byte("s3://bucket/wgs-1")
	sealed, err := SealToMember(rand.Reader, alice.Public().(ed25519.PublicKey), info, pt)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, pt) {
		t.Fatal("plaintext visible in the sealed value")
	}
	got, err := OpenAsMember(alice, info, sealed)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("open: %q %v", got, err)
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	for _, tc := range []struct {
		name   string
		key    ed25519.PrivateKey
		info   []byte
		sealed []byte
		want   error
	}{
		{"another member", bob, info, sealed, ErrMemberSeal},
		{"another context", alice, []byte("ctx/grant-2"), sealed, ErrMemberSeal},
		{"altered", alice, info, flipped, ErrMemberSeal},
		{"truncated", alice, info, sealed[:40], ErrMalformed},
		{"wrong version", alice, info, append([]byte{2}, sealed[1:]...), ErrMalformed},
	} {
		if _, err := OpenAsMember(tc.key, tc.info, tc.sealed); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := SealToMember(rand.Reader, make([]byte, 32), info, pt); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("sealed to a non-key: %v", err)
	}
}

func FuzzOpenAsMember(f *testing.F) {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	s, _ := SealToMember(rand.Reader, k.Public().(ed25519.PublicKey), nil, []byte("x"))
	f.Add(s)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if pt, err := OpenAsMember(k, nil, b); err == nil && !bytes.Equal(pt, []byte("x")) {
			t.Fatalf("opened forged bytes to %q", pt)
		}
	})
}
