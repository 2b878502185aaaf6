package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/trialchain/trialchain/chain/consensus"
	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/transport"
)

// Limits bound what strangers can make one node spend on its client API.
// Every listener (plain HTTP on loopback, TLS on TCP, HTTP/3) serves the
// same guarded handler, so the request-level limits hold across all of
// them together; the connection limits hold per TCP listener (HTTP/3's are
// in transport/h3). A zero field takes its default (DefaultLimits).
type Limits struct {
	// MaxConns caps open TCP connections per listener; a connection over
	// the cap is closed at once (the kernel's backlog is not an unbounded
	// queue of our file descriptors).
	MaxConns int `toml:"max_conns"`
	// MaxConnsPerIP caps open TCP connections from one remote address.
	MaxConnsPerIP int `toml:"max_conns_per_ip"`
	// MaxInFlight caps requests being handled at once; more wait up to
	// QueueWait, then get 503 busy.
	MaxInFlight int `toml:"max_in_flight"`
	// BodyBudget caps the request-body bytes the node may be reading at
	// once: a request reserves min(its Content-Length, its route's limit)
	// before its handler runs, so N parallel uploads never hold more than
	// the budget.
	BodyBudget int64 `toml:"body_budget"`
	// HeavyResponses caps concurrent large answers (raw blocks, payloads).
	HeavyResponses int `toml:"heavy_responses"`
	// QueueWait is how long a request waits for a slot or body budget.
	QueueWait time.Duration `toml:"queue_wait"`
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration `toml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included (cuts a
	// client trickling its body: slow loris).
	ReadTimeout time.Duration `toml:"read_timeout"`
	// WriteTimeout bounds writing an answer (it must exceed MaxWait, the
	// longest POST /v1/tx?wait=1).
	WriteTimeout time.Duration `toml:"write_timeout"`
	// IdleTimeout closes a keep-alive connection idle this long.
	IdleTimeout time.Duration `toml:"idle_timeout"`
	// QueryGas caps the gas of one read-only query (POST /v1/query), far
	// below a transaction's cap: anyone may send queries.
	QueryGas uint64 `toml:"query_gas"`
	// QueryTimeout is the wall-clock deadline of one query; past it the
	// guest is stopped and the client gets 504 deadline.
	QueryTimeout time.Duration `toml:"query_timeout"`
	// MaxQueries caps queries running at once; one more is refused at
	// once with 429 (it does not wait: a query holds a core).
	MaxQueries int `toml:"max_queries"`
	// PoolBytes caps the bytes of pending transactions in this node's
	// request pool (genesis's request_pool_size caps their count); past
	// either cap POST /v1/tx answers 429 busy with Retry-After at once.
	PoolBytes int64 `toml:"pool_bytes"`
}

// DefaultLimits are sized for a validator on a small machine: at most
// BodyBudget (64 MiB) of bodies in memory, four large answers (a raw
// block is at most block.MaxBlockBytes) and 64 requests at once.
func DefaultLimits() Limits {
	return Limits{
		MaxConns:          512,
		MaxConnsPerIP:     128,
		MaxInFlight:       64,
		BodyBudget:        64 << 20,
		HeavyResponses:    4,
		QueueWait:         5 * time.Second,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      MaxWait + 30*time.Second,
		IdleTimeout:       60 * time.Second,
		QueryGas:          contracts.DefaultQueryGas,
		QueryTimeout:      2 * time.Second,
		MaxQueries:        4,
		PoolBytes:         consensus.DefaultPoolMaxBytes,
	}
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.MaxConns, d.MaxConns)
	set(&l.MaxConnsPerIP, d.MaxConnsPerIP)
	set(&l.MaxInFlight, d.MaxInFlight)
	set(&l.HeavyResponses, d.HeavyResponses)
	if l.BodyBudget <= 0 {
		l.BodyBudget = d.BodyBudget
	}
	setD(&l.QueueWait, d.QueueWait)
	setD(&l.ReadHeaderTimeout, d.ReadHeaderTimeout)
	setD(&l.ReadTimeout, d.ReadTimeout)
	setD(&l.WriteTimeout, d.WriteTimeout)
	setD(&l.IdleTimeout, d.IdleTimeout)
	setD(&l.QueryTimeout, d.QueryTimeout)
	set(&l.MaxQueries, d.MaxQueries)
	if l.QueryGas == 0 {
		l.QueryGas = d.QueryGas
	}
	if l.PoolBytes <= 0 {
		l.PoolBytes = d.PoolBytes
	}
	return l
}

// bodyLimit is the most a route may read from a request body; 0 means the
// route takes no body.
func (n *Node) bodyLimit(r *http.Request) int64 {
	switch {
	case r.Method == http.MethodPost && (r.URL.Path == "/v1/tx" || r.URL.Path == "/v1/txs"):
		return int64(n.exec.Params.MaxTxBytes)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/v1/payloads/"):
		return MaxPayloadBytes
	case r.Method == http.MethodPost && r.URL.Path == "/v1/query":
		return maxQueryBody
	}
	return 0
}

// weighted is a counting semaphore of n units, acquired FIFO-fairly
// enough for admission control (waiters poll a condition on release).
type weighted struct {
	mu    sync.Mutex
	avail int64
	size  int64
	ch    chan struct{} // nil, or made by a waiter and closed by the next release
}

func newWeighted(n int64) *weighted { return &weighted{avail: n, size: n} }

// tryAcquire takes k units if they are free now.
func (s *weighted) tryAcquire(k int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.avail >= k {
		s.avail -= k
		return true
	}
	return false
}

// acquire takes k units (k ≤ size), waiting until ctx is done.
func (s *weighted) acquire(ctx context.Context, k int64) error {
	if k > s.size {
		return fmt.Errorf("node: %d units over the budget of %d", k, s.size)
	}
	for {
		s.mu.Lock()
		if s.avail >= k {
			s.avail -= k
			s.mu.Unlock()
			return nil
		}
		if s.ch == nil {
			s.ch = make(chan struct{})
		}
		ch := s.ch
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// acquireWithin takes k units, waiting at most d (and no longer than
// parent); the timer exists only if the units are not free at once.
func (s *weighted) acquireWithin(parent context.Context, k int64, d time.Duration) error {
	if k <= s.size && s.tryAcquire(k) {
		return nil
	}
	ctx, cancel := context.WithTimeout(parent, d)
	defer cancel()
	return s.acquire(ctx, k)
}

func (s *weighted) release(k int64) {
	s.mu.Lock()
	s.avail += k
	if s.ch != nil { // wake the waiters
		close(s.ch)
		s.ch = nil
	}
	s.mu.Unlock()
}

// guard is the request-level protection every API listener shares.
type guard struct {
	lim    Limits
	slots  *weighted
	bodies *weighted
	heavy  *weighted
	body   func(*http.Request) int64
	log    *transport.RateLog
}

func newGuard(lim Limits, body func(*http.Request) int64, lg *slog.Logger) *guard {
	return &guard{lim: lim, slots: newWeighted(int64(lim.MaxInFlight)), bodies: newWeighted(lim.BodyBudget),
		heavy: newWeighted(int64(lim.HeavyResponses)), body: body, log: transport.NewRateLog(lg, 10, time.Minute)}
}

func busy(w http.ResponseWriter, what string) {
	w.Header().Set("Retry-After", "1")
	writeErr(w, http.StatusServiceUnavailable, "busy", fmt.Errorf("node busy: %s; try again shortly", what))
}

// wrap limits h: a request slot, a body no larger than its route's limit
// (refused from its Content-Length before any byte is read), and body
// bytes reserved from the shared budget before the handler reads them.
func (g *guard) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.slots.acquireWithin(r.Context(), 1, g.lim.QueueWait); err != nil {
			g.log.Warn("API request refused: too many in flight", "remote", r.RemoteAddr, "path", r.URL.Path)
			busy(w, "too many requests in flight")
			return
		}
		defer g.slots.release(1)
		limit := g.body(r)
		if r.ContentLength > limit {
			writeErr(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Errorf("%s %s takes a body of at most %d bytes", r.Method, r.URL.Path, limit))
			return
		}
		reserve := limit
		if r.ContentLength >= 0 && r.ContentLength < limit {
			reserve = r.ContentLength
		}
		// The budget is taken when the handler first reads the body, so a
		// request refused from its headers (unsigned, not anchored) never
		// holds any of it.
		bb := &budgetBody{ReadCloser: http.MaxBytesReader(w, r.Body, reserve), g: g, n: reserve, r: r}
		defer bb.release()
		r.Body = bb
		h.ServeHTTP(w, r)
	})
}

// ErrBusy is a request body the node would not read now: its body budget
// stayed exhausted for QueueWait.
var ErrBusy = errors.New("node busy: too many uploads in progress; try again shortly")

// budgetBody reserves its bytes from the body budget on the first Read.
type budgetBody struct {
	io.ReadCloser
	g    *guard
	n    int64
	r    *http.Request
	held bool
	err  error
}

func (b *budgetBody) Read(p []byte) (int, error) {
	if !b.held && b.err == nil && b.n > 0 {
		if err := b.g.bodies.acquireWithin(b.r.Context(), b.n, b.g.lim.QueueWait); err != nil {
			b.g.log.Warn("API request refused: body budget exhausted", "remote", b.r.RemoteAddr, "path", b.r.URL.Path, "bytes", b.n)
			b.err = ErrBusy
		} else {
			b.held = true
		}
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.ReadCloser.Read(p)
}

func (b *budgetBody) release() {
	if b.held {
		b.held = false
		b.g.bodies.release(b.n)
	}
}

// readBody reads a request body of at most limit bytes into one buffer
// sized up front (its Content-Length, or limit when none is given), so an
// upload costs what the body budget reserved for it and no regrowth. It
// returns a *http.MaxBytesError past limit.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	size := limit
	if r.ContentLength >= 0 && r.ContentLength < limit {
		size = r.ContentLength
	}
	// A first empty read takes the body budget (budgetBody) before the
	// buffer exists: waiting uploads hold no memory.
	if _, err := r.Body.Read(nil); err != nil && err != io.EOF {
		return nil, err
	}
	buf := make([]byte, 0, size+1)
	for {
		if len(buf) == cap(buf) { // over its Content-Length (net/http stops that) or over limit
			return nil, &http.MaxBytesError{Limit: limit}
		}
		k, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if int64(len(buf)) > limit {
			return nil, &http.MaxBytesError{Limit: limit}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// readErr answers a failed body read: 503 when the budget was exhausted,
// 413 over the route's limit, else 400.
func readErr(w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, ErrBusy):
		busy(w, "too many uploads in progress")
	case isTooLarge(err):
		writeErr(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Errorf("%s: %w", what, err))
	default:
		writeErr(w, http.StatusBadRequest, "read", fmt.Errorf("reading %s: %w", what, err))
	}
}

// heavyAnswer takes a slot for a large answer, or answers 503 and
// returns false. Call the returned release when done.
func (g *guard) heavyAnswer(w http.ResponseWriter, r *http.Request) (func(), bool) {
	if err := g.heavy.acquireWithin(r.Context(), 1, g.lim.QueueWait); err != nil {
		busy(w, "too many large answers in progress")
		return nil, false
	}
	return func() { g.heavy.release(1) }, true
}

// isTooLarge reports a body cut by http.MaxBytesReader.
func isTooLarge(err error) bool {
	if err == nil {
		return false // and no allocation for errors.As's target
	}
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// limitedListener closes connections over MaxConns (total) or
// MaxConnsPerIP (per remote IP) as soon as they are accepted.
type limitedListener struct {
	net.Listener
	max, perIP int
	log        *transport.RateLog

	mu    sync.Mutex
	open  int
	byIP  map[string]int
	kinds string
}

func newLimitedListener(ln net.Listener, lim Limits, lg *transport.RateLog, kind string) *limitedListener {
	return &limitedListener{Listener: ln, max: lim.MaxConns, perIP: lim.MaxConnsPerIP, log: lg, byIP: map[string]int{}, kinds: kind}
}

func (l *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c.RemoteAddr())
		l.mu.Lock()
		if l.open >= l.max || l.byIP[ip] >= l.perIP {
			open, fromIP := l.open, l.byIP[ip]
			l.mu.Unlock()
			_ = c.Close()
			l.log.Warn("API connection refused: connection limit", "listener", l.kinds, "remote", c.RemoteAddr().String(), "open", open, "from_ip", fromIP)
			continue
		}
		l.open++
		l.byIP[ip]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() {
			l.mu.Lock()
			l.open--
			if l.byIP[ip]--; l.byIP[ip] <= 0 {
				delete(l.byIP, ip)
			}
			l.mu.Unlock()
		}}, nil
	}
}

// Open returns the connections currently open through l.
func (l *limitedListener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

func remoteIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
