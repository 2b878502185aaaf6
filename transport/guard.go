package transport

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
)

// ConnGuard bounds what strangers can make a QUIC listener hold:
//
//   - every new source address is validated with a Retry before the server
//     keeps any state for it (RFC 9000 §8.1.2), so a flood of abandoned or
//     spoofed Initial packets costs one stateless Retry packet each;
//   - connections from validated addresses, handshaking or established,
//     are capped in total and per remote IP; over the cap the handshake is
//     refused (CONNECTION_REFUSED) before any TLS work.
//
// Refusals are logged with the remote address, at most Burst lines per
// minute plus a count of the suppressed ones.
type ConnGuard struct {
	max, perIP int
	log        *RateLog

	mu   sync.Mutex
	open int
	byIP map[string]int

	refused atomic.Uint64
}

// NewConnGuard caps connections at max in total and perIP per remote IP
// (0: no per-IP cap), logging refusals to lg (nil: not logged).
func NewConnGuard(max, perIP int, lg *slog.Logger) *ConnGuard {
	if perIP <= 0 {
		perIP = max
	}
	return &ConnGuard{max: max, perIP: perIP, byIP: map[string]int{}, log: NewRateLog(lg, 10, time.Minute)}
}

// Apply installs the guard on tr, which must not be listening yet.
func (g *ConnGuard) Apply(tr *quic.Transport) {
	tr.VerifySourceAddress = func(net.Addr) bool { return true }
	tr.ConnContext = g.connContext
}

type remoteAddrKey struct{}

func (g *ConnGuard) connContext(ctx context.Context, ci *quic.ClientInfo) (context.Context, error) {
	ip := hostOf(ci.RemoteAddr)
	g.mu.Lock()
	if g.open >= g.max || g.byIP[ip] >= g.perIP {
		open, fromIP := g.open, g.byIP[ip]
		g.mu.Unlock()
		g.refused.Add(1)
		g.log.Warn("transport: refused handshake: connection limit", "remote", ci.RemoteAddr.String(), "open", open, "from_ip", fromIP, "validated", ci.AddrVerified)
		return nil, fmt.Errorf("transport: connection limit reached (%d open, %d from %s)", open, fromIP, ip)
	}
	g.open++
	g.byIP[ip]++
	g.mu.Unlock()
	var once sync.Once
	release := func() {
		once.Do(func() {
			g.mu.Lock()
			g.open--
			if g.byIP[ip]--; g.byIP[ip] <= 0 {
				delete(g.byIP, ip)
			}
			g.mu.Unlock()
		})
	}
	context.AfterFunc(ctx, release)
	ctx = context.WithValue(ctx, remoteAddrKey{}, ci.RemoteAddr)
	return context.WithValue(ctx, releaseKey{}, release), nil
}

type releaseKey struct{}

// Authenticated stops counting the connection whose context is ctx (a
// quic.Conn's Context()): a guard used this way bounds handshakes in
// progress, and the caller bounds authenticated connections itself.
func (g *ConnGuard) Authenticated(ctx context.Context) {
	if f, ok := ctx.Value(releaseKey{}).(func()); ok {
		f()
	}
}

// RemoteAddr returns the remote address a guarded connection's context
// carries (nil if none).
func RemoteAddr(ctx context.Context) net.Addr {
	a, _ := ctx.Value(remoteAddrKey{}).(net.Addr)
	return a
}

// Open returns the connections the guard currently counts.
func (g *ConnGuard) Open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open
}

// Refused returns how many handshakes the guard refused.
func (g *ConnGuard) Refused() uint64 { return g.refused.Load() }

func hostOf(a net.Addr) string {
	if ua, ok := a.(*net.UDPAddr); ok {
		return ua.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

// RateLog logs at most burst warnings per interval, then one line with
// the number it suppressed, so a flood of refusals cannot flood the log.
type RateLog struct {
	lg       *slog.Logger
	burst    int
	interval time.Duration

	mu         sync.Mutex
	start      time.Time
	n          int
	suppressed int
}

// NewRateLog returns a RateLog writing to lg (nil: discards).
func NewRateLog(lg *slog.Logger, burst int, interval time.Duration) *RateLog {
	return &RateLog{lg: lg, burst: burst, interval: interval}
}

// Warn logs msg unless this window's burst is spent.
func (r *RateLog) Warn(msg string, args ...any) {
	if r == nil || r.lg == nil {
		return
	}
	now := time.Now()
	r.mu.Lock()
	if now.Sub(r.start) >= r.interval {
		if r.suppressed > 0 {
			r.lg.Warn("transport: refusals suppressed from the log", "count", r.suppressed, "window", r.interval)
		}
		r.start, r.n, r.suppressed = now, 0, 0
	}
	r.n++
	if r.n > r.burst {
		r.suppressed++
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	r.lg.Warn(msg, args...)
}
