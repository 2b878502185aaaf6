// Package h3 serves and calls the node's client API over HTTP/3 (quic-go's
// http3). Validator links use the parent package's Mesh instead.
//
// It is a separate package so that binaries using only the validator mesh
// do not link the HTTP/3 stack, and so that quic-go stays behind the
// transport directory.
package h3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/trialchain/trialchain/transport"
)

// Server serves an http.Handler over HTTP/3 on one UDP socket.
type Server struct {
	srv   *http3.Server
	pconn net.PacketConn
	tr    *quic.Transport
	guard *transport.ConnGuard
	done  chan struct{}
	err   error // set before done is closed
}

// Limits bound one HTTP/3 listener. Every new source address is
// validated with a QUIC Retry before the server keeps state for it.
type Limits struct {
	// MaxConns caps connections (handshaking or established); default 512.
	MaxConns int
	// MaxConnsPerIP caps them per remote IP; default MaxConns/4.
	MaxConnsPerIP int
	// IdleTimeout closes an idle connection; default 30 s.
	IdleTimeout time.Duration
	// HandshakeTimeout bounds a handshake; default 5 s.
	HandshakeTimeout time.Duration
	// MaxStreams caps concurrent requests per connection; default 32.
	MaxStreams int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxConns <= 0 {
		l.MaxConns = 512
	}
	if l.MaxConnsPerIP <= 0 {
		l.MaxConnsPerIP = max(1, l.MaxConns/4)
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 30 * time.Second
	}
	if l.HandshakeTimeout <= 0 {
		l.HandshakeTimeout = 5 * time.Second
	}
	if l.MaxStreams <= 0 {
		l.MaxStreams = 32
	}
	return l
}

// Serve binds addr (UDP, e.g. "127.0.0.1:0") and serves h over HTTP/3
// with tlsConf (which must carry a certificate; it is cloned and its ALPN
// set to "h3"), within lim; refusals are logged to lg (nil: not logged),
// rate-limited, with the remote address. ctx bounds only the bind; the
// server runs until Close.
func Serve(ctx context.Context, addr string, tlsConf *tls.Config, h http.Handler, lim Limits, lg *slog.Logger) (*Server, error) {
	if tlsConf == nil {
		return nil, errors.New("h3: nil TLS config")
	}
	var lc net.ListenConfig
	pconn, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("h3: listen: %w", err)
	}
	conf := tlsConf.Clone()
	if conf.MinVersion < tls.VersionTLS13 {
		conf.MinVersion = tls.VersionTLS13
	}
	lim = lim.withDefaults()
	qconf := &quic.Config{
		HandshakeIdleTimeout:  lim.HandshakeTimeout,
		MaxIdleTimeout:        lim.IdleTimeout,
		MaxIncomingStreams:    lim.MaxStreams,
		MaxIncomingUniStreams: 8,
	}
	s := &Server{
		srv: &http3.Server{
			Handler:     h,
			TLSConfig:   conf,
			QUICConfig:  qconf,
			IdleTimeout: lim.IdleTimeout,
		},
		pconn: pconn,
		tr:    &quic.Transport{Conn: pconn},
		guard: transport.NewConnGuard(lim.MaxConns, lim.MaxConnsPerIP, lg),
		done:  make(chan struct{}),
	}
	s.guard.Apply(s.tr)
	ln, err := s.tr.ListenEarly(http3.ConfigureTLSConfig(conf), qconf)
	if err != nil {
		_ = pconn.Close()
		return nil, fmt.Errorf("h3: listen: %w", err)
	}
	go func() {
		defer close(s.done)
		if err := s.srv.ServeListener(ln); !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, quic.ErrServerClosed) {
			s.err = err
		}
	}()
	return s, nil
}

// Guard returns the listener's connection guard (for its counters).
func (s *Server) Guard() *transport.ConnGuard { return s.guard }

// Addr is the UDP address the server listens on.
func (s *Server) Addr() net.Addr { return s.pconn.LocalAddr() }

// Close closes all connections at once, then the socket, and waits for the
// serving goroutine. It returns the serving error, if serving failed.
func (s *Server) Close() error {
	errSrv := s.srv.Close()
	errTr := s.tr.Close()
	errConn := s.pconn.Close()
	<-s.done
	if errors.Is(errConn, net.ErrClosed) {
		errConn = nil
	}
	return errors.Join(s.err, errSrv, errTr, errConn)
}

// NewClient returns an http.Client speaking HTTP/3 with tlsConf
// (cloned; nil means the system roots). Release its socket with
// CloseClient.
func NewClient(tlsConf *tls.Config) *http.Client {
	var conf *tls.Config
	if tlsConf != nil {
		conf = tlsConf.Clone()
	}
	return &http.Client{Transport: &http3.Transport{TLSClientConfig: conf}}
}

// CloseClient closes the connections and the socket of a client made
// by NewClient. Other clients are left alone.
func CloseClient(c *http.Client) error {
	if t, ok := c.Transport.(*http3.Transport); ok {
		return t.Close()
	}
	return nil
}
