package care_test

import (
	"context"
	"crypto/ed25519"
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

	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/vm"
)

// The three care contracts are built from contracts-examples/ on first use
// into a temp dir (never committed) and run in the real VM: vm.Engine with
// an on-disk compilation cache, one session per call (a block), state in a
// vm.MemKV per contract, seals kept beside it as the chain keeps them.

var (
	wasmDir, cacheDir string
	contracts         = []string{trials.RecordSharing, trials.Claims, trials.DrugTrace}
	wasmCode          = map[string][]byte{}
)

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "caretest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	wasmDir, cacheDir = filepath.Join(dir, "wasm"), filepath.Join(dir, "cache")
	return m.Run()
}

// buildContracts builds the contracts on first use, so the pure tests and
// the fuzz workers never wait for it.
func buildContracts() error {
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(self), "..", "..")
	for _, name := range contracts { // one build at a time: 2-core machines
		out := filepath.Join(wasmDir, name+".wasm")
		cmd := exec.Command("go", "build", "-trimpath", "-buildmode=c-shared", "-o", out, "./contracts-examples/"+name)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", name, err, b)
		}
		var err error
		if wasmCode[name], err = os.ReadFile(out); err != nil {
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
		if engineErr = buildContracts(); engineErr != nil {
			return
		}
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
	priv ed25519.PrivateKey
	org  string
	role string
}

func newActor(name, org, role string) actor {
	seed := sha256.Sum256([]byte("care test actor " + name))
	return actor{name: name, priv: ed25519.NewKeyFromSeed(seed[:]), org: org, role: role}
}

func (a actor) pub() ed25519.PublicKey { return a.priv.Public().(ed25519.PublicKey) }
func (a actor) hex() string            { return hex.EncodeToString(a.pub()) }

// addr is the address the harness gives a contract.
func addr(contract string) [32]byte { return sha256.Sum256([]byte(contract)) }

// chain runs calls, one block per call, against per-contract state.
type chain struct {
	t      testing.TB
	e      *vm.Engine
	mods   map[string]*vm.Module
	kv     map[string]*vm.Overlay
	seals  map[string]*vm.Overlay
	height uint64
	now    time.Time
	// sets is what the chain keeps per record set: the heights of the
	// calls that joined it, and whether each failed.
	sets map[string][]joined
	log  []logged
}

type joined struct {
	height uint64
	method string
	err    string
}

type logged struct {
	who    actor
	call   trials.Call
	height uint64
	now    time.Time
	res    vm.Result
}

func newChain(t testing.TB, start time.Time) *chain {
	e, mods := sharedEngine(t)
	c := &chain{t: t, e: e, mods: mods, kv: map[string]*vm.Overlay{}, seals: map[string]*vm.Overlay{}, now: start, sets: map[string][]joined{}}
	for _, n := range contracts {
		c.kv[n], c.seals[n] = vm.NewMemKV(), vm.NewMemKV()
	}
	return c
}

