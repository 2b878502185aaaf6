package trials_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
	"github.com/trialchain/trialchain/trials/testgroups"
	"github.com/trialchain/trialchain/vm"
)

// The three contracts are built from contracts-examples/ by TestMain into a
// temp dir (never committed) and run in the real VM: vm.Engine with the
// on-disk compilation cache, one session per block, state in a vm.MemKV per
// contract, consents verified by chain/consent with the public test groups.

var (
	wasmDir   string
	cacheDir  string
	contracts = []string{trials.TrialProtocol, trials.GenomeAccess, trials.SurgicalRecords}
	wasmCode  = map[string][]byte{}
)

const chainID = "trialchain-test"

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "trialstest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	wasmDir, cacheDir = filepath.Join(dir, "wasm"), filepath.Join(dir, "cache")
	if err := buildContracts(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func buildContracts() error {
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(self), "..")
	errs := make([]error, len(contracts))
	for i, name := range contracts { // one build at a time: 2-core machines
		func() {
			out := filepath.Join(wasmDir, name+".wasm")
			cmd := exec.Command("go", "build", "-trimpath", "-buildmode=c-shared", "-o", out, "./contracts-examples/"+name)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
			if b, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("build %s: %v\n%s", name, err, b)
				return
			}
			wasmCode[name], errs[i] = os.ReadFile(out)
		}()
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

var (
	engineOnce sync.Once
	engine     *vm.Engine
	modules    = map[string]*vm.Module{}
	engineErr  error
)

func sharedEngine(t testing.TB) (*vm.Engine, map[string]*vm.Module) {
	t.Helper()
	engineOnce.Do(func() {
		cfg := vm.DefaultConfig()
		cfg.CacheDir = cacheDir
		engine, engineErr = vm.NewEngine(context.Background(), cfg)
		if engineErr != nil {
			return
		}
		for _, name := range contracts {
			m, err := engine.Compile(context.Background(), wasmCode[name])
			if err != nil {
				engineErr = fmt.Errorf("compile %s: %w", name, err)
				return
			}
			modules[name] = m
		}
	})
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engine, modules
}

// actor is a chain member: key, organisation, role.
type actor struct {
	name string
	key  ed25519.PublicKey
	org  string
	role string
}

func newActor(name, org, role string) actor {
	seed := sha256.Sum256([]byte("trials test actor " + name))
	return actor{name: name, key: ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey), org: org, role: role}
}

func (a actor) hex() string { return hex.EncodeToString(a.key) }

// priv is the actor's member private key (the harness derives it from the name).
func (a actor) priv() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("trials test actor " + a.name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// commitTo is the location commitment custodian registers for dataset.
func commitTo(custodian actor, dataset, location string) string {
	return trials.LocationCommitment(trials.LocationSalt(custodian.priv(), dataset), location)
}

// releaseCall seals location to researcher for grant, as 'genome release' does.
func releaseCall(t testing.TB, custodian actor, researcher ed25519.PublicKey, grant, dataset, location string) trials.Call {
	t.Helper()
	sealed, err := consent.SealToMember(rand.Reader, researcher, trials.LocationSealInfo(addr(trials.GenomeAccess), grant, dataset),
		trials.LocationPlaintext(trials.LocationSalt(custodian.priv(), dataset), location))
	if err != nil {
		t.Fatal(err)
	}
	call, err := trials.ReleaseCall(grant, hex.EncodeToString(sealed))
	if err != nil {
		t.Fatal(err)
	}
	return call
}

// openAccess opens an access result with the researcher's key, as 'genome access' does.
func openAccess(researcher actor, a model.AccessResult) (string, error) {
	sealed, err := hex.DecodeString(a.Sealed)
	if err != nil {
		return "", err
	}
	pt, err := consent.OpenAsMember(researcher.priv(), trials.LocationSealInfo(addr(trials.GenomeAccess), a.Grant, a.Dataset), sealed)
	if err != nil {
		return "", err
	}
	return trials.OpenedLocation(pt, a.LocationCommitment)
}

// chain runs calls, one block per call, against per-contract state.
type chain struct {
	t      testing.TB
	e      *vm.Engine
	mods   map[string]*vm.Module
	kv     map[string]*vm.Overlay
	seals  map[string]*vm.Overlay // per contract, as the chain keeps them (outside the contract's state)
	govern map[string]string      // the consent group each contract's upgrades were handed to
	height uint64
	now    time.Time
	groups map[string]*testgroups.Group
	// log records every call (caller, call, block) and its result, for
	// the determinism check (replay).
	log []logged
}

type logged struct {
	who    actor
	call   trials.Call
	height uint64
	now    time.Time
	res    vm.Result
}

var (
	groupsOnce sync.Once
	groupsAll  map[string]*testgroups.Group
)

func loadGroups(t testing.TB) map[string]*testgroups.Group {
	groupsOnce.Do(func() {
		groupsAll = map[string]*testgroups.Group{}
		for _, n := range testgroups.Names {
			groupsAll[n] = testgroups.MustLoad(n)
		}
	})
	return groupsAll
}

func newChain(t testing.TB) *chain {
	e, mods := sharedEngine(t)
	gs := loadGroups(t)
	c := &chain{t: t, e: e, mods: mods, kv: map[string]*vm.Overlay{}, seals: map[string]*vm.Overlay{}, govern: map[string]string{},
		now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), groups: gs}
	for _, n := range contracts {
		c.kv[n] = vm.NewMemKV()
		c.seals[n] = vm.NewMemKV()
	}
	return c
}

