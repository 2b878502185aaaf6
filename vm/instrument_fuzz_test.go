package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/tetratelabs/wabin/binary"
	"github.com/tetratelabs/wabin/wasm"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/trialchain/trialchain/vm/abi"
)

// Differential fuzzing of the instrumenter: against wazero's own validator
// (FuzzInstrumentValid) and against the original module's behaviour, on
// both engines (FuzzInstrumentBehaviour).

// fuzzConfig is the engine configuration of the differential targets: the
// chain's, with a small memory and initialisation budget so that every
// execution stays bounded.
func fuzzConfig(interp bool) Config {
	cfg := DefaultConfig()
	cfg.MaxMemoryPages = 16
	cfg.InitGasLimit = 1_000_000
	cfg.Interpreter = interp
	return cfg
}

// fuzzIConf is the instrumentation of an engine with fuzzConfig.
func fuzzIConf() instrumentConfig {
	cfg := fuzzConfig(false)
	return instrumentConfig{gas: cfg.Gas, maxCallDepth: cfg.MaxCallDepth, initGas: cfg.InitGasLimit, limits: cfg.Limits}
}

// rawRuntime is a wazero runtime configured as NewEngine configures its
// own (features, memory cap, no custom sections), without host modules.
func rawRuntime(tb testing.TB, interp, closeOnDone bool) wazero.Runtime {
	cfg := fuzzConfig(interp)
	var rc wazero.RuntimeConfig
	if interp {
		rc = wazero.NewRuntimeConfigInterpreter()
	} else {
		rc = wazero.NewRuntimeConfig()
	}
	rc = rc.WithCoreFeatures(api.CoreFeaturesV2).
		WithMemoryLimitPages(cfg.MaxMemoryPages).
		WithCloseOnContextDone(closeOnDone).
		WithCustomSections(false).
		WithDebugInfoEnabled(false)
	rt := wazero.NewRuntimeWithConfig(context.Background(), rc)
	tb.Cleanup(func() { _ = rt.Close(context.Background()) })
	return rt
}

// FuzzInstrumentValid: a module that wazero's compiler accepts and that
// the instrumenter accepts (the module-shape limits included) must be
// accepted by wazero once instrumented, before and after stripData (what
// the engine compiles).
func FuzzInstrumentValid(f *testing.F) {
	for _, s := range instrumentSeeds() {
		f.Add(s)
	}
	rt := rawRuntime(f, false, false)
	cfg := fuzzIConf()
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, code []byte) {
		ins, err := instrument(code, cfg)
		if err != nil {
			return
		}
		orig, err := rt.CompileModule(ctx, code)
		if err != nil {
			return
		}
		_ = orig.Close(ctx)
		c, err := rt.CompileModule(ctx, ins.code)
		if err != nil {
			t.Fatalf("wazero accepts the module but not its instrumented form: %v", err)
		}
		_ = c.Close(ctx)
		stripped, _, _ := stripData(ins.code)
		c, err = rt.CompileModule(ctx, stripped)
		if err != nil {
			t.Fatalf("wazero accepts the instrumented module but not with its data stripped: %v", err)
		}
		_ = c.Close(ctx)
	})
}

// Bounds of one behaviour execution (gas; the fuzz config caps memory at
// 16 pages and initialisation at 1M gas).
const (
	fuzzRefillChunk = 250_000   // gas per refill of the raw harness
	fuzzMaxRefills  = 4         // then the raw harness stops the call
	fuzzAmpleGas    = 4_000_000 // engine calls: more than the raw harness can use
	fuzzHang        = 60 * time.Second
)

// errFuel is the raw harness's refill stopping a call.
var errFuel = errors.New("fuzz harness: fuel exhausted")

// fuelKey carries the *int of refills left to the raw harness's refill.
type fuelKey struct{}

// rawRefill is the instrumentation's refill import for the raw harness:
// it sets the gas global to a chunk, a bounded number of times.
func rawRefill(ctx context.Context, m api.Module, _ []uint64) {
	left := ctx.Value(fuelKey{}).(*int)
	if *left <= 0 {
		panic(errFuel)
	}
	*left--
	m.ExportedGlobal(exportGas).(api.MutableGlobal).Set(uint64(fuzzRefillChunk))
}

// rawOutcome is what one call of an exported function did.
type rawOutcome struct {
	results []uint64
	trap    string // first line of the error; "" on success
	mem     []byte // the memory after the call (nil without one)
}

