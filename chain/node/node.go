// Package node is the composition root of a validator: it wires the Pebble
// store, the state executor, the SmartBFT replica, the QUIC mesh and the
// client API, and owns their goroutines and lifecycle.
//
// # Usage
//
//	cfg, err := node.LoadConfig(home)
//	n, err := node.New(cfg)
//	err = n.Start(ctx)   // mesh, consensus, API
//	...
//	n.Stop()             // reverse order; every goroutine ends
//
// A block is durable when Deliver returns (one synced Pebble batch); a node
// killed at any point restarts from its last whole block and catches up
// from its peers.
package node

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consensus"
	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/doctor"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/metrics"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
	"github.com/trialchain/trialchain/transport"
	"github.com/trialchain/trialchain/transport/h3"
	"github.com/trialchain/trialchain/vm"
)

// Node is a running validator.
type Node struct {
	cfg     *Config
	gen     *genesis.Genesis
	self    genesis.Validator           // as the genesis or the set in force at New names it (empty for a validator still joining)
	set     atomic.Pointer[genesis.Set] // the validator set in force (metrics, readiness)
	key     ed25519.PrivateKey
	log     *slog.Logger
	store   *store.Store
	ledger  *ledger.Ledger
	replica *consensus.Replica
	mesh    *transport.Mesh
	exec    *state.Executor
	// engine is the node's VM (nil if Options.Contracts replaced it);
	// contracts serves queries (nil if Options.Contracts is not a
	// *contracts.Runtime).
	engine    *vm.Engine
	contracts *contracts.Runtime

	httpSrv *http.Server // plain HTTP (loopback only, when allowed)
	tlsSrv  *http.Server // TLS on TCP
	httpLn  net.Listener // the API's TCP listener (nil: no API)
	limLn   *limitedListener
	split   *splitListener
	guard   *guard
	queries querySlots
	h3Srv   *h3.Server
	nonces  nonceCache
	sigs    *sigBatcher                      // admission's signature batches (admitbatch.go)
	damage  atomic.Pointer[[]doctor.Problem] // set when the store is found damaged (diskcheck.go)
	repair  repairState                      // diskcheck.go

	storageClosed atomic.Bool // closeStorage ran

	metrics        *metrics.Metrics // metrics.go
	pend           pending
	bounds         bounds // expiry.go
	metricsLn      net.Listener
	metricsSrv     *http.Server
	metricsStarted atomic.Bool   // consensus and the metrics loop run
	quit           chan struct{} // closed by Stop
	wg             sync.WaitGroup
	stopMu         sync.Mutex
	stopped        bool
}

// Options are hooks for embedding a node (tests, tools).
type Options struct {
	// Logger overrides the config's logger.
	Logger *slog.Logger
	// PacketConn, if set, is the mesh's UDP socket (tests bind port 0 first).
	PacketConn net.PacketConn
	// APIListener, if set, is the API's TCP listener (TLS, and plain HTTP
	// when the config allows it).
	APIListener net.Listener
	// MetricsListener, if set, is the metrics listener (metrics.go).
	MetricsListener net.Listener
	// Contracts executes contract transactions. Nil: the node's own
	// contracts.Runtime on a vm.Engine whose compilation cache is
	// DATA_DIR/vm (so a restart does not recompile), closed by Stop.
	Contracts state.Contracts
	// Fault makes the node's replica a Byzantine test double (see
	// consensus.Config.Fault); fault-injection tests only.
	Fault string
	// WrapRequests, if set, wraps the handler of the peers' requests on
	// the mesh (block sync): tests make a peer that lies with it.
	WrapRequests func(transport.RequestHandler) transport.RequestHandler
}

