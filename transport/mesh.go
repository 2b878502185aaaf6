package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/trialchain/trialchain/transport/internal/fifo"
)

// QUIC application error codes on a connection close.
const (
	codeShutdown   quic.ApplicationErrorCode = 0 // orderly close
	codeBadFrame   quic.ApplicationErrorCode = 1 // oversized, truncated or unreadable frame
	codeProtocol   quic.ApplicationErrorCode = 2 // unexpected stream or data
	codeSuperseded quic.ApplicationErrorCode = 3 // the peer opened a newer connection
)

// QUIC stream error codes on a request stream reset.
const (
	codeCancelled  quic.StreamErrorCode = 0x10 // the requester gave up
	codeBadRequest quic.StreamErrorCode = 0x11 // the request frame was bad
)

// Response status byte, written before the response frame.
const (
	statusOK    byte = 0
	statusError byte = 1
)

// maxRemoteErrorLen caps the error text returned to a requester.
const maxRemoteErrorLen = 1024

// Bounds on concurrent streams a peer may open on its link to us: one
// message stream per connection (a few allowed for safety) and as many
// concurrent requests as maxIncomingRequests.
const (
	maxIncomingMessageStreams = 4
	maxIncomingRequests       = 64
)

// Mesh is the QUIC transport between validators. See the package
// documentation for the call sequence and the goroutines it owns.
type Mesh struct {
	cfg       Config
	log       *slog.Logger
	onMessage Handler
	onRequest RequestHandler
	// peers is the pinned set in force (an immutable snapshot, replaced
	// by SetPeers under mu); read without a lock on every send and
	// handshake.
	peers     atomic.Pointer[peerTable]
	cert      tls.Certificate
	serverTLS *tls.Config
	guard     *ConnGuard
	refusals  *RateLog

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the Mesh started
	closed atomic.Bool

	mu      sync.Mutex // guards the fields below
	started bool
	pconn   net.PacketConn
	tr      *quic.Transport
	ln      *quic.Listener
	inbound map[uint64]*quic.Conn // newest inbound connection per peer

	stats struct {
		refused, badFrames, dials, dialFailures, queueDrops, sent, received atomic.Uint64
	}
}

// peerTable is one pinned set of peers, excluding self. It is never
// modified once published: SetPeers builds a new one.
type peerTable struct {
	byKey map[string]uint64 // pinned key → peer ID
	links map[uint64]*link  // outbound side per peer
	ids   []uint64          // sorted keys of links
}

// link is the outbound side of one peer: its send queue, its pinned TLS
// configuration and the live connection, if any. ctx ends when the mesh
// closes or SetPeers drops the peer; its dialler then stops.
type link struct {
	peer   Peer
	q      *fifo.Queue
	tls    *tls.Config
	ctx    context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	conn *quic.Conn // nil while not connected
}

func (l *link) setConn(c *quic.Conn) {
	l.mu.Lock()
	l.conn = c
	l.mu.Unlock()
}

func (l *link) getConn() *quic.Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conn
}

var _ Network = (*Mesh)(nil)