// FuzzInstrumentBehaviour: for a module without imports, every exported
// function of no parameters gives, from a fresh instance, the same results,
// trap and memory instrumented (with gas refilled, bounded) as original
// (unmetered), NaN bits aside, which the instrumentation canonicalises;
// on wazero's interpreter (3x the executions of its compiler, which the
// engines then compare with it). Then through the engines: every method
// ends the same, with the same gas, on the compiler and the interpreter,
// with ample gas and with the gas limit at a fraction (frac/65536) of what
// it used, where both must run out of gas at exactly the limit.
func FuzzInstrumentBehaviour(f *testing.F) {
	for _, s := range instrumentSeeds() {
		f.Add(s, uint16(0x8000))
	}
	f.Add(loopModule(20), uint16(1))
	f.Add(wrappedLoopsModule(), uint16(0xfff0))
	h := newBehaviourHarness(f)
	f.Fuzz(func(t *testing.T, code []byte, frac uint16) {
		h.check(t, code, frac)
	})
}

func resultCode(r Result) Code {
	if r.Err == nil {
		return CodeOK
	}
	return r.Err.Code
}

func sameResult(t *testing.T, what string, comp, interp Result) {
	t.Helper()
	if resultCode(comp) != resultCode(interp) || comp.GasUsed != interp.GasUsed || !bytes.Equal(comp.Output, interp.Output) {
		t.Fatalf("%s: compiler %v gas %d, interpreter %v gas %d", what, comp.Err, comp.GasUsed, interp.Err, interp.GasUsed)
	}
	if comp.Err != nil && comp.Err.Code == CodeTrap && firstLine(comp.Err.Message) != firstLine(interp.Err.Message) {
		// Both engines are wazero: a trap has the same message.
		t.Fatalf("%s: compiler %q, interpreter %q", what, comp.Err.Message, interp.Err.Message)
	}
}

