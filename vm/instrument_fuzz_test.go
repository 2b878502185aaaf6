package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
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
// (unmetered), on wazero's compiler; NaN bits aside, which the
// instrumentation canonicalises. Then through the engines: every method
// ends the same, with the same gas, on the compiler and the interpreter,
// with ample gas and with the gas limit at a fraction (frac/65536) of what
// it used, where both must run out of gas at exactly the limit.
func FuzzInstrumentBehaviour(f *testing.F) {
	for _, s := range instrumentSeeds() {
		f.Add(s, uint16(0x8000))
	}
	f.Add(loopModule(20), uint16(1))
	f.Add(wrappedLoopsModule(), uint16(0xfff0))
	rt := rawRuntime(f, false, true)
	_, err := rt.NewHostModuleBuilder(abi.Module).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(rawRefill), []api.ValueType{api.ValueTypeI64}, nil).
		Export(importRefill).Instantiate(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	cfg := fuzzIConf()
	var engines [2]*Engine // compiler, interpreter; renewed so that their module caches stay small
	runs := 0
	f.Cleanup(func() {
		for _, e := range engines {
			if e != nil {
				_ = e.Close(context.Background())
			}
		}
	})
	f.Fuzz(func(t *testing.T, code []byte, frac uint16) {
		ins, err := instrument(code, cfg)
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
		raw := compareRaw(t, rt, code, ins)

		if runs%32 == 0 {
			for i := range engines {
				if engines[i] != nil {
					_ = engines[i].Close(context.Background())
				}
				e, err := NewEngine(context.Background(), fuzzConfig(i == 1))
				if err != nil {
					t.Fatal(err)
				}
				engines[i] = e
			}
		}
		runs++
		var mods [2]*Module
		var errs [2]error
		for i, e := range engines {
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
			for i, e := range engines {
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
			for i, e := range engines {
				lim[i] = callOnce(t, e, mods[i], &Call{Method: method, GasLimit: limit})
			}
			sameResult(t, method+" (limited gas)", lim[0], lim[1])
			if limit < used && (resultCode(lim[0]) != CodeOutOfGas || lim[0].GasUsed != limit) {
				t.Fatalf("%s limit %d (ample: %v gas %d): %v gas %d, want out of gas at the limit",
					method, limit, ample[0].Err, used, lim[0].Err, lim[0].GasUsed)
			}
		}
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
	c := func(v int64) []byte { return append([]byte{wasm.OpcodeI32Const}, sleb64(v)...) }
	cat := func(p ...[]byte) []byte {
		var b []byte
		for _, x := range p {
			b = append(b, x...)
		}
		return b
	}
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