// New checks cfg and returns a Mesh that is not yet listening or dialling;
// call Start. onMessage receives message frames and onRequest answers
// requests; either may be nil (messages are then discarded, requests
// answered with an error). New does no I/O and starts no goroutine.
//
// # Errors
//
// Any error of cfg.Validate, or a failure to build the certificate.
func New(cfg Config, onMessage Handler, onRequest RequestHandler) (*Mesh, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cfg.Peers = slices.Clone(cfg.Peers)
	cert, err := SelfSignedCertificate(cfg.Key)
	if err != nil {
		return nil, err
	}
	m := &Mesh{
		cfg:       cfg,
		log:       cfg.Logger.With("node", cfg.SelfID),
		onMessage: onMessage,
		onRequest: onRequest,
		cert:      cert,
		inbound:   make(map[uint64]*quic.Conn),
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.refusals = NewRateLog(m.log, 10, time.Minute)
	m.guard = NewConnGuard(cfg.MaxHandshakes, 0, m.log)
	m.guard.log = m.refusals // one rate limit for every kind of refusal
	t, _, _ := m.nextTable(&peerTable{}, cfg.Peers)
	m.peers.Store(t)
	m.serverTLS = serverTLS(cert, m.lookup, func(remote net.Addr, err error) {
		m.stats.refused.Add(1)
		m.refusals.Warn("transport: refused client", "remote", addrString(remote), "err", err)
	})
	return m, nil
}

func (m *Mesh) lookup(pub ed25519.PublicKey) (uint64, bool) {
	id, ok := m.peers.Load().byKey[string(pub)]
	return id, ok
}

func (m *Mesh) newLink(p Peer) *link {
	l := &link{
		peer: p,
		q:    fifo.New(m.cfg.QueueMaxFrames, m.cfg.QueueMaxBytes),
		tls: clientTLS(m.cert, p.Key, func(err error) {
			m.stats.refused.Add(1)
			m.refusals.Warn("transport: refused server", "peer", p.ID, "addr", p.Addr, "err", err)
		}),
	}
	l.ctx, l.cancel = context.WithCancel(m.ctx)
	return l
}

// nextTable builds the table of peers (self skipped) from cur: a peer
// pinned with the same key and address keeps its link (queue and
// connection); others get a new link (added), and cur's links not kept
// are returned as dropped.
func (m *Mesh) nextTable(cur *peerTable, peers []Peer) (next *peerTable, added, dropped []*link) {
	next = &peerTable{byKey: make(map[string]uint64), links: make(map[uint64]*link)}
	for _, p := range peers {
		if p.ID == m.cfg.SelfID {
			continue
		}
		l := cur.links[p.ID]
		if l == nil || !l.peer.Key.Equal(p.Key) || l.peer.Addr != p.Addr {
			l = m.newLink(Peer{ID: p.ID, Key: slices.Clone(p.Key), Addr: p.Addr})
			added = append(added, l)
		}
		next.byKey[string(p.Key)] = p.ID
		next.links[p.ID] = l
		next.ids = append(next.ids, p.ID)
	}
	slices.Sort(next.ids)
	for _, id := range cur.ids {
		if l := cur.links[id]; next.links[id] != l {
			dropped = append(dropped, l)
		}
	}
	return next, added, dropped
}

// SetPeers replaces the pinned set with peers (all validators in force;
// an entry for SelfID is ignored), while the mesh runs: a new peer is
// dialled and accepted with its pinned key; a dropped peer's link, queued
// frames and connections are closed, and its key is refused from then on,
// in either direction. A peer whose key or address changed is dropped and
// added again. Unchanged peers keep their links. peers is checked as
// Config.Peers is.
//
// # Errors
//
// The Config.Validate error for a bad peer list (nothing changes), or
// ErrClosed.
func (m *Mesh) SetPeers(peers []Peer) error {
	if err := validatePeers(m.cfg.SelfID, m.cfg.Key, peers); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed.Load() {
		m.mu.Unlock()
		return ErrClosed
	}
	next, added, dropped := m.nextTable(m.peers.Load(), peers)
	m.peers.Store(next)
	var closing []*quic.Conn
	for _, l := range dropped {
		l.cancel()
		l.q.Clear()
		if c := m.inbound[l.peer.ID]; c != nil {
			delete(m.inbound, l.peer.ID)
			closing = append(closing, c)
		}
	}
	if m.started {
		for _, l := range added {
			m.wg.Add(1)
			go m.runLink(l)
		}
	}
	m.mu.Unlock()
	for _, c := range closing {
		_ = c.CloseWithError(codeShutdown, "peer no longer pinned")
	}
	for _, l := range dropped {
		m.log.Info("transport: peer dropped from the pinned set", "peer", l.peer.ID, "addr", l.peer.Addr)
	}
	for _, l := range added {
		m.log.Info("transport: peer added to the pinned set", "peer", l.peer.ID, "addr", l.peer.Addr)
	}
	return nil
}

// Peers returns the pinned peers in force (self excluded), by id.
func (m *Mesh) Peers() []Peer {
	t := m.peers.Load()
	out := make([]Peer, 0, len(t.ids))
	for _, id := range t.ids {
		out = append(out, t.links[id].peer)
	}
	return out
}

func (m *Mesh) quicConfig(server bool) *quic.Config {
	c := &quic.Config{
		HandshakeIdleTimeout: m.cfg.DialTimeout,
		MaxIdleTimeout:       m.cfg.IdleTimeout,
		KeepAlivePeriod:      m.cfg.IdleTimeout / 3,
		// Outbound connections carry only what we open; the peer may not
		// open streams on them.
		MaxIncomingStreams:    -1,
		MaxIncomingUniStreams: -1,
	}
	if server {
		c.MaxIncomingStreams = maxIncomingRequests
		c.MaxIncomingUniStreams = maxIncomingMessageStreams
	}
	return c
}

// Start binds the UDP socket (unless Config.PacketConn was given), starts
// accepting links and starts one dialer per peer. ctx bounds only the
// start; the mesh runs until Close.
//
// # Errors
//
// ErrClosed after Close; an error if already started or if the socket
// cannot be bound.
func (m *Mesh) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed.Load():
		return ErrClosed
	case m.started:
		return errors.New("transport: already started")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("transport: start: %w", err)
	}
	pconn := m.cfg.PacketConn
	if pconn == nil {
		var lc net.ListenConfig
		var err error
		if pconn, err = lc.ListenPacket(ctx, "udp", m.cfg.ListenAddr); err != nil {
			return fmt.Errorf("transport: listen: %w", err)
		}
	}
	// No StatelessResetKey: with one, a restarted peer's resets dropped a
	// live link's frames and a forwarded transaction was lost under load
	// (chain/node TestClusterCommitsThousandTransactions, -race); see
	// issue 14's note. A dead link is found by the idle timeout instead.
	tr := &quic.Transport{Conn: pconn}
	m.guard.Apply(tr)
	ln, err := tr.Listen(m.serverTLS, m.quicConfig(true))
	if err != nil {
		_ = tr.Close()
		_ = pconn.Close()
		return fmt.Errorf("transport: listen: %w", err)
	}
	m.started, m.pconn, m.tr, m.ln = true, pconn, tr, ln
	m.log.Debug("transport: listening", "addr", ln.Addr())
	m.wg.Add(1)
	go m.acceptLoop()
	t := m.peers.Load()
	for _, id := range t.ids {
		m.wg.Add(1)
		go m.runLink(t.links[id])
	}
	return nil
}

