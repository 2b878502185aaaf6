package contracts_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

// rewrite is the state of the sponsor-rewrite scenario.
type rewrite struct {
	s        *scenario
	tp       block.Hash // trial-protocol
	trial    string
	entryKey []byte // the signed CRF entry's state key
	sealKey  []byte // its seal record
	p        model.Protocol
}

func (r *rewrite) call(role string, c trials.Call) *block.Tx {
	return client.CallTx(r.s.c.Key(role), r.s.c.ChainID(), r.tp, c.Method, c.Args, 500_000_000)
}

// setupTrial registers the boards' parties and groups, deploys
// trial-protocol with the owner policy (as the sponsor alone could), and
// runs a trial to one signed case-report form.
func setupTrial(t testing.TB, c testChain) *rewrite { return setupTrialWith(t, c, nil) }

// setupTrialWith is setupTrial with the protocol changed by edit (if not
// nil) before it is registered.
func setupTrialWith(t testing.TB, c testChain, edit func(*model.Protocol)) *rewrite {
	s := &scenario{c: c, amend: loadBoard(t, "consent-3of5"), safety: loadBoard(t, "consent-2of3")}
	r := &rewrite{s: s}
	registerParties(t, s, s.amend, s.safety)
	s.ok(t, client.ConsentGroupTx(c.Key("committee"), c.ChainID(), s.amend.bin))
	s.ok(t, client.ConsentGroupTx(c.Key("committee"), c.ChainID(), s.safety.bin))
	r.tp = s.deploy(t, "sponsor", "trial-protocol", block.PolicyOwner, nil)

	study, err := os.ReadFile(filepath.Join("..", "..", "trials", "testdata", "researchstudy-small.json"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := trials.DefaultTemplate()
	tmpl.ConsentGroup = hex.EncodeToString(s.amend.id[:])
	p, err := trials.ProtocolFromResearchStudy(study, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	site, _, err := state.LookupMember(c.State(), c.Key("site").Public().(ed25519.PublicKey))
	if err != nil || site == nil {
		t.Fatalf("site member: %v", err)
	}
	p.Sites = []string{site.Org}
	if edit != nil {
		edit(&p)
	}
	r.trial, r.p = p.ID, p
	sig := model.Signature{PrintedName: "Dr. Ada Sponsor", Meaning: "registration"}
	reg, err := trials.RegisterCall(p, sig)
	if err != nil {
		t.Fatal(err)
	}
	rc := s.ok(t, r.call("sponsor", reg))
	if !hasEvent(rc, "contract.governed") {
		t.Fatalf("registration did not hand the upgrades to the trial's group: %+v", rc.Events)
	}
	rec, _ := contracts.Lookup(c.State(), r.tp)
	if rec.Policy != block.PolicyGroup || string(rec.Owner) != string(s.amend.id[:]) || string(rec.Deployer) != string(c.Key("sponsor").Public().(ed25519.PublicKey)) {
		t.Fatalf("record after registration: policy %s owner %x", rec.Policy, rec.Owner)
	}
	s.ok(t, r.call("sponsor", trials.ActivateCall(p.ID, model.Signature{PrintedName: "Dr. Ada Sponsor", Meaning: "activation"})))
	subj, _ := trials.NewSubjectID(rand.Reader)
	enr, _ := trials.EnrollCall(p.ID, subj, trials.HashBytes([]byte("consent")), 1, p.Arms[0].ID, model.Signature{PrintedName: "Dr. Site", Meaning: "enrolment"})
	s.ok(t, r.call("site", enr))
	rec2, err := trials.NewRecord(rand.Reader, p.ID, subj, "day1", "vitals", map[string]model.FieldValue{
		"SYSBP": {Value: "180", Unit: "mm[Hg]"}, "DIABP": {Value: "95", Unit: "mm[Hg]"}, "HR": {Value: "80", Unit: "/min"}})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := trials.SubmitCall(&p, rec2, model.Signature{PrintedName: "Dr. Site", Meaning: "author"})
	if err != nil {
		t.Fatal(err)
	}
	rc = s.ok(t, r.call("site", sub))
	var e model.Entry
	if err := json.Unmarshal(rc.Result, &e); err != nil {
		t.Fatal(err)
	}
	ck := "entry/" + p.ID + "/" + e.ID
	r.entryKey = append(state.StoragePrefix(r.tp), ck...)
	r.sealKey = append(append(state.SealPrefix(r.tp), 'k'), ck...)
	return r
}

func hasEvent(rc *block.Receipt, typ string) bool {
	for _, e := range rc.Events {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// attack replays the sponsor rewrite of issue 12: upgrade trial-protocol
// to code with a put method, overwrite the signed entry, upgrade back. The
// upgrade fails at once without the trial group's consent; with it, the
// upgrade passes but every write of the sealed entry fails.
func (r *rewrite) attack(t testing.TB) {
	s, c := r.s, r.s.c
	chain := c.ChainID()
	evil, orig := wasmCode["counter"], wasmCode["trial-protocol"]
	// 1. The sponsor (the deployer and former owner) alone: refused.
	s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, r.tp, evil, nil), "is governed by consent group")
	// A consent of another group, a REJECT consent, a consent for other code: refused.
	req := consent.Request{ChainID: chain, Action: contracts.UpgradeAction(r.tp, block.Sum(evil)), Meaning: consent.MeaningApproveUpgrade}
	s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, r.tp, evil, s.safety.consent(t, req, 1, 2)), "for another consent group")
	rej := req
	rej.Meaning = "REJECT upgrade: we object"
	rc := s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, r.tp, evil, s.amend.consent(t, rej, 1, 2, 3)), `signed meaning "REJECT upgrade: we object"`)
	if !strings.Contains(rc.Error, "Dr. Alice") && !strings.Contains(rc.Error, "party 1") {
		t.Fatalf("the refusal does not name the signers: %s", rc.Error)
	}
	// An owner-policy contract cannot be handed to the group by a stranger.
	// 2. With the group's consent the upgrade passes ...
	s.ok(t, client.UpgradeTx(c.Key("admin"), chain, r.tp, evil, s.amend.consent(t, req, 1, 2, 4)))
	// ... but the sealed entry cannot be written or deleted, by a call of the new code (a "migration") or any other.
	put := func(k []byte, v string) *block.Tx {
		return s.callTx("sponsor", r.tp, "put", map[string]string{"key": string(k[len(state.StoragePrefix(r.tp)):]), "value": v})
	}
	s.fail(t, put(r.entryKey, `{"public":{"SYSBP":{"value":"120"}}}`), "vm: sealed")
	s.fail(t, s.callTx("sponsor", r.tp, "del", map[string]string{"key": string(r.entryKey[len(state.StoragePrefix(r.tp)):])}), "vm: sealed")
	// 3. Upgrading back needs the group again.
	back := consent.Request{ChainID: chain, Action: contracts.UpgradeAction(r.tp, block.Sum(orig)), Meaning: consent.MeaningApproveUpgrade}
	s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, r.tp, orig, nil), "is governed by consent group")
	s.ok(t, client.UpgradeTx(c.Key("sponsor"), chain, r.tp, orig, s.amend.consent(t, back, 2, 3, 4)))
}

