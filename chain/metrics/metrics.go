// Package metrics is a node's Prometheus instrumentation (client_golang's
// only importer): the figures an operator watches, served in the
// Prometheus text format by Handler on a listener apart from the client API.
//
// # Usage
//
// The node creates one Metrics with New, updates it from its own goroutines
// as things happen (SetHeight, ObserveCommit, Refused, ...), gives it
// callbacks for what is read at scrape time (store statistics, peer links;
// see Sources), and serves Handler:
//
//	m := metrics.New(nodeID, metrics.Sources{Store: st.Stats, Peers: peers})
//	m.SetHeight(h)
//	http.Handle("/metrics", m.Handler())
//
// Every method is safe for concurrent use. Nothing here is on the
// deterministic execution path: metrics read wall clocks and never feed
// back into consensus or state.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
)

// Peer is the state of the link to one validator.
type Peer struct {
	ID        uint64
	Name      string
	Connected bool
}

// Sources are read at each scrape. A nil source is left out.
type Sources struct {
	Store func() store.Stats
	Peers func() []Peer
	// Restarts counts the in-process restarts of a stuck SmartBFT
	// instance (consensus.Replica.Restarts).
	Restarts func() uint64
	// TxCache describes the node's cache of verified transactions
	// (state.TxCache.Stats).
	TxCache func() state.TxCacheStats
}

// Metrics holds a node's metrics in its own registry.
type Metrics struct {
	reg *prometheus.Registry

	height        prometheus.Gauge
	view          prometheus.Gauge
	leader        prometheus.Gauge
	leaderChanges prometheus.Counter
	proposal      prometheus.Histogram
	commit        prometheus.Histogram
	poolTxs       prometheus.Gauge
	poolBytes     prometheus.Gauge
	refused       *prometheus.CounterVec
	gas           prometheus.Counter
	txs           prometheus.Counter
	compile       prometheus.Histogram

	lastLeader uint64
}

// latencyBuckets span a fast local commit (a few ms) to a stalled view
// change (tens of seconds).
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// New creates the metrics of node id, with Go runtime and process metrics.
func New(id uint64, src Sources) *Metrics {
	reg := prometheus.NewRegistry()
	f := func(name, help string) prometheus.GaugeOpts {
		return prometheus.GaugeOpts{Namespace: "trialchain", Name: name, Help: help}
	}
	m := &Metrics{
		reg:    reg,
		height: prometheus.NewGauge(f("height", "Height of the last block committed on this node.")),
		view:   prometheus.NewGauge(f("consensus_view", "SmartBFT view number this node is in.")),
		leader: prometheus.NewGauge(f("consensus_leader", "Validator id of the current leader (0: unknown).")),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "trialchain", Name: "consensus_leader_changes_total",
			Help: "Leader changes this node observed (sampled once a second)."}),
		proposal: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "trialchain", Name: "proposal_latency_seconds",
			Help:    "From a block's proposal (its header time, the leader's clock) to its commit on this node.",
			Buckets: latencyBuckets}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "trialchain", Name: "commit_latency_seconds",
			Help:    "From a transaction's admission by this node's API to its commit on this node.",
			Buckets: latencyBuckets}),
		poolTxs: prometheus.NewGauge(f("request_pool_txs",
			"Transactions this node admitted and handed to consensus that are not committed yet.")),
		poolBytes: prometheus.NewGauge(f("request_pool_bytes",
			"Bytes of the transactions this node admitted that are not committed yet.")),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "trialchain", Name: "refused_txs_total",
			Help: "Transactions the client API refused, by reason (the error code clients get)."}, []string{"reason"}),
		gas: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "trialchain", Name: "gas_used_total",
			Help: "Gas used by the committed transactions (since the node started)."}),
		txs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "trialchain", Name: "committed_txs_total",
			Help: "Transactions committed (since the node started)."}),
		compile: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "trialchain", Name: "vm_compile_seconds",
			Help:    "Time to compile a contract module (instrument, compile, check).",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}),
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "trialchain", Name: "node_info",
		Help: "Always 1; labels name the node.", ConstLabels: prometheus.Labels{"node": strconv.FormatUint(id, 10)}})
	info.Set(1)
	reg.MustRegister(m.height, m.view, m.leader, m.leaderChanges, m.proposal, m.commit, m.poolTxs, m.poolBytes,
		m.refused, m.gas, m.txs, m.compile, info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src.Store != nil {
		reg.MustRegister(storeCollector(src.Store))
	}
	if src.TxCache != nil {
		reg.MustRegister(txCacheCollector(src.TxCache))
	}
	if src.Peers != nil {
		reg.MustRegister(peerCollector(src.Peers))
	}
	if src.Restarts != nil {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "trialchain", Name: "consensus_restarts_total",
			Help: "In-process restarts of a stuck SmartBFT instance by the consensus watchdog (since the node started)."},
			func() float64 { return float64(src.Restarts()) }))
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// SetHeight records the committed height.
func (m *Metrics) SetHeight(h uint64) { m.height.Set(float64(h)) }

