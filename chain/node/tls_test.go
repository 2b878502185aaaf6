package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/sdk/client"
)

// TestClientOverTLSAndHTTP3 is a site in another organisation using the
// SDK: a node on 127.0.0.1 with plain HTTP off, reached over TLS on TCP
// (https://) and over HTTP/3 (h3://, same port on UDP), the node's key
// pinned from the genesis. Each transport submits, reads verified blocks,
// and uploads and reads back a payload with signed requests; a client
// pinning another validator's key is refused on both.
func TestClientOverTLSAndHTTP3(t *testing.T) {
	c := newClusterWith(t, 1, func(_ int, cfg *Config) {
		f, tr := false, true
		cfg.PlainHTTP, cfg.HTTP3 = &f, &tr
	})
	n := c.nodes[0]
	if n.H3Addr() == nil {
		t.Fatal("no HTTP/3 listener")
	}
	addr := strings.TrimPrefix(n.TLSURL(), "https://")
	if n.H3Addr().String() != addr {
		t.Fatalf("HTTP/3 on %s, TLS on %s: want the same host:port", n.H3Addr(), addr)
	}
	g := c.tn.Genesis
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if resp, err := http.Get("http://" + addr + "/v1/status"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("plain HTTP answered with plain_http = false: %s", b)
		}
	}

	// Another key for the same address: a genesis that pins validator 0's
	// API to a fresh key.
	other, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{"https", "h3"} {
		t.Run(scheme, func(t *testing.T) {
			cl, err := client.ForGenesis(g, scheme+"://"+addr)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			st, err := cl.Status(ctx)
			if err != nil {
				t.Fatalf("status: %v", err)
			}
			if st.ChainID != g.ChainID {
				t.Fatalf("chain %q, want %q", st.ChainID, g.ChainID)
			}
			data := []byte(fmt.Sprintf("case report form over %s", scheme))
			h := block.Sum(data)
			tx := client.Sign(c.site, g.ChainID, block.KindAnchor, (&block.AnchorPayload{Hash: h, Label: scheme}).Encode(), 100_000)
			sub, err := cl.Submit(ctx, tx, true)
			if err != nil {
				t.Fatalf("submit: %v", err)
			}
			if sub.Receipt == nil || sub.Receipt.Status != block.StatusOK.String() {
				t.Fatalf("receipt %+v", sub.Receipt)
			}
			if _, err := cl.VerifiedBlock(ctx, g, sub.Receipt.Height); err != nil {
				t.Fatalf("verified block: %v", err)
			}
			if _, err := cl.PutPayload(ctx, c.site, g.ChainID, data); err != nil {
				t.Fatalf("payload upload: %v", err)
			}
			got, err := cl.Payload(ctx, c.site, g.ChainID, h)
			if err != nil || string(got) != string(data) {
				t.Fatalf("payload read: %q %v", got, err)
			}

			liar := client.Pinned(scheme+"://"+addr, other)
			defer liar.Close()
			if _, err := liar.Status(ctx); !errors.Is(err, client.ErrWrongNodeKey) {
				t.Fatalf("a client pinning another key: %v, want ErrWrongNodeKey", err)
			}
		})
	}
}
