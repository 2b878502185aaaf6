package h3

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/transport"
)

func TestRoundTrip(t *testing.T) {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := transport.SelfSignedCertificate(key)
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Proto", r.Proto)
		_, _ = w.Write(append([]byte("echo:"), body...))
	})
	srv, err := Serve(context.Background(), "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}}, h, Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf) // the certificate names "localhost"
	client := NewClient(&tls.Config{RootCAs: roots, ServerName: "localhost"})
	resp, err := client.Post("https://"+srv.Addr().String()+"/tx", "text/plain", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "echo:hi" || resp.Proto != "HTTP/3.0" || resp.Header.Get("X-Proto") != "HTTP/3.0" {
		t.Fatalf("got %q over %s (server saw %s)", body, resp.Proto, resp.Header.Get("X-Proto"))
	}
	if err := CloseClient(client); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+srv.Addr().String(), nil)
	c2 := NewClient(&tls.Config{RootCAs: roots, ServerName: "localhost"})
	defer CloseClient(c2)
	if _, err := c2.Do(req); err == nil {
		t.Fatal("request to a closed server succeeded")
	}
}
