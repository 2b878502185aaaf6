// Package memnet is an in-memory transport.Network for multi-node tests:
// endpoints in one process exchange frames through bounded queues, and the
// test injects faults — per-link loss (seeded), partitions, isolation and
// a mutate hook for Byzantine rewrites.
//
// # Usage
//
//	net := memnet.New(memnet.Config{Seed: 1})
//	a, _ := net.Join(1, onMessage1, onRequest1) // *Endpoint: a transport.Network
//	b, _ := net.Join(2, onMessage2, onRequest2)
//	net.Partition(1, 2) // frames between 1 and 2 are dropped both ways
//	net.Heal(1, 2)
//	a.Close()           // node 1 crashes; Join(1, …) again restarts it
//	net.Close()         // closes every endpoint
//
// # Semantics (matching transport.Mesh)
//
//   - Send copies the frame, never blocks, and returns
//     transport.ErrQueueFull when the (sender, receiver) queue is at its
//     frame or byte bound. Frames of one sender reach one receiver in order,
//     each on that link's own goroutine; different senders' frames may be
//     handled concurrently.
//   - Delivery is at most once. A frame to an endpoint that is not joined
//     is dropped silently (a node that is down), as is one lost to the
//     link's drop probability (drawn at Send) or one crossing a partitioned
//     or isolated link when it is delivered.
//   - Request calls the receiver's RequestHandler on a goroutine of the
//     receiver, bounded by ctx; it fails at once with
//     transport.ErrNotConnected across a partition or to a node that is
//     down. A handler error comes back as *transport.RemoteError.
//   - The mutate hook sees every message, request and response crossing a
//     link (from is the sender of that payload) and returns the bytes to
//     deliver instead, or nil to drop a message (an empty request or
//     response is delivered as empty).
//
// Loss decisions come from one seeded generator, drawn at Send: with the
// same seed and the same order of Sends (e.g. one sending goroutine) the
// same frames are lost; concurrent senders make it deterministic-ish.
package memnet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/trialchain/trialchain/transport"
	"github.com/trialchain/trialchain/transport/internal/fifo"
)

// Config bounds the network like transport.Config bounds a Mesh. Zero
// fields take the transport defaults.
type Config struct {
	Seed           uint64 // seeds the loss generator
	MaxFrameBytes  int    // default 16 MiB
	QueueMaxFrames int    // per (sender, receiver) link, default 4096
	QueueMaxBytes  int    // per link, default 64 MiB
}

// MutateFunc rewrites a payload crossing from → to; see the package doc.
type MutateFunc func(from, to uint64, frame []byte) []byte

type pair struct{ a, b uint64 }

// Network is an in-memory network of endpoints with fault controls. All
// methods are safe for concurrent use.
type Network struct {
	cfg Config

	mu          sync.Mutex
	rng         *rand.Rand
	nodes       map[uint64]*Endpoint
	partitioned map[pair]bool // unordered: key has a < b
	isolated    map[uint64]bool
	drop        map[pair]float64 // ordered: from → to
	defaultDrop float64
	mutate      MutateFunc
}

// New returns an empty network.
func New(cfg Config) *Network {
	d := transport.DefaultConfig()
	if cfg.MaxFrameBytes <= 0 {
		cfg.MaxFrameBytes = d.MaxFrameBytes
	}
	if cfg.QueueMaxFrames <= 0 {
		cfg.QueueMaxFrames = d.QueueMaxFrames
	}
	if cfg.QueueMaxBytes <= 0 {
		cfg.QueueMaxBytes = max(d.QueueMaxBytes, cfg.MaxFrameBytes)
	}
	return &Network{
		cfg:         cfg,
		rng:         rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		nodes:       make(map[uint64]*Endpoint),
		partitioned: make(map[pair]bool),
		isolated:    make(map[uint64]bool),
		drop:        make(map[pair]float64),
	}
}

func unordered(a, b uint64) pair {
	if a > b {
		a, b = b, a
	}
	return pair{a, b}
}

// Join attaches a node. onMessage and onRequest may be nil (messages are
// discarded, requests answered with an error). An ID may join again after
// its endpoint was closed (a restart).
//
// # Errors
//
// If id is already joined.
func (n *Network) Join(id uint64, onMessage transport.Handler, onRequest transport.RequestHandler) (*Endpoint, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.nodes[id]; ok {
		return nil, fmt.Errorf("memnet: node %d already joined", id)
	}
	e := &Endpoint{net: n, id: id, onMessage: onMessage, onRequest: onRequest, inbox: make(map[uint64]*fifo.Queue)}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	n.nodes[id] = e
	return e, nil
}