// Addr returns the local UDP address, or nil before Start.
func (m *Mesh) Addr() net.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ln == nil {
		return nil
	}
	return m.ln.Addr()
}

// Send queues a copy of frame for peer to and returns without blocking.
// Frames to one peer are written in order on one stream; a frame is lost
// if the link fails while it is in flight (delivery is at most once).
// Frames queued while the peer is unreachable are sent once it is.
//
// # Errors
//
// ErrUnknownPeer, ErrFrameTooLarge, ErrQueueFull (the frame is dropped),
// ErrClosed.
func (m *Mesh) Send(to uint64, frame []byte) error {
	if m.closed.Load() {
		return ErrClosed
	}
	l := m.peers.Load().links[to]
	if l == nil {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, to)
	}
	if len(frame) > m.cfg.MaxFrameBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, len(frame), m.cfg.MaxFrameBytes)
	}
	if !l.q.Push(frame) {
		m.stats.queueDrops.Add(1)
		return fmt.Errorf("%w: peer %d", ErrQueueFull, to)
	}
	return nil
}

// Request sends req to peer to on a new stream of the outbound link and
// returns the peer's response. It is bounded by ctx and by
// Config.MaxFrameBytes in both directions.
//
// # Errors
//
// ErrUnknownPeer, ErrFrameTooLarge, ErrNotConnected (no live link now:
// retry later or ask another peer), ErrClosed, ctx's error, a
// *RemoteError if the peer's handler failed, or a wrapped stream error.
func (m *Mesh) Request(ctx context.Context, to uint64, req []byte) ([]byte, error) {
	if m.closed.Load() {
		return nil, ErrClosed
	}
	l := m.peers.Load().links[to]
	if l == nil {
		return nil, fmt.Errorf("%w: %d", ErrUnknownPeer, to)
	}
	if len(req) > m.cfg.MaxFrameBytes {
		return nil, fmt.Errorf("%w: request of %d bytes, limit %d", ErrFrameTooLarge, len(req), m.cfg.MaxFrameBytes)
	}
	conn := l.getConn()
	if conn == nil {
		return nil, fmt.Errorf("%w: %d", ErrNotConnected, to)
	}
	resp, err := m.request(ctx, conn, to, req)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("transport: request to %d: %w", to, ctx.Err())
	}
	return resp, err
}

