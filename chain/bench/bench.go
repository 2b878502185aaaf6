package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/procnet"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
)

// Mode is how the load is offered.
type Mode string

// Modes.
const (
	Closed Mode = "closed" // fixed concurrency: each submitter waits for its receipt
	Open   Mode = "open"   // fixed offered rate, whatever the answers
)

// ParseMode parses "closed", "open" or "both".
func ParseMode(s string) ([]Mode, error) {
	switch s {
	case "closed":
		return []Mode{Closed}, nil
	case "open":
		return []Mode{Open}, nil
	case "both", "":
		return []Mode{Closed, Open}, nil
	}
	return nil, fmt.Errorf("bench: mode %q: want closed, open or both", s)
}

// Env is what a workload prepares its transactions with.
type Env struct {
	Genesis *genesis.Genesis
	ChainID string
	Keyring keys.Ring // the testnet keyring: one member key per role
	Clients []*client.Client
	// Contracts is the directory of built contracts (make contracts).
	Contracts string
	Log       func(format string, args ...any)
}

// Workload makes the transactions of a benchmark.
type Workload interface {
	Name() string
	// Prepare makes Tx(i) valid for every i < n, or for fewer if the
	// workload bounds what it prepares, and returns that count; it may
	// submit and wait for setup transactions (deployments, enrolments).
	// It is called before each phase with a growing n and is not
	// measured.
	Prepare(ctx context.Context, env *Env, n int) (int, error)
	// Tx returns the i-th signed transaction (i < the last Prepare's n);
	// safe for concurrent use.
	Tx(i int) *block.Tx
}

// Config configures Run.
type Config struct {
	Bin        string // the trialchain binary the validators run
	Validators int
	Workloads  []Workload
	Modes      []Mode
	// Txs bounds a closed-loop phase; Duration bounds every phase.
	Txs         int
	Concurrency int
	// Batches lists the transactions per request each workload runs
	// with, every mode at each (nil: 1). Above 1, transactions go that
	// many at a time in one request (POST /v1/txs, client.SubmitBatch):
	// a closed loop's Concurrency transactions in flight are then
	// Concurrency/batch requests; an open loop sends each batch of
	// scheduled transactions when the last is due (latency still counts
	// from each one's scheduled time) and, by default, offers 80% of the
	// closed loop's figure at the same batch size.
	Batches []int
	// Rate is the open loop's offered tx/s (0: 80% of the workload's
	// closed-loop figure of this run, or 200 without one).
	Rate     float64
	Duration time.Duration
	// Contracts is the directory of built contracts, for workloads that
	// deploy one.
	Contracts string
	// Metrics, if set, is node 1's metrics listener address (the others
	// get free ports).
	Metrics string
	// CPUProfile, if set, makes validator N write a CPU profile of the
	// whole run to this path with "-vN" before its extension
	// (bench.pprof → bench-v1.pprof …); Run stops the validators with
	// SIGTERM so they write it.
	CPUProfile string
	// Params overrides the genesis parameters (nil: the defaults).
	Params *genesis.Params
	// Progress receives a line per step (nil: none).
	Progress io.Writer
	// Dir holds the network (empty: a temporary directory, removed).
	Dir string
}

// Report is a run's figures, printed as a table or JSON.
type Report struct {
	Validators int      `json:"validators"`
	CPUs       int      `json:"cpus"`
	GOMAXPROCS int      `json:"gomaxprocs"`
	LoadAvg    string   `json:"loadavg"` // /proc/loadavg when the run ended
	MetricsURL []string `json:"metrics_urls"`
	// VerifyPerSec is ed25519 verifications of a signed anchor
	// transaction per second on GOMAXPROCS goroutines, measured in this
	// run; BoundTxPerSec is it divided by the number of validators.
	VerifyPerSec  float64  `json:"ed25519_verify_per_sec"`
	BoundTxPerSec float64  `json:"bound_tx_per_sec"`
	Results       []Result `json:"results"`
	Profiles      []string `json:"cpu_profiles,omitempty"` // one per validator (Config.CPUProfile)
}

