package client

import (
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trialchain/trialchain/chain/genesis"
)

// Reaching a node across organisations: a node serves its API over TLS
// with a self-signed certificate that carries its ed25519 key, the key
// the genesis pins for it. A client pins that key (no CA, no hostname):
//
//	g, _ := genesis.Load("genesis.json")
//	c, err := client.ForGenesis(g, "https://node1.example.org:26601")
//
// A node presenting any other key is refused during the handshake
// (ErrWrongNodeKey). The pinned key also binds signed requests (payload
// reads and uploads) to that one node.

// ErrWrongNodeKey is a TLS handshake with a node whose key is not the pinned one.
var ErrWrongNodeKey = errors.New("client: node presented another key than the genesis pins for it")

// PinnedTLS is a TLS 1.3 client configuration that accepts only a server
// whose single self-signed certificate carries key.
func PinnedTLS(key ed25519.PublicKey) *tls.Config {
	want := append(ed25519.PublicKey(nil), key...)
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		// No CA verifies a node's certificate: the pin below is the whole
		// verification, and TLS 1.3 proves the server holds the key.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) != 1 {
				return fmt.Errorf("%w: %d certificates, want 1", ErrWrongNodeKey, len(raw))
			}
			cert, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return fmt.Errorf("%w: %w", ErrWrongNodeKey, err)
			}
			pub, ok := cert.PublicKey.(ed25519.PublicKey)
			if !ok || !pub.Equal(want) {
				return fmt.Errorf("%w: want %x", ErrWrongNodeKey, []byte(want))
			}
			return nil
		},
	}
}

// Pinned returns a client for the node at base whose key is nodeKey. Over
// https and h3 it refuses a node presenting another key; over http
// (loopback only, no transport security) the key still binds signed
// requests.
func Pinned(base string, nodeKey ed25519.PublicKey) *Client {
	c := New(base)
	c.NodeKey = append(ed25519.PublicKey(nil), nodeKey...)
	switch {
	case isH3(c.Base):
		c.HTTP = newH3Client(PinnedTLS(nodeKey))
	case strings.HasPrefix(c.Base, "https://"):
		c.HTTP = &http.Client{Timeout: 3 * time.Minute, Transport: &http.Transport{
			TLSClientConfig:     PinnedTLS(nodeKey),
			ForceAttemptHTTP2:   true,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 8,
		}}
	}
	return c
}

// ForGenesis returns a pinned client for the validator of g whose API
// address is base's host:port. A URL without a scheme means https;
// h3://HOST:PORT reaches the same node over HTTP/3.
func ForGenesis(g *genesis.Genesis, base string) (*Client, error) {
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != SchemeH3) {
		return nil, fmt.Errorf("client: node URL %q: want https://HOST:PORT (TLS) or h3://HOST:PORT (HTTP/3)", base)
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("client: %s: plain http is only for a node on this machine; use https:// (the node's key is pinned from the genesis)", base)
	}
	for _, v := range g.Validators {
		if v.API != "" && sameHostPort(v.API, u.Host) {
			c := Pinned(base, ed25519.PublicKey(v.Key))
			c.Name = v.Name
			return c, nil
		}
	}
	if u.Scheme == "http" {
		// Plain HTTP on this machine (e.g. a proxy, or a node serving
		// another address): no key to pin; what it serves is still
		// checked against the genesis by the verifying readers.
		return New(base), nil
	}
	return nil, fmt.Errorf("client: %s is not the API of any validator in the genesis of %s: cannot pin its key", u.Host, g.ChainID)
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func sameHostPort(a, b string) bool {
	if a == b {
		return true
	}
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || pa != pb {
		return false
	}
	return ha == hb || (loopbackHost(ha) && loopbackHost(hb))
}
