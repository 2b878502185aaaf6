//go:build ignore

// gen_testkey writes testdata/testkey-<bits>.pem: an RSA key whose primes
// are safe primes, as CIRCL's threshold RSA needs, so that the tests can deal
// groups without paying minutes of safe-prime search on every run. The key
// is a TEST KEY: it is public, in the repository, and must never sign
// anything real.
//
//	go run gen_testkey.go -bits 2048
package main

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	trsa "github.com/cloudflare/circl/tss/rsa"
)

func main() {
	bits := flag.Int("bits", 2048, "modulus size in bits")
	flag.Parse()
	start := time.Now()
	key, err := trsa.GenerateKey(rand.Reader, *bits)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("generated %d-bit safe-prime key in %v", *bits, time.Since(start))
	der := x509.MarshalPKCS1PrivateKey(key)
	out := pem.EncodeToMemory(&pem.Block{
		Type:    "RSA PRIVATE KEY",
		Headers: map[string]string{"Comment": "TEST KEY ONLY - public, never use for real consent"},
		Bytes:   der,
	})
	name := fmt.Sprintf("testdata/testkey-%d.pem", *bits)
	if err := os.WriteFile(name, out, 0o644); err != nil {
		log.Fatal(err)
	}
}
