package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/store"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestLeaderChanges(t *testing.T) {
	for _, tc := range []struct {
		leaders []uint64
		changes int
	}{
		{[]uint64{1, 1, 1}, 0},
		{[]uint64{1, 2, 2, 3}, 2},
		{[]uint64{0, 1, 0, 1}, 0}, // unknown in between is no change
		{[]uint64{0, 0, 2}, 0},
		{[]uint64{2, 0, 3}, 1},
	} {
		m := New(1, Sources{})
		for i, l := range tc.leaders {
			m.SetLeader(l, uint64(i))
		}
		want := fmt.Sprintf("trialchain_consensus_leader_changes_total %d\n", tc.changes)
		if got := scrape(t, m); !strings.Contains(got, want) {
			t.Errorf("leaders %v: want %q in\n%s", tc.leaders, want, got)
		}
	}
}

func TestSources(t *testing.T) {
	m := New(7, Sources{
		Store:    func() store.Stats { return store.Stats{DiskBytes: 1234, L0Files: 3} },
		Peers:    func() []Peer { return []Peer{{ID: 1, Name: "a", Connected: true}, {ID: 2, Name: "b"}} },
		Restarts: func() uint64 { return 2 },
	})
	m.Refused("nonce_used")
	m.Refused("nonce_used")
	m.Committed(3, 900)
	m.ObserveCommit(20 * time.Millisecond)
	got := scrape(t, m)
	for _, want := range []string{
		"trialchain_pebble_disk_bytes 1234", "trialchain_pebble_l0_files 3",
		`trialchain_peer_connected{name="a",peer="1"} 1`, `trialchain_peer_connected{name="b",peer="2"} 0`,
		"trialchain_peers_connected 1", `trialchain_refused_txs_total{reason="nonce_used"} 2`,
		"trialchain_committed_txs_total 3", "trialchain_gas_used_total 900",
		`trialchain_commit_latency_seconds_bucket{le="0.025"} 1`, `trialchain_node_info{node="7"} 1`,
		"trialchain_consensus_restarts_total 2",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing %q", want)
		}
	}
}

func ExampleMetrics() {
	m := New(1, Sources{})
	m.SetHeight(42)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "trialchain_height ") {
			fmt.Println(line)
		}
	}
	// Output: trialchain_height 42
}
