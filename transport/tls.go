package transport

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// SelfSignedCertificate returns a TLS certificate for key: a self-signed
// x509 certificate carrying key's public half, generated in memory. Peers
// never check it against a CA or its validity dates; they check only that
// it carries the pinned key, and TLS 1.3 proves possession of the private
// key. It is also suitable for the node's HTTP/3 client API.
func SelfSignedCertificate(key ed25519.PrivateKey) (tls.Certificate, error) {
	if len(key) != ed25519.PrivateKeySize {
		return tls.Certificate{}, fmt.Errorf("transport: certificate: not an ed25519 private key")
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("transport: certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "trialchain node"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(100, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("transport: create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("transport: parse own certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// peerKey extracts the ed25519 key from the single self-signed certificate
// a peer presented.
func peerKey(rawCerts [][]byte) (ed25519.PublicKey, error) {
	if len(rawCerts) != 1 {
		return nil, fmt.Errorf("%w: %d certificates, want 1", ErrBadCertificate, len(rawCerts))
	}
	cert, err := x509.ParseCertificate(rawCerts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCertificate, err)
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: key is %T, not ed25519", ErrBadCertificate, cert.PublicKey)
	}
	// Not needed for authentication (CertificateVerify proves the key), but
	// a certificate that does not verify under its own key is malformed.
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return nil, fmt.Errorf("%w: not self-signed: %w", ErrBadCertificate, err)
	}
	return pub, nil
}

func requireTLS13(cs tls.ConnectionState) error {
	if cs.Version != tls.VersionTLS13 {
		return fmt.Errorf("transport: TLS version %#x, want TLS 1.3", cs.Version)
	}
	return nil
}

// baseTLS is the common part of both sides. CurvePreferences stays unset
// so Go's default, the hybrid post-quantum X25519MLKEM768, is offered and
// preferred.
func baseTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS13,
		MaxVersion:       tls.VersionTLS13,
		Certificates:     []tls.Certificate{cert},
		NextProtos:       []string{ALPN},
		VerifyConnection: requireTLS13,
	}
}

// serverTLS accepts any client whose key is pinned; lookup maps a key to
// its peer ID. refused is called for each refusal, with the client's
// address.
func serverTLS(cert tls.Certificate, lookup func(ed25519.PublicKey) (uint64, bool), refused func(net.Addr, error)) *tls.Config {
	verify := func(remote net.Addr) func([][]byte, [][]*x509.Certificate) error {
		return func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
			pub, err := peerKey(rawCerts)
			if err == nil {
				if _, ok := lookup(pub); !ok {
					err = fmt.Errorf("%w: %x", ErrUnknownKey, []byte(pub))
				}
			}
			if err != nil {
				refused(remote, err)
			}
			return err
		}
	}
	c := baseTLS(cert)
	c.ClientAuth = tls.RequireAnyClientCert
	c.VerifyPeerCertificate = verify(nil)
	// quic-go fills the hello's Conn with the connection's addresses, so
	// a refusal can name who was refused.
	c.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		var remote net.Addr
		if hello.Conn != nil {
			remote = hello.Conn.RemoteAddr()
		}
		cc := baseTLS(cert)
		cc.ClientAuth = tls.RequireAnyClientCert
		cc.VerifyPeerCertificate = verify(remote)
		return cc, nil
	}
	return c
}

// clientTLS accepts only a server presenting exactly want.
func clientTLS(cert tls.Certificate, want ed25519.PublicKey, refused func(error)) *tls.Config {
	c := baseTLS(cert)
	// The chain is not verified against any CA: the pin below is the
	// whole verification.
	c.InsecureSkipVerify = true
	c.ServerName = "trialchain-peer"
	c.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
		pub, err := peerKey(rawCerts)
		if err == nil && !pub.Equal(want) {
			err = fmt.Errorf("%w: got %x", ErrKeyMismatch, []byte(pub))
		}
		if err != nil {
			refused(err)
		}
		return err
	}
	return c
}
