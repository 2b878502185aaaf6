package node

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/internal/cputime"
)

// BenchmarkSubmitWait is POST /v1/tx?wait=1 of signed anchors through the
// API's whole handler (guard, damage check, mux, admission, consensus
// submit, wait, answer) on a one-validator network, 32 requests in
// flight per GOMAXPROCS. A request ends with its receipt, so ns/op,
// cpu-ns/op (the process's CPU time, less sensitive than ns/op to other
// load on the machine) and allocs/op include the node's consensus and
// commit, which the API does not change; the transactions are signed
// before the timer.
//
//	go test -run '^$' -bench SubmitWait -benchmem ./chain/node
//
// "bounded" signs the transactions with a ValidUntil bound (as the SDK
// does by default), which the wait also watches.
func BenchmarkSubmitWait(b *testing.B) {
	for _, bb := range []struct {
		name  string
		bound time.Duration
	}{{"unbounded", 0}, {"bounded", time.Hour}} {
		b.Run(bb.name, func(b *testing.B) {
			c := newCluster(b, 1)
			n := c.nodes[0]
			h := newGuard(n.cfg.Limits.withDefaults(), n.bodyLimit, n.log).wrap(n.refuseDamaged(n.Handler()))
			var validUntil uint64
			if bb.bound > 0 {
				validUntil = uint64(time.Now().Add(bb.bound).UnixMilli())
			}
			raws := make([][]byte, b.N) // each round has a network of its own: nonces from 0
			for i := range raws {
				tx := &block.Tx{ChainID: c.tn.Genesis.ChainID, Nonce: uint64(i), Kind: block.KindAnchor, GasLimit: 100_000, ValidUntil: validUntil,
					Payload: (&block.AnchorPayload{Hash: block.Sum([]byte(fmt.Sprint("doc", i))), Label: "doc"}).Encode()}
				tx.Sign(c.site)
				raws[i] = tx.Encode()
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(32)
			b.ResetTimer()
			cpu0 := cputime.Process()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					raw := raws[next.Add(1)-1]
					w := &discardWriter{h: http.Header{}}
					r := httptest.NewRequest(http.MethodPost, "/v1/tx?wait=1", bytes.NewReader(raw))
					h.ServeHTTP(w, r)
					if w.code != http.StatusOK {
						b.Errorf("answer %d", w.code)
						return
					}
				}
			})
			b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
