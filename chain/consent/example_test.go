package consent_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/trialchain/trialchain/chain/consent"
)

// member returns a deterministic ed25519 member key for the examples.
func member(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("example member " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

var names = []string{"sponsor", "ethics-committee", "principal-investigator", "data-safety-board", "statistician"}

func exampleSpec() consent.GroupSpec {
	spec := consent.GroupSpec{Name: "amendment-board", Threshold: 3}
	for _, n := range names {
		spec.Parties = append(spec.Parties, consent.PartySpec{Name: n, MemberKey: member(n).Public().(ed25519.PublicKey)})
	}
	return spec
}

// The key ceremony. It takes tens of seconds to minutes (safe primes), so
// this example is compiled but not run.
func ExampleNewGroup() {
	g, sealed, err := consent.NewGroup(rand.Reader, exampleSpec())
	if err != nil {
		log.Fatal(err)
	}
	// group.json, group.bin (for the chain) and one sealed share per party.
	if err := consent.WriteCeremony("amendment-board", g, sealed); err != nil {
		log.Fatal(err)
	}
}

// The whole sequence: ceremony, three of five parties open their shares
// and sign, anyone combines, anyone verifies.
func Example() {
	// 1. Ceremony (the examples deal from a stored test key; use NewGroup).
	g, sealed, err := consent.DealWithTestKey(rand.Reader, exampleSpec())
	if err != nil {
		log.Fatal(err)
	}
	action := consent.CallAction([]byte("trial-protocol-0001"), "amend", []byte("amendment 3"))
	const chainID = "trialchain-demo"

	// 2. Each signing party opens its sealed share with its member key
	// and signs, stating its manifestation.
	var shares []*consent.SignedShare
	for _, party := range []int{1, 2, 4} {
		key := member(names[party-1])
		ks, err := consent.OpenShare(g, sealed[party-1], key)
		if err != nil {
			log.Fatal(err)
		}
		m := consent.Manifestation{
			PrintedName: "Signer of " + names[party-1],
			Time:        time.Date(2026, 11, 23, 10, party, 0, 0, time.UTC),
			Meaning:     consent.MeaningApproveAmendment,
		}
		s, err := consent.SignShare(rand.Reader, g, ks, key, chainID, action, m)
		ks.Wipe()
		if err != nil {
			log.Fatal(err)
		}
		shares = append(shares, s)
	}

	// 3. Whoever collects the shares combines them.
	req := consent.Request{ChainID: chainID, Action: action, Meaning: consent.MeaningApproveAmendment}
	c, err := consent.Combine(g, req, shares...)
	if err != nil {
		log.Fatal(err)
	}

	// 4. Anyone verifies: a regulator offline, or the chain.
	signers, err := consent.Verify(g, chainID, action, c)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range signers {
		fmt.Printf("%d %s: %q, %s, %s\n", s.Party, s.Name, s.Manifestation.PrintedName,
			s.Manifestation.Meaning, s.Manifestation.Time.Format(time.RFC3339))
	}

	// The signature is a standard RSA-PSS signature.
	digest := c.ID() // SHA-256 of the consent message
	err = rsa.VerifyPSS(g.PublicKey, crypto.SHA256, digest[:], c.Signature, consent.PSSOptions())
	fmt.Println("crypto/rsa verifies:", err == nil)
	// Output:
	// 1 sponsor: "Signer of sponsor", approve amendment, 2026-11-23T10:01:00Z
	// 2 ethics-committee: "Signer of ethics-committee", approve amendment, 2026-11-23T10:02:00Z
	// 4 data-safety-board: "Signer of data-safety-board", approve amendment, 2026-11-23T10:04:00Z
	// crypto/rsa verifies: true
}

// Fewer shares than the threshold are refused with ErrTooFewShares.
func ExampleCombine() {
	g, sealed, err := consent.DealWithTestKey(rand.Reader, exampleSpec())
	if err != nil {
		log.Fatal(err)
	}
	action := consent.RecordAction(sha256.Sum256([]byte("surgical record 42")))
	ks, err := consent.OpenShare(g, sealed[0], member(names[0]))
	if err != nil {
		log.Fatal(err)
	}
	m := consent.Manifestation{PrintedName: "Dr. A", Time: time.Now(), Meaning: consent.MeaningAttestSurgicalRecord}
	s, err := consent.SignShare(rand.Reader, g, ks, member(names[0]), "trialchain-demo", action, m)
	if err != nil {
		log.Fatal(err)
	}
	_, err = consent.Combine(g, consent.Request{ChainID: "trialchain-demo", Action: action, Meaning: consent.MeaningAttestSurgicalRecord}, s)
	fmt.Println(errors.Is(err, consent.ErrTooFewShares), err)
	// Output:
	// true consent: too few shares: have 1, need 3 of 5
}

// The VM host function consent_verify works on encodings: the group as
// stored on chain and the consent from the transaction.
func ExampleVerifyEncoded() {
	g, sealed, err := consent.DealWithTestKey(rand.Reader, exampleSpec())
	if err != nil {
		log.Fatal(err)
	}
	action := consent.Action{Kind: consent.KindFile, Data: make([]byte, 32)}
	var shares []*consent.SignedShare
	for party := 3; party <= 5; party++ {
		key := member(names[party-1])
		ks, _ := consent.OpenShare(g, sealed[party-1], key)
		m := consent.Manifestation{PrintedName: names[party-1], Time: time.Unix(1800000000, 0), Meaning: consent.MeaningReleaseGenomeData}
		s, err := consent.SignShare(rand.Reader, g, ks, key, "trialchain-demo", action, m)
		if err != nil {
			log.Fatal(err)
		}
		shares = append(shares, s)
	}
	c, err := consent.Combine(g, consent.Request{ChainID: "trialchain-demo", Action: action, Meaning: consent.MeaningReleaseGenomeData}, shares...)
	if err != nil {
		log.Fatal(err)
	}
	groupBytes, _ := g.MarshalBinary()
	consentBytes, _ := c.MarshalBinary()

	got, signers, err := consent.VerifyEncoded(groupBytes, "trialchain-demo", action, consentBytes)
	fmt.Println(err, len(signers), got.Request.Meaning, got.ID() == c.ID())
	_, _, err = consent.VerifyEncoded(groupBytes, "another-chain", action, consentBytes)
	fmt.Println(err)
	// Output:
	// <nil> 3 release genome data true
	// consent: for another chain: consent chain "trialchain-demo", want "another-chain"
}

func ExampleHashFile() {
	f, err := os.CreateTemp("", "amendment-*.pdf")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	f.WriteString("protocol amendment 3")
	f.Close()
	a, err := consent.HashFile(f.Name())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Kind, len(a.Data))
	// Output:
	// file-sha256 32
}
