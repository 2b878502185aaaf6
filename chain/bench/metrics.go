package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Watch is what a node's metrics listener showed during a phase: the
// first and last readings of its height and of the commit latency
// histogram's count, and the largest request pool seen.
type Watch struct {
	Scrapes        int     `json:"scrapes"`
	HeightFrom     float64 `json:"height_from"`
	HeightTo       float64 `json:"height_to"`
	CommitsFrom    float64 `json:"commit_latency_count_from"`
	CommitsTo      float64 `json:"commit_latency_count_to"`
	PoolTxsMax     float64 `json:"request_pool_txs_max"`
	PoolBytesMax   float64 `json:"request_pool_bytes_max"`
	CommittedTxsTo float64 `json:"committed_txs_to"`
}

// Moved reports whether height and commit count rose and the pool was
// seen non-empty.
func (w Watch) Moved() bool {
	return w.HeightTo > w.HeightFrom && w.CommitsTo > w.CommitsFrom && w.PoolTxsMax > 0
}

// The metric names Watch reads (chain/metrics).
const (
	metricHeight    = "trialchain_height"
	metricCommits   = "trialchain_commit_latency_seconds_count"
	metricPoolTxs   = "trialchain_request_pool_txs"
	metricPoolBytes = "trialchain_request_pool_bytes"
	metricTxs       = "trialchain_committed_txs_total"
)

// WatchMetrics scrapes url every interval until ctx ends (the last scrape
// is made then). It fails if no scrape succeeded.
func WatchMetrics(ctx context.Context, url string, interval time.Duration) (Watch, error) {
	var w Watch
	var lastErr error
	hc := &http.Client{Timeout: 5 * time.Second}
	scrape := func() {
		m, err := Scrape(context.WithoutCancel(ctx), hc, url)
		if err != nil {
			lastErr = err
			return
		}
		if w.Scrapes == 0 {
			w.HeightFrom, w.CommitsFrom = m[metricHeight], m[metricCommits]
		}
		w.Scrapes++
		w.HeightTo, w.CommitsTo, w.CommittedTxsTo = m[metricHeight], m[metricCommits], m[metricTxs]
		w.PoolTxsMax = math.Max(w.PoolTxsMax, m[metricPoolTxs])
		w.PoolBytesMax = math.Max(w.PoolBytesMax, m[metricPoolBytes])
	}
	scrape()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			scrape()
			if w.Scrapes == 0 {
				return w, fmt.Errorf("bench: metrics %s: %w", url, lastErr)
			}
			return w, nil
		case <-t.C:
			scrape()
		}
	}
}

// Scrape reads the unlabelled samples of a Prometheus text exposition.
func Scrape(ctx context.Context, hc *http.Client, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bench: metrics %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("bench: metrics %s: %w", url, err)
	}
	return ParseMetrics(b), nil
}

// ParseMetrics returns the samples without labels of a Prometheus text
// exposition ("name value [timestamp]" lines); comments, labelled samples
// and lines it cannot read are skipped.
func ParseMetrics(b []byte) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || len(f) > 3 {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		out[f[0]] = v
	}
	return out
}
