package node

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/view"
)

func TestParsePayloadAuth(t *testing.T) {
	k := ed25519.NewKeyFromSeed(make([]byte, 32))
	node := ed25519.NewKeyFromSeed(append(make([]byte, 31), 1)).Public().(ed25519.PublicKey)
	nonce := []byte("0123456789abcdef")
	good := view.RequestAuth(k, "c", node, "GET", "/v1/payloads/x", 1_700_000_000_000, nonce)
	cases := []struct {
		name, v string
		ok      bool
	}{
		{"signed read", good, true},
		{"missing", "", false},
		{"three parts (the old format)", "ab.12.cd", false},
		{"bad hex key", "zz" + good[2:], false},
		{"short key", good[2:], false},
		{"time not a number", strings.Replace(good, ".1700000000000.", ".x.", 1), false},
		{"short signature", good[:len(good)-2], false},
		{"short nonce", strings.Replace(good, ".30313233343536373839616263646566.", ".3031.", 1), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, ms, n, sig, err := parsePayloadAuth(c.v)
			if (err == nil) != c.ok {
				t.Fatalf("err %v, want ok=%v", err, c.ok)
			}
			if c.ok && (!key.Equal(k.Public()) || ms != 1_700_000_000_000 ||
				!ed25519.Verify(key, view.RequestMessage("c", node, "GET", "/v1/payloads/x", ms, n), sig)) {
				t.Fatal("parsed header does not round-trip")
			}
		})
	}
}

func TestNonceCacheRefusesReplay(t *testing.T) {
	var c nonceCache
	k := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	now := time.Unix(1_700_000_000, 0)
	n1, n2 := []byte("aaaaaaaaaaaaaaaa"), []byte("bbbbbbbbbbbbbbbb")
	if err := c.use(k, n1, now); err != nil {
		t.Fatal(err)
	}
	if err := c.use(k, n1, now.Add(time.Second)); err != ErrReplay {
		t.Fatalf("replay within the window: %v, want ErrReplay", err)
	}
	if err := c.use(k, n2, now); err != nil {
		t.Fatalf("a fresh nonce: %v", err)
	}
	// Past twice the window the request's own time is refused anyway, so
	// the nonce may be forgotten.
	if err := c.use(k, n1, now.Add(2*view.RequestAuthWindow+time.Second)); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func FuzzParsePayloadAuth(f *testing.F) {
	f.Add(view.RequestAuth(ed25519.NewKeyFromSeed(make([]byte, 32)), "c", make([]byte, 32), "GET", "/", 1, make([]byte, 16)))
	f.Add("a.b.c.d")
	f.Fuzz(func(t *testing.T, v string) {
		key, _, nonce, sig, err := parsePayloadAuth(v)
		if err == nil && (len(key) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize || len(nonce) != view.RequestNonceBytes) {
			t.Fatalf("accepted a key of %d, a nonce of %d or a signature of %d bytes", len(key), len(nonce), len(sig))
		}
	})
}
