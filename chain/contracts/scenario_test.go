package contracts_test

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/sdk/client"
)

// testChain is a chain the scenario runs on: a local executor over a
// MemKV (one block per transaction), or an in-process 4-validator
// network.
type testChain interface {
	ChainID() string
	// Key returns the member key registered with role (admin, sponsor,
	// site, regulator, committee).
	Key(role string) ed25519.PrivateKey
	// Exec commits tx in a block and returns its receipt.
	Exec(t testing.TB, tx *block.Tx) *block.Receipt
	// State is the latest committed state.
	State() state.Reader
	// Query runs a read-only call: the output, or the failure text.
	Query(t testing.TB, addr block.Hash, method string, args []byte) (out []byte, failure string)
	// Methods returns the contract's methods (the info endpoint).
	Methods(t testing.TB, addr block.Hash) []string
}

// Hand-written modules the VM must refuse at deploy.
var (
	// forbiddenImport imports env.f and exports memory and run.
	forbiddenImport = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
		0x02, 0x09, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'f', 0x00, 0x00,
		0x03, 0x02, 0x01, 0x00,
		0x05, 0x03, 0x01, 0x00, 0x01,
		0x07, 0x10, 0x02, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, 0x03, 'r', 'u', 'n', 0x00, 0x01,
		0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b}
	// noMethods exports only its memory.
	noMethods = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
		0x05, 0x03, 0x01, 0x00, 0x01,
		0x07, 0x0a, 0x01, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00}
)

// hostileCases are the hostile contract's methods: each must fail its own
// transaction with this error and change nothing.
var hostileCases = []struct{ method, wantErr string }{
	{"loop", "vm: out of gas"},
	{"recurse", "vm: call depth exceeded"},
	{"membomb", "vm: trap"},
	{"badptr", "vm: bad pointer"},
	{"hugeevent", "vm: limit exceeded"},
	{"manyevents", "vm: limit exceeded: events of one call exceed 262144 bytes"},
	{"abort", "vm: abort: no consent on file for subject S-042"},
	{"panics", "vm: trap"},
}

const callGas = 20_000_000

// scenario is the deploy-and-call sequence every chain runs.
type scenario struct {
	c                            testChain
	amend, safety                *board
	counter, hostile, consentedC block.Hash
	hostileReceipts              map[string]*block.Receipt
}

func (s *scenario) ok(t testing.TB, tx *block.Tx) *block.Receipt {
	t.Helper()
	rc := s.c.Exec(t, tx)
	if rc.Status != block.StatusOK {
		t.Fatalf("%s: failed: %s", tx.Kind, rc.Error)
	}
	return rc
}

func (s *scenario) fail(t testing.TB, tx *block.Tx, want string) *block.Receipt {
	t.Helper()
	rc := s.c.Exec(t, tx)
	if rc.Status != block.StatusFailed || !strings.Contains(rc.Error, want) {
		t.Fatalf("%s: status %s, error %q; want failed with %q", tx.Kind, rc.Status, rc.Error, want)
	}
	return rc
}

// refused expects tx not to succeed, with want in the reason: a network
// refuses it at admission (nothing reaches a block), a bare executor
// records a failed receipt.
func (s *scenario) refused(t testing.TB, tx *block.Tx, want string) {
	t.Helper()
	if r, ok := s.c.(interface {
		Refuse(testing.TB, *block.Tx) error
	}); ok {
		if err := r.Refuse(t, tx); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v; want refused with %q", tx.Kind, err, want)
		}
		return
	}
	s.fail(t, tx, want)
}

func (s *scenario) deploy(t testing.TB, role, name string, policy block.Policy, owner []byte) block.Hash {
	t.Helper()
	tx := client.DeployTx(s.c.Key(role), s.c.ChainID(), wasmCode[name], policy, owner, name)
	rc := s.ok(t, tx)
	addr := client.ContractAddress(tx)
	if !bytes.Equal(rc.Result, addr[:]) {
		t.Fatalf("deploy %s: result %x, want the address %s", name, rc.Result, addr)
	}
	return addr
}

func (s *scenario) callTx(role string, addr block.Hash, method string, args any) *block.Tx {
	var a []byte
	switch v := args.(type) {
	case nil:
	case []byte:
		a = v
	case string:
		a = []byte(v)
	default:
		a, _ = json.Marshal(v)
	}
	return client.CallTx(s.c.Key(role), s.c.ChainID(), addr, method, a, callGas)
}