// SetLeader records the view and its leader, counting a change of leader.
// It is called from one goroutine (the node's sampler).
func (m *Metrics) SetLeader(leader, view uint64) {
	m.view.Set(float64(view))
	m.leader.Set(float64(leader))
	if leader != 0 && m.lastLeader != 0 && leader != m.lastLeader {
		m.leaderChanges.Inc()
	}
	if leader != 0 {
		m.lastLeader = leader
	}
}

// ObserveProposal records the time from a block's proposal to its commit.
func (m *Metrics) ObserveProposal(d time.Duration) { m.proposal.Observe(d.Seconds()) }

// ObserveCommit records the time from a transaction's admission to its commit.
func (m *Metrics) ObserveCommit(d time.Duration) { m.commit.Observe(d.Seconds()) }

// SetPool records the admitted, uncommitted transactions.
func (m *Metrics) SetPool(txs, bytes int) {
	m.poolTxs.Set(float64(txs))
	m.poolBytes.Set(float64(bytes))
}

// Refused counts a transaction refused for reason.
func (m *Metrics) Refused(reason string) { m.refused.WithLabelValues(reason).Inc() }

// Committed counts the transactions of a committed block and their gas.
func (m *Metrics) Committed(txs int, gas uint64) {
	m.txs.Add(float64(txs))
	m.gas.Add(float64(gas))
}

// ObserveCompile records a contract compilation's duration.
func (m *Metrics) ObserveCompile(d time.Duration) { m.compile.Observe(d.Seconds()) }

type funcCollector struct {
	descs   []*prometheus.Desc
	collect func(ch chan<- prometheus.Metric)
}

func (c *funcCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}
func (c *funcCollector) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

func storeCollector(stats func() store.Stats) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("trialchain_pebble_"+name, help, nil, nil)
	}
	var (
		disk    = d("disk_bytes", "Bytes of all the store's files on disk.")
		mem     = d("memtable_bytes", "Bytes allocated by memtables.")
		wal     = d("wal_bytes", "Live bytes in the write-ahead log.")
		l0      = d("l0_files", "Sstables in level 0.")
		tables  = d("tables", "Sstables in all levels.")
		readAmp = d("read_amplification", "Sublevels a read may visit.")
		comps   = d("compactions_total", "Compactions since the store was opened.")
		debt    = d("compaction_debt_bytes", "Estimated bytes to compact to reach a stable shape.")
		hits    = d("block_cache_hits_total", "Block cache hits.")
		misses  = d("block_cache_misses_total", "Block cache misses.")
	)
	return &funcCollector{
		descs: []*prometheus.Desc{disk, mem, wal, l0, tables, readAmp, comps, debt, hits, misses},
		collect: func(ch chan<- prometheus.Metric) {
			s := stats()
			g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
			c := func(d *prometheus.Desc, v float64) {
				ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
			}
			g(disk, float64(s.DiskBytes))
			g(mem, float64(s.MemtableBytes))
			g(wal, float64(s.WALBytes))
			g(l0, float64(s.L0Files))
			g(tables, float64(s.Tables))
			g(readAmp, float64(s.ReadAmp))
			c(comps, float64(s.Compactions))
			g(debt, float64(s.CompactionDebt))
			c(hits, float64(s.BlockCacheHits))
			c(misses, float64(s.BlockCacheMisses))
		},
	}
}

func txCacheCollector(stats func() state.TxCacheStats) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("trialchain_tx_cache_"+name, help, nil, nil)
	}
	var (
		entries = d("entries", "Verified transactions the node remembers (admitted or proposed, not yet committed).")
		bytes   = d("bytes", "Their bytes, with a fixed overhead each.")
		hits    = d("hits_total", "Checks answered from the cache.")
		misses  = d("misses_total", "Checks that decoded and verified a transaction (or its signature in a batch).")
	)
	return &funcCollector{
		descs: []*prometheus.Desc{entries, bytes, hits, misses},
		collect: func(ch chan<- prometheus.Metric) {
			s := stats()
			ch <- prometheus.MustNewConstMetric(entries, prometheus.GaugeValue, float64(s.Entries))
			ch <- prometheus.MustNewConstMetric(bytes, prometheus.GaugeValue, float64(s.Bytes))
			ch <- prometheus.MustNewConstMetric(hits, prometheus.CounterValue, float64(s.Hits))
			ch <- prometheus.MustNewConstMetric(misses, prometheus.CounterValue, float64(s.Misses))
		},
	}
}

func peerCollector(peers func() []Peer) prometheus.Collector {
	up := prometheus.NewDesc("trialchain_peer_connected", "1 if the QUIC link to this validator is up, else 0.", []string{"peer", "name"}, nil)
	n := prometheus.NewDesc("trialchain_peers_connected", "Validators this node has a live link to.", nil, nil)
	return &funcCollector{
		descs: []*prometheus.Desc{up, n},
		collect: func(ch chan<- prometheus.Metric) {
			connected := 0
			for _, p := range peers() {
				v := 0.0
				if p.Connected {
					v = 1
					connected++
				}
				ch <- prometheus.MustNewConstMetric(up, prometheus.GaugeValue, v, strconv.FormatUint(p.ID, 10), p.Name)
			}
			ch <- prometheus.MustNewConstMetric(n, prometheus.GaugeValue, float64(connected))
		},
	}
}
