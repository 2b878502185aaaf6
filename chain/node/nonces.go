package node

import (
	"crypto/ed25519"
	"errors"
	"sync"
	"time"

	"github.com/trialchain/trialchain/chain/view"
)

// maxNonces bounds the signed-request nonces a node remembers. A nonce is
// kept for twice view.RequestAuthWindow (the widest span of times a node
// accepts), so the cap is a rate: maxNonces per minute of signed requests.
// When it is full the node refuses signed requests (busy) rather than
// forget a nonce that could then be replayed.
const maxNonces = 200_000

// ErrReplay is a signed request whose nonce the node has already seen.
var ErrReplay = errors.New("node: signed request already used (replay refused)")

// errNonceCacheFull is a refusal while the nonce cache is full.
var errNonceCacheFull = errors.New("node: too many signed requests in the last minute; try again shortly")

// nonceCache remembers the nonces of signed requests within the window.
type nonceCache struct {
	mu     sync.Mutex
	seen   map[[ed25519.PublicKeySize + view.RequestNonceBytes]byte]time.Time // → expiry
	nextGC time.Time
}

// use records (key, nonce) at now, or fails if it was seen in the window.
func (c *nonceCache) use(key ed25519.PublicKey, nonce []byte, now time.Time) error {
	var k [ed25519.PublicKeySize + view.RequestNonceBytes]byte
	copy(k[:], key)
	copy(k[ed25519.PublicKeySize:], nonce)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = make(map[[ed25519.PublicKeySize + view.RequestNonceBytes]byte]time.Time)
	}
	if exp, ok := c.seen[k]; ok && now.Before(exp) {
		return ErrReplay
	}
	if now.After(c.nextGC) || len(c.seen) >= maxNonces {
		for kk, exp := range c.seen {
			if !now.Before(exp) {
				delete(c.seen, kk)
			}
		}
		c.nextGC = now.Add(view.RequestAuthWindow)
	}
	if len(c.seen) >= maxNonces {
		return errNonceCacheFull
	}
	c.seen[k] = now.Add(2 * view.RequestAuthWindow)
	return nil
}
