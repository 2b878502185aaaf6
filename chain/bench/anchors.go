package bench

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/sdk/client"
)

// Anchors is the anchor workload: each transaction anchors a distinct
// document hash, signed by the testnet's sponsor. Transactions are
// signed in Prepare, so signing is not measured.
func Anchors() Workload { return &anchors{} }

type anchors struct {
	mu  sync.RWMutex
	txs []*block.Tx
	key ed25519.PrivateKey
	run uint64
}

func (a *anchors) Name() string { return "anchors" }

func (a *anchors) Prepare(_ context.Context, env *Env, n int) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.key == nil {
		k, err := env.Keyring.Get("sponsor")
		if err != nil {
			return 0, fmt.Errorf("sponsor key: %w", err)
		}
		a.key, a.run = k.Private, client.Nonce()
	}
	for i := len(a.txs); i < n; i++ {
		var doc [16]byte
		binary.BigEndian.PutUint64(doc[:8], a.run)
		binary.BigEndian.PutUint64(doc[8:], uint64(i))
		p := &block.AnchorPayload{Hash: block.Sum(doc[:]), Label: fmt.Sprintf("bench %d", i)}
		// No ValidUntil bound: they are signed ahead of a run that may
		// last longer than client.DefaultValidity.
		a.txs = append(a.txs, client.SignUntil(a.key, env.ChainID, block.KindAnchor, p.Encode(), 100_000, 0))
	}
	return n, nil
}

func (a *anchors) Tx(i int) *block.Tx {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.txs[i]
}