// compareRaw runs every exported function of no parameters of an
// import-free module, original and instrumented, each from a fresh
// instance, and fails on a difference. It returns the outcomes the
// instrumented module reached within the harness's fuel and call depth.
func compareRaw(t *testing.T, rt wazero.Runtime, code []byte, ins *instrumented) map[string]rawOutcome {
	t.Helper()
	if len(ins.mod.ImportSection) != 0 {
		return nil
	}
	ctx := context.Background()
	orig, err := rt.CompileModule(ctx, code)
	if err != nil {
		return nil
	}
	defer orig.Close(ctx)
	inst, err := rt.CompileModule(ctx, ins.code)
	if err != nil {
		t.Fatalf("wazero accepts the module but not its instrumented form: %v", err)
	}
	defer inst.Close(ctx)
	canon := canonicalises(t, ins)
	var names []string
	for name, d := range orig.ExportedFunctions() {
		if len(d.ParamTypes()) == 0 && name != "_initialize" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	out := map[string]rawOutcome{}
	for _, name := range names {
		fuel := fuzzMaxRefills
		// The deadlines only guard against a hang: the instrumented call
		// stops within ~2M gas, and then so does the original.
		ictx, cancel := context.WithTimeout(context.WithValue(ctx, fuelKey{}, &fuel), 10*time.Second)
		got, ok := runRaw(t, ictx, rt, inst, name, true)
		cancel()
		if !ok {
			continue // out of fuel, or the instrumentation's call depth cap
		}
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		want, _ := runRaw(t, octx, rt, orig, name, false)
		cancel()
		if want.trap != got.trap {
			t.Fatalf("%s: original %q, instrumented %q", name, want.trap, got.trap)
		}
		if len(want.results) != len(got.results) {
			t.Fatalf("%s: %d results, instrumented %d", name, len(want.results), len(got.results))
		}
		rtypes := orig.ExportedFunctions()[name].ResultTypes()
		for i := range want.results {
			if want.results[i] != got.results[i] && !bothNaN(rtypes[i], want.results[i], got.results[i]) {
				t.Fatalf("%s: result %d: original %#x, instrumented %#x", name, i, want.results[i], got.results[i])
			}
		}
		if !canon && !bytes.Equal(want.mem, got.mem) {
			t.Fatalf("%s: memory differs (%d and %d bytes)", name, len(want.mem), len(got.mem))
		}
		out[name] = got
	}
	return out
}

// runRaw instantiates c, calls _initialize if exported, then name. ok is
// false if the instrumented module ran out of the harness's fuel or hit
// the call depth cap (a difference by design), or instantiation failed.
func runRaw(t *testing.T, ctx context.Context, rt wazero.Runtime, c wazero.CompiledModule, name string, instrumented bool) (o rawOutcome, ok bool) {
	t.Helper()
	m, err := rt.InstantiateModule(ctx, c, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		if instrumented {
			return o, false // the start function failed: the engine refuses such a module
		}
		t.Fatalf("%s: the instrumented module instantiated, the original did not: %v", name, err)
	}
	defer m.Close(context.Background())
	if f := m.ExportedFunction("_initialize"); f != nil {
		if _, err = f.Call(ctx); err != nil {
			if instrumented {
				return o, false
			}
			t.Fatalf("_initialize: the instrumented module's succeeded, the original's failed: %v", err)
		}
	}
	res, err := m.ExportedFunction(name).Call(ctx)
	if err != nil {
		if ctx.Err() != nil {
			t.Fatalf("%s (instrumented %v): did not finish: %v", name, instrumented, err)
		}
		if instrumented {
			if errors.Is(err, errFuel) || contains(err.Error(), errFuel.Error()) {
				return o, false
			}
			if g := m.ExportedGlobal(exportStatus); g != nil && g.Get() != statusOK {
				return o, false
			}
		}
		o.trap = firstLine(err.Error())
	}
	o.results = res
	if mem := m.Memory(); mem != nil {
		b, _ := mem.Read(0, mem.Size())
		o.mem = append([]byte(nil), b...)
	}
	return o, true
}

// canonicalises reports whether the instrumentation added NaN
// canonicalisation (its f32/f64 temporaries): then the memory may
// differ in NaN bits.
func canonicalises(t *testing.T, ins *instrumented) bool {
	m, err := binary.DecodeModule(ins.code, decodeFeatures)
	if err != nil {
		t.Fatalf("instrumented module does not decode: %v", err)
	}
	for i, c := range m.CodeSection {
		for _, vt := range c.LocalTypes[len(ins.mod.CodeSection[i].LocalTypes):] {
			if vt == wasm.ValueTypeF32 || vt == wasm.ValueTypeF64 {
				return true
			}
		}
	}
	return false
}

func bothNaN(vt api.ValueType, a, b uint64) bool {
	switch vt {
	case api.ValueTypeF32:
		return math.IsNaN(float64(math.Float32frombits(uint32(a)))) && math.IsNaN(float64(math.Float32frombits(uint32(b))))
	case api.ValueTypeF64:
		return math.IsNaN(math.Float64frombits(a)) && math.IsNaN(math.Float64frombits(b))
	}
	return false
}

// instrumentSeeds are small hand-written modules for the instrumenter's
// fuzz targets: loops (with a result, with a parameter, nested, left by
// br_if, br_table and br to the function's label), calls (recursive, too
// deep), traps inside loops and blocks, a loop that never ends, NaNs and
// a start function.
func instrumentSeeds() [][]byte {
	i32, f64 := wasm.ValueTypeI32, wasm.ValueTypeF64
	c, cat := i32Const, slices.Concat[[]byte]
	op := func(o ...byte) []byte { return o }
	// Counts i from 0 to 20; i%3 picks, through br_table over nested
	// blocks, how much of acc += 1; acc *= 3 runs; returns acc.
	brTable := cat(
		op(wasm.OpcodeBlock, i32),
		op(wasm.OpcodeLoop, 0x40),
		op(wasm.OpcodeBlock, 0x40, wasm.OpcodeBlock, 0x40, wasm.OpcodeBlock, 0x40),
		op(wasm.OpcodeLocalGet, 0), c(3), op(wasm.OpcodeI32RemU),
		op(wasm.OpcodeBrTable, 3, 0, 1, 2, 2),
		op(wasm.OpcodeEnd), op(wasm.OpcodeLocalGet, 1), c(1), op(wasm.OpcodeI32Add, wasm.OpcodeLocalSet, 1),
		op(wasm.OpcodeEnd), op(wasm.OpcodeLocalGet, 1), c(3), op(wasm.OpcodeI32Mul, wasm.OpcodeLocalSet, 1),
		op(wasm.OpcodeEnd), op(wasm.OpcodeLocalGet, 0), c(1), op(wasm.OpcodeI32Add, wasm.OpcodeLocalTee, 0),
		c(20), op(wasm.OpcodeI32LtU, wasm.OpcodeBrIf, 0),
		op(wasm.OpcodeEnd),
		op(wasm.OpcodeLocalGet, 1),
		op(wasm.OpcodeEnd, wasm.OpcodeEnd),
	)
	// A loop with a parameter and a result (type 1: (i32) -> (i32))
	// counting 10 down, with a loop with a result inside; then a loop
	// that leaves through the function's label with a value.
	paramLoop := cat(
		c(10), op(wasm.OpcodeLoop, 1),
		c(1), op(wasm.OpcodeI32Sub, wasm.OpcodeLocalTee, 0, wasm.OpcodeLocalGet, 0), c(0), op(wasm.OpcodeI32GtS, wasm.OpcodeBrIf, 0),
		op(wasm.OpcodeLoop, i32, wasm.OpcodeLocalGet, 1), c(7), op(wasm.OpcodeI32Add, wasm.OpcodeLocalTee, 1), c(50),
		op(wasm.OpcodeI32LtU, wasm.OpcodeBrIf, 0, wasm.OpcodeLocalGet, 1, wasm.OpcodeEnd),
		op(wasm.OpcodeI32Add, wasm.OpcodeEnd),
		op(wasm.OpcodeLocalSet, 1),
		op(wasm.OpcodeLoop, i32, wasm.OpcodeLocalGet, 1, wasm.OpcodeLocalGet, 1), c(100), op(wasm.OpcodeI32GtU, wasm.OpcodeBrIf, 1),
		op(wasm.OpcodeDrop, wasm.OpcodeLocalGet, 1), c(1), op(wasm.OpcodeI32Shl, wasm.OpcodeLocalSet, 1, wasm.OpcodeBr, 0, wasm.OpcodeEnd),
		op(wasm.OpcodeEnd),
	)
	store := func(call byte) []byte { // run: memory[0] = call()
		return cat(c(0), op(wasm.OpcodeCall, call, wasm.OpcodeI32Store, 2, 0, wasm.OpcodeEnd))
	}
	loops := buildModule(nil, nil, []testFunc{
		{results: []wasm.ValueType{i32}, locals: []wasm.ValueType{i32, i32}, body: brTable},
		{params: []wasm.ValueType{i32}, results: []wasm.ValueType{i32}, body: op(wasm.OpcodeLocalGet, 0, wasm.OpcodeEnd)},
		{results: []wasm.ValueType{i32}, locals: []wasm.ValueType{i32, i32}, body: paramLoop},
		{body: store(0)},
		{body: store(2)},
	}, map[string]uint32{"brtable": 0, "paramloop": 2, "run": 3, "run2": 4}, nil)

	// fib(n) by recursion; a recursion without end; fib(12) stored.
	fib := cat(
		op(wasm.OpcodeLocalGet, 0), c(2), op(wasm.OpcodeI32LtU, wasm.OpcodeIf, i32, wasm.OpcodeLocalGet, 0, wasm.OpcodeElse),
		op(wasm.OpcodeLocalGet, 0), c(1), op(wasm.OpcodeI32Sub, wasm.OpcodeCall, 0),
		op(wasm.OpcodeLocalGet, 0), c(2), op(wasm.OpcodeI32Sub, wasm.OpcodeCall, 0),
		op(wasm.OpcodeI32Add, wasm.OpcodeEnd, wasm.OpcodeEnd),
	)
	calls := buildModule(nil, nil, []testFunc{
		{params: []wasm.ValueType{i32}, results: []wasm.ValueType{i32}, body: fib},
		{body: cat(c(0), c(12), op(wasm.OpcodeCall, 0, wasm.OpcodeI32Store, 2, 0, wasm.OpcodeEnd))},
		{body: op(wasm.OpcodeCall, 2, wasm.OpcodeEnd)},
	}, map[string]uint32{"fib": 1, "deep": 2}, nil)

	// Traps after some iterations: division by zero in a loop, a store
	// out of bounds in nested blocks, unreachable in an if in a loop; a
	// loop that never ends; 0/0 stored and returned; memory.grow past the
	// maximum.
	countdown := func(n int64, then ...byte) []byte { // local 0 from n down; at 0: then
		return cat(c(n), op(wasm.OpcodeLocalSet, 0, wasm.OpcodeLoop, 0x40),
			op(wasm.OpcodeLocalGet, 0), c(1), op(wasm.OpcodeI32Sub, wasm.OpcodeLocalTee, 0, wasm.OpcodeI32Eqz, wasm.OpcodeIf, 0x40),
			then, op(wasm.OpcodeEnd, wasm.OpcodeBr, 0, wasm.OpcodeEnd, wasm.OpcodeEnd))
	}
	nan := cat(c(8), op(wasm.OpcodeF64Const, 0, 0, 0, 0, 0, 0, 0, 0, wasm.OpcodeF64Const, 0, 0, 0, 0, 0, 0, 0, 0, wasm.OpcodeF64Div),
		op(wasm.OpcodeLocalTee, 0, wasm.OpcodeF64Store, 3, 0, wasm.OpcodeLocalGet, 0, wasm.OpcodeEnd))
	traps := buildModule(nil, nil, []testFunc{
		{locals: []wasm.ValueType{i32}, body: countdown(5, cat(c(1), c(0), op(wasm.OpcodeI32DivS, wasm.OpcodeDrop))...)},
		{locals: []wasm.ValueType{i32}, body: countdown(3, cat(op(wasm.OpcodeBlock, 0x40, wasm.OpcodeBlock, 0x40), c(-4), c(1),
			op(wasm.OpcodeI32Store, 2, 0, wasm.OpcodeEnd, wasm.OpcodeEnd))...)},
		{locals: []wasm.ValueType{i32}, body: countdown(4, wasm.OpcodeUnreachable)},
		{body: op(wasm.OpcodeLoop, 0x40, wasm.OpcodeBr, 0, wasm.OpcodeEnd, wasm.OpcodeEnd)},
		{results: []wasm.ValueType{f64}, locals: []wasm.ValueType{f64}, body: nan},
		{body: cat(c(0), c(1), op(wasm.OpcodeMemoryGrow, 0, wasm.OpcodeI32Store, 2, 0, wasm.OpcodeEnd))},
	}, map[string]uint32{"div0": 0, "oob": 1, "unreachable": 2, "spin": 3, "nan": 4, "grow": 5}, nil)

	return [][]byte{loopModule(3), wrappedLoopsModule(), overdrawModule(10), startLoopModule(), loops, calls, traps}
}

// behaviourHarness holds what FuzzInstrumentBehaviour's checks reuse from
// one execution to the next: a raw wazero runtime with a refill, and the
// engines.
type behaviourHarness struct {
	rt      wazero.Runtime
	cfg     instrumentConfig
	engines [2]*Engine // compiler, interpreter; renewed so that their module caches stay small
	runs    int
}

func newBehaviourHarness(f *testing.F) *behaviourHarness {
	h := &behaviourHarness{rt: rawRuntime(f, true, true), cfg: fuzzIConf()}
	_, err := h.rt.NewHostModuleBuilder(abi.Module).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(rawRefill), []api.ValueType{api.ValueTypeI64}, nil).
		Export(importRefill).Instantiate(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		for _, e := range h.engines {
			if e != nil {
				_ = e.Close(context.Background())
			}
		}
	})
	return h
}