// New opens the node's store and prepares its components.
func New(cfg *Config, opts Options) (*Node, error) {
	g, err := genesis.Load(cfg.Path(cfg.Genesis))
	if err != nil {
		return nil, err
	}
	k, err := keys.Load(cfg.Path(cfg.Key))
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	// A validator of the genesis, or one a validator transaction added
	// later (only on a chain whose genesis names the validator
	// organisations' group): that one starts from the genesis, catches up
	// and takes part once the set including it is in force (Start).
	v, inGenesis := g.Validator(cfg.ID)
	if !inGenesis && g.Params.ValidatorGroup == "" {
		return nil, fmt.Errorf("node: id %d is not a validator of chain %s (and its genesis names no validator_group, so its set cannot change)", cfg.ID, g.ChainID)
	}
	if inGenesis && !ed25519.PublicKey(v.Key).Equal(k.Public()) {
		return nil, fmt.Errorf("node: key %s is not the key genesis pins for validator %d", k.PublicHex(), cfg.ID)
	}
	lg := opts.Logger
	if lg == nil {
		if lg, err = cfg.Logger(); err != nil {
			return nil, err
		}
	}
	base := lg // the replica and the mesh tag their logs with the node id themselves
	lg = lg.With("node", cfg.ID)
	// The payload data keys are wrapped by a key derived from the node's
	// key, which lives outside the data directory.
	wrap, err := store.NodeKeyWrapper(k.Private.Seed())
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	dataDir := cfg.Path(cfg.DataDir)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("node: data directory: %w", err)
	}
	if err := os.Chmod(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("node: data directory: %w", err)
	}
	// A repair that was committed (diskcheck.go) is swapped in first.
	if swapped, err := store.FinishRepair(filepath.Join(dataDir, "db")); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	} else if swapped {
		lg.Info("the repaired store replaces the damaged one")
	}
	st, err := store.OpenWith(filepath.Join(dataDir, "db"), store.Options{KeyWrapper: wrap})
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	n := &Node{cfg: cfg, gen: g, key: k.Private, log: lg, store: st, quit: make(chan struct{}), metricsLn: opts.MetricsListener}
	n.repair.init(wrap)
	// One cache of verified transactions per node: API admission, the
	// consensus adapter and execution share it (state.TxCache).
	txc := state.NewTxCache(ledger.Params(g), state.DefaultTxCacheCount, state.DefaultTxCacheBytes)
	n.metrics = metrics.New(cfg.ID, metrics.Sources{Store: st.Stats, Peers: n.peers, Restarts: n.consensusRestarts, TxCache: txc.Stats})
	if rep := doctor.Check(g, st); !rep.OK() {
		n.markDamaged(rep, "start")
	} else {
		lg.Info("store checked against the certified chain", "blocks", rep.Blocks, "receipts", rep.Receipts, "state_values", rep.States)
	}
	ex := &state.Executor{Params: ledger.Params(g), Contracts: opts.Contracts, Cache: txc}
	if opts.Contracts == nil {
		vcfg := vm.DefaultConfig()
		vcfg.CacheDir = filepath.Join(cfg.Path(cfg.DataDir), "vm")
		vcfg.OnCompile = n.metrics.ObserveCompile
		if n.engine, err = vm.NewEngine(context.Background(), vcfg); err != nil {
			st.Close()
			return nil, fmt.Errorf("node: %w", err)
		}
		n.contracts = contracts.New(n.engine, g.ChainID)
		ex.Contracts = n.contracts
	} else if rt, ok := opts.Contracts.(*contracts.Runtime); ok {
		n.contracts = rt
	}
	n.exec = ex
	n.sigs = newSigBatcher(func(raws [][]byte, hashes []block.Hash) ([]*block.Tx, []error) {
		return ex.Cache.CheckEach(ex.Params, raws, hashes)
	})
	led, err := ledger.New(g, st, ex)
	if err != nil {
		n.closeStorage()
		return nil, err
	}
	n.ledger = led
	var netw netRef
	var precompile func(*block.Tx)
	if n.contracts != nil {
		// Code runs code_activation_delay after its block; compile it now.
		n.contracts.SetActivationDelay(time.Duration(g.Params.CodeActivationDelay).Milliseconds())
		precompile = n.contracts.PrepareTx
	}
	// A genesis that names the validator organisations' consent group
	// lets validator transactions change the set; SmartBFT reconfigures at
	// the block boundary of each change.
	var setChanges func(*block.Committed) []genesis.Change
	var onSet func(*genesis.Set)
	valSet := g.Set()
	if g.Params.ValidatorGroup != "" && n.contracts != nil {
		n.contracts.SetValidators(g)
		setChanges = led.SetChanges
		if valSet, err = contracts.ValidatorSet(led.State(), g.Set()); err != nil && len(n.Damage()) > 0 {
			valSet = g.Set() // damaged state: ask the genesis validators for the repair
		} else if err != nil {
			n.closeStorage()
			return nil, fmt.Errorf("node: %w", err)
		}
		// The mesh's pinned set follows the set in force: an added
		// validator is dialled and accepted with the key and address its
		// transaction named; a removed one is cut off and refused.
		onSet = func(s *genesis.Set) {
			n.set.Store(s)
			if err := n.mesh.SetPeers(meshPeers(s)); err != nil && !errors.Is(err, transport.ErrClosed) {
				n.log.Error("the mesh cannot take the validator set in force", "validators", s.IDs(), "err", err)
				return
			}
			n.log.Info("validator set changed: the mesh pins it", "validators", s.IDs(), "quorum", s.Quorum())
		}
	} else if !inGenesis {
		n.closeStorage()
		return nil, fmt.Errorf("node: id %d is not a validator of chain %s (validator changes need the node's own contracts runtime)", cfg.ID, g.ChainID)
	}
	if sv, ok := valSet.Validator(cfg.ID); ok {
		if !ed25519.PublicKey(sv.Key).Equal(k.Public()) {
			n.closeStorage()
			return nil, fmt.Errorf("node: key %s is not the key the validator set in force pins for validator %d", k.PublicHex(), cfg.ID)
		}
		v = sv
	}
	n.self = v
	n.set.Store(valSet)
	rep, err := consensus.New(consensus.Config{SelfID: cfg.ID, Key: k.Private, Genesis: g, Ledger: led,
		WALDir: filepath.Join(cfg.Path(cfg.DataDir), "wal"), Logger: base, Fault: opts.Fault, Precompile: precompile,
		PoolMaxBytes: cfg.Limits.withDefaults().PoolBytes, SetChanges: setChanges, OnSet: onSet, TxCache: ex.Cache}, &netw)
	if err != nil {
		n.closeStorage()
		return nil, err
	}
	n.replica = rep
	listen := cfg.Listen
	if listen == "" {
		listen = v.Addr
	}
	if listen == "" && opts.PacketConn == nil {
		n.closeStorage()
		return nil, fmt.Errorf("node: id %d is not in the validator set yet: set listen in its config (the address its validator-add transaction names)", cfg.ID)
	}
	tcfg := transport.DefaultConfig()
	tcfg.SelfID, tcfg.Key, tcfg.ListenAddr, tcfg.PacketConn, tcfg.Logger = cfg.ID, k.Private, listen, opts.PacketConn, base
	// The largest consensus frame is a view change's NewView: the signed
	// ViewData of a quorum, each carrying the last decided block and the
	// in-flight proposal (two batches), plus envelopes (1 MiB of headroom).
	// A frame over the cap is never sent, and a view change that cannot
	// send its NewView never ends: size the cap from the batch limit.
	// Where the set can change, the cap holds for one more validator than
	// the set in force (an addition while running); a larger set takes
	// effect at a restart.
	grown := valSet.Quorum()
	if setChanges != nil {
		grown = (&genesis.Set{Validators: make([]genesis.Validator, len(valSet.Validators)+1)}).Quorum()
	}
	if need := (2*max(g.Quorum(), grown)+1)*int(g.Params.BatchMaxBytes) + 1<<20; tcfg.MaxFrameBytes < need {
		tcfg.MaxFrameBytes = need
		if tcfg.QueueMaxBytes < 2*need {
			tcfg.QueueMaxBytes = 2 * need
		}
	}
	// The validators in force at start (the genesis's, or the set the
	// last validator change left).
	tcfg.Peers = meshPeers(valSet)
	for _, val := range valSet.Validators {
		if val.ID != cfg.ID {
			n.repair.peers = append(n.repair.peers, val.ID)
		}
	}
	serve := n.refuseRequestsDamaged(rep.HandleRequest)
	if opts.WrapRequests != nil {
		serve = opts.WrapRequests(serve)
	}
	mesh, err := transport.New(tcfg, rep.HandleFrame, serve)
	if err != nil {
		n.closeStorage()
		return nil, fmt.Errorf("node: %w", err)
	}
	netw.n = mesh
	n.mesh = mesh
	n.httpLn = opts.APIListener
	return n, nil
}

