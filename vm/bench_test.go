package vm

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// BenchmarkCompileCold: validate + instrument + compile + trial-instantiate a
// Go contract with empty caches.
func BenchmarkCompileCold(b *testing.B) {
	for _, name := range []string{"minimal", "counter"} {
		b.Run(name, func(b *testing.B) {
			b.ReportMetric(float64(len(wasmCode[name])), "wasm-bytes")
			for i := 0; i < b.N; i++ {
				cfg := DefaultConfig()
				e, err := NewEngine(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				compile(b, e, name)
				_ = e.Close(context.Background())
			}
		})
	}
}

// BenchmarkCompileDiskCache: the same after a restart, from the on-disk
// caches (instrumented code + wazero's compiled code).
func BenchmarkCompileDiskCache(b *testing.B) {
	dir := b.TempDir()
	cfg := DefaultConfig()
	cfg.CacheDir = dir
	for i := -1; i < b.N; i++ {
		if i == 0 {
			b.ResetTimer()
		}
		e, err := NewEngine(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		compile(b, e, "counter")
		_ = e.Close(context.Background())
	}
}

// BenchmarkInstantiate: the set-up of a call's instance on both reset
// paths (mapped: Linux's private mapping of the snapshot; copy: the
// portable compare-and-copy), same gas on both. "new" is a new instance
// brought to the snapshot (no idle one at hand); "warm" is what a call on
// a kept instance adds to the guest's own work: the reset after a call of
// "add" (counter's JSON, read, write, event), with the 64 KiB pages the
// call changed (each paid InstancePage) and the instance gas.
//
//	go test -run '^$' -bench Instantiate ./vm
func BenchmarkInstantiate(b *testing.B) {
	for _, path := range []struct {
		name string
		copy bool
	}{{"mapped", false}, {"copy", true}} {
		b.Run(path.name, func(b *testing.B) {
			e := newTestEngine(b, false)
			defer e.Close(context.Background())
			e.copyReset = path.copy
			m := compile(b, e, "counter")
			ctx := context.Background()
			b.Run("new", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					in, err := e.newInstance(ctx, m)
					if err != nil {
						b.Fatal(err)
					}
					if err := in.setUp(); err != nil {
						b.Fatal(err)
					}
					_ = in.close(ctx)
				}
				b.ReportMetric(float64(len(m.snap.mem)), "mem-bytes")
			})
			b.Run("warm", func(b *testing.B) {
				in, err := e.newInstance(ctx, m)
				if err != nil {
					b.Fatal(err)
				}
				defer in.close(ctx)
				if err := in.setUp(); err != nil {
					b.Fatal(err)
				}
				st := in.st
				*st = callState{e: e, inst: in, call: baseCall(addrCounter, nil, "add", `{"by":1}`), block: block, kv: NewMemKV()}
				cctx := context.WithValue(ctx, stateKey{}, st)
				fn := in.mod.ExportedFunction("add")
				var changed uint64
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					st.events, st.output, st.eventBytes = st.events[:0], nil, 0
					in.gas.Set(maxGasLimit)
					in.depth.Set(0)
					if _, err := fn.Call(cctx); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if changed, err = in.reset(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(changed), "changed-pages")
				b.ReportMetric(float64(m.InstanceGas+e.cfg.Gas.InstancePage*changed), "gas/op")
			})
		})
	}
}

func benchCall(b *testing.B, method, args string) {
	e := sharedEngine(b, false)
	m := compile(b, e, "counter")
	ctx := context.Background()
	s := e.NewSession(block)
	defer s.Close(ctx)
	kv := NewMemKV()
	c := baseCall(addrCounter, kv, method, args)
	res, err := s.Call(ctx, m, c) // instantiate outside the timing
	if err != nil || res.Err != nil {
		b.Fatal(err, res.Err)
	}
	b.ResetTimer()
	var gas uint64
	for i := 0; i < b.N; i++ {
		res, err := s.Call(ctx, m, c)
		if err != nil || res.Err != nil {
			b.Fatal(err, res.Err)
		}
		gas = res.GasUsed
	}
	b.ReportMetric(float64(gas), "gas/op")
}

// BenchmarkCallEmpty: warm call of an empty method (Session.Call overhead).
func BenchmarkCallEmpty(b *testing.B) { benchCall(b, "noop", "") }

// BenchmarkCallStateHeavy: 100 state writes through the SDK in one call.
func BenchmarkCallStateHeavy(b *testing.B) { benchCall(b, "writes", `{"n":100}`) }