// check runs the checks of FuzzInstrumentBehaviour on code.
func (h *behaviourHarness) check(t *testing.T, code []byte, frac uint16) {
	t.Helper()
	ins, err := instrument(code, h.cfg)
	if err != nil {
		return
	}
	// A metering bug can make a call never end (a gas check that
	// loops): crash, so that the fuzzer keeps the input, rather than
	// hang. An execution normally takes well under a second.
	watchdog := time.AfterFunc(fuzzHang, func() {
		panic(fmt.Sprintf("FuzzInstrumentBehaviour: an execution took over %v (a call that never ends?)", fuzzHang))
	})
	defer watchdog.Stop()
	raw := compareRaw(t, h.rt, code, ins)

	if h.runs%32 == 0 {
		for i := range h.engines {
			if h.engines[i] != nil {
				_ = h.engines[i].Close(context.Background())
			}
			e, err := NewEngine(context.Background(), fuzzConfig(i == 1))
			if err != nil {
				t.Fatal(err)
			}
			h.engines[i] = e
		}
	}
	h.runs++
	var mods [2]*Module
	var errs [2]error
	for i, e := range h.engines {
		mods[i], errs[i] = e.Compile(context.Background(), code)
	}
	if (errs[0] == nil) != (errs[1] == nil) {
		t.Fatalf("compile: compiler %v, interpreter %v", errs[0], errs[1])
	}
	if errs[0] != nil {
		return
	}
	if mods[0].InitGas != mods[1].InitGas {
		t.Fatalf("InitGas: compiler %d, interpreter %d", mods[0].InitGas, mods[1].InitGas)
	}
	for _, method := range mods[0].Methods {
		var ample [2]Result
		for i, e := range h.engines {
			ample[i] = callOnce(t, e, mods[i], &Call{Method: method, GasLimit: fuzzAmpleGas})
		}
		sameResult(t, method+" (ample gas)", ample[0], ample[1])
		if o, ok := raw[method]; ok { // the raw harness finished it: so must the engine
			if c := resultCode(ample[0]); (o.trap == "") != (c == CodeOK) || (o.trap != "" && c != CodeTrap) {
				t.Fatalf("%s: unmetered %q, engine %v", method, o.trap, ample[0].Err)
			}
		}
		used := ample[0].GasUsed
		inst := mods[0].InstanceGas
		if used <= inst {
			continue
		}
		limit := inst + (used-inst)*uint64(frac)>>16
		var lim [2]Result
		for i, e := range h.engines {
			lim[i] = callOnce(t, e, mods[i], &Call{Method: method, GasLimit: limit})
		}
		sameResult(t, method+" (limited gas)", lim[0], lim[1])
		if limit < used && (resultCode(lim[0]) != CodeOutOfGas || lim[0].GasUsed != limit) {
			t.Fatalf("%s limit %d (ample: %v gas %d): %v gas %d, want out of gas at the limit",
				method, limit, ample[0].Err, used, lim[0].Err, lim[0].GasUsed)
		}
	}
}