// Partition drops everything between a and b, both ways, until Heal.
func (n *Network) Partition(a, b uint64) { n.set(func() { n.partitioned[unordered(a, b)] = true }) }

// Heal undoes Partition(a, b).
func (n *Network) Heal(a, b uint64) { n.set(func() { delete(n.partitioned, unordered(a, b)) }) }

// HealAll undoes every Partition and Isolate.
func (n *Network) HealAll() {
	n.set(func() { clear(n.partitioned); clear(n.isolated) })
}

// Isolate cuts id off from every other node until Rejoin.
func (n *Network) Isolate(id uint64) { n.set(func() { n.isolated[id] = true }) }

// Rejoin undoes Isolate(id).
func (n *Network) Rejoin(id uint64) { n.set(func() { delete(n.isolated, id) }) }

// SetDrop sets the probability (0..1) that a message from → to is lost.
func (n *Network) SetDrop(from, to uint64, p float64) {
	n.set(func() { n.drop[pair{from, to}] = p })
}

// SetDropAll sets the loss probability of every link without its own
// SetDrop and clears the per-link settings.
func (n *Network) SetDropAll(p float64) { n.set(func() { n.defaultDrop = p; clear(n.drop) }) }

// SetMutate installs (or, with nil, removes) the mutate hook.
func (n *Network) SetMutate(f MutateFunc) { n.set(func() { n.mutate = f }) }

func (n *Network) set(f func()) {
	n.mu.Lock()
	f()
	n.mu.Unlock()
}

// cut reports whether a and b cannot talk. Caller holds n.mu.
func (n *Network) cut(a, b uint64) bool {
	return n.isolated[a] || n.isolated[b] || n.partitioned[unordered(a, b)]
}

// Close closes every endpoint.
func (n *Network) Close() error {
	n.mu.Lock()
	eps := make([]*Endpoint, 0, len(n.nodes))
	for _, e := range n.nodes {
		eps = append(eps, e)
	}
	n.mu.Unlock()
	for _, e := range eps {
		_ = e.Close()
	}
	return nil
}

// Endpoint is one node's view of the network; it implements
// transport.Network.
type Endpoint struct {
	net       *Network
	id        uint64
	onMessage transport.Handler
	onRequest transport.RequestHandler
	ctx       context.Context // cancelled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	mu     sync.Mutex
	closed bool
	inbox  map[uint64]*fifo.Queue // per sender, each drained by one goroutine
}

var _ transport.Network = (*Endpoint)(nil)

// ID returns the endpoint's node ID.
func (e *Endpoint) ID() uint64 { return e.id }

// Send queues a copy of frame for node to; see the package doc.
//
// # Errors
//
// transport.ErrUnknownPeer (to is self), transport.ErrFrameTooLarge,
// transport.ErrQueueFull, transport.ErrClosed.
func (e *Endpoint) Send(to uint64, frame []byte) error {
	if e.ctx.Err() != nil {
		return transport.ErrClosed
	}
	if to == e.id {
		return fmt.Errorf("%w: %d is self", transport.ErrUnknownPeer, to)
	}
	if len(frame) > e.net.cfg.MaxFrameBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", transport.ErrFrameTooLarge, len(frame), e.net.cfg.MaxFrameBytes)
	}
	e.net.mu.Lock()
	dst := e.net.nodes[to]
	e.net.mu.Unlock()
	if dst == nil {
		return nil // down: lost, like a frame to a crashed node
	}
	q, ok := dst.inboxFor(e.id)
	if !ok || e.net.lost(e.id, to) {
		return nil
	}
	if !q.Push(frame) {
		return fmt.Errorf("%w: peer %d", transport.ErrQueueFull, to)
	}
	return nil
}

// inboxFor returns the queue for frames from sender, starting its
// delivery goroutine on first use; false once e is closed.
func (e *Endpoint) inboxFor(from uint64) (*fifo.Queue, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, false
	}
	q := e.inbox[from]
	if q == nil {
		q = fifo.New(e.net.cfg.QueueMaxFrames, e.net.cfg.QueueMaxBytes)
		e.inbox[from] = q
		e.wg.Add(1)
		go e.deliver(from, q)
	}
	return q, true
}

