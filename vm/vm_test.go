package vm

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

var (
	addrCounter = [32]byte{1}
	addrHostile = [32]byte{2}
	addrVictim  = [32]byte{3}
	callerKey   = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	block       = BlockInfo{Height: 42, TimeUnixMilli: 1_750_000_000_123}
)

func baseCall(contract [32]byte, kv KV, method, args string) *Call {
	return &Call{
		Contract: contract, Caller: callerKey.Public().(ed25519.PublicKey), CallerOrg: "site-17",
		CallerRole: "site", TxHash: sha256.Sum256([]byte(method + args)),
		Method: method, Args: []byte(args), GasLimit: 2_000_000_000, KV: kv,
	}
}

// outcome is everything that must be equal on every validator.
type outcome struct {
	Out     string
	Gas     uint64
	Code    Code
	Msg     string
	Events  string
	Writes  string
	MemHash [32]byte
}

func (o outcome) String() string {
	return fmt.Sprintf("code=%v gas=%d out=%q msg=%q events=%s writes=%s mem=%x", o.Code, o.Gas, o.Out, o.Msg, o.Events, o.Writes, o.MemHash[:6])
}

func run(t testing.TB, s *Session, m *Module, c *Call) outcome {
	t.Helper()
	res, err := s.Call(context.Background(), m, c)
	if err != nil {
		t.Fatalf("%s: node error: %v", c.Method, err)
	}
	o := outcome{Out: string(res.Output), Gas: res.GasUsed, MemHash: memoryHash(t, s, c.Contract)}
	if res.Err != nil {
		o.Code, o.Msg = res.Err.Code, res.Err.Message
	}
	ev, _ := json.Marshal(res.Events)
	o.Events = string(ev)
	var w strings.Builder
	for _, x := range res.Writes {
		fmt.Fprintf(&w, "%q=%q,", x.Key, x.Value)
	}
	o.Writes = digest(w.String())
	return o
}

// digest shortens long strings in outcomes.
func digest(s string) string {
	if len(s) <= 64 {
		return s
	}
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s)))
}

func dump(kv *Overlay) string {
	var b strings.Builder
	_ = kv.Iterate(nil, nil, func(k, v []byte) bool {
		fmt.Fprintf(&b, "%q=%q\n", k, v)
		return true
	})
	return b.String()
}