// digest hashes the whole state except used nonces, which every admitted
// transaction, failed or not, consumes.
func digest(t testing.TB, r state.Reader) block.Hash {
	t.Helper()
	h := sha256.New()
	err := r.Iterate(nil, func(k, v []byte) bool {
		if k[0] != 'n' {
			fmt.Fprintf(h, "%x=%x;", k, v)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return block.Hash(h.Sum(nil))
}

// runScenario runs the sequence on c; full adds the slow cases (a module
// whose initialisation runs out of its deploy-time gas costs each
// validator a few seconds).
func runScenario(t *testing.T, c testChain, full bool) *scenario {
	s := &scenario{c: c, amend: loadBoard(t, "consent-3of5"), safety: loadBoard(t, "consent-2of3"),
		hostileReceipts: map[string]*block.Receipt{}}
	chain := c.ChainID()

	t.Run("groups", func(t *testing.T) {
		// A group's parties must be members: the approvers are people the chain knows.
		s.fail(t, client.ConsentGroupTx(c.Key("committee"), chain, s.amend.bin), "is not an active member of this chain")
		registerParties(t, s, s.amend, s.safety)
		rc := s.ok(t, client.ConsentGroupTx(c.Key("committee"), chain, s.amend.bin))
		if !bytes.Equal(rc.Result, s.amend.id[:]) {
			t.Fatalf("group id %x, want %x", rc.Result, s.amend.id)
		}
		s.ok(t, client.ConsentGroupTx(c.Key("sponsor"), chain, s.safety.bin))
		s.fail(t, client.ConsentGroupTx(c.Key("site"), chain, s.amend.bin), "consent group already registered")
		s.refused(t, client.ConsentGroupTx(c.Key("site"), chain, []byte("not a group")), "consent: malformed")
		g, err := contracts.Group(c.State(), s.amend.id)
		if err != nil || g.Name != "amendment-board" || g.Threshold != 3 {
			t.Fatalf("stored group: %v, %v", g, err)
		}
	})

	t.Run("deploy", func(t *testing.T) {
		s.counter = s.deploy(t, "sponsor", "counter", block.PolicyOwner, nil)
		s.hostile = s.deploy(t, "sponsor", "hostile", block.PolicyImmutable, nil)
		s.consentedC = s.deploy(t, "sponsor", "consented", block.PolicyGroup, s.amend.id[:])
		rec, err := contracts.Lookup(c.State(), s.counter)
		if err != nil {
			t.Fatal(err)
		}
		if rec.CodeHash != block.Sum(wasmCode["counter"]) || rec.Policy != block.PolicyOwner ||
			!bytes.Equal(rec.Owner, c.Key("sponsor").Public().(ed25519.PublicKey)) || rec.Label != "counter" {
			t.Fatalf("record: %+v", rec)
		}
		if m := c.Methods(t, s.counter); !slices.Contains(m, "add") || !slices.Contains(m, "get") {
			t.Fatalf("methods: %v", m)
		}
		// The same code again: stored once, so the second deploy pays no storage.
		tx := client.DeployTx(c.Key("admin"), chain, wasmCode["minimal"], block.PolicyImmutable, nil, "a")
		first := s.ok(t, tx).GasUsed
		tx = client.DeployTx(c.Key("admin"), chain, wasmCode["minimal"], block.PolicyImmutable, nil, "b")
		second := s.ok(t, tx).GasUsed
		if want := first - state.GasPerStorage*uint64(len(wasmCode["minimal"])); second != want {
			t.Fatalf("second deploy of the same code used %d gas, want %d (first %d)", second, want, first)
		}
		if tx.GasLimit < first {
			t.Fatalf("client.DeployGas %d < used %d", tx.GasLimit, first)
		}
	})

	t.Run("deploy refused", func(t *testing.T) {
		before := digest(t, c.State())
		for _, tc := range []struct {
			name   string
			code   []byte
			policy block.Policy
			owner  []byte
			want   string
		}{
			{"garbage", []byte("\x00asm but not really"), block.PolicyImmutable, nil, "vm: invalid module"},
			{"forbidden import", forbiddenImport, block.PolicyImmutable, nil, "vm: forbidden import"},
			{"no methods", noMethods, block.PolicyImmutable, nil, "vm: module exports no callable method"},
			{"immutable with owner", wasmCode["minimal"], block.PolicyImmutable, []byte{1}, "invalid upgrade policy"},
			{"owner not a member", wasmCode["minimal"], block.PolicyOwner, make([]byte, 32), "not an active member"},
			{"unknown group", wasmCode["minimal"], block.PolicyGroup, make([]byte, 32), "consent group not registered"},
		} {
			if tc.name == "init loop" && !full {
				continue
			}
			tx := client.DeployTx(c.Key("sponsor"), chain, tc.code, tc.policy, tc.owner, tc.name)
			rc := s.fail(t, tx, tc.want)
			if rc.GasUsed == 0 || rc.GasUsed > tx.GasLimit {
				t.Errorf("%s: gas used %d, limit %d", tc.name, rc.GasUsed, tx.GasLimit)
			}
		}
		// A gas limit too low is refused before compiling, using the whole limit.
		p := (&block.DeployPayload{Code: wasmCode["minimal"], Policy: block.PolicyImmutable}).Encode()
		tx := client.Sign(c.Key("sponsor"), chain, block.KindDeploy, p, state.IntrinsicGas(&block.Tx{Payload: p})+1000)
		if rc := s.fail(t, tx, "contracts: out of gas"); rc.GasUsed != tx.GasLimit {
			t.Fatalf("out of gas used %d, want the limit %d", rc.GasUsed, tx.GasLimit)
		}
		if after := digest(t, c.State()); after != before {
			t.Fatal("refused deploys changed state")
		}
		if !full {
			return
		}
		// Code whose initialisation never finishes passes the deploy's
		// static check (no compiler runs in a block); every call to it then
		// fails the same way on every node, for a fixed price, and the
		// refusal is remembered (the second call does not run it again).
		tx = client.DeployTx(c.Key("sponsor"), chain, wasmCode["initloop"], block.PolicyImmutable, nil, "init loop")
		s.ok(t, tx)
		loop := client.ContractAddress(tx)
		for range 2 {
			rc := s.fail(t, s.callTx("site", loop, "run", nil), "vm: module initialisation did not finish")
			if rc.GasUsed == 0 || rc.GasUsed > 10_000_000 {
				t.Fatalf("call of a module that cannot start: gas %d", rc.GasUsed)
			}
		}
	})

	t.Run("call", func(t *testing.T) {
		rc := s.ok(t, s.callTx("site", s.counter, "add", map[string]int{"by": 2}))
		if string(rc.Result) != "2" || len(rc.Events) != 1 || rc.Events[0].Source != s.counter || rc.Events[0].Type != "added" {
			t.Fatalf("add: %q %+v", rc.Result, rc.Events)
		}
		s.ok(t, s.callTx("regulator", s.counter, "add", map[string]int{"by": 3}))
		s.fail(t, s.callTx("site", s.counter, "nope", nil), "vm: no such method")
		s.fail(t, s.callTx("site", block.Sum([]byte("nowhere")), "get", nil), "no contract at this address")
		s.fail(t, s.callTx("sponsor", s.counter, "sitesOnly", nil), "forbidden")
		if rc := s.ok(t, s.callTx("site", s.counter, "sitesOnly", nil)); string(rc.Result) != "welcome" {
			t.Fatalf("sitesOnly as site: %q", rc.Result)
		}
		if out, f := c.Query(t, s.counter, "get", nil); string(out) != "5" {
			t.Fatalf("query get: %q %s", out, f)
		}
		// A query's writes are not kept.
		if out, f := c.Query(t, s.counter, "add", []byte(`{"by":100}`)); string(out) != "105" {
			t.Fatalf("query add: %q %s", out, f)
		}
		if out, _ := c.Query(t, s.counter, "get", nil); string(out) != "5" {
			t.Fatalf("query get after a query add: %q", out)
		}
		if _, f := c.Query(t, s.counter, "sitesOnly", nil); !strings.Contains(f, "forbidden") {
			t.Fatalf("anonymous query of sitesOnly: %q", f)
		}
	})

	t.Run("hostile", func(t *testing.T) {
		for _, hc := range hostileCases {
			before := digest(t, c.State())
			rc := s.fail(t, s.callTx("site", s.hostile, hc.method, nil), hc.wantErr)
			if rc.GasUsed == 0 || rc.GasUsed > callGas {
				t.Errorf("%s: gas used %d", hc.method, rc.GasUsed)
			}
			if len(rc.Events) != 0 || len(rc.Result) != 0 {
				t.Errorf("%s: failed receipt with result or events", hc.method)
			}
			if after := digest(t, c.State()); after != before {
				t.Errorf("%s: state changed", hc.method)
			}
			s.hostileReceipts[hc.method] = rc
		}
		// A write "outside" its namespace lands inside it.
		victimKey := append(state.StoragePrefix(s.counter), "count"...)
		before, _, _ := c.State().Get(victimKey)
		s.ok(t, s.callTx("site", s.hostile, "foreign", append(s.counter[:], "count"...)))
		after, _, _ := c.State().Get(victimKey)
		if !bytes.Equal(before, after) || string(after) != "5" {
			t.Fatalf("victim's count %q → %q", before, after)
		}
		own := 0
		c.State().Iterate(state.StoragePrefix(s.hostile), func(k, v []byte) bool { own++; return true })
		if own != 2 {
			t.Fatalf("hostile wrote %d keys in its own namespace, want 2", own)
		}
	})

	t.Run("consent", func(t *testing.T) { s.consentFlow(t) })

	t.Run("upgrade", func(t *testing.T) {
		s.fail(t, client.UpgradeTx(c.Key("admin"), chain, s.counter, wasmCode["minimal"], nil), "only the owner")
		s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, s.counter, wasmCode["minimal"], []byte{1}), "a consent is not expected")
		s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, s.hostile, wasmCode["minimal"], nil), "is immutable")
		s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, s.counter, wasmCode["counter"], nil), "already runs code")
		s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, s.counter, []byte("garbage"), nil), "vm: invalid module")
		s.ok(t, client.UpgradeTx(c.Key("sponsor"), chain, s.counter, wasmCode["minimal"], nil))
		if m := c.Methods(t, s.counter); !slices.Equal(m, []string{"run"}) {
			t.Fatalf("methods after upgrade: %v", m)
		}
		if v, _, _ := c.State().Get(append(state.StoragePrefix(s.counter), "count"...)); string(v) != "5" {
			t.Fatalf("storage after upgrade: %q", v)
		}

		// Group policy: the board consents to the new code hash.
		newCode := wasmCode["counter"]
		req := consent.Request{ChainID: chain, Action: contracts.UpgradeAction(s.consentedC, block.Sum(newCode)), Meaning: "approve upgrade"}
		good := s.amend.consent(t, req, 1, 2, 4)
		s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, s.consentedC, newCode, nil), "no single party, its owner or deployer included, can upgrade it alone")
		s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, s.consentedC, newCode, []byte{1}), "consent: malformed")
		reject := consent.Request{ChainID: chain, Action: req.Action, Meaning: "REJECT upgrade"}
		s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, s.consentedC, newCode, s.amend.consent(t, reject, 1, 2, 4)), `this needs signers meaning "approve upgrade"`)
		s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, s.consentedC, newCode, s.safety.consent(t, req, 1, 2)), "for another consent group")
		s.fail(t, client.UpgradeTx(c.Key("sponsor"), chain, s.consentedC, wasmCode["minimal"], good), "for another action")
		rc := s.ok(t, client.UpgradeTx(c.Key("admin"), chain, s.consentedC, newCode, good))
		// The upgrade is a version in the contract's code history (a record set kept by the chain).
		if len(rc.Events) != 3 || rc.Events[0].Type != "consent.used" || rc.Events[1].Type != "contract.upgraded" ||
			rc.Events[2].Type != state.EventScope || string(rc.Events[2].Data) != state.CodeScope(s.consentedC) {
			t.Fatalf("upgrade events: %+v", rc.Events)
		}
		rec, _ := contracts.Lookup(c.State(), s.consentedC)
		if rec.CodeHash != block.Sum(newCode) || rec.Upgraded == 0 {
			t.Fatalf("record after upgrade: %+v", rec)
		}
	})
	return s
}