// BenchmarkCallAdd: JSON args, a read, a write, an event, a JSON result.
func BenchmarkCallAdd(b *testing.B) { benchCall(b, "add", `{"by":1}`) }

// BenchmarkMetering runs the same CPU-bound method instrumented and
// uninstrumented (the original module straight on wazero), both called
// again and again on one instance without the per-call reset (that is
// BenchmarkInstantiate/*/warm). Their ratio is the cost of metering
// plus the luck of where wazero placed heavy's loop in each module (up to
// ~30% either way); BenchmarkMeteringRatio interleaves the two, compares
// thread CPU time, which the load of a shared machine disturbs less, and
// averages over placements.
func BenchmarkMetering(b *testing.B) {
	b.Run("instrumented", func(b *testing.B) {
		call, gas := meteredHeavy(b, wasmCode["counter"])
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			call()
		}
		b.StopTimer()
		b.ReportMetric(float64(gas()), "gas/op")
	})
	b.Run("uninstrumented", func(b *testing.B) {
		call := unmeteredHeavy(b, wasmCode["counter"])
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			call()
		}
	})
}

const heavyArgs = `{"n":1000000}`

// meteredHeavy returns a call of counter's heavy method on an instrumented
// instance, and the gas the last call used.
func meteredHeavy(b *testing.B, code []byte) (call func(), gas func() uint64) {
	e := sharedEngine(b, false)
	ctx := context.Background()
	m, err := e.Compile(ctx, code)
	if err != nil {
		b.Fatal(err)
	}
	in, err := e.newInstance(ctx, m)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = in.close(ctx) })
	if err := in.setUp(); err != nil {
		b.Fatal(err)
	}
	st := in.st
	*st = callState{e: e, inst: in, call: baseCall(addrCounter, nil, "heavy", heavyArgs), block: block, kv: NewMemKV()}
	cctx := context.WithValue(ctx, stateKey{}, st)
	fn := in.mod.ExportedFunction("heavy")
	call = func() {
		in.gas.Set(maxGasLimit)
		st.reserve = 0
		in.depth.Set(0)
		if _, err := fn.Call(cctx); err != nil {
			b.Fatal(err)
		}
	}
	return call, func() uint64 { return maxGasLimit - in.gas.Get() }
}

// unmeteredHeavy returns a call of counter's heavy method on the original,
// uninstrumented module.
func unmeteredHeavy(b *testing.B, code []byte) func() {
	e := sharedEngine(b, false)
	ctx := context.Background()
	compiled := plainCompiled(b, e, code)
	// A state without gas globals: host functions do not charge.
	in := &instance{mono: monoStart, unmetered: true}
	st := &callState{e: e, inst: in, init: true}
	in.st = st
	cctx := context.WithValue(ctx, stateKey{}, st)
	mod, err := e.rt.InstantiateModule(cctx, compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = mod.Close(ctx) })
	st.init = false
	st.block = block
	st.call = baseCall(addrCounter, nil, "heavy", heavyArgs)
	st.kv = NewMemKV()
	var fn api.Function = mod.ExportedFunction("heavy")
	return func() {
		if _, err := fn.Call(cctx); err != nil {
			b.Fatal(err)
		}
	}
}

// plainCompiled compiles code with e's runtime, uninstrumented, once per
// test binary (as Engine.Compile keeps the instrumented module): the
// benchmark function runs again for every b.N it tries. The engine's
// runtime closes them at the end.
func plainCompiled(b *testing.B, e *Engine, code []byte) wazero.CompiledModule {
	plainMu.Lock()
	defer plainMu.Unlock()
	key := plainKey{e, sha256.Sum256(code)}
	if c, ok := plainCache[key]; ok {
		return c
	}
	c, err := e.rt.CompileModule(context.Background(), code)
	if err != nil {
		b.Fatal(err)
	}
	plainCache[key] = c
	return c
}

type plainKey struct {
	e    *Engine
	hash [32]byte
}

var (
	plainMu    sync.Mutex
	plainCache = map[plainKey]wazero.CompiledModule{}
)

// TestReportSizes logs the sizes of the test contracts (see the report).
func TestReportSizes(t *testing.T) {
	e := sharedEngine(t, false)
	for _, name := range testContracts {
		if name == "initloop" {
			continue
		}
		m := compile(t, e, name)
		t.Logf("%-8s wasm %7d bytes, instrumented %7d bytes (+%.0f%%), init gas %d, methods %d",
			name, m.Size, m.instrumentedSz, 100*float64(m.instrumentedSz-m.Size)/float64(m.Size), m.InitGas, len(m.Methods))
	}
}