func (m *Mesh) request(ctx context.Context, conn *quic.Conn, to uint64, req []byte) ([]byte, error) {
	st, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("transport: request to %d: open stream: %w", to, err)
	}
	stop := context.AfterFunc(ctx, func() {
		st.CancelWrite(codeCancelled)
		st.CancelRead(codeCancelled)
	})
	defer stop()
	if err := WriteFrame(st, req, m.cfg.MaxFrameBytes); err != nil {
		st.CancelRead(codeCancelled)
		return nil, fmt.Errorf("transport: request to %d: %w", to, err)
	}
	if err := st.Close(); err != nil {
		st.CancelRead(codeCancelled)
		return nil, fmt.Errorf("transport: request to %d: %w", to, err)
	}
	status, resp, err := m.readResponse(st)
	if err != nil {
		st.CancelRead(codeCancelled)
		return nil, fmt.Errorf("transport: response from %d: %w", to, err)
	}
	if status == statusError {
		return nil, &RemoteError{Peer: to, Msg: string(resp)}
	}
	return resp, nil
}

func (m *Mesh) readResponse(st *quic.Stream) (byte, []byte, error) {
	var status [1]byte
	if _, err := io.ReadFull(st, status[:]); err != nil {
		if err == io.EOF {
			err = ErrTruncatedFrame
		}
		return 0, nil, err
	}
	if status[0] != statusOK && status[0] != statusError {
		return 0, nil, fmt.Errorf("transport: bad response status %d", status[0])
	}
	resp, err := ReadFrame(st, m.cfg.MaxFrameBytes)
	if err == io.EOF {
		err = ErrTruncatedFrame
	}
	if err != nil {
		return 0, nil, err
	}
	if err := expectEOF(st); err != nil {
		return 0, nil, err
	}
	return status[0], resp, nil
}

// expectEOF reads the end of a stream that must carry nothing more. Reading
// the FIN also completes the receive side so QUIC releases the stream.
func expectEOF(r io.Reader) error {
	var b [1]byte
	n, err := io.ReadFull(r, b[:])
	if n > 0 {
		return errors.New("transport: trailing data after frame")
	}
	if err != io.EOF {
		return err
	}
	return nil
}

// Connected returns the IDs of peers with a live outbound link, sorted.
func (m *Mesh) Connected() []uint64 {
	var out []uint64
	t := m.peers.Load()
	for _, id := range t.ids {
		if t.links[id].getConn() != nil {
			out = append(out, id)
		}
	}
	return out
}

// Redial closes every outbound connection, so that each link dials its
// peer again at once. A process that resumes after being stopped calls it:
// its peers closed their side of its connections while it did not answer,
// and without a stateless reset key such a connection looks alive here
// until the idle timeout, swallowing every frame and request written to it.
// Queued frames stay queued for the new connection.
func (m *Mesh) Redial() {
	t := m.peers.Load()
	for _, id := range t.ids {
		if c := t.links[id].getConn(); c != nil {
			_ = c.CloseWithError(codeSuperseded, "redial")
		}
	}
}