func TestCounter(t *testing.T) {
	ctx := context.Background()
	e := sharedEngine(t, false)
	m := compile(t, e, "counter")
	s := e.NewSession(block)
	defer s.Close(ctx)
	root := NewMemKV()
	kv := Prefixed(root, addrCounter[:])

	for i, want := range []string{"3", "7"} {
		o := run(t, s, m, baseCall(addrCounter, kv, "add", fmt.Sprintf(`{"by":%d}`, 3+i)))
		if o.Code != CodeOK || o.Out != want {
			t.Fatalf("add: %v", o)
		}
		if !strings.Contains(o.Events, `"Topic":"added"`) {
			t.Fatalf("events: %s", o.Events)
		}
	}
	if got := dump(root); got != fmt.Sprintf("%q=\"7\"\n", string(addrCounter[:])+"count") {
		t.Fatalf("state:\n%s", got)
	}

	// A failed call reverts its writes and events.
	before := dump(root)
	o := run(t, s, m, baseCall(addrCounter, kv, "failAfterWrite", ""))
	if o.Code != CodeAbort || o.Msg != "changed my mind" || o.Events != "null" || o.Writes != "" {
		t.Fatalf("failAfterWrite: %v", o)
	}
	if dump(root) != before {
		t.Fatal("a failed call changed state")
	}
	if o := run(t, s, m, baseCall(addrCounter, kv, "get", "")); o.Out != "7" {
		t.Fatalf("get after failure: %v", o)
	}

	// Context.
	o = run(t, s, m, baseCall(addrCounter, kv, "info", ""))
	var info map[string]any
	if err := json.Unmarshal([]byte(o.Out), &info); err != nil {
		t.Fatal(err)
	}
	tx := sha256.Sum256([]byte("info"))
	if info["org"] != "site-17" || info["role"] != "site" || info["height"] != float64(42) ||
		info["time"] != float64(block.TimeUnixMilli) || info["tx"] != fmt.Sprintf("%x", tx) ||
		info["self"] != fmt.Sprintf("%x", addrCounter) || info["caller"] != fmt.Sprintf("%x", callerKey.Public()) {
		t.Fatalf("info: %v", info)
	}

	// Crypto.
	msg := []byte("consent form v3")
	sig := ed25519.Sign(callerKey, msg)
	args, _ := json.Marshal(map[string][]byte{"pk": callerKey.Public().(ed25519.PublicKey), "msg": msg, "sig": sig})
	o = run(t, s, m, baseCall(addrCounter, kv, "verify", string(args)))
	if want := fmt.Sprintf(`{"ok":true,"sha256":"%x"}`, sha256.Sum256(msg)); o.Out != want {
		t.Fatalf("verify: %v, want %s", o, want)
	}
	sig[0] ^= 1
	args, _ = json.Marshal(map[string][]byte{"pk": callerKey.Public().(ed25519.PublicKey), "msg": msg, "sig": sig})
	if o = run(t, s, m, baseCall(addrCounter, kv, "verify", string(args))); !strings.HasPrefix(o.Out, `{"ok":false`) {
		t.Fatalf("verify bad sig: %v", o)
	}

	// Consent hook: absent, then present.
	if o = run(t, s, m, baseCall(addrCounter, kv, "consent", `{"msg":"AQ==","sig":"Ag=="}`)); o.Code != CodeUnsupported {
		t.Fatalf("consent without verifier: %v", o)
	}
	c := baseCall(addrCounter, kv, "consent", `{"msg":"AQ==","sig":"Ag=="}`)
	const work = 1_000_000 // what the verifier says this consent costs
	c.ConsentVerify = func(group, meaning string, msg, sig []byte, charge func(uint64) bool) error {
		if !charge(work) {
			return fmt.Errorf("out of gas")
		}
		if group == "irb" && meaning == "approve" && bytes.Equal(msg, []byte{1}) && bytes.Equal(sig, []byte{2}) {
			return nil
		}
		return fmt.Errorf("bad")
	}
	if o = run(t, s, m, c); o.Out != "true" {
		t.Fatalf("consent: %v", o)
	}
	// The verifier's price is charged: the same call with a free verifier
	// costs exactly work less; with too little gas for it, out of gas.
	free := *c
	free.ConsentVerify = func(group, meaning string, msg, sig []byte, _ func(uint64) bool) error {
		return c.ConsentVerify(group, meaning, msg, sig, func(uint64) bool { return true })
	}
	if o2 := run(t, s, m, &free); o2.Out != "true" || o.Gas-o2.Gas != work {
		t.Fatalf("consent priced %d by the verifier: %d vs %d gas", work, o.Gas, o2.Gas)
	}
	short := *c
	short.GasLimit = o.Gas - work/2
	if o2 := run(t, s, m, &short); o2.Code != CodeOutOfGas || o2.Gas != short.GasLimit {
		t.Fatalf("consent without gas for the verification: %v", o2)
	}

	// Roles.
	c = baseCall(addrCounter, kv, "sitesOnly", "")
	c.CallerRole = "sponsor"
	if o = run(t, s, m, c); o.Code != CodeAbort || !strings.Contains(o.Msg, "forbidden") {
		t.Fatalf("sitesOnly as sponsor: %v", o)
	}

	// Scan, with deletes and paging through the overlay.
	for i := 0; i < 300; i++ {
		run(t, s, m, baseCall(addrCounter, kv, "put", fmt.Sprintf(`{"key":"p/%03d","value":"%d"}`, i, i)))
	}
	run(t, s, m, baseCall(addrCounter, kv, "del", `{"key":"p/005"}`))
	o = run(t, s, m, baseCall(addrCounter, kv, "scan", `{"key":"p/"}`))
	var got []string
	if err := json.Unmarshal([]byte(o.Out), &got); err != nil {
		t.Fatalf("scan: %v %v", o, err)
	}
	if len(got) != 299 || got[0] != "p/000=0" || got[5] != "p/006=6" || got[298] != "p/299=299" {
		t.Fatalf("scan: %d entries %v...", len(got), got[:6])
	}

	// Bad arguments are a contract error, not a crash.
	if o = run(t, s, m, baseCall(addrCounter, kv, "add", `{"by":"x"`)); o.Code != CodeAbort {
		t.Fatalf("bad args: %v", o)
	}
}