// FuzzInstrumentGenerated runs FuzzInstrumentBehaviour's checks on valid
// modules generated from the input (genModule): byte mutations of a whole
// module seldom give a valid body with new control flow; these bodies
// nest blocks, loops (with a result, with a parameter), ifs, br, br_if
// and br_table across loops, calls and traps at random.
func FuzzInstrumentGenerated(f *testing.F) {
	f.Add([]byte{}, uint16(0x8000))
	f.Add([]byte{4, 5, 1, 3, 6, 2, 7, 0, 4, 9, 8, 5, 3, 1, 10, 2, 4, 6}, uint16(0x4000))
	f.Add([]byte{5, 4, 5, 8, 3, 9, 1, 7, 7, 2, 6, 4, 3, 3, 5, 5, 9, 9, 8, 1, 1, 2}, uint16(0xc000))
	h := newBehaviourHarness(f)
	rt := rawRuntime(f, false, false)
	f.Fuzz(func(t *testing.T, data []byte, frac uint16) {
		code := genModule(data)
		c, err := rt.CompileModule(context.Background(), code)
		if err != nil {
			t.Fatalf("generated module invalid (a bug of genModule): %v", err)
		}
		_ = c.Close(context.Background())
		h.check(t, code, frac)
	})
}

// genModule builds from data a module exporting "val" () -> i32 (a
// generated expression), "run" (stores val() at 0) and a helper
// (i32) -> (i32), whose type is also the block type of generated loops
// with a parameter. Every back edge spends one unit of a fuel local, so
// every call ends.
func genModule(data []byte) []byte {
	g := &bodyGen{data: data}
	const fuelLocal = 2
	body := append([]byte{wasm.OpcodeI32Const}, sleb64(40)...)
	body = append(body, wasm.OpcodeLocalSet, fuelLocal)
	body = append(body, g.expr(0)...)
	body = append(body, wasm.OpcodeEnd)
	i32 := wasm.ValueTypeI32
	return buildModule(nil, nil, []testFunc{
		{results: []wasm.ValueType{i32}, locals: []wasm.ValueType{i32, i32, i32}, body: body},
		{params: []wasm.ValueType{i32}, results: []wasm.ValueType{i32}, locals: []wasm.ValueType{i32}, body: []byte{
			// local 1 = 3; loop { local 0 += local 0 >> 1; if --local 1 != 0 continue }; local 0
			wasm.OpcodeI32Const, 3, wasm.OpcodeLocalSet, 1,
			wasm.OpcodeLoop, 0x40,
			wasm.OpcodeLocalGet, 0, wasm.OpcodeLocalGet, 0, wasm.OpcodeI32Const, 1, wasm.OpcodeI32ShrU, wasm.OpcodeI32Add, wasm.OpcodeLocalSet, 0,
			wasm.OpcodeLocalGet, 1, wasm.OpcodeI32Const, 1, wasm.OpcodeI32Sub, wasm.OpcodeLocalTee, 1, wasm.OpcodeBrIf, 0,
			wasm.OpcodeEnd,
			wasm.OpcodeLocalGet, 0, wasm.OpcodeEnd}},
		{body: []byte{wasm.OpcodeI32Const, 0, wasm.OpcodeCall, 0, wasm.OpcodeI32Store, 2, 0, wasm.OpcodeEnd}},
	}, map[string]uint32{"val": 0, "run": 2}, nil)
}