// Stats returns a snapshot of the mesh's counters.
func (m *Mesh) Stats() Stats {
	return Stats{
		HandshakesRefused: m.stats.refused.Load(),
		BadFrames:         m.stats.badFrames.Load(),
		Dials:             m.stats.dials.Load(),
		DialFailures:      m.stats.dialFailures.Load(),
		QueueDrops:        m.stats.queueDrops.Load(),
		FramesSent:        m.stats.sent.Load(),
		FramesReceived:    m.stats.received.Load(),
	}
}

// Close closes every connection (telling peers), the listener and the
// socket, and waits for every goroutine the mesh started, including
// running Handler and RequestHandler calls. Queued frames are dropped.
// Close is idempotent; it may be called without Start.
func (m *Mesh) Close() error {
	m.mu.Lock()
	if m.closed.Swap(true) {
		m.mu.Unlock()
		return nil
	}
	started := m.started
	m.mu.Unlock()
	m.cancel()
	if !started {
		if m.cfg.PacketConn != nil {
			return m.cfg.PacketConn.Close()
		}
		return nil
	}
	errLn := m.ln.Close()
	m.wg.Wait()
	errTr := m.tr.Close()
	errConn := m.pconn.Close()
	for _, l := range m.peers.Load().links {
		l.q.Clear()
	}
	if errors.Is(errLn, net.ErrClosed) {
		errLn = nil
	}
	return errors.Join(errLn, errTr, errConn)
}

// sleep waits d or until ctx ends (Close, or the peer dropped); it
// reports whether to go on.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// backoff is the delay after the n-th consecutive failure: BackoffMin
// doubled n-1 times, capped at BackoffMax, with "equal jitter" (uniform in
// [d/2, d)) so that restarted peers do not dial in lockstep.
func (m *Mesh) backoff(n int) time.Duration {
	d := m.cfg.BackoffMin
	for i := 1; i < n && d < m.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, m.cfg.BackoffMax)
	if d < 2 {
		return d
	}
	return d/2 + rand.N(d-d/2)
}

// runLink owns the outbound side of one peer: dial, write queued frames
// until the link fails, back off, redial; until Close or until SetPeers
// drops the peer.
func (m *Mesh) runLink(l *link) {
	defer m.wg.Done()
	log := m.log.With("peer", l.peer.ID)
	failures := 0
	for l.ctx.Err() == nil {
		conn, st, err := m.dial(l)
		if err != nil {
			if l.ctx.Err() != nil {
				return
			}
			failures++
			m.stats.dialFailures.Add(1)
			log.Debug("transport: dial failed", "addr", l.peer.Addr, "failures", failures, "err", err)
			if !sleep(l.ctx, m.backoff(failures)) {
				return
			}
			continue
		}
		failures = 0
		m.stats.dials.Add(1)
		log.Debug("transport: link up", "addr", l.peer.Addr)
		l.setConn(conn)
		err = m.writeLoop(l, conn, st)
		l.setConn(nil)
		_ = conn.CloseWithError(codeShutdown, "link closed")
		if l.ctx.Err() != nil {
			return
		}
		log.Info("transport: link down", "addr", l.peer.Addr, "err", err)
		if !sleep(l.ctx, m.backoff(1)) {
			return
		}
	}
}

func (m *Mesh) dial(l *link) (*quic.Conn, *quic.SendStream, error) {
	ctx, cancel := context.WithTimeout(l.ctx, m.cfg.DialTimeout)
	defer cancel()
	addr, err := net.ResolveUDPAddr("udp", l.peer.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("transport: resolve %q: %w", l.peer.Addr, err)
	}
	conn, err := m.tr.Dial(ctx, addr, l.tls, m.quicConfig(false))
	if err != nil {
		return nil, nil, fmt.Errorf("transport: dial %d at %s: %w", l.peer.ID, addr, err)
	}
	st, err := conn.OpenUniStreamSync(ctx)
	if err != nil {
		_ = conn.CloseWithError(codeShutdown, "")
		return nil, nil, fmt.Errorf("transport: open stream to %d: %w", l.peer.ID, err)
	}
	return conn, st, nil
}

