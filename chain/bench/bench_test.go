package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchMetricsMove runs a short closed- and open-loop anchor bench on
// 4 validator processes and checks the report's figures and that
// validator 1's metrics listener showed the height, the commit latency
// histogram's count and the request pool move while it ran.
func TestBenchMetricsMove(t *testing.T) {
	if testing.Short() {
		t.Skip("process network: not in -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	prof := filepath.Join(t.TempDir(), "bench.pprof")
	rep, err := Run(ctx, Config{Bin: testBinary(t), Validators: 4, Workloads: []Workload{Anchors()}, Modes: []Mode{Closed, Open},
		Txs: 600, Concurrency: 48, Rate: 60, Duration: 4 * time.Second, Progress: &progress, Dir: t.TempDir(), CPUProfile: prof})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var table bytes.Buffer
	rep.WriteTable(&table)
	t.Logf("\n%s", table.String())
	if !strings.Contains(progress.String(), rep.MetricsURL[3]) || len(rep.MetricsURL) != 4 {
		t.Errorf("the progress does not name the 4 metrics URLs %v:\n%s", rep.MetricsURL, progress.String())
	}
	if rep.VerifyPerSec <= 0 || rep.BoundTxPerSec != rep.VerifyPerSec/4 {
		t.Errorf("ed25519 bound: %v verifications/s, bound %v", rep.VerifyPerSec, rep.BoundTxPerSec)
	}
	if len(rep.Results) != 2 {
		t.Fatalf("%d results, want closed and open", len(rep.Results))
	}
	for _, r := range rep.Results {
		name := string(r.Workload) + " " + string(r.Mode)
		if r.Committed == 0 || r.Committed != r.Submitted || r.Failed+r.Refused+r.Errors+r.Skipped != 0 {
			t.Errorf("%s: %d submitted, %d committed, %d failed, %d refused, %d errors (%s), %d skipped", name,
				r.Submitted, r.Committed, r.Failed, r.Refused, r.Errors, r.FirstError, r.Skipped)
		}
		if r.TxPerSec <= 0 || r.P50Ms <= 0 || r.P99Ms < r.P50Ms || r.Blocks == 0 || r.BoundRatio <= 0 {
			t.Errorf("%s: %.0f tx/s, p50 %v, p99 %v, %d blocks, ratio %v", name, r.TxPerSec, r.P50Ms, r.P99Ms, r.Blocks, r.BoundRatio)
		}
		if len(r.CPUPerTxUs) != 4 || len(r.RSSMiB) != 4 || len(r.PeakRSSMiB) != 4 {
			t.Fatalf("%s: per-validator figures %v %v %v", name, r.CPUPerTxUs, r.RSSMiB, r.PeakRSSMiB)
		}
		for i := range 4 {
			if r.CPUPerTxUs[i] <= 0 || r.RSSMiB[i] <= 0 || r.PeakRSSMiB[i] < r.RSSMiB[i] {
				t.Errorf("%s validator %d: %v µs/tx, %v MiB, peak %v MiB", name, i+1, r.CPUPerTxUs[i], r.RSSMiB[i], r.PeakRSSMiB[i])
			}
		}
		if !r.Metrics.Moved() || r.MetricsError != "" {
			t.Errorf("%s: validator 1's metrics did not move: %+v %s", name, r.Metrics, r.MetricsError)
		}
	}
	if len(rep.Profiles) != 4 {
		t.Errorf("profiles %v, want one per validator", rep.Profiles)
	}
	for i, p := range rep.Profiles {
		if want := filepath.Join(filepath.Dir(prof), fmt.Sprintf("bench-v%d.pprof", i+1)); p != want {
			t.Errorf("profile %d is %s, want %s", i+1, p, want)
		}
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("validator %d wrote no CPU profile at %s: %v", i+1, p, err)
		}
	}
	if o := rep.Results[1]; o.Mode != Open || o.OfferedRate != 60 {
		t.Errorf("second phase %s at %v tx/s, want open at 60", o.Mode, o.OfferedRate)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"tx_per_sec"`, `"p50_ms"`, `"p99_ms"`, `"cpu_per_tx_us"`, `"rss_mib"`, `"bound_ratio"`, `"ed25519_verify_per_sec"`, `"request_pool_txs_max"`} {
		if !bytes.Contains(b, []byte(k)) {
			t.Errorf("JSON report lacks %s", k)
		}
	}
	for _, k := range []string{"tx/s", "of bound", "p50 ms", "p99 ms", "CPU µs/tx/val", "RSS MiB/val", "ed25519 bound"} {
		if !strings.Contains(table.String(), k) {
			t.Errorf("table lacks %q", k)
		}
	}
}

// TestBenchBatches runs both loops with transactions sent 8 to a request
// (POST /v1/txs): every transaction counts once and commits, and the
// table says the batch size.
func TestBenchBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("process network: not in -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	rep, err := Run(ctx, Config{Bin: testBinary(t), Validators: 4, Workloads: []Workload{Anchors()}, Modes: []Mode{Closed, Open},
		Txs: 403, Concurrency: 48, Batches: []int{8}, Rate: 80, Duration: 4 * time.Second, Progress: &progress, Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var table bytes.Buffer
	rep.WriteTable(&table)
	t.Logf("\n%s", table.String())
	if len(rep.Results) != 2 {
		t.Fatalf("%d results, want closed and open", len(rep.Results))
	}
	for _, r := range rep.Results {
		name := string(r.Workload) + " " + string(r.Mode)
		if r.Batch != 8 || r.Committed == 0 || r.Committed != r.Submitted || r.Failed+r.Refused+r.Errors+r.Skipped != 0 {
			t.Errorf("%s: batch %d, %d submitted, %d committed, %d failed, %d refused, %d errors (%s), %d skipped", name,
				r.Batch, r.Submitted, r.Committed, r.Failed, r.Refused, r.Errors, r.FirstError, r.Skipped)
		}
	}
	if c := rep.Results[0]; c.Submitted != 403 && c.Seconds < 4 {
		t.Errorf("closed loop: %d of 403 submitted in %.1f s (the last, short batch lost?)", c.Submitted, c.Seconds)
	}
	if !strings.Contains(table.String(), "48 in flight, 8/req") {
		t.Errorf("the table does not give the batch size:\n%s", table.String())
	}
}

func TestParseMetrics(t *testing.T) {
	in := `# HELP trialchain_height Height.
# TYPE trialchain_height gauge
trialchain_height 42
trialchain_commit_latency_seconds_bucket{le="0.005"} 3
trialchain_commit_latency_seconds_count 17
trialchain_request_pool_txs 5 1700000000000
bad_line
trialchain_x notanumber
trialchain_y 1 2 3
`
	got := ParseMetrics([]byte(in))
	want := map[string]float64{"trialchain_height": 42, "trialchain_commit_latency_seconds_count": 17, "trialchain_request_pool_txs": 5}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	moved := []struct {
		w    Watch
		want bool
	}{
		{Watch{HeightFrom: 1, HeightTo: 2, CommitsFrom: 0, CommitsTo: 5, PoolTxsMax: 1}, true},
		{Watch{HeightFrom: 2, HeightTo: 2, CommitsFrom: 0, CommitsTo: 5, PoolTxsMax: 1}, false},
		{Watch{HeightFrom: 1, HeightTo: 2, CommitsFrom: 5, CommitsTo: 5, PoolTxsMax: 1}, false},
		{Watch{HeightFrom: 1, HeightTo: 2, CommitsFrom: 0, CommitsTo: 5}, false},
	}
	for i, c := range moved {
		if c.w.Moved() != c.want {
			t.Errorf("case %d: Moved() = %v", i, !c.want)
		}
	}
}

func FuzzParseMetrics(f *testing.F) {
	f.Add([]byte("trialchain_height 42\n# x\na{b=\"c\"} 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for k := range ParseMetrics(b) {
			if k == "" || strings.ContainsAny(k, " \t{#") {
				t.Fatalf("sample name %q", k)
			}
		}
	})
}
