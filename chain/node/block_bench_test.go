package node

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/sdk/client"
)

// BenchmarkRawBlockAnswer serves GET /v1/block/H?raw=1 of an ~8 MiB block
// to a client that discards it. B/op is the Go heap one answer costs: the
// block itself is read once into Pebble's buffer and hex-encoded from it
// in 32 KiB pieces, never copied (before: ~16 MB per answer, the block
// copied out of Pebble and again by the decoder).
//
//	go test -run '^$' -bench RawBlockAnswer -benchmem ./chain/node
func BenchmarkRawBlockAnswer(b *testing.B) {
	c := newCluster(b, 1)
	g := c.tn.Genesis
	k, err := keys.Ring{Dir: c.tn.Keyring}.Get("sponsor")
	if err != nil {
		b.Fatal(err)
	}
	code := make([]byte, int(g.Params.RequestMaxBytes)-8<<10)
	_, _ = rand.Read(code)
	rc := c.send(client.Sign(k.Private, g.ChainID, block.KindDeploy, (&block.DeployPayload{Code: code, Policy: block.PolicyImmutable, Label: "junk"}).Encode(), g.Params.MaxTxGas))
	h := c.nodes[0].Handler()
	path := fmt.Sprintf("/v1/block/%d?raw=1", rc.Height)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.code != http.StatusOK || w.n < 2*len(code) {
			b.Fatalf("answer %d, %d bytes", w.code, w.n)
		}
		b.SetBytes(int64(w.n))
	}
}

// discardWriter is an http.ResponseWriter that counts and drops the body.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}
func (d *discardWriter) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = http.StatusOK
	}
	d.n += len(p)
	return len(p), nil
}