// meshPeers is the mesh's pinned peer list for validator set s.
func meshPeers(s *genesis.Set) []transport.Peer {
	out := make([]transport.Peer, 0, len(s.Validators))
	for _, val := range s.Validators {
		out = append(out, transport.Peer{ID: val.ID, Key: ed25519.PublicKey(val.Key), Addr: val.Addr})
	}
	return out
}

// closeStorage closes the VM engine (if the node made it) and the store,
// once (Start's error paths close them, and its caller may Stop).
func (n *Node) closeStorage() {
	if !n.storageClosed.CompareAndSwap(false, true) {
		return
	}
	if n.engine != nil {
		if err := n.engine.Close(context.Background()); err != nil {
			n.log.Error("closing the VM engine", "err", err)
		}
		n.engine = nil
	}
	if err := n.store.Close(); err != nil {
		n.log.Error("closing store", "err", err)
	}
}

// netRef lets the replica be built before the mesh it sends through.
type netRef struct{ n consensus.Network }

func (r *netRef) Send(to uint64, f []byte) error { return r.n.Send(to, f) }
func (r *netRef) Request(ctx context.Context, to uint64, req []byte) ([]byte, error) {
	return r.n.Request(ctx, to, req)
}

// Connected lets the replica wait for links before its first catch-up.
func (r *netRef) Connected() []uint64 {
	if c, ok := r.n.(interface{ Connected() []uint64 }); ok {
		return c.Connected()
	}
	return nil
}