// FuzzCallArgs feeds arbitrary arguments to deployed methods.
func FuzzCallArgs(f *testing.F) {
	f.Add("add", []byte(`{"by":1}`))
	f.Add("parse", []byte(`{"a":[1,2,{"b":null}]}`))
	f.Add("echo", []byte{0, 1, 2})
	f.Add("scan", []byte(`{"key":""}`))
	f.Add("heavy", []byte(`{"n":99999999999}`))
	e := sharedEngine(f, false)
	m := compile(f, e, "counter")
	ctx := context.Background()
	s := e.NewSession(block)
	defer s.Close(ctx)
	kv := NewMemKV()
	f.Fuzz(func(t *testing.T, method string, args []byte) {
		c := baseCall(addrCounter, kv, method, string(args))
		c.GasLimit = 20_000_000
		res, err := s.Call(ctx, m, c)
		if err != nil {
			t.Fatal(err)
		}
		if method == "echo" && res.Err == nil && string(res.Output) != string(args) {
			t.Fatalf("echo: %q != %q", res.Output, args)
		}
	})
}

// BenchmarkCompileWorstAccepted compiles, cold, the worst module shapes
// the limits accept (each at its limit's edge): the time and memory
// (B/op: bytes allocated) of the slowest is the bound the limits promise
// (< 1 s, < 256 MB on the 2-core test machine).
func BenchmarkCompileWorstAccepted(b *testing.B) {
	lim := DefaultLimits()
	shapes := []struct {
		name string
		code []byte
	}{
		{"nesting", nestedLoops(int(lim.MaxNesting))},
		{"blocks", manyBlocks(int(lim.MaxBlocks))},
		{"total-locals", manyFuncs(int(lim.MaxTotalLocals/uint64(lim.MaxFunctionLocals)), int(lim.MaxFunctionLocals))},
		{"functions", manyFuncs(int(lim.MaxFunctions), 0)},
		{"table", withTable(lim.MaxTableElems)},
	}
	ctx := context.Background()
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				e, err := NewEngine(ctx, DefaultConfig()) // no caches: a cold compile
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := e.Compile(ctx, sh.code); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				_ = e.Close(ctx)
				b.StartTimer()
			}
		})
	}
}

// shiftCode returns code with k pairs of `global.get 0; global.set 0`
// (the global keeps its value) at the start of the first function body:
// the machine code of every later function, heavy's loop among them,
// moves by a few bytes per pair. Where a hot loop falls relative to the
// CPU's fetch and cache-line boundaries changes its speed by up to ~30%
// on the benchmark machine, in either module, independently of metering
// (see BenchmarkMeteringRatio).
func shiftCode(tb testing.TB, code []byte, k int) []byte {
	tb.Helper()
	fail := func(err error) []byte { tb.Fatalf("shiftCode: %v", err); return nil }
	for pc := 8; pc < len(code); {
		id := code[pc]
		size, p, err := readU32(code, pc+1)
		if err != nil {
			return fail(err)
		}
		end := p + int(size)
		if id != 10 { // not the code section
			pc = end
			continue
		}
		sec := code[p:end]
		_, q, err := readU32(sec, 0) // function count
		if err != nil {
			return fail(err)
		}
		bsize, r, err := readU32(sec, q)
		if err != nil {
			return fail(err)
		}
		body := sec[r : r+int(bsize)]
		nl, s, err := readU32(body, 0)
		for i := uint64(0); i < nl && err == nil; i++ {
			_, s, err = readU32(body, s) // count, then one type byte
			s++
		}
		if err != nil {
			return fail(err)
		}
		nb := append([]byte(nil), body[:s]...)
		for i := 0; i < k; i++ {
			nb = append(nb, 0x23, 0, 0x24, 0) // global.get 0; global.set 0
		}
		nb = append(nb, body[s:]...)
		nsec := append(append(append([]byte(nil), sec[:q]...), uleb(uint64(len(nb)))...), nb...)
		nsec = append(nsec, sec[r+int(bsize):]...)
		out := append(append([]byte(nil), code[:pc+1]...), uleb(uint64(len(nsec)))...)
		out = append(out, nsec...)
		return append(out, code[end:]...)
	}
	return fail(errors.New("no code section"))
}
