package bench

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/sdk/client"
)

// VerifyRate measures this machine's ed25519 verifications per second of
// a signed anchor transaction (Tx.VerifySignature, as a node admits it)
// on GOMAXPROCS goroutines for about d.
func VerifyRate(key ed25519.PrivateKey, chainID string, d time.Duration) (float64, error) {
	doc := sha256.Sum256([]byte("bench verify"))
	tx := client.Sign(key, chainID, block.KindAnchor, (&block.AnchorPayload{Hash: doc, Label: "bench verify"}).Encode(), 100_000)
	if err := tx.VerifySignature(); err != nil {
		return 0, err
	}
	var total atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := int64(0)
			for time.Now().Before(deadline) {
				for range 64 {
					if tx.VerifySignature() != nil {
						return
					}
				}
				n += 64
			}
			total.Add(n)
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	if total.Load() == 0 || el <= 0 {
		return 0, errors.New("bench: no verification measured")
	}
	return float64(total.Load()) / el, nil
}