// Result is one workload in one mode.
type Result struct {
	Workload    string  `json:"workload"`
	Mode        Mode    `json:"mode"`
	Concurrency int     `json:"concurrency,omitempty"`
	Batch       int     `json:"batch,omitempty"` // transactions per request (Config.Batches), if above 1
	OfferedRate float64 `json:"offered_tx_per_sec,omitempty"`
	Submitted   int     `json:"submitted"`
	Committed   int     `json:"committed"`         // receipts with status ok
	Failed      int     `json:"failed"`            // receipts with another status
	Refused     int     `json:"refused"`           // 429 after the client's retries, or 503 busy
	Errors      int     `json:"errors"`            // other errors, or no receipt by the end
	Skipped     int     `json:"skipped,omitempty"` // open loop: sends not made (too many in flight)
	FirstError  string  `json:"first_error,omitempty"`
	Seconds     float64 `json:"seconds"`
	TxPerSec    float64 `json:"tx_per_sec"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	Blocks      uint64  `json:"blocks"`
	// CPUPerTxUs is each validator's CPU time per committed transaction
	// (µs); RSSMiB its resident memory at the end, PeakRSSMiB its peak
	// since it started.
	CPUPerTxUs   []float64 `json:"cpu_per_tx_us"`
	RSSMiB       []float64 `json:"rss_mib"`
	PeakRSSMiB   []float64 `json:"peak_rss_mib"`
	BoundRatio   float64   `json:"bound_ratio"` // TxPerSec / Report.BoundTxPerSec
	Metrics      Watch     `json:"metrics"`     // node 1's metrics during the phase
	MetricsError string    `json:"metrics_error,omitempty"`
}

// Run starts the network, measures every workload in every mode and
// stops the network.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Validators < 1 || cfg.Txs < 1 || cfg.Concurrency < 1 || cfg.Duration <= 0 || len(cfg.Workloads) == 0 || len(cfg.Modes) == 0 {
		return nil, errors.New("bench: need validators, txs, concurrency ≥ 1, a duration, a workload and a mode")
	}
	say := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", args...)
		}
	}
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "trialchain-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	nw, err := procnet.New(cfg.Bin, dir, cfg.Validators, cfg.Params)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer nw.Close()
	if err := nw.EnableMetrics(); err != nil {
		return nil, err
	}
	if cfg.Metrics != "" {
		nw.Metrics[0] = cfg.Metrics
	}
	var profiles []string
	if cfg.CPUProfile != "" {
		abs, err := filepath.Abs(cfg.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		ext := filepath.Ext(abs)
		for i := range nw.Homes {
			profiles = append(profiles, fmt.Sprintf("%s-v%d%s", strings.TrimSuffix(abs, ext), i+1, ext))
		}
		nw.StartArgs = func(i int) []string { return []string{"--cpuprofile", profiles[i]} }
	}
	rep := &Report{Validators: cfg.Validators, CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	for i := range nw.Homes {
		rep.MetricsURL = append(rep.MetricsURL, nw.MetricsURL(i))
	}
	say("%d validator processes of %s on 127.0.0.1 (network in %s); metrics while the load runs:", cfg.Validators, cfg.Bin, dir)
	for i, u := range rep.MetricsURL {
		say("  validator %d: curl -s %s | grep -E 'trialchain_(height|request_pool_txs|commit_latency_seconds_count)'", i+1, u)
	}
	if err := nw.StartAll(60 * time.Second); err != nil {
		return nil, err
	}
	// Keep-alive connections for every submitter (the default transport
	// keeps 2 per host, so hundreds in flight would redial constantly),
	// at most connsPerNode per node: a node closes connections from one
	// address beyond its max_conns_per_ip (128), so more requests wait in
	// the client, and that wait counts in their latency.
	tr := &http.Transport{MaxConnsPerHost: connsPerNode, MaxIdleConnsPerHost: connsPerNode, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	clients := make([]*client.Client, len(nw.Clients))
	for i, c := range nw.Clients {
		clients[i] = client.New(c.Base)
		clients[i].HTTP = &http.Client{Transport: tr, Timeout: 3 * time.Minute}
	}
	env := &Env{Genesis: nw.Genesis, ChainID: nw.Genesis.ChainID, Keyring: keys.Ring{Dir: nw.Keyring}, Clients: clients, Contracts: cfg.Contracts,
		Log: func(f string, a ...any) { say("  "+f, a...) }}

	verify, err := VerifyRate(nw.Sponsor, nw.Genesis.ChainID, time.Second)
	if err != nil {
		return nil, err
	}
	rep.VerifyPerSec = verify
	rep.BoundTxPerSec = verify / float64(cfg.Validators)
	say("ed25519: %.0f verifications/s on %d goroutines → bound %.0f tx/s for %d validators", verify, rep.GOMAXPROCS, rep.BoundTxPerSec, cfg.Validators)

	r := &runner{nw: nw, env: env, clients: clients, cfg: cfg, say: say}
	batches := cfg.Batches
	if len(batches) == 0 {
		batches = []int{1}
	}
	for _, w := range cfg.Workloads {
		next := 0
		for _, batch := range batches {
			closedRate := 0.0
			for _, m := range cfg.Modes {
				p := phase{w: w, mode: m, base: next, conc: cfg.Concurrency, batch: batch}
				switch m {
				case Closed:
					p.n = cfg.Txs
				case Open:
					p.rate = cfg.Rate
					if p.rate <= 0 {
						p.rate = 200
						if closedRate > 0 {
							p.rate = math.Max(1, math.Round(0.8*closedRate))
						}
					}
					p.n = int(math.Ceil(p.rate * cfg.Duration.Seconds()))
				}
				say("%s: preparing %d transactions", w.Name(), p.n)
				got, err := w.Prepare(ctx, env, p.base+p.n)
				if err != nil {
					return nil, fmt.Errorf("bench: %s: %w", w.Name(), err)
				}
				if got-p.base < p.n {
					p.n = max(0, got-p.base)
					say("  %d transactions prepared (the workload's bound)", p.n)
				}
				per := ""
				if batch > 1 {
					per = fmt.Sprintf(", %d a request", batch)
				}
				if m == Closed {
					say("%s, closed loop: %d in flight%s, up to %d txs or %s", w.Name(), p.conc, per, p.n, cfg.Duration)
				} else {
					say("%s, open loop: %.0f tx/s offered%s for %s", w.Name(), p.rate, per, cfg.Duration)
				}
				res, err := r.run(ctx, p)
				if err != nil {
					return nil, fmt.Errorf("bench: %s %s: %w", w.Name(), m, err)
				}
				res.BoundRatio = res.TxPerSec / rep.BoundTxPerSec
				say("  %.0f tx/s committed, p50 %.1f ms, p99 %.1f ms (%d committed, %d failed, %d refused, %d errors)",
					res.TxPerSec, res.P50Ms, res.P99Ms, res.Committed, res.Failed, res.Refused, res.Errors)
				if res.FirstError != "" {
					say("  first error: %s", res.FirstError)
				}
				rep.Results = append(rep.Results, res)
				next = p.base + res.Submitted + res.Skipped
				if m == Closed {
					closedRate = res.TxPerSec
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.LoadAvg = strings.TrimSpace(string(b))
	}
	if len(profiles) > 0 {
		for i := range nw.Homes {
			nw.Stop(i, 30*time.Second)
		}
		rep.Profiles = profiles
		say("CPU profiles: go tool pprof -top %s", strings.Join(profiles, " "))
	}
	return rep, nil
}

type runner struct {
	nw      *procnet.Network
	env     *Env
	clients []*client.Client
	cfg     Config
	say     func(string, ...any)
}

type phase struct {
	w       Workload
	mode    Mode
	base, n int
	conc    int
	rate    float64
	batch   int
}

// outcome of one submission.
type outcome int

const (
	committed outcome = iota
	failed
	refused
	errored
)

// connsPerNode bounds the connections to each node (its default
// max_conns_per_ip is 128).
const connsPerNode = 120

// maxInFlight bounds the open loop's outstanding submissions.
const maxInFlight = 8192

func (r *runner) run(ctx context.Context, p phase) (Result, error) {
	res := Result{Workload: p.w.Name(), Mode: p.mode}
	n := r.nw.N()
	cpu0 := make([]time.Duration, n)
	for i := range cpu0 {
		s, ok := r.nw.Sample(i)
		if !ok {
			return res, fmt.Errorf("validator %d is not running (log: %s/node.log)", i+1, r.nw.Homes[i])
		}
		cpu0[i] = s.CPU
	}
	h0 := r.height()
	watchCtx, stopWatch := context.WithCancel(ctx)
	watch := make(chan watchResult, 1)
	go func() {
		w, err := WatchMetrics(watchCtx, r.nw.MetricsURL(0), 250*time.Millisecond)
		watch <- watchResult{w, err}
	}()

	var (
		mu       sync.Mutex
		lat      []time.Duration
		firstErr string
		lastDone time.Time
		counts   [4]int
	)
	record := func(o outcome, d time.Duration, err string) {
		mu.Lock()
		defer mu.Unlock()
		counts[o]++
		if o == committed || o == failed {
			lat = append(lat, d)
			lastDone = time.Now()
		}
		if err != "" && firstErr == "" {
			firstErr = err
		}
	}
	// drain bounds how long a phase waits for the last receipts.
	drain := 2 * time.Minute
	subCtx, cancelSub := context.WithTimeout(ctx, r.cfg.Duration+drain)
	defer cancelSub()
	submit := func(i int, from time.Time) {
		tx := p.w.Tx(p.base + i)
		c := r.clients[i%len(r.clients)]
		o, msg := r.submit(subCtx, c, tx)
		record(o, time.Since(from), msg)
	}
	batch := max(1, p.batch)
	if batch > 1 {
		res.Batch = batch
	}
	var requests atomic.Int64 // batches go round-robin to the nodes
	// submitAll sends the transactions is, scheduled at froms, in one
	// request if there are several.
	submitAll := func(is []int, froms []time.Time) {
		if len(is) == 1 {
			submit(is[0], froms[0])
			return
		}
		txs := make([]*block.Tx, len(is))
		for k, i := range is {
			txs[k] = p.w.Tx(p.base + i)
		}
		c := r.clients[int(requests.Add(1))%len(r.clients)]
		outs, msgs := r.submitBatch(subCtx, c, txs)
		for k := range is {
			record(outs[k], time.Since(froms[k]), msgs[k])
		}
	}

	start := time.Now()
	deadline := start.Add(r.cfg.Duration)
	var submitted atomic.Int64
	var wg sync.WaitGroup
	switch p.mode {
	case Closed:
		res.Concurrency = p.conc
		var next atomic.Int64
		for range (p.conc + batch - 1) / batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				is, froms := make([]int, 0, batch), make([]time.Time, 0, batch)
				for ctx.Err() == nil && time.Now().Before(deadline) {
					i := int(next.Add(int64(batch))) - batch
					if i >= p.n {
						return
					}
					is, froms = is[:0], froms[:0]
					now := time.Now()
					for ; i < p.n && len(is) < batch; i++ {
						is, froms = append(is, i), append(froms, now)
					}
					submitted.Add(int64(len(is)))
					submitAll(is, froms)
				}
			}()
		}
	case Open:
		res.OfferedRate = p.rate
		var inFlight atomic.Int64
		interval := time.Duration(float64(time.Second) / p.rate)
		var is []int
		var froms []time.Time
		flush := func() {
			if len(is) == 0 {
				return
			}
			k := int64(len(is))
			inFlight.Add(k)
			submitted.Add(k)
			wg.Add(1)
			go func(is []int, froms []time.Time) {
				defer wg.Done()
				defer inFlight.Add(-k)
				submitAll(is, froms)
			}(is, froms)
			is, froms = nil, nil
		}
	send:
		for i := 0; i < p.n; i++ {
			at := start.Add(time.Duration(i) * interval)
			if !at.Before(deadline) {
				break
			}
			if d := time.Until(at); d > 0 {
				select {
				case <-ctx.Done():
					break send
				case <-time.After(d):
				}
			}
			if inFlight.Load() >= maxInFlight {
				res.Skipped++
				continue
			}
			is, froms = append(is, i), append(froms, at)
			if len(is) == batch {
				flush()
			}
		}
		flush()
	}
	wg.Wait()
	stopWatch()
	wr := <-watch
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	end := lastDone
	if end.IsZero() {
		end = time.Now()
	}
	res.Submitted = int(submitted.Load())
	res.Committed, res.Failed, res.Refused, res.Errors = counts[committed], counts[failed], counts[refused], counts[errored]
	res.FirstError = firstErr
	res.Seconds = end.Sub(start).Seconds()
	if res.Seconds > 0 {
		res.TxPerSec = float64(res.Committed) / res.Seconds
	}
	slices.Sort(lat)
	res.P50Ms, res.P99Ms = percentileMs(lat, 50), percentileMs(lat, 99)
	res.Blocks = r.height() - h0
	done := res.Committed + res.Failed
	for i := range n {
		s, ok := r.nw.Sample(i)
		if !ok {
			return res, fmt.Errorf("validator %d stopped during the phase (log: %s/node.log)", i+1, r.nw.Homes[i])
		}
		per := 0.0
		if done > 0 {
			per = float64((s.CPU - cpu0[i]).Microseconds()) / float64(done)
		}
		res.CPUPerTxUs = append(res.CPUPerTxUs, round1(per))
		res.RSSMiB = append(res.RSSMiB, round1(float64(s.RSS)/(1<<20)))
		res.PeakRSSMiB = append(res.PeakRSSMiB, round1(float64(s.PeakRSS)/(1<<20)))
	}
	res.Metrics = wr.w
	if wr.err != nil {
		res.MetricsError = wr.err.Error()
	}
	return res, nil
}

type watchResult struct {
	w   Watch
	err error
}

// submit sends tx and waits for its receipt (asking again after the
// node's own wait ran out).
func (r *runner) submit(ctx context.Context, c *client.Client, tx *block.Tx) (outcome, string) {
	res, err := c.Submit(ctx, tx, true)
	if err != nil {
		return refusal(err)
	}
	return receiptOutcome(ctx, c, res.Hash, res.Receipt)
}

// submitBatch sends txs in one request and waits for each receipt.
func (r *runner) submitBatch(ctx context.Context, c *client.Client, txs []*block.Tx) ([]outcome, []string) {
	outs, msgs := make([]outcome, len(txs)), make([]string, len(txs))
	res, err := c.SubmitBatch(ctx, txs, true)
	for i := range txs {
		switch {
		case err != nil:
			outs[i], msgs[i] = refusal(err)
		case client.BatchErr(res[i]) != nil:
			outs[i], msgs[i] = refusal(client.BatchErr(res[i]))
		default:
			outs[i], msgs[i] = receiptOutcome(ctx, c, res[i].Hash, res[i].Receipt)
		}
	}
	return outs, msgs
}

// refusal is the outcome of a submission's error.
func refusal(err error) (outcome, string) {
	var ae *client.APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusTooManyRequests || ae.Status == http.StatusServiceUnavailable) {
		return refused, err.Error()
	}
	return errored, err.Error()
}

// receiptOutcome is the outcome of the accepted transaction h given its
// receipt rc, asked for until the phase ends if rc is nil.
func receiptOutcome(ctx context.Context, c *client.Client, h block.Hash, rc *view.Receipt) (outcome, string) {
	for rc == nil {
		t, err := c.Tx(ctx, h)
		if err == nil && t.Receipt != nil {
			rc = t.Receipt
			break
		}
		if err != nil && !errors.Is(err, client.ErrNotFound) {
			return errored, err.Error()
		}
		select {
		case <-ctx.Done():
			return errored, fmt.Sprintf("tx %s: no receipt by the end of the phase", h)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if rc.Status != "ok" {
		return failed, "receipt " + rc.Status + ": " + rc.Error
	}
	return committed, ""
}

func (r *runner) height() uint64 {
	for i := range r.nw.N() {
		if st, err := r.nw.Status(i); err == nil {
			return st.Height
		}
	}
	return 0
}

func percentileMs(sorted []time.Duration, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	k := min(len(sorted)-1, len(sorted)*p/100)
	return round1(float64(sorted[k].Microseconds()) / 1000)
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