// addr is the address the harness gives a contract.
func addr(contract string) [32]byte { return sha256.Sum256([]byte(contract)) }

// action is what a consent must be for when contract's method checks digest.
func action(contract, method string, digest [32]byte) consent.Action {
	return testgroups.Action(addr(contract), method, digest)
}

// advance moves the block clock.
func (c *chain) advance(d time.Duration) { c.now = c.now.Add(d) }

// run executes call as a's transaction in a new block one minute later.
func (c *chain) run(a actor, call trials.Call) vm.Result {
	c.t.Helper()
	c.height++
	c.advance(time.Minute)
	ctx := context.Background()
	s := c.e.NewSession(vm.BlockInfo{Height: c.height, TimeUnixMilli: c.now.UnixMilli()})
	defer s.Close(ctx)
	gs := c.groups
	verify := testgroups.Verifier(chainID, addr(call.Contract), call.Method, gs[testgroups.AmendmentBoard], gs[testgroups.SurgicalTeam], gs[testgroups.DataAccessCommittee])
	seals := vm.NewOverlay(c.seals[call.Contract]) // a failed call's seals are dropped, as on chain
	governed := ""
	res, err := s.Call(ctx, c.mods[call.Contract], &vm.Call{
		Contract: addr(call.Contract), Caller: a.key, CallerOrg: a.org, CallerRole: a.role,
		TxHash: sha256.Sum256([]byte(fmt.Sprint(c.height))), Method: call.Method, Args: call.Args,
		GasLimit: 2_000_000_000, KV: c.kv[call.Contract], ConsentVerify: verify,
		Seals: vm.NewSealStore(seals, c.height),
		Govern: func(g string) error { // the chain's rules are tested in chain/contracts; here: one group per contract
			if cur := c.govern[call.Contract]; cur != "" && cur != g {
				return fmt.Errorf("governed by %s already", cur)
			}
			governed = g
			return nil
		},
	})
	if err != nil {
		c.t.Fatalf("%s.%s: node error: %v", call.Contract, call.Method, err)
	}
	if res.Err == nil {
		if err := seals.Commit(); err != nil {
			c.t.Fatal(err)
		}
		if governed != "" {
			c.govern[call.Contract] = governed
		}
	}
	c.log = append(c.log, logged{who: a, call: call, height: c.height, now: c.now, res: res})
	return res
}

