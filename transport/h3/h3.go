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
	"net"
	"net/http"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// Server serves an http.Handler over HTTP/3 on one UDP socket.
type Server struct {
	srv   *http3.Server
	pconn net.PacketConn
	done  chan struct{}
	err   error // set before done is closed
}

// Serve binds addr (UDP, e.g. "127.0.0.1:0") and serves h over HTTP/3
// with tlsConf (which must carry a certificate; it is cloned and its ALPN
// set to "h3"). ctx bounds only the bind; the server runs until Close.
func Serve(ctx context.Context, addr string, tlsConf *tls.Config, h http.Handler) (*Server, error) {
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
	s := &Server{
		srv: &http3.Server{
			Handler:    h,
			TLSConfig:  conf,
			QUICConfig: &quic.Config{},
		},
		pconn: pconn,
		done:  make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(pconn); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	return s, nil
}

// Addr is the UDP address the server listens on.
func (s *Server) Addr() net.Addr { return s.pconn.LocalAddr() }

// Close closes all connections at once, then the socket, and waits for the
// serving goroutine. It returns the serving error, if serving failed.
func (s *Server) Close() error {
	errSrv := s.srv.Close()
	errConn := s.pconn.Close()
	<-s.done
	if errors.Is(errConn, net.ErrClosed) {
		errConn = nil
	}
	return errors.Join(s.err, errSrv, errConn)
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