// Redial passes a resumed replica's request to redial every peer to the
// mesh (consensus/pause.go).
func (r *netRef) Redial() {
	if m, ok := r.n.(interface{ Redial() }); ok {
		m.Redial()
	}
}

// Start starts the mesh, consensus and the client API.
//
// A node whose store was found damaged at start (diskcheck.go) starts its
// API, which refuses everything but /v1/status, and its mesh, through
// which it repairs the store from its peers; not consensus.
func (n *Node) Start(ctx context.Context) error {
	n.queryLimits() // reserves scheduler slots for queries' guests
	if len(n.Damage()) > 0 {
		if err := n.startMetrics(); err != nil {
			n.Stop()
			return err
		}
		if err := n.startAPI(ctx); err != nil {
			n.Stop()
			return err
		}
		if err := n.mesh.Start(ctx); err != nil {
			n.Stop()
			return fmt.Errorf("node: mesh: %w", err)
		}
		n.log.Error("node started without consensus: its store is damaged; repairing it from its peers", "api", n.APIURL())
		n.wg.Add(1)
		go n.repairLoop()
		return nil
	}
	if err := n.mesh.Start(ctx); err != nil {
		n.closeStorage()
		return fmt.Errorf("node: mesh: %w", err)
	}
	if err := n.replica.Start(); err != nil {
		n.mesh.Close()
		n.closeStorage()
		return err
	}
	n.metricsStarted.Store(true)
	n.wg.Add(1)
	go n.metricsLoop()
	if err := n.startMetrics(); err != nil {
		n.Stop()
		return err
	}
	if err := n.startAPI(ctx); err != nil {
		n.Stop()
		return err
	}
	if n.cfg.DiskCheckInterval > 0 {
		n.wg.Add(1)
		go n.diskCheckLoop(n.cfg.DiskCheckInterval)
	}
	head := n.ledger.Head()
	n.log.Info("node started", "chain", n.gen.ChainID, "height", head.Height, "mesh", n.mesh.Addr().String(), "api", n.APIURL())
	return nil
}

