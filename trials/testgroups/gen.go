//go:build ignore

// gen writes the public test consent groups under testdata/: one key
// ceremony (consent.NewGroup, safe-prime search: tens of seconds to minutes
// each) per group, with member keys derived from public seeds (see
// MemberKey). These groups are TEST GROUPS: every member key is derivable
// from this source, so they must never consent to anything real.
//
//	cd trials/testgroups && go run gen.go
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/trialchain/trialchain/chain/consent"
)

type party struct{ name, role string }

var groups = []struct {
	name      string
	threshold int
	parties   []party
}{
	{"amendment-board", 3, []party{
		{"sponsor", "trial sponsor"}, {"ethics-committee", "ethics committee chair"},
		{"principal-investigator", "principal investigator"}, {"data-safety-board", "data safety monitoring board"},
		{"statistician", "trial statistician"},
	}},
	{"surgical-team", 2, []party{
		{"surgeon", "operating surgeon"}, {"anaesthetist", "anaesthetist"}, {"scrub-nurse", "scrub nurse"},
	}},
	{"data-access-committee", 2, []party{
		{"dac-chair", "data access committee chair"}, {"geneticist", "clinical geneticist"}, {"patient-delegate", "patient representative"},
	}},
}

func memberKey(group, name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("trialchain public test member " + group + "/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func main() {
	for _, g := range groups {
		dir := filepath.Join("testdata", g.name)
		if _, err := os.Stat(filepath.Join(dir, consent.GroupBinFile)); err == nil {
			log.Printf("%s: exists, skipped", g.name)
			continue
		}
		spec := consent.GroupSpec{Name: g.name, Threshold: g.threshold}
		for _, p := range g.parties {
			spec.Parties = append(spec.Parties, consent.PartySpec{Name: p.name, Role: p.role, MemberKey: memberKey(g.name, p.name).Public().(ed25519.PublicKey)})
		}
		start := time.Now()
		grp, sealed, err := consent.NewGroup(rand.Reader, spec)
		if err != nil {
			log.Fatal(err)
		}
		if err := consent.WriteCeremony(dir, grp, sealed); err != nil {
			log.Fatal(err)
		}
		log.Printf("%s: %d of %d, %s", g.name, g.threshold, len(g.parties), time.Since(start).Round(time.Second))
	}
}