// registerParties registers every party key of the boards as a committee
// member (the admin's transaction), once per key.
func registerParties(t testing.TB, s *scenario, boards ...*board) {
	t.Helper()
	seen := map[string]bool{}
	for _, b := range boards {
		for i, p := range b.group.Parties {
			if seen[string(p.MemberKey)] {
				continue
			}
			seen[string(p.MemberKey)] = true
			reg := &block.RegisterPayload{Key: b.keys[i].Public().(ed25519.PublicKey), Org: "board " + p.Name, Name: p.Name, Role: block.RoleCommittee}
			s.ok(t, client.Sign(s.c.Key("admin"), s.c.ChainID(), block.KindRegister, reg.Encode(), 100_000))
		}
	}
}

func (s *scenario) consentFlow(t testing.TB) {
	c, chain := s.c, s.c.ChainID()
	s.ok(t, s.callTx("sponsor", s.consentedC, "setBoard", map[string]string{"group": hex.EncodeToString(s.amend.id[:])}))

	doc := []byte("amendment 1: add a safety visit at week 7")
	req := consent.Request{ChainID: chain, Action: contracts.CallAction(s.consentedC, "amend", doc), Meaning: consent.MeaningApproveAmendment}
	amend := func(consentBytes []byte) *block.Tx {
		return s.callTx("site", s.consentedC, "amend", map[string][]byte{"doc": doc, "consent": consentBytes})
	}

	// Three of five parties sign off chain; the combined signature is a
	// plain RSA-PSS signature.
	good := s.amend.consent(t, req, 1, 3, 5)
	parsed, err := consent.ParseConsent(good)
	if err != nil {
		t.Fatal(err)
	}
	msgDigest := sha256.Sum256(req.Message(s.amend.id))
	if err := rsa.VerifyPSS(s.amend.group.PublicKey, crypto.SHA256, msgDigest[:], parsed.Signature, consent.PSSOptions()); err != nil {
		t.Fatalf("crypto/rsa does not verify the combined consent: %v", err)
	}

	// Two shares: Combine refuses, and a consent cut down to two signers
	// is refused on chain.
	if _, err := consent.Combine(s.amend.group, req, s.amend.sign(t, req, 2, 4)...); !errors.Is(err, consent.ErrTooFewShares) {
		t.Fatalf("combine two shares: %v", err)
	}
	cut := *parsed
	cut.Signers = cut.Signers[:2]
	cutBytes, err := cut.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	before := digest(t, c.State())
	s.fail(t, amend(cutBytes), "too few shares")
	// Another chain, another group, another action: refused with their reason.
	other := req
	other.ChainID = "another-chain"
	s.fail(t, amend(s.amend.consent(t, other, 1, 2, 3)), "for another chain")
	s.fail(t, amend(s.safety.consent(t, req, 1, 3)), "for another consent group")
	otherDoc := req
	otherDoc.Action = contracts.CallAction(s.consentedC, "amend", []byte("amendment 2"))
	s.fail(t, amend(s.amend.consent(t, otherDoc, 1, 2, 3)), "for another action")
	otherMethod := req
	otherMethod.Action = contracts.CallAction(s.consentedC, "setBoard", doc)
	s.fail(t, amend(s.amend.consent(t, otherMethod, 1, 2, 3)), "for another action")
	s.fail(t, amend([]byte("junk")), "consent: malformed")
	if after := digest(t, c.State()); after != before {
		t.Fatal("refused consents changed state")
	}

	// The good consent works once.
	rc := s.ok(t, amend(good))
	if string(rc.Result) != "1" || len(rc.Events) != 2 || rc.Events[0].Type != "consent.used" || !rc.Events[0].Source.IsZero() ||
		!bytes.Equal(rc.Events[0].Data[:32], idOf(parsed)) || rc.Events[1].Type != "amended" {
		t.Fatalf("amend: %q %+v", rc.Result, rc.Events)
	}
	if h, used, err := contracts.ConsentUsed(c.State(), block.Hash(parsed.ID())); err != nil || !used || h != rc.Height {
		t.Fatalf("consent marked used: %d %v %v", h, used, err)
	}
	// Replays are refused: the same bytes, or other signers of the same request.
	s.fail(t, amend(good), "consent already used")
	s.fail(t, amend(s.amend.consent(t, req, 2, 3, 4)), "consent already used")
	// "Already used" is checked before any signature: a replay with a
	// broken signature is refused as used, its RSA and attestations never
	// checked.
	broken := append([]byte{}, good...)
	broken[len(broken)-1] ^= 0xff // the last attestation
	s.fail(t, amend(broken), "consent already used")
	out, f := c.Query(t, s.consentedC, "status", nil)
	var st struct {
		Amendments int    `json:"amendments"`
		Board      string `json:"board"`
	}
	if err := json.Unmarshal(out, &st); err != nil || st.Amendments != 1 || st.Board != hex.EncodeToString(s.amend.id[:]) {
		t.Fatalf("status: %s %s %v", out, f, err)
	}
}

func idOf(c *consent.Consent) []byte { id := c.ID(); return id[:] }