func (n *Node) startAPI(ctx context.Context) error {
	addr := n.cfg.API
	if addr == "" {
		addr = n.self.API
	}
	if addr == "" && n.httpLn == nil {
		return nil
	}
	lim := n.cfg.Limits.withDefaults()
	n.guard = newGuard(lim, n.bodyLimit, n.log)
	h := n.guard.wrap(n.refuseDamaged(n.Handler()))
	if n.httpLn == nil {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("node: API listen %s: %w", addr, err)
		}
		n.httpLn = ln
	}
	addr = n.httpLn.Addr().String()
	plain := *n.cfg.PlainHTTP && IsLoopback(addr)
	if *n.cfg.PlainHTTP && !plain {
		n.log.Info("plain HTTP API off: only served on loopback addresses; clients use TLS with the node key pinned", "addr", addr)
	}
	cert, err := transport.SelfSignedCertificate(n.key)
	if err != nil {
		return fmt.Errorf("node: API certificate: %w", err)
	}
	n.limLn = newLimitedListener(n.httpLn, lim, n.guard.log, "tcp")
	n.split = newSplitListener(n.limLn, lim.ReadHeaderTimeout, plain)
	newSrv := func() *http.Server {
		return &http.Server{Handler: h, ReadHeaderTimeout: lim.ReadHeaderTimeout, ReadTimeout: lim.ReadTimeout,
			WriteTimeout: lim.WriteTimeout, IdleTimeout: lim.IdleTimeout, MaxHeaderBytes: 64 << 10,
			ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelDebug)}
	}
	n.tlsSrv = newSrv()
	n.tlsSrv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.tlsSrv.ServeTLS(n.split.tls, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("TLS API server stopped", "err", err)
		}
	}()
	if plain {
		n.httpSrv = newSrv()
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if err := n.httpSrv.Serve(n.split.plain); err != nil && !errors.Is(err, http.ErrServerClosed) {
				n.log.Error("API server stopped", "err", err)
			}
		}()
	}
	if *n.cfg.HTTP3 {
		srv, err := h3.Serve(ctx, addr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}, h,
			h3.Limits{MaxConns: lim.MaxConns, MaxConnsPerIP: lim.MaxConnsPerIP, IdleTimeout: lim.IdleTimeout}, n.log)
		if err != nil {
			n.log.Warn("HTTP/3 API not started", "err", err)
		} else {
			n.h3Srv = srv
		}
	}
	return nil
}

// APIURL is the plain-HTTP URL of the client API, or its TLS URL when
// plain HTTP is off ("" if there is no API).
func (n *Node) APIURL() string {
	if n.httpLn == nil {
		return ""
	}
	if n.httpSrv == nil {
		return n.TLSURL()
	}
	return "http://" + n.httpLn.Addr().String()
}

// TLSURL is the https URL of the client API ("" if none). Its certificate
// carries the node's key, which clients pin from the genesis.
func (n *Node) TLSURL() string {
	if n.httpLn == nil {
		return ""
	}
	return "https://" + n.httpLn.Addr().String()
}

// H3Addr is the UDP address of the HTTP/3 API (nil if not serving).
func (n *Node) H3Addr() net.Addr {
	if n.h3Srv == nil {
		return nil
	}
	return n.h3Srv.Addr()
}

// Ledger gives access to committed state (tests, tools).
func (n *Node) Ledger() *ledger.Ledger { return n.ledger }

// Genesis returns the chain's genesis.
func (n *Node) Genesis() *genesis.Genesis { return n.gen }

// Mesh returns the node's validator mesh.
func (n *Node) Mesh() *transport.Mesh { return n.mesh }

// Replica returns the node's consensus replica.
func (n *Node) Replica() *consensus.Replica { return n.replica }

// Stop shuts the node down: API, consensus, mesh, VM engine, store, in
// that order.
func (n *Node) Stop() {
	n.stopMu.Lock()
	defer n.stopMu.Unlock()
	if n.stopped {
		return
	}
	n.stopped = true
	close(n.quit)
	for _, srv := range []*http.Server{n.httpSrv, n.tlsSrv} {
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			if srv.Shutdown(ctx) != nil {
				_ = srv.Close()
			}
			cancel()
		}
	}
	if n.split != nil {
		_ = n.split.Close()
	}
	if n.h3Srv != nil {
		_ = n.h3Srv.Close()
	}
	n.stopMetrics()
	n.wg.Wait()
	n.replica.Stop()
	_ = n.mesh.Close()
	n.closeStorage()
	n.log.Info("node stopped")
}
