package node

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/view"
)

func TestParsePayloadAuth(t *testing.T) {
	k := ed25519.NewKeyFromSeed(make([]byte, 32))
	good := view.PayloadAuth(k, "c", block.Sum([]byte("p")), 1_700_000_000_000)
	cases := []struct {
		name, v string
		ok      bool
	}{
		{"signed read", good, true},
		{"missing", "", false},
		{"two parts", "ab.12", false},
		{"bad hex key", "zz" + good[2:], false},
		{"short key", good[2:], false},
		{"time not a number", strings.Replace(good, ".1700000000000.", ".x.", 1), false},
		{"short signature", good[:len(good)-2], false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, ms, sig, err := parsePayloadAuth(c.v)
			if (err == nil) != c.ok {
				t.Fatalf("err %v, want ok=%v", err, c.ok)
			}
			if c.ok && (!key.Equal(k.Public()) || ms != 1_700_000_000_000 || !ed25519.Verify(key, view.PayloadReadMessage("c", block.Sum([]byte("p")), ms), sig)) {
				t.Fatal("parsed header does not round-trip")
			}
		})
	}
}

func FuzzParsePayloadAuth(f *testing.F) {
	f.Add(view.PayloadAuth(ed25519.NewKeyFromSeed(make([]byte, 32)), "c", block.Hash{}, 1))
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, v string) {
		key, _, sig, err := parsePayloadAuth(v)
		if err == nil && (len(key) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize) {
			t.Fatalf("accepted a key of %d or a signature of %d bytes", len(key), len(sig))
		}
	})
}