// bodyGen generates i32 expressions; labels are the kinds of the
// enclosing frames, innermost last.
type bodyGen struct {
	data   []byte
	labels []frameKind
	n      int // instructions so far
}

type frameKind uint8

const (
	frameBlock     frameKind = iota // a block or if with an i32 result: a branch carries an i32
	frameLoop                       // a loop without parameter: a branch carries nothing
	frameParamLoop                  // a loop of type 1, (i32) -> (i32): a branch carries an i32
)

func (g *bodyGen) next() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

// fuelGuard spends a unit of fuel and branches to label l if some is left:
// local.get 2; i32.const 1; i32.sub; local.tee 2; i32.const 0; i32.gt_s; br_if l.
func fuelGuard(l int) []byte {
	return append([]byte{wasm.OpcodeLocalGet, 2, wasm.OpcodeI32Const, 1, wasm.OpcodeI32Sub, wasm.OpcodeLocalTee, 2,
		wasm.OpcodeI32Const, 0, wasm.OpcodeI32GtS, wasm.OpcodeBrIf}, uleb(uint64(l))...)
}

// blockLabels returns the relative labels of enclosing i32 blocks.
func (g *bodyGen) blockLabels() []int {
	var ls []int
	for i := len(g.labels) - 1; i >= 0; i-- {
		if g.labels[i] == frameBlock {
			ls = append(ls, len(g.labels)-1-i)
		}
	}
	return ls
}