// hostileCases are the calls of the hostile contract and their outcome.
var hostileCases = []struct {
	method string
	code   Code
	msg    string // substring
}{
	{"loop", CodeOutOfGas, "out of gas"},
	{"recurse", CodeCallDepth, "call depth exceeds 1000"},
	{"membomb", CodeTrap, "out of memory"},
	{"badptr", CodeBadPointer, "outside guest memory"},
	{"hugeevent", CodeLimit, "event data of 1048576 bytes exceeds 16384"},
	{"manyevents", CodeLimit, "events of one call exceed 262144 bytes"},
	{"abort", CodeAbort, "no consent on file for subject S-042"},
	{"panics", CodeTrap, "panic: assignment to entry in nil map"},
}

// TestHostile runs each hostile call on two independent engines: each fails
// its own call with the same status, message and gas, leaves state alone,
// and the engine goes on serving well-behaved calls.
func TestHostile(t *testing.T) {
	ctx := context.Background()
	e1 := sharedEngine(t, false)
	e2 := newTestEngine(t, false)
	defer e2.Close(ctx)
	type side struct {
		e    *Engine
		s    *Session
		m, c *Module
		root *Overlay
	}
	var sides [2]side
	for i, e := range []*Engine{e1, e2} {
		sides[i] = side{e: e, s: e.NewSession(block), m: compile(t, e, "hostile"), c: compile(t, e, "counter"), root: NewMemKV()}
		defer sides[i].s.Close(ctx)
		_ = sides[i].root.Set([]byte("pre-existing"), []byte("v"))
	}
	for _, hc := range hostileCases {
		t.Run(hc.method, func(t *testing.T) {
			var outs [2]outcome
			for i := range sides {
				sd := &sides[i]
				before := dump(sd.root)
				c := baseCall(addrHostile, Prefixed(sd.root, addrHostile[:]), hc.method, "")
				c.GasLimit = 300_000_000
				outs[i] = run(t, sd.s, sd.m, c)
				if dump(sd.root) != before {
					t.Fatalf("engine %d: state changed by a failed call", i)
				}
				// The node goes on.
				if o := run(t, sd.s, sd.c, baseCall(addrCounter, Prefixed(sd.root, addrCounter[:]), "add", `{"by":1}`)); o.Code != CodeOK {
					t.Fatalf("engine %d: normal call after %s: %v", i, hc.method, o)
				}
			}
			if outs[0] != outs[1] {
				t.Fatalf("engines disagree:\n%v\n%v", outs[0], outs[1])
			}
			o := outs[0]
			if o.Code != hc.code || !strings.Contains(o.Msg, hc.msg) {
				t.Fatalf("got %v, want code %v msg ~%q", o, hc.code, hc.msg)
			}
			if o.Gas == 0 || o.Gas > 300_000_000 {
				t.Fatalf("gas used %d", o.Gas)
			}
			t.Logf("%s: %v", hc.method, o)
		})
	}
}