// TestSponsorRewriteLocal: the rewrite on the executor alone; the entry
// and its seal are byte-identical before and after.
func TestSponsorRewriteLocal(t *testing.T) {
	c := newLocalChain(t, newEngine(t, false))
	r := setupTrial(t, c)
	before, _, _ := c.State().Get(r.entryKey)
	seal, ok, _ := c.State().Get(r.sealKey)
	if len(before) == 0 || !ok {
		t.Fatalf("entry %q sealed %v", before, ok)
	}
	r.attack(t)
	after, _, _ := c.State().Get(r.entryKey)
	seal2, _, _ := c.State().Get(r.sealKey)
	if string(after) != string(before) || string(seal2) != string(seal) {
		t.Fatalf("sealed entry changed:\n%s\n%s", before, after)
	}
}

// TestGovernRules: who may hand a contract's upgrades to a group, and how
// a group hands them on; one consent counts once in a call.
func TestGovernRules(t *testing.T) {
	c := newLocalChain(t, newEngine(t, false))
	s := &scenario{c: c, amend: loadBoard(t, "consent-3of5"), safety: loadBoard(t, "consent-2of3")}
	chain := c.ChainID()
	// A group whose parties are not members is refused, naming the party.
	s.fail(t, client.ConsentGroupTx(c.Key("committee"), chain, s.safety.bin), "party 1")
	registerParties(t, s, s.amend, s.safety)
	s.ok(t, client.ConsentGroupTx(c.Key("committee"), chain, s.amend.bin))
	s.ok(t, client.ConsentGroupTx(c.Key("committee"), chain, s.safety.bin))
	amendHex, safetyHex := hex.EncodeToString(s.amend.id[:]), hex.EncodeToString(s.safety.id[:])

	counter := s.deploy(t, "sponsor", "counter", block.PolicyOwner, nil)
	s.fail(t, s.callTx("site", counter, "govern", map[string]string{"group": amendHex}), "only the owner")
	s.fail(t, s.callTx("sponsor", counter, "govern", map[string]string{"group": hex.EncodeToString(make([]byte, 32))}), "consent group not registered")
	s.fail(t, s.callTx("sponsor", counter, "govern", map[string]string{"group": "zz"}), "64-hex")
	s.ok(t, s.callTx("sponsor", counter, "govern", map[string]string{"group": amendHex}))
	s.ok(t, s.callTx("site", counter, "govern", map[string]string{"group": amendHex})) // the same group: no change
	s.fail(t, s.callTx("sponsor", counter, "govern", map[string]string{"group": safetyHex}), "needs a consent of that group in the same call")
	s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, counter, wasmCode["minimal"], nil), "is governed by consent group")

	// Immutable stays immutable.
	imm := s.deploy(t, "sponsor", "counter", block.PolicyImmutable, nil)
	s.ok(t, s.callTx("sponsor", imm, "govern", map[string]string{"group": amendHex}))
	if rec, _ := contracts.Lookup(c.State(), imm); rec.Policy != block.PolicyImmutable {
		t.Fatalf("immutable became %s", rec.Policy)
	}

	// consented: the board's consent in the same call moves the governance;
	// the same consent attached three times counts once.
	cons := s.deploy(t, "sponsor", "consented", block.PolicyOwner, nil)
	s.ok(t, s.callTx("sponsor", cons, "setBoard", map[string]string{"group": amendHex}))
	s.ok(t, s.callTx("sponsor", cons, "quorum", map[string]any{"consents": [][]byte{}, "need": 0, "govern": amendHex}))
	doc := []byte("hand the contract to the safety board")
	req := consent.Request{ChainID: chain, Action: contracts.CallAction(cons, "quorum", doc), Meaning: consent.MeaningApproveAmendment}
	one := s.amend.consent(t, req, 1, 2, 3)
	rc := s.fail(t, s.callTx("site", cons, "quorum", map[string]any{"doc": doc, "consents": [][]byte{one, one, one}, "need": 2}), "not enough consents")
	if !strings.Contains(rc.Error, "consent already used") {
		t.Fatalf("the repeated consent's refusal is not named: %s", rc.Error)
	}
	// The same consent with fewer signers is the same consent.
	fewer := s.amend.consent(t, req, 3, 4, 5)
	s.fail(t, s.callTx("site", cons, "quorum", map[string]any{"doc": doc, "consents": [][]byte{one, fewer}, "need": 2}), "consent already used")
	s.fail(t, s.callTx("site", cons, "quorum", map[string]any{"doc": doc, "consents": [][]byte{}, "need": 0, "govern": safetyHex}), "needs a consent of that group in the same call")
	rc = s.ok(t, s.callTx("site", cons, "quorum", map[string]any{"doc": doc, "consents": [][]byte{one}, "need": 1, "govern": safetyHex}))
	if !hasEvent(rc, "contract.governed") {
		t.Fatalf("events %+v", rc.Events)
	}
	if rec, _ := contracts.Lookup(c.State(), cons); string(rec.Owner) != string(s.safety.id[:]) {
		t.Fatalf("governed by %x, want the safety board", rec.Owner)
	}
}