// writeLoop writes l's queued frames to st until the connection ends.
func (m *Mesh) writeLoop(l *link, conn *quic.Conn, st *quic.SendStream) error {
	stop := context.AfterFunc(l.ctx, func() { _ = conn.CloseWithError(codeShutdown, "shutdown") })
	defer stop()
	bw := bufio.NewWriterSize(st, 64<<10)
	for {
		for {
			f, ok := l.q.Pop()
			if !ok {
				break
			}
			if err := WriteFrame(bw, f, m.cfg.MaxFrameBytes); err != nil {
				return err
			}
			m.stats.sent.Add(1)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("transport: write: %w", err)
		}
		select {
		case <-conn.Context().Done():
			return context.Cause(conn.Context())
		case <-l.q.Ready():
		}
	}
}

// acceptLoop accepts inbound links until Close.
func (m *Mesh) acceptLoop() {
	defer m.wg.Done()
	for {
		conn, err := m.ln.Accept(m.ctx)
		if err != nil {
			if m.ctx.Err() == nil {
				m.log.Error("transport: accept stopped", "err", err)
			}
			return
		}
		m.guard.Authenticated(conn.Context())
		id, ok := m.connPeer(conn)
		if !ok { // unreachable: the handshake checked the pin
			_ = conn.CloseWithError(codeProtocol, "unknown peer")
			continue
		}
		m.wg.Add(1)
		go m.serveConn(id, conn)
	}
}

func (m *Mesh) connPeer(conn *quic.Conn) (uint64, bool) {
	certs := conn.ConnectionState().TLS.PeerCertificates
	if len(certs) != 1 {
		return 0, false
	}
	pub, ok := certs[0].PublicKey.(ed25519.PublicKey)
	if !ok {
		return 0, false
	}
	return m.lookup(pub)
}

// serveConn reads the message stream(s) and serves the request streams of
// one inbound connection until it ends.
func (m *Mesh) serveConn(id uint64, conn *quic.Conn) {
	defer m.wg.Done()
	stop := context.AfterFunc(m.ctx, func() { _ = conn.CloseWithError(codeShutdown, "shutdown") })
	defer stop()
	m.mu.Lock()
	// SetPeers may have dropped the peer since its handshake: refuse it
	// now (SetPeers holds mu while it swaps the set and closes inbound
	// links, so a link registered here is either closed there or refused).
	if cur, ok := m.connPeer(conn); !ok || cur != id {
		m.mu.Unlock()
		m.stats.refused.Add(1)
		_ = conn.CloseWithError(codeShutdown, "peer no longer pinned")
		return
	}
	old := m.inbound[id]
	m.inbound[id] = conn
	m.mu.Unlock()
	if old != nil {
		_ = old.CloseWithError(codeSuperseded, "superseded")
		if restarted(old, conn) {
			// The peer's process restarted while our outbound connection
			// to its old process still looks alive: frames written there
			// vanish until the idle timeout (no stateless reset key, see
			// Config). Close it, so the link redials the new process now.
			if l := m.peers.Load().links[id]; l != nil {
				if c := l.getConn(); c != nil {
					_ = c.CloseWithError(codeSuperseded, "peer restarted")
				}
			}
			m.log.Info("transport: peer restarted; redialling it", "peer", id)
		}
	}
	defer func() {
		m.mu.Lock()
		if m.inbound[id] == conn {
			delete(m.inbound, id)
		}
		m.mu.Unlock()
	}()
	m.log.Debug("transport: inbound link", "peer", id, "addr", conn.RemoteAddr())

	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			st, err := conn.AcceptUniStream(m.ctx)
			if err != nil {
				return
			}
			m.wg.Add(1)
			go m.readMessages(id, conn, st)
		}
	}()
	for {
		st, err := conn.AcceptStream(m.ctx)
		if err != nil {
			return
		}
		m.wg.Add(1)
		go m.serveRequest(id, st)
	}
}

