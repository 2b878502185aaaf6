package main

import (
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/metrics"
	"github.com/trialchain/trialchain/chain/store"
)

// TestDashboardNamesMetrics checks that every metric the sample Grafana
// dashboard queries is one a node exports.
func TestDashboardNamesMetrics(t *testing.T) {
	dash, err := os.ReadFile(filepath.Join("deploy", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(1, metrics.Sources{Store: func() store.Stats { return store.Stats{} },
		Peers: func() []metrics.Peer { return []metrics.Peer{{ID: 2, Name: "b"}} }})
	m.ObserveCommit(0)
	m.ObserveProposal(0)
	m.ObserveCompile(0)
	m.Refused("malformed")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	exported := string(body)
	names := regexp.MustCompile(`trialchain_[a-z0-9_]+`).FindAllString(string(dash), -1)
	if len(names) < 10 {
		t.Fatalf("the dashboard queries only %d metrics", len(names))
	}
	for _, name := range names {
		if !strings.Contains(exported, "\n"+name+" ") && !strings.Contains(exported, "\n"+name+"{") {
			t.Errorf("the dashboard queries %s, which a node does not export", name)
		}
	}
}