// TestSponsorRewriteNetwork: the rewrite on a 4-validator network. Every
// validator stores the same receipts (status, error, gas); a state proof
// of the sealed entry, verified against a certified checkpoint, shows the
// same bytes before and after.
func TestSponsorRewriteNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process network")
	}
	warmCache(t)
	dir := filepath.Join(t.TempDir(), "net")
	netTestnet(t, dir)
	g, err := genesis.Load(filepath.Join(dir, "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	n := startNetwork(t, dir, 4)
	defer n.stop()
	r := setupTrial(t, n)
	prove := func(key []byte) *client.VerifiedState {
		t.Helper()
		// One more block so the state after the last one is certified.
		r.s.ok(t, client.Sign(n.Key("sponsor"), n.ChainID(), block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum(key), Label: "tick"}).Encode(), 100_000))
		r.s.ok(t, client.Sign(n.Key("sponsor"), n.ChainID(), block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum(append(key, 1)), Label: "tick"}).Encode(), 100_000))
		vs, err := n.cl.ProveState(context.Background(), g, key, -1)
		if err != nil {
			t.Fatal(err)
		}
		if !vs.Found {
			t.Fatalf("key %q not found", key)
		}
		return vs
	}
	entry0, seal0 := prove(r.entryKey), prove(r.sealKey)
	r.attack(t)
	entry1, seal1 := prove(r.entryKey), prove(r.sealKey)
	if string(entry0.Value) != string(entry1.Value) || string(seal0.Value) != string(seal1.Value) || entry1.Height <= entry0.Height {
		t.Fatalf("sealed entry changed between heights %d and %d", entry0.Height, entry1.Height)
	}
	n.settle(t)
	want := n.receipts(t, 0)
	for i := 1; i < len(n.nodes); i++ {
		got := n.receipts(t, i)
		for j := range want {
			if string(got[j]) != string(want[j]) {
				t.Fatalf("node %d, tx %d: receipt differs from node 0's", i, j)
			}
		}
	}
	t.Logf("entry %d bytes proved identical at heights %d and %d; %d transactions agree on 4 validators", len(entry1.Value), entry0.Height, entry1.Height, len(want))
}