// readMessages hands every frame of a message stream to the Handler, in
// order. A bad frame closes the whole connection; the peer redials.
func (m *Mesh) readMessages(id uint64, conn *quic.Conn, st *quic.ReceiveStream) {
	defer m.wg.Done()
	// A blocked Read must end when the mesh closes even if the connection
	// lingers (e.g. its serving goroutine already returned).
	stop := context.AfterFunc(m.ctx, func() { st.CancelRead(quic.StreamErrorCode(codeShutdown)) })
	defer stop()
	br := bufio.NewReaderSize(st, 64<<10)
	for {
		f, err := ReadFrame(br, m.cfg.MaxFrameBytes)
		if err != nil {
			if err == io.EOF || conn.Context().Err() != nil || m.ctx.Err() != nil {
				return
			}
			if errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrTruncatedFrame) {
				m.stats.badFrames.Add(1)
				m.log.Warn("transport: bad frame, closing link", "peer", id, "err", err)
				_ = conn.CloseWithError(codeBadFrame, "bad frame")
				return
			}
			m.log.Debug("transport: message stream failed, closing link", "peer", id, "err", err)
			_ = conn.CloseWithError(codeProtocol, "message stream failed")
			return
		}
		m.stats.received.Add(1)
		if m.onMessage != nil {
			m.onMessage(id, f)
		}
	}
}

// serveRequest reads one request frame, runs the RequestHandler and
// writes the status byte and the response frame.
func (m *Mesh) serveRequest(id uint64, st *quic.Stream) {
	defer m.wg.Done()
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.RequestTimeout)
	defer cancel()
	// The send side's context ends when the requester stops reading
	// (gives up) or the connection closes.
	stop := context.AfterFunc(st.Context(), cancel)
	defer stop()
	_ = st.SetReadDeadline(time.Now().Add(m.cfg.RequestTimeout))
	req, err := ReadFrame(st, m.cfg.MaxFrameBytes)
	if err == nil {
		err = expectEOF(st)
	}
	if err != nil {
		if errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrTruncatedFrame) {
			m.stats.badFrames.Add(1)
			m.log.Warn("transport: bad request frame", "peer", id, "err", err)
		}
		st.CancelRead(codeBadRequest)
		st.CancelWrite(codeBadRequest)
		return
	}
	var resp []byte
	if m.onRequest == nil {
		err = errors.New("no request handler")
	} else {
		resp, err = m.onRequest(ctx, id, req)
	}
	if err == nil && len(resp) > m.cfg.MaxFrameBytes {
		err = fmt.Errorf("response of %d bytes exceeds the limit of %d", len(resp), m.cfg.MaxFrameBytes)
	}
	status := statusOK
	if err != nil {
		status, resp = statusError, []byte(err.Error())
		if len(resp) > maxRemoteErrorLen {
			resp = resp[:maxRemoteErrorLen]
		}
	}
	_ = st.SetWriteDeadline(time.Now().Add(m.cfg.RequestTimeout))
	bw := bufio.NewWriterSize(st, 64<<10)
	_ = bw.WriteByte(status)
	if err := WriteFrame(bw, resp, m.cfg.MaxFrameBytes); err != nil {
		st.CancelWrite(codeCancelled)
		return
	}
	if err := bw.Flush(); err != nil {
		st.CancelWrite(codeCancelled)
		return
	}
	_ = st.Close()
}

func addrString(a net.Addr) string {
	if a == nil {
		return "unknown"
	}
	return a.String()
}

// restarted reports whether two connections from one peer come from
// different processes: each process makes its own certificate (a fresh
// random serial number, SelfSignedCertificate), so a different leaf
// certificate means a restart, while a process that merely redials
// presents the same one.
func restarted(old, cur *quic.Conn) bool {
	a, b := old.ConnectionState().TLS.PeerCertificates, cur.ConnectionState().TLS.PeerCertificates
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	return !bytes.Equal(a[0].Raw, b[0].Raw)
}
