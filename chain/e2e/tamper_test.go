package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/procnet"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
)

// TestCheckRefuses shows the disk-tamper check fails a node that says its
// store is damaged but still serves the altered anchor, receipt or block,
// and passes one that refuses them.
func TestCheckRefuses(t *testing.T) {
	tests := []struct {
		name   string
		refuse bool
		fails  int
	}{
		{"refuses", true, 0},
		{"serves anyway", false, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch {
				case r.URL.Path == "/v1/status":
					json.NewEncoder(w).Encode(view.Status{StoreDamage: []string{"block 3: receipt altered"}})
				case tc.refuse:
					w.WriteHeader(http.StatusServiceUnavailable)
					json.NewEncoder(w).Encode(view.Error{Error: "damaged", Code: "store_damaged"})
				case strings.HasPrefix(r.URL.Path, "/v1/anchors/"):
					w.Write([]byte(`[]`))
				default:
					w.Write([]byte(`{}`))
				}
			}))
			defer srv.Close()
			c := &Cluster{Network: &procnet.Network{Clients: []*client.Client{client.New(srv.URL)}}}
			fails := checkRefuses(context.Background(), c, 0, &Tampered{Height: 3, Tx: block.Sum([]byte("tx")), Doc: block.Sum([]byte("doc"))})
			if len(fails) != tc.fails {
				t.Fatalf("%d failures, want %d: %q", len(fails), tc.fails, fails)
			}
		})
	}
}
