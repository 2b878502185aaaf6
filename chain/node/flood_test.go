//go:build !race

// Under the race detector on the shared 2-core VM (load ~17) this flood of
// 1 MiB transactions did not progress past height 2 in 6 minutes (issue 15,
// open: not diagnosed); the race detector covers the same paths through
// TestClusterCommitsThousandTransactions.

package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/sdk/client"
)

// TestClusterFloodEveryAcceptedCommits floods a 4-node cluster's APIs with
// large (1 MiB deploys of junk code) and small (anchors) transactions while the request
// pools are bounded to a few MiB: every transaction answered 200 must end in
// a receipt on every node, and the others must be refused 429 with
// Retry-After (the client retries those, the same bytes, a bounded number of
// times). Nothing accepted may be lost in a full send queue or pool.
func TestClusterFloodEveryAcceptedCommits(t *testing.T) {
	t.Parallel()
	const poolBytes = 4 << 20
	c := newClusterWith(t, 4, func(_ int, cfg *Config) { cfg.Limits.PoolBytes = poolBytes })
	g := c.tn.Genesis
	sk, err := keys.Ring{Dir: c.tn.Keyring}.Get("sponsor")
	if err != nil {
		t.Fatal(err)
	}
	sponsor := sk.Private
	const (
		workers  = 12
		large    = 32 // 1 MiB each: 32 MiB offered against 4 × 4 MiB of pools
		small    = 400
		attempts = 40
	)
	type sent struct {
		hash block.Hash
		node int
	}
	var (
		mu       sync.Mutex
		accepted []sent
		codes    = map[int]int{}
	)
	var busyNoRetryAfter atomic.Int64
	var next atomic.Int64
	live := c.live()
	hc := &http.Client{Timeout: time.Minute}
	post := func(i int, raw []byte) int {
		n := live[i%len(live)]
		for a := 0; a < attempts; a++ {
			resp, err := hc.Post(n.APIURL()+"/v1/tx", "application/octet-stream", bytes.NewReader(raw))
			if err != nil {
				t.Errorf("post: %v", err)
				return 0
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
			if resp.StatusCode != http.StatusTooManyRequests {
				return resp.StatusCode
			}
			if resp.Header.Get("Retry-After") == "" {
				busyNoRetryAfter.Add(1)
			}
			time.Sleep(100 * time.Millisecond) // bounded by attempts
		}
		return http.StatusTooManyRequests
	}
	var wg sync.WaitGroup
	var spread atomic.Uint64
	stop := make(chan struct{})
	go func() { // the largest height difference between nodes during the flood
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			lo, hi := ^uint64(0), uint64(0)
			for _, n := range live {
				h := n.ledger.Head().Height
				lo, hi = min(lo, h), max(hi, h)
			}
			if d := hi - lo; d > spread.Load() {
				spread.Store(d)
			}
		}
	}()
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= large+small {
					return
				}
				var tx *block.Tx
				if i%((large+small)/large) == 0 && i/((large+small)/large) < large {
					// Not wasm: it commits with a failed receipt.
					code := bytes.Repeat([]byte{byte(i), 0x5a}, 1<<19)
					tx = &block.Tx{ChainID: g.ChainID, Nonce: client.Nonce(), Kind: block.KindDeploy,
						Payload: (&block.DeployPayload{Code: code, Policy: block.PolicyImmutable, Label: "flood"}).Encode()}
					tx.GasLimit = min(state.IntrinsicGas(tx)+1_000_000, g.Params.MaxTxGas)
					tx.Sign(sponsor)
				} else {
					tx = client.Sign(c.site, g.ChainID, block.KindAnchor,
						(&block.AnchorPayload{Hash: block.Sum([]byte(fmt.Sprint("flood", i))), Label: "flood"}).Encode(), 100_000)
				}
				if code := post(i, tx.Encode()); code == http.StatusOK {
					mu.Lock()
					accepted = append(accepted, sent{tx.Hash(), i % len(live)})
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	offered := time.Since(start)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, s := range accepted {
		for _, n := range live {
			if _, err := n.ledger.WaitReceipt(ctx, s.hash); err != nil {
				close(stop)
				var heads []uint64
				for _, n := range live {
					heads = append(heads, n.ledger.Head().Height)
				}
				t.Fatalf("accepted tx %s (via node %d) has no receipt on node %d (heads %v): %v",
					s.hash, live[s.node].cfg.ID, n.cfg.ID, heads, err)
			}
		}
	}
	close(stop)
	c.waitSameHead(30 * time.Second)
	c.sameChain()
	var drops uint64
	for _, n := range live {
		_, d := n.replica.PoolBytes()
		drops += d
	}
	t.Logf("offered %d txs (%d × 1 MiB) in %s: answers %v; %d accepted all committed on 4 nodes by %s; "+
		"max height spread %d; pooled forwards not sent %d", large+small, large, offered.Round(time.Millisecond),
		codes, len(accepted), time.Since(start).Round(time.Millisecond), spread.Load(), drops)
	if busyNoRetryAfter.Load() > 0 {
		t.Errorf("%d answers 429 without Retry-After", busyNoRetryAfter.Load())
	}
	for code, k := range codes {
		if code != http.StatusOK && code != http.StatusTooManyRequests {
			t.Errorf("%d answers %d: want only 200 or 429", k, code)
		}
	}
	if len(accepted) < small/2 {
		t.Errorf("only %d of %d accepted", len(accepted), large+small)
	}
}
