package consent

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"io"
	"sync"
	"testing"
	"time"
)

// testKeyPEM is a 2048-bit RSA key with safe primes, made by
// `go run gen_testkey.go -bits 2048` (45 s on the 2-core dev box; safe-prime
// search takes from 30 s to 3 min). It is public and for tests only. The
// tests deal from it instead of calling NewGroup, which would cost that
// search on every run; BenchmarkNewGroup measures the real thing.
//
//go:embed testdata/testkey-2048.pem
var testKeyPEM []byte

func loadTestKey() *rsa.PrivateKey {
	blk, _ := pem.Decode(testKeyPEM)
	if blk == nil {
		panic("testdata/testkey-2048.pem: no PEM block")
	}
	k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		panic(err)
	}
	return k
}

// dealTest deals spec from a fresh copy of the test key (deal wipes nothing
// of it, but NewGroup would; keep each call independent).
func dealTest(r io.Reader, spec GroupSpec) (*Group, []*SealedShare, error) {
	return deal(r, spec, loadTestKey())
}

// seededKey returns a deterministic member key.
func seededKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("trialchain consent test member " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

var testParties = []struct{ name, role, printed string }{
	{"sponsor", "trial sponsor", "Dr. Ada Sponsor"},
	{"ethics-committee", "ethics committee chair", "Prof. Ben Ethics"},
	{"principal-investigator", "principal investigator", "Dr. Chloé Investigator"},
	{"data-safety-board", "data safety monitoring board", "Dr. Dev Safety"},
	{"statistician", "trial statistician", "Eve Statistician"},
}

func testSpec() GroupSpec {
	spec := GroupSpec{Name: "amendment-board", Threshold: 3}
	for _, p := range testParties {
		spec.Parties = append(spec.Parties, PartySpec{Name: p.name, Role: p.role, MemberKey: seededKey(p.name).Public().(ed25519.PublicKey)})
	}
	return spec
}

// fixture is one 3-of-5 group dealt once and reused by every test.
type fixture struct {
	group   *Group
	sealed  []*SealedShare
	members []ed25519.PrivateKey
	shares  []*KeyShare // opened, index i = party i+1
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
)

func testFixture(tb testing.TB) *fixture {
	tb.Helper()
	fixOnce.Do(func() {
		fix.group, fix.sealed, fixErr = dealTest(rand.Reader, testSpec())
		if fixErr != nil {
			return
		}
		for i, p := range testParties {
			k := seededKey(p.name)
			fix.members = append(fix.members, k)
			ks, err := OpenShare(fix.group, fix.sealed[i], k)
			if err != nil {
				fixErr = err
				return
			}
			fix.shares = append(fix.shares, ks)
		}
	})
	if fixErr != nil {
		tb.Fatalf("fixture: %v", fixErr)
	}
	return &fix
}

const testChain = "trialchain-test-1"

var testTime = time.Date(2026, 11, 23, 9, 30, 0, 123456789, time.UTC)

func testAction() Action {
	return CallAction([]byte("trial-protocol-0001"), "amend", []byte(`{"amendment":3,"doc":"sha256:..."}`))
}

func testRequest() Request {
	return Request{ChainID: testChain, Action: testAction(), Meaning: MeaningApproveAmendment}
}

// sign makes party's (1-based) signed share for the test request.
func (f *fixture) sign(tb testing.TB, party int) *SignedShare {
	tb.Helper()
	return f.signFor(tb, party, testChain, testAction(), MeaningApproveAmendment)
}

func (f *fixture) signFor(tb testing.TB, party int, chain string, a Action, meaning string) *SignedShare {
	tb.Helper()
	m := Manifestation{PrintedName: testParties[party-1].printed, Time: testTime.Add(time.Duration(party) * time.Minute), Meaning: meaning}
	s, err := SignShare(rand.Reader, f.group, f.shares[party-1], f.members[party-1], chain, a, m)
	if err != nil {
		tb.Fatalf("SignShare(party %d): %v", party, err)
	}
	return s
}
