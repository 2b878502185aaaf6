// Package testgroups provides three public TEST consent groups, dealt once
// by gen.go with consent.NewGroup and stored in testdata/, so that tests
// and the demo can produce real threshold consents without minutes of
// safe-prime search:
//
//	amendment-board        3 of 5  sponsor, ethics-committee, principal-investigator, data-safety-board, statistician
//	surgical-team          2 of 3  surgeon, anaesthetist, scrub-nurse
//	data-access-committee  2 of 3  dac-chair, geneticist, patient-delegate
//
// Every member key is derived from a public seed (MemberKey), so anyone can
// sign for these groups: they must never consent to anything real.
//
// # Usage
//
//	g, err := testgroups.Load(testgroups.AmendmentBoard)
//	// register g.Bin on chain; the group id is g.ID (hex SHA-256 of g.Bin)
//	action := testgroups.Action(contractAddr, "amend", digest) // what the chain's consent_verify checks
//	c, err := g.Consent(rand.Reader, chainID, action, consent.MeaningApproveAmendment, time.Now(), 1, 2, 4)
//	// pass c as the consent argument of the contract call
package testgroups

import (
	"crypto/ed25519"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/trialchain/trialchain/chain/consent"
)

// Group names.
const (
	AmendmentBoard      = "amendment-board"
	SurgicalTeam        = "surgical-team"
	DataAccessCommittee = "data-access-committee"
)

// Names lists the groups.
var Names = []string{AmendmentBoard, SurgicalTeam, DataAccessCommittee}

//go:embed testdata
var files embed.FS

// printed are the printed names of the members, by group and party index.
var printed = map[string][]string{
	AmendmentBoard:      {"Dr. Ada Sponsor", "Prof. Ben Ethics", "Dr. Chloé Investigator", "Dr. Dev Safety", "Eve Statistician"},
	SurgicalTeam:        {"Dr. Cecil Surgeon", "Dr. Ana Aesthetist", "Sam Scrub"},
	DataAccessCommittee: {"Prof. Dana Chair", "Dr. Gene Ticist", "Pat Delegate"},
}

// Group is a loaded test group.
type Group struct {
	Name    string
	Group   *consent.Group
	Bin     []byte // canonical encoding, as stored on chain
	ID      string // hex group id (SHA-256 of Bin)
	Sealed  []*consent.SealedShare
	Members []ed25519.PrivateKey // index i = party i+1
	Printed []string
}

// MemberKey returns the public-seed member key of party name in group.
func MemberKey(group, name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("trialchain public test member " + group + "/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// Load reads the named group and its sealed shares.
func Load(name string) (*Group, error) {
	dir := path.Join("testdata", name)
	bin, err := files.ReadFile(path.Join(dir, consent.GroupBinFile))
	if err != nil {
		return nil, fmt.Errorf("testgroups: unknown group %q", name)
	}
	g, err := consent.ParseGroup(bin)
	if err != nil {
		return nil, fmt.Errorf("testgroups: %s: %w", name, err)
	}
	id := g.ID()
	out := &Group{Name: name, Group: g, Bin: bin, ID: hex.EncodeToString(id[:]), Printed: printed[name]}
	for _, p := range g.Parties {
		b, err := files.ReadFile(path.Join(dir, consent.ShareFileName(p)))
		if err != nil {
			return nil, fmt.Errorf("testgroups: %s: %w", name, err)
		}
		s, err := consent.ParseSealedShare(b)
		if err != nil {
			return nil, fmt.Errorf("testgroups: %s party %d: %w", name, p.Index, err)
		}
		out.Sealed = append(out.Sealed, s)
		out.Members = append(out.Members, MemberKey(name, p.Name))
	}
	return out, nil
}

// MustLoad is Load for tests and the demo; it panics on error (the groups
// are embedded, so an error is a broken build).
func MustLoad(name string) *Group {
	g, err := Load(name)
	if err != nil {
		panic(err)
	}
	return g
}

// Action is the consent action the chain checks when the contract at
// address contract passes the 32-byte digest as the message of
// consent_verify in method: consent.CallAction(contract, method, digest)
// (see chain/contracts, "Consent"). The trial contracts pass
// model.AmendmentDigest (method amend), model.DecisionDigest (decide) and
// model.SignDigest (cosign).
func Action(contract [32]byte, method string, digest [32]byte) consent.Action {
	return consent.CallAction(contract[:], method, digest[:])
}

// Sign returns the signed share of party (1-based) for the action.
func (g *Group) Sign(rand io.Reader, chainID string, action consent.Action, meaning string, at time.Time, party int) (*consent.SignedShare, error) {
	if party < 1 || party > len(g.Members) {
		return nil, fmt.Errorf("testgroups: %s has no party %d", g.Name, party)
	}
	ks, err := consent.OpenShare(g.Group, g.Sealed[party-1], g.Members[party-1])
	if err != nil {
		return nil, err
	}
	defer ks.Wipe()
	m := consent.Manifestation{PrintedName: g.Printed[party-1], Time: at.UTC(), Meaning: meaning}
	return consent.SignShare(rand, g.Group, ks, g.Members[party-1], chainID, action, m)
}

// Consent has the given parties sign the action and combines their shares
// into the canonical consent encoding a contract call carries.
func (g *Group) Consent(rand io.Reader, chainID string, action consent.Action, meaning string, at time.Time, parties ...int) ([]byte, error) {
	var shares []*consent.SignedShare
	for _, p := range parties {
		s, err := g.Sign(rand, chainID, action, meaning, at, p)
		if err != nil {
			return nil, err
		}
		shares = append(shares, s)
	}
	c, err := consent.Combine(g.Group, consent.Request{ChainID: chainID, Action: action, Meaning: meaning}, shares...)
	if err != nil {
		return nil, err
	}
	return c.MarshalBinary()
}

// Verifier returns a consent verifier for one VM call (vm.Call.ConsentVerify)
// of method on the contract at address contract, backed by
// consent.VerifyEncoded as the chain does it: group is the hex id of one of
// groups, the consent must be for Action(contract, method, msg) and mean
// exactly meaning.
// (Replay protection is the chain's; the trial contracts also refuse a
// consent they have seen.)
//
// It charges nothing (charge is ignored): the chain prices a verification
// (chain/contracts), this harness does not.
func Verifier(chainID string, contract [32]byte, method string, groups ...*Group) func(group, meaning string, msg, sig []byte, charge func(uint64) bool) error {
	byID := map[string][]byte{}
	for _, g := range groups {
		byID[g.ID] = g.Bin
	}
	return func(group, meaning string, msg, sig []byte, _ func(uint64) bool) error {
		bin, ok := byID[group]
		if !ok {
			return fmt.Errorf("testgroups: unknown consent group %q", group)
		}
		c, _, err := consent.VerifyEncoded(bin, chainID, consent.CallAction(contract[:], method, msg), sig)
		if err == nil && c.Request.Meaning != meaning {
			err = fmt.Errorf("testgroups: the consent means %q, not %q", c.Request.Meaning, meaning)
		}
		return err
	}
}