// TestForeignWrite: a contract that names another contract's keys writes its
// own namespace; the victim's state is untouched.
func TestForeignWrite(t *testing.T) {
	ctx := context.Background()
	e := sharedEngine(t, false)
	m := compile(t, e, "hostile")
	s := e.NewSession(block)
	defer s.Close(ctx)
	root := NewMemKV()
	victimKey := append(append([]byte{}, addrVictim[:]...), "count"...)
	_ = root.Set(victimKey, []byte("1"))
	o := run(t, s, m, baseCall(addrHostile, Prefixed(root, addrHostile[:]), "foreign", string(victimKey)))
	if o.Code != CodeOK {
		t.Fatal(o)
	}
	if v, _, _ := root.Get(victimKey); string(v) != "1" {
		t.Fatalf("victim's key = %q", v)
	}
	own := append(append([]byte{}, addrHostile[:]...), victimKey...)
	if v, ok, _ := root.Get(own); !ok || string(v) != "pwned" {
		t.Fatalf("the write did not land in the writer's namespace: %q", dump(root))
	}
	_ = root.Iterate(nil, nil, func(k, v []byte) bool {
		if !bytes.HasPrefix(k, addrHostile[:]) && !bytes.Equal(k, victimKey) {
			t.Errorf("key outside the writer's namespace: %q", k)
		}
		return true
	})
}

// callScript is a block of calls used by the determinism checks.
func callScript(t testing.TB, e *Engine, gasLimit uint64) []outcome {
	ctx := context.Background()
	mc, mh := compile(t, e, "counter"), compile(t, e, "hostile")
	root := NewMemKV()
	var outs []outcome
	for blockN := 0; blockN < 2; blockN++ {
		s := e.NewSession(BlockInfo{Height: uint64(10 + blockN), TimeUnixMilli: 1_750_000_000_000 + int64(blockN)*1000})
		for _, c := range []struct {
			m      *Module
			addr   [32]byte
			method string
			args   string
		}{
			{mc, addrCounter, "add", `{"by":5}`},
			{mh, addrHostile, "nondet", ""},
			{mh, addrHostile, "nondet", ""},
			{mc, addrCounter, "floats", `{"n":0}`},
			{mc, addrCounter, "heavy", `{"n":20000}`},
			{mc, addrCounter, "writes", `{"n":20}`},
			{mh, addrHostile, "loop", ""},
			{mh, addrHostile, "recurse", ""},
			{mh, addrHostile, "nondet", ""},
			{mc, addrCounter, "failAfterWrite", ""},
			{mc, addrCounter, "get", ""},
		} {
			call := baseCall(c.addr, Prefixed(root, c.addr[:]), c.method, c.args)
			call.GasLimit = gasLimit
			outs = append(outs, run(t, s, c.m, call))
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	outs = append(outs, outcome{Writes: digest(dump(root))})
	return outs
}

// TestDeterminism: the same calls in fresh runtimes give identical output,
// gas, events, writes and final memory hash; and nothing a contract can
// observe (time, randomness, map order, sleeping) varies.
func TestDeterminism(t *testing.T) {
	ctx := context.Background()
	e1, e2 := newTestEngine(t, false), newTestEngine(t, false)
	defer e1.Close(ctx)
	defer e2.Close(ctx)
	a, b := callScript(t, e1, 50_000_000), callScript(t, e2, 50_000_000)
	compareOutcomes(t, a, b)
	var nd map[string]any
	if err := json.Unmarshal([]byte(a[1].Out), &nd); err != nil {
		t.Fatalf("nondet: %v (%v)", err, a[1])
	}
	if nd["now"] != float64(1_750_000_000_000*1_000_000) || nd["slept"] != float64(10_000_000) {
		t.Errorf("clocks: %v", nd)
	}
	if a[3].Out != "[9221120237041090560,9221120237041090560,2143289344,9221120237041090560,18444492273895866368]" {
		// NaN results are the canonical 0x7ff8...; -nan is a sign flip (a
		// deterministic bit operation) of a canonical NaN: 0xfff8....
		t.Errorf("NaNs not canonical: %s", a[3].Out)
	}
}

func compareOutcomes(t *testing.T, a, b []outcome) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d vs %d outcomes", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("call %d differs:\n%v\n%v", i, a[i], b[i])
		} else {
			t.Logf("call %d: %v", i, a[i])
		}
	}
}

// TestDifferential: wazero's interpreter and compiler agree on every output,
// gas figure, failure and memory hash.
func TestDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("interpreter is slow")
	}
	ei := sharedEngine(t, true)
	ec := sharedEngine(t, false)
	compareOutcomes(t, callScript(t, ec, 20_000_000), callScript(t, ei, 20_000_000))
}