func mkCall(t testing.TB, contract, method string, args any) trials.Call {
	t.Helper()
	c, err := trials.CareCall(contract, method, args)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run executes call as a's transaction in a new block one minute later.
func (c *chain) run(a actor, call trials.Call) vm.Result {
	c.t.Helper()
	c.height++
	c.now = c.now.Add(time.Minute)
	ctx := context.Background()
	s := c.e.NewSession(vm.BlockInfo{Height: c.height, TimeUnixMilli: c.now.UnixMilli()})
	defer s.Close(ctx)
	seals := vm.NewOverlay(c.seals[call.Contract]) // a failed call's seals are dropped, as on chain
	res, err := s.Call(ctx, c.mods[call.Contract], &vm.Call{
		Contract: addr(call.Contract), Caller: a.pub(), CallerOrg: a.org, CallerRole: a.role,
		TxHash: sha256.Sum256([]byte(fmt.Sprint(c.height))), Method: call.Method, Args: call.Args,
		GasLimit: 2_000_000_000, KV: c.kv[call.Contract], Seals: vm.NewSealStore(seals, c.height),
	})
	if err != nil {
		c.t.Fatalf("%s.%s: node error: %v", call.Contract, call.Method, err)
	}
	if res.Err == nil {
		if err := seals.Commit(); err != nil {
			c.t.Fatal(err)
		}
	}
	for _, s := range res.Scopes {
		j := joined{height: c.height, method: call.Method}
		if res.Err != nil {
			j.err = res.Err.Message
		}
		c.sets[s] = append(c.sets[s], j)
	}
	c.log = append(c.log, logged{who: a, call: call, height: c.height, now: c.now, res: res})
	return res
}

// ok runs call, requires success and decodes the output into out (if not nil).
func (c *chain) ok(a actor, call trials.Call, out any) {
	c.t.Helper()
	res := c.run(a, call)
	if res.Err != nil {
		c.t.Fatalf("%s.%s by %s: %v", call.Contract, call.Method, a.name, res.Err)
	}
	if out != nil {
		if err := json.Unmarshal(res.Output, out); err != nil {
			c.t.Fatalf("%s.%s: decode output %s: %v", call.Contract, call.Method, res.Output, err)
		}
	}
}

// refused runs call and requires an abort whose message starts with
// "code: ", no writes, no events, an unchanged state, and — when scope is
// given — the failed call recorded in that record set, where an auditor
// lists it.
func (c *chain) refused(a actor, call trials.Call, code, scope string) string {
	c.t.Helper()
	before := c.snapshot(call.Contract)
	res := c.run(a, call)
	if res.Err == nil {
		c.t.Fatalf("%s.%s by %s: succeeded, want refusal %q; output %s", call.Contract, call.Method, a.name, code, res.Output)
	}
	if res.Err.Code != vm.CodeAbort {
		c.t.Fatalf("%s.%s by %s: %v, want a contract refusal (abort)", call.Contract, call.Method, a.name, res.Err)
	}
	if !strings.HasPrefix(res.Err.Message, code+": ") {
		c.t.Fatalf("%s.%s by %s: refusal %q, want code %q", call.Contract, call.Method, a.name, res.Err.Message, code)
	}
	if len(res.Writes) != 0 || len(res.Events) != 0 {
		c.t.Fatalf("%s.%s: refused call has %d writes and %d events", call.Contract, call.Method, len(res.Writes), len(res.Events))
	}
	if after := c.snapshot(call.Contract); after != before {
		c.t.Fatalf("%s.%s: refused call changed the state", call.Contract, call.Method)
	}
	if scope != "" {
		set := c.sets[scope]
		if len(set) == 0 || set[len(set)-1].height != c.height || set[len(set)-1].err != res.Err.Message {
			c.t.Fatalf("%s.%s: refusal %q is not recorded in record set %s (joined %v)", call.Contract, call.Method, res.Err.Message, scope, res.Scopes)
		}
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

// replay runs c's transcript on a fresh chain and requires identical
// outputs, errors, events, gas, record sets and final state.
func (c *chain) replay(t testing.TB, start time.Time) {
	t.Helper()
	r := newChain(t, start)
	for i, l := range c.log {
		r.height, r.now = l.height-1, l.now.Add(-time.Minute)
		got := r.run(l.who, l.call)
		if got.GasUsed != l.res.GasUsed || string(got.Output) != string(l.res.Output) || fmt.Sprint(got.Err) != fmt.Sprint(l.res.Err) ||
			fmt.Sprint(got.Events) != fmt.Sprint(l.res.Events) || fmt.Sprint(got.Scopes) != fmt.Sprint(l.res.Scopes) {
			t.Fatalf("replay of call %d (%s.%s) differs: gas %d vs %d, err %v vs %v", i, l.call.Contract, l.call.Method, got.GasUsed, l.res.GasUsed, got.Err, l.res.Err)
		}
	}
	for _, n := range contracts {
		if c.snapshot(n) != r.snapshot(n) {
			t.Fatalf("replayed state of %s differs", n)
		}
	}
}

// step is one row of a scenario table: who calls which method with which
// arguments, and the refusal code wanted ("" = success) with the record
// set the call must be recorded in.
type step struct {
	name   string
	who    actor
	method string
	args   any
	code   string
	scope  string
	check  func(t *testing.T, out json.RawMessage)
}

// play runs steps in order on contract.
func (c *chain) play(t *testing.T, contract string, steps []step) {
	t.Helper()
	for _, s := range steps {
		call := mkCall(t, contract, s.method, s.args)
		if s.code != "" {
			msg := c.refused(s.who, call, s.code, s.scope)
			t.Logf("%-40s refused: %s", s.name, msg)
			continue
		}
		var out json.RawMessage
		c.ok(s.who, call, &out)
		if s.scope != "" {
			set := c.sets[s.scope]
			if len(set) == 0 || set[len(set)-1].height != c.height {
				t.Fatalf("%s: the call is not recorded in %s", s.name, s.scope)
			}
		}
		if s.check != nil {
			s.check(t, out)
		}
	}
}
