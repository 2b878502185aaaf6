package node

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape reads a metrics endpoint into name{labels} → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func getText(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsMove scrapes a real node of a 4-node cluster before and after
// commits made through its API, and checks that the figures an operator
// watches are there and move; readiness follows the links to a quorum.
func TestMetricsMove(t *testing.T) {
	c := newClusterWith(t, 4, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Metrics = "127.0.0.1:0"
		}
	})
	n := c.nodes[0]
	url := n.MetricsURL()
	if url == "" {
		t.Fatal("no metrics listener")
	}
	if code, body := getText(t, url+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz: %d %s", code, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := getText(t, url+"/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz with 4 nodes up: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	before := scrape(t, url)
	for _, name := range []string{"trialchain_height", "trialchain_consensus_view", "trialchain_consensus_leader_changes_total",
		"trialchain_proposal_latency_seconds_count", "trialchain_commit_latency_seconds_count", "trialchain_request_pool_txs",
		"trialchain_request_pool_bytes", "trialchain_gas_used_total", "trialchain_vm_compile_seconds_count",
		"trialchain_pebble_disk_bytes", "trialchain_pebble_wal_bytes", "trialchain_peers_connected", "trialchain_consensus_restarts_total", `trialchain_peer_connected{name="node1",peer="2"}`} {
		if _, ok := before[name]; !ok {
			t.Errorf("metric %s missing", name)
		}
	}

	const txs = 5
	api := n.APIURL()
	for nonce := uint64(1); nonce <= txs; nonce++ {
		resp, err := http.Post(api+"/v1/tx?wait=1", "application/octet-stream", bytes.NewReader(c.anchorTx(nonce)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("submit %d: %s %s", nonce, resp.Status, b)
		}
	}
	// A malformed and a replayed transaction are refused, each by reason.
	for _, raw := range [][]byte{[]byte("not a transaction"), c.anchorTx(1)} {
		resp, err := http.Post(api+"/v1/tx", "application/octet-stream", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("a bad transaction was admitted")
		}
	}
	after := scrape(t, url)
	t.Logf("height %v → %v, commit latency count %v sum %.3fs, gas %v, disk %v bytes", before["trialchain_height"], after["trialchain_height"],
		after["trialchain_commit_latency_seconds_count"], after["trialchain_commit_latency_seconds_sum"], after["trialchain_gas_used_total"], after["trialchain_pebble_disk_bytes"])
	grew := func(name string, by float64) {
		t.Helper()
		if after[name]-before[name] < by {
			t.Errorf("%s went from %v to %v, want +%v", name, before[name], after[name], by)
		}
	}
	grew("trialchain_height", 1)
	grew("trialchain_committed_txs_total", txs)
	grew("trialchain_commit_latency_seconds_count", txs)
	grew("trialchain_proposal_latency_seconds_count", 1)
	grew("trialchain_gas_used_total", 1)
	grew(`trialchain_refused_txs_total{reason="malformed"}`, 1)
	grew(`trialchain_refused_txs_total{reason="nonce_used"}`, 1)
	if after["trialchain_request_pool_txs"] != 0 {
		t.Errorf("request pool holds %v transactions after all committed", after["trialchain_request_pool_txs"])
	}
	if after["trialchain_peers_connected"] != 3 {
		t.Errorf("peers connected %v, want 3", after["trialchain_peers_connected"])
	}

	// Two peers down: alive, but no longer ready (no quorum of links).
	c.stop(2)
	c.stop(3)
	deadline = time.Now().Add(30 * time.Second)
	for {
		code, body := getText(t, url+"/readyz")
		if code == http.StatusServiceUnavailable && strings.Contains(body, "quorum") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz with 2 of 4 nodes: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := getText(t, url+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz of a live node without quorum: %d", code)
	}
	if m := scrape(t, url); m[`trialchain_peer_connected{name="node2",peer="3"}`] != 0 {
		t.Errorf("peer 3 stopped but reported connected")
	}
}
