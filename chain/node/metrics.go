package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/metrics"
)

// The metrics listener (Config.Metrics) serves, apart from the client API:
//
//	GET /metrics  Prometheus text format (chain/metrics)
//	GET /healthz  liveness: 200 while the process serves
//	GET /readyz   readiness: 200 when the store is sound, consensus runs and
//	              the node has links to a quorum of validators; 503 saying
//	              why otherwise
//
// It carries no patient data and no keys, and has no limits of its own:
// bind it to an address only the operator's monitoring reaches.

// pendingCap bounds the admitted transactions tracked for the commit
// latency and the pool gauges; beyond it new ones are not tracked.
const pendingCap = 1 << 16

// pendingMaxAge drops a tracked transaction that never commits (a full or
// restarted pool can lose it) from the pool gauges.
const pendingMaxAge = 10 * time.Minute

// pending tracks the transactions this node admitted until they commit.
type pending struct {
	mu    sync.Mutex
	txs   map[block.Hash]pendingTx
	bytes int
}

type pendingTx struct {
	at   time.Time
	size int
}

func (p *pending) add(h block.Hash, size int, now time.Time) (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.txs == nil {
		p.txs = make(map[block.Hash]pendingTx)
	}
	if _, ok := p.txs[h]; !ok && len(p.txs) < pendingCap {
		p.txs[h] = pendingTx{at: now, size: size}
		p.bytes += size
	}
	return len(p.txs), p.bytes
}

// done removes a committed transaction, returning when it was admitted.
func (p *pending) done(h block.Hash) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.txs[h]
	if ok {
		delete(p.txs, h)
		p.bytes -= t.size
	}
	return t.at, ok
}

func (p *pending) expire(before time.Time) (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for h, t := range p.txs {
		if t.at.Before(before) {
			delete(p.txs, h)
			p.bytes -= t.size
		}
	}
	return len(p.txs), p.bytes
}

func (p *pending) size() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.txs), p.bytes
}

// Metrics returns the node's metrics (tests, tools).
func (n *Node) Metrics() *metrics.Metrics { return n.metrics }

// peers reports the link state of every other validator.
func (n *Node) peers() []metrics.Peer {
	up := map[uint64]bool{}
	if n.mesh != nil {
		for _, id := range n.mesh.Connected() {
			up[id] = true
		}
	}
	var out []metrics.Peer
	s := n.set.Load()
	if s == nil {
		return nil
	}
	for _, v := range s.Validators {
		if v.ID == n.cfg.ID {
			continue
		}
		out = append(out, metrics.Peer{ID: v.ID, Name: v.Name, Connected: up[v.ID]})
	}
	return out
}

// admitted records a transaction handed to consensus.
func (n *Node) admitted(h block.Hash, size int) {
	txs, bytes := n.pend.add(h, size, time.Now())
	n.metrics.SetPool(txs, bytes)
}

// metricsLoop follows commits (height, proposal and commit latency, gas,
// pool) and samples the leader once a second, until Stop.
func (n *Node) metricsLoop() {
	defer n.wg.Done()
	last := n.ledger.Head().Height
	n.metrics.SetHeight(last)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	expire := time.Now()
	for {
		changed := n.ledger.Changed()
		if head := n.ledger.Head().Height; head > last {
			for h := last + 1; h <= head; h++ {
				n.observeBlock(h)
			}
			last = head
			n.metrics.SetHeight(head)
		}
		select {
		case <-n.quit:
			return
		case <-changed:
		case now := <-tick.C:
			n.metrics.SetLeader(n.replica.Leader())
			if now.Sub(expire) > time.Minute {
				expire = now
				n.metrics.SetPool(n.pend.expire(now.Add(-pendingMaxAge)))
			}
		}
	}
}

// consensusRestarts is the watchdog's count of SmartBFT restarts (0
// before the replica exists).
func (n *Node) consensusRestarts() uint64 {
	if n.replica == nil {
		return 0
	}
	return n.replica.Restarts()
}

// observeBlock records what a committed block tells the metrics.
func (n *Node) observeBlock(h uint64) {
	s, ok := n.ledger.Recent(h)
	if !ok {
		var err error
		if s, err = n.storedSummary(h); err != nil {
			n.log.Debug("metrics: reading a committed block", "height", h, "err", err)
			if s.Height != h { // not even its header
				return
			}
		}
	}
	now := time.Now()
	n.metrics.ObserveProposal(now.Sub(time.UnixMilli(s.TimeUnixMilli)))
	var gas uint64
	for _, tx := range s.Txs {
		gas += tx.GasUsed
		n.bounds.committed(tx.Hash)
		if at, ok := n.pend.done(tx.Hash); ok {
			n.metrics.ObserveCommit(now.Sub(at))
		}
	}
	n.metrics.Committed(len(s.Txs), gas)
	n.metrics.SetPool(n.pend.size())
}

// storedSummary reads from the store what the ledger's Recent tells of
// the committed block at h, for a block it no longer holds (a loop that
// lags, a block committed before a restart or by a repair). The header
// and the receipts only: the receipts carry each transaction's hash and
// gas, so the block is not decoded, its transactions not hashed again,
// nor their receipts looked up one by one through the transaction index
// (two reads each). After a header, an error leaves the receipts read
// before it in the summary (Height set); before, the summary is empty.
func (n *Node) storedSummary(h uint64) (ledger.Summary, error) {
	hd, err := n.store.Header(h)
	if err != nil {
		return ledger.Summary{}, err
	}
	s := ledger.Summary{Height: h, TimeUnixMilli: hd.TimeUnixMilli}
	err = n.store.BlockReceipts(h, func(rc *block.Receipt) error {
		s.Txs = append(s.Txs, ledger.TxSummary{Hash: rc.TxHash, GasUsed: rc.GasUsed})
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("receipts: %w", err)
	}
	return s, nil
}

// ready says whether the node can take part: store sound, consensus
// running, links to a quorum of validators (itself included).
func (n *Node) ready() error {
	if d := n.Damage(); len(d) > 0 {
		return fmt.Errorf("store damaged: %s", d[0])
	}
	if n.mesh == nil || !n.metricsStarted.Load() {
		return errors.New("starting")
	}
	up := 1 + len(n.mesh.Connected())
	if s := n.set.Load(); up < s.Quorum() {
		return fmt.Errorf("links to %d of %d validators (itself included), quorum is %d", up, len(s.Validators), s.Quorum())
	}
	return nil
}

// startMetrics serves the metrics listener (if configured).
func (n *Node) startMetrics() error {
	addr := n.cfg.Metrics
	if addr == "" && n.metricsLn == nil {
		return nil
	}
	if n.metricsLn == nil {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("node: metrics listen %s: %w", addr, err)
		}
		n.metricsLn = ln
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", n.metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := n.ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:", err)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	n.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelDebug)}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.metricsSrv.Serve(n.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("metrics server stopped", "err", err)
		}
	}()
	n.log.Info("metrics listener", "addr", n.metricsLn.Addr().String())
	return nil
}

// MetricsURL is the metrics listener's base URL ("" if none).
func (n *Node) MetricsURL() string {
	if n.metricsLn == nil {
		return ""
	}
	return "http://" + n.metricsLn.Addr().String()
}

func (n *Node) stopMetrics() {
	if n.metricsSrv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if n.metricsSrv.Shutdown(ctx) != nil {
		_ = n.metricsSrv.Close()
	}
}