// deliver hands frames from one sender to the handler, in order, applying
// the faults in force at delivery time.
func (e *Endpoint) deliver(from uint64, q *fifo.Queue) {
	defer e.wg.Done()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-q.Ready():
		}
		for e.ctx.Err() == nil {
			f, ok := q.Pop()
			if !ok {
				break
			}
			f, ok = e.net.pass(from, e.id, f, true)
			if ok && e.onMessage != nil {
				e.onMessage(from, f)
			}
		}
	}
}

// lost draws whether a message from → to is lost to the link's drop
// probability. It is drawn at Send, so one sender's sequence of Sends
// meets the same sequence of decisions for the same seed.
func (n *Network) lost(from, to uint64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	p, ok := n.drop[pair{from, to}]
	if !ok {
		p = n.defaultDrop
	}
	return p > 0 && n.rng.Float64() < p
}

// pass applies cuts and the mutate hook to one payload from → to at
// delivery; false means it is lost.
func (n *Network) pass(from, to uint64, f []byte, message bool) ([]byte, bool) {
	n.mu.Lock()
	if n.cut(from, to) {
		n.mu.Unlock()
		return nil, false
	}
	mutate := n.mutate
	n.mu.Unlock()
	if mutate == nil {
		return f, true
	}
	out := mutate(from, to, f)
	if out == nil && message {
		return nil, false
	}
	return out, true
}

// Request calls node to's RequestHandler with a copy of req and returns a
// copy of its response; see the package doc.
//
// # Errors
//
// transport.ErrUnknownPeer (self), transport.ErrFrameTooLarge (request or
// response), transport.ErrNotConnected, transport.ErrClosed, ctx's error,
// *transport.RemoteError.
func (e *Endpoint) Request(ctx context.Context, to uint64, req []byte) ([]byte, error) {
	if e.ctx.Err() != nil {
		return nil, transport.ErrClosed
	}
	if to == e.id {
		return nil, fmt.Errorf("%w: %d is self", transport.ErrUnknownPeer, to)
	}
	limit := e.net.cfg.MaxFrameBytes
	if len(req) > limit {
		return nil, fmt.Errorf("%w: request of %d bytes, limit %d", transport.ErrFrameTooLarge, len(req), limit)
	}
	e.net.mu.Lock()
	dst := e.net.nodes[to]
	e.net.mu.Unlock()
	if dst == nil {
		return nil, fmt.Errorf("%w: %d", transport.ErrNotConnected, to)
	}
	req, ok := e.net.pass(e.id, to, slices.Clone(req), false)
	if !ok {
		return nil, fmt.Errorf("%w: %d", transport.ErrNotConnected, to)
	}
	type result struct {
		resp []byte
		err  error
	}
	done := make(chan result, 1)
	if !dst.spawn(func(dctx context.Context) {
		hctx, cancel := context.WithCancel(dctx)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		if dst.onRequest == nil {
			done <- result{err: errors.New("no request handler")}
			return
		}
		resp, err := dst.onRequest(hctx, e.id, req)
		done <- result{slices.Clone(resp), err}
	}) {
		return nil, fmt.Errorf("%w: %d", transport.ErrNotConnected, to)
	}
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("memnet: request to %d: %w", to, ctx.Err())
	case <-e.ctx.Done():
		return nil, transport.ErrClosed
	case r := <-done:
		if r.err != nil {
			return nil, &transport.RemoteError{Peer: to, Msg: r.err.Error()}
		}
		if len(r.resp) > limit {
			return nil, &transport.RemoteError{Peer: to, Msg: fmt.Sprintf("response of %d bytes exceeds the limit of %d", len(r.resp), limit)}
		}
		resp, ok := e.net.pass(to, e.id, r.resp, false)
		if !ok {
			return nil, fmt.Errorf("%w: %d (response lost)", transport.ErrNotConnected, to)
		}
		return resp, nil
	}
}

// spawn runs f on a goroutine owned by e, unless e is closed.
func (e *Endpoint) spawn(f func(ctx context.Context)) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		f(e.ctx)
	}()
	return true
}

// Connected lists the other joined nodes this one is not cut off from,
// sorted.
func (e *Endpoint) Connected() []uint64 {
	n := e.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.nodes[e.id] != e {
		return nil
	}
	var out []uint64
	for id := range n.nodes {
		if id != e.id && !n.cut(e.id, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Close detaches the node, drops its queued inbound frames and waits for
// its goroutines (including running handlers). The ID may then Join again.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	e.net.mu.Lock()
	if e.net.nodes[e.id] == e {
		delete(e.net.nodes, e.id)
	}
	e.net.mu.Unlock()
	e.cancel()
	e.wg.Wait()
	return nil
}