// expr returns code that leaves one i32 (or never falls through).
func (g *bodyGen) expr(depth int) []byte {
	g.n++
	choice := g.next() % 17
	if depth > 8 || g.n > 200 {
		choice %= 3
	}
	c, cat := i32Const, slices.Concat[[]byte]
	inner := func(k frameKind, f func() []byte) []byte {
		g.labels = append(g.labels, k)
		b := f()
		g.labels = g.labels[:len(g.labels)-1]
		return b
	}
	switch choice {
	case 0:
		return c(int64(int8(g.next())))
	case 1:
		return []byte{wasm.OpcodeLocalGet, g.next() % 3}
	case 2: // local 0 or 1 = e, then e2
		return cat(g.expr(depth+1), []byte{wasm.OpcodeLocalSet, g.next() % 2}, g.expr(depth+1))
	case 3:
		ops := []byte{wasm.OpcodeI32Add, wasm.OpcodeI32Sub, wasm.OpcodeI32Mul, wasm.OpcodeI32Xor, wasm.OpcodeI32DivU, wasm.OpcodeI32RemS, wasm.OpcodeI32Shl}
		return cat(g.expr(depth+1), g.expr(depth+1), []byte{ops[int(g.next())%len(ops)]})
	case 4: // block (result i32)
		return cat([]byte{wasm.OpcodeBlock, wasm.ValueTypeI32}, inner(frameBlock, func() []byte { return g.expr(depth + 1) }), []byte{wasm.OpcodeEnd})
	case 5: // loop (result i32): e; drop; back edge; e
		return cat([]byte{wasm.OpcodeLoop, wasm.ValueTypeI32}, inner(frameLoop, func() []byte {
			return cat(g.expr(depth+1), []byte{wasm.OpcodeLocalSet, 1}, fuelGuard(0), g.expr(depth+1))
		}), []byte{wasm.OpcodeEnd})
	case 6: // e; loop (type 1: i32 -> i32): e2; add; back edge with it
		return cat(g.expr(depth+1), []byte{wasm.OpcodeLoop, 1}, inner(frameParamLoop, func() []byte {
			return cat(g.expr(depth+1), []byte{wasm.OpcodeI32Add}, fuelGuard(0))
		}), []byte{wasm.OpcodeEnd})
	case 7: // if (result i32) e1 else e2
		return cat(g.expr(depth+1), []byte{wasm.OpcodeIf, wasm.ValueTypeI32}, inner(frameBlock, func() []byte {
			return cat(g.expr(depth+1), []byte{wasm.OpcodeElse}, g.expr(depth+1))
		}), []byte{wasm.OpcodeEnd})
	case 8: // value; cond; br_if to an enclosing i32 block
		ls := g.blockLabels()
		if len(ls) == 0 {
			return g.expr(depth + 1)
		}
		l := ls[int(g.next())%len(ls)]
		return cat(g.expr(depth+1), g.expr(depth+1), []byte{wasm.OpcodeBrIf}, uleb(uint64(l)))
	case 9: // block (result i32) value; index; br_table over enclosing i32 blocks; end
		return cat([]byte{wasm.OpcodeBlock, wasm.ValueTypeI32}, inner(frameBlock, func() []byte {
			ls := g.blockLabels()
			n := 1 + int(g.next())%4
			b := cat(g.expr(depth+1), g.expr(depth+1), []byte{wasm.OpcodeBrTable}, uleb(uint64(n-1)))
			for range n {
				b = append(b, uleb(uint64(ls[int(g.next())%len(ls)]))...)
			}
			return b
		}), []byte{wasm.OpcodeEnd})
	case 10: // a back edge to an enclosing loop (fuel permitting), then e
		for i := len(g.labels) - 1; i >= 0; i-- {
			l := len(g.labels) - 1 - i
			switch {
			case g.labels[i] == frameBlock || g.next()%2 != 0:
			case g.labels[i] == frameLoop:
				return cat(fuelGuard(l), g.expr(depth+1))
			default: // the parameter; kept when not taken: dropped
				return cat(g.expr(depth+1), fuelGuard(l), []byte{wasm.OpcodeDrop}, g.expr(depth+1))
			}
		}
		return g.expr(depth + 1)
	case 11: // call the helper
		return cat(g.expr(depth+1), []byte{wasm.OpcodeCall, 1})
	case 12: // a trap, sometimes: unreachable if e == 7
		return cat(g.expr(depth+1), c(7), []byte{wasm.OpcodeI32Eq, wasm.OpcodeIf, 0x40, wasm.OpcodeUnreachable, wasm.OpcodeEnd}, g.expr(depth+1))
	case 13: // a memory load (out of bounds for large addresses)
		return cat(g.expr(depth+1), []byte{wasm.OpcodeI32Load8U, 0, 0})
	case 14: // dead code after a branch: block (result i32) e; br 0; loop (result i32) e end end
		return cat([]byte{wasm.OpcodeBlock, wasm.ValueTypeI32}, inner(frameBlock, func() []byte {
			return cat(g.expr(depth+1), []byte{wasm.OpcodeBr, 0, wasm.OpcodeLoop, wasm.ValueTypeI32},
				inner(frameLoop, func() []byte { return g.expr(depth + 1) }), []byte{wasm.OpcodeEnd})
		}), []byte{wasm.OpcodeEnd})
	case 15: // loop (result i64): e; back edge; extend e2; end; wrap
		return cat([]byte{wasm.OpcodeLoop, wasm.ValueTypeI64}, inner(frameLoop, func() []byte {
			return cat(g.expr(depth+1), []byte{wasm.OpcodeLocalSet, 0}, fuelGuard(0), g.expr(depth+1), []byte{wasm.OpcodeI64ExtendI32S})
		}), []byte{wasm.OpcodeEnd, wasm.OpcodeI32WrapI64})
	default: // e; if (result i32) e2; return else e3 end
		return cat(g.expr(depth+1), []byte{wasm.OpcodeIf, wasm.ValueTypeI32}, inner(frameBlock, func() []byte {
			return cat(g.expr(depth+1), []byte{wasm.OpcodeReturn, wasm.OpcodeElse}, g.expr(depth+1))
		}), []byte{wasm.OpcodeEnd})
	}
}

// i32Const is the instruction pushing the i32 constant v.
func i32Const(v int64) []byte { return append([]byte{wasm.OpcodeI32Const}, sleb64(v)...) }