// replay runs c's transcript on a fresh chain and requires identical
// outputs, errors, events, gas and final state.
func (c *chain) replay(t testing.TB) {
	t.Helper()
	r := newChain(t)
	for i, l := range c.log {
		r.height, r.now = l.height-1, l.now.Add(-time.Minute)
		got := r.run(l.who, l.call)
		if got.GasUsed != l.res.GasUsed || string(got.Output) != string(l.res.Output) || fmt.Sprint(got.Err) != fmt.Sprint(l.res.Err) ||
			fmt.Sprint(got.Events) != fmt.Sprint(l.res.Events) {
			t.Fatalf("replay of call %d (%s.%s) differs: gas %d vs %d, err %v vs %v", i, l.call.Contract, l.call.Method, got.GasUsed, l.res.GasUsed, got.Err, l.res.Err)
		}
	}
	for _, n := range contracts {
		if c.snapshot(n) != r.snapshot(n) {
			t.Fatalf("replayed state of %s differs", n)
		}
	}
}

// ok runs call, requires success and decodes the output into out (if not nil).
func (c *chain) ok(a actor, call trials.Call, out any) []byte {
	c.t.Helper()
	res := c.run(a, call)
	if res.Err != nil {
		c.t.Fatalf("%s.%s by %s: %v", call.Contract, call.Method, a.name, res.Err)
	}
	desc, err := trials.Describe(call, res.Output)
	if err != nil || desc == "" {
		c.t.Fatalf("%s.%s: describe: %q, %v", call.Contract, call.Method, desc, err)
	}
	if testing.Verbose() {
		c.t.Logf("%s %s.%s: %s", a.name, call.Contract, call.Method, desc)
	}
	if out != nil {
		if err := json.Unmarshal(res.Output, out); err != nil {
			c.t.Fatalf("%s.%s: decode output %s: %v", call.Contract, call.Method, res.Output, err)
		}
	}
	return res.Output
}

// refused runs call, requires an abort whose message contains every want,
// and requires that the contract's state is unchanged.
func (c *chain) refused(a actor, call trials.Call, want ...string) string {
	c.t.Helper()
	before := c.snapshot(call.Contract)
	res := c.run(a, call)
	if res.Err == nil {
		c.t.Fatalf("%s.%s by %s: succeeded, want refusal %q; output %s", call.Contract, call.Method, a.name, want, res.Output)
	}
	if res.Err.Code != vm.CodeAbort {
		c.t.Fatalf("%s.%s by %s: %v, want a contract refusal (abort)", call.Contract, call.Method, a.name, res.Err)
	}
	for _, w := range want {
		if !strings.Contains(res.Err.Message, w) {
			c.t.Fatalf("%s.%s by %s: refusal %q does not mention %q", call.Contract, call.Method, a.name, res.Err.Message, w)
		}
	}
	if len(res.Writes) != 0 || len(res.Events) != 0 {
		c.t.Fatalf("%s.%s: refused call has %d writes and %d events", call.Contract, call.Method, len(res.Writes), len(res.Events))
	}
	if after := c.snapshot(call.Contract); after != before {
		c.t.Fatalf("%s.%s: refused call changed the state", call.Contract, call.Method)
	}
	if ex := trials.ExplainRefusal(res.Err.Message); !strings.HasPrefix(ex, "Refused: ") {
		c.t.Fatalf("explain %q", ex)
	}
	return res.Err.Message
}

// snapshot hashes a contract's whole state.
func (c *chain) snapshot(contract string) string {
	h := sha256.New()
	var keys []string
	vals := map[string][]byte{}
	if err := c.kv[contract].Iterate(nil, nil, func(k, v []byte) bool {
		keys = append(keys, string(k))
		vals[string(k)] = append([]byte(nil), v...)
		return true
	}); err != nil {
		c.t.Fatal(err)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s=%d:%s;", len(k), k, len(vals[k]), vals[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// largestValue returns the size of the largest state value of any contract.
func (c *chain) largestValue() int {
	n := 0
	for _, kv := range c.kv {
		_ = kv.Iterate(nil, nil, func(_, v []byte) bool {
			n = max(n, len(v))
			return true
		})
	}
	return n
}
