package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/procnet"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
)

// fakeNode serves a status (with damage, or not) and the tampered
// anchor, receipt and block, with label as the anchor's label and signers
// as the block's.
func fakeNode(t *testing.T, damaged bool, label string, signers []uint64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		switch {
		case r.URL.Path == "/v1/status":
			st := view.Status{Height: 9}
			if damaged {
				st.StoreDamage = []string{"block 3: receipt altered"}
			}
			enc.Encode(st)
		case damaged:
			w.WriteHeader(http.StatusServiceUnavailable)
			enc.Encode(view.Error{Error: "damaged", Code: "store_damaged"})
		case strings.HasPrefix(r.URL.Path, "/v1/anchors/"):
			enc.Encode([]view.Anchor{{Label: label, Height: 3}})
		case strings.HasPrefix(r.URL.Path, "/v1/block/"):
			enc.Encode(view.Block{Header: view.Header{Height: 3}, Signers: signers})
		default:
			enc.Encode(view.TxWithReceipt{Receipt: &view.Receipt{Height: 3}})
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestCheckRepaired shows the disk-tamper check passes a restarted node
// that repaired its store and serves what the reference node serves (its
// block signed by another quorum), and fails one that stays damaged or
// serves the altered anchor.
func TestCheckRepaired(t *testing.T) {
	tests := []struct {
		name    string
		damaged bool
		label   string
		fails   int
	}{
		{"repaired", false, "doc", 0},
		{"serves the altered label", false, "altered on disk", 1},
		{"stays damaged", true, "doc", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			node := fakeNode(t, tc.damaged, tc.label, []uint64{1, 2, 3})
			ref := fakeNode(t, false, "doc", []uint64{2, 3, 4})
			c := &Cluster{Network: &procnet.Network{Clients: []*client.Client{client.New(node.URL), client.New(ref.URL)}}}
			fails := checkRepaired(context.Background(), c, 0, 1, &Tampered{Height: 3, Tx: block.Sum([]byte("tx")), Doc: block.Sum([]byte("doc"))}, 300*time.Millisecond)
			if len(fails) != tc.fails {
				t.Fatalf("%d failures, want %d: %q", len(fails), tc.fails, fails)
			}
		})
	}
}
