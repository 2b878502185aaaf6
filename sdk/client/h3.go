package client

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/trialchain/trialchain/transport/h3"
)

// HTTP/3: a node serves its API over HTTP/3 on UDP at the same host:port
// as TLS on TCP, with the same certificate (its key from the genesis).
// The node URL chooses the transport:
//
//	https://HOST:PORT   TLS 1.3 on TCP, the node's key pinned
//	h3://HOST:PORT      HTTP/3 (QUIC, TLS 1.3), the node's key pinned
//	http://HOST:PORT    plain HTTP, only to a node on this machine
//
// so one string in a client config, a --node flag or $TRIALCHAIN_NODE
// says both where and how, and NodesOf reaches the other validators the
// way the user reached the first. An h3 client holds a UDP socket:
// release it with Close.

// SchemeH3 is the URL scheme of a node's API over HTTP/3.
const SchemeH3 = "h3"

// isH3 reports whether base names a node over HTTP/3.
func isH3(base string) bool { return strings.HasPrefix(base, SchemeH3+"://") }

// newH3Client returns an http.Client speaking HTTP/3 to h3:// URLs with
// tlsConf (nil: the system roots).
func newH3Client(tlsConf *tls.Config) *http.Client {
	hc := h3.NewClient(tlsConf)
	return &http.Client{Timeout: 3 * time.Minute, Transport: &h3RoundTripper{hc: hc}}
}

// h3RoundTripper sends h3:// requests over HTTP/3 (as https:// requests,
// which is what HTTP/3 carries).
type h3RoundTripper struct{ hc *http.Client }

func (t *h3RoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != SchemeH3 && req.URL.Scheme != "https" {
		return nil, fmt.Errorf("client: an HTTP/3 client cannot send a %s:// request", req.URL.Scheme)
	}
	r := req.Clone(req.Context())
	r.URL.Scheme = "https"
	return t.hc.Transport.RoundTrip(r)
}

// Close releases the HTTP/3 connections and socket.
func (t *h3RoundTripper) Close() error { return h3.CloseClient(t.hc) }

// Close releases what the client holds beyond idle TCP connections (the
// UDP socket of an h3:// client). The client is not used afterwards.
func (c *Client) Close() error {
	if c.HTTP == nil {
		return nil
	}
	if cl, ok := c.HTTP.Transport.(io.Closer); ok {
		return cl.Close()
	}
	c.HTTP.CloseIdleConnections()
	return nil
}
