package vm

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/tetratelabs/wabin/binary"
	"github.com/tetratelabs/wabin/wasm"

	"github.com/trialchain/trialchain/vm/abi"
)

// Hostile module shapes, built by hand at and beyond each limit's edge.

// nestedLoops is one method whose body nests n loops.
func nestedLoops(n int) []byte {
	body := bytes.Repeat([]byte{wasm.OpcodeLoop, 0x40}, n)
	body = append(body, bytes.Repeat([]byte{wasm.OpcodeEnd}, n+1)...)
	return buildModule(nil, nil, []testFunc{{body: body}}, map[string]uint32{"run": 0}, nil)
}

// manyFuncs has funcs functions of locals i64 locals each.
func manyFuncs(funcs, locals int) []byte {
	fs := make([]testFunc, funcs)
	for i := range fs {
		fs[i] = testFunc{locals: make([]wasm.ValueType, locals), body: []byte{wasm.OpcodeEnd}}
		for j := range fs[i].locals {
			fs[i].locals[j] = wasm.ValueTypeI64
		}
	}
	return buildModule(nil, nil, fs, map[string]uint32{"run": 0}, nil)
}

// manyBlocks is one function with n sequential blocks.
func manyBlocks(n int) []byte {
	body := bytes.Repeat([]byte{wasm.OpcodeBlock, 0x40, wasm.OpcodeEnd}, n)
	return buildModule(nil, nil, []testFunc{{body: append(body, wasm.OpcodeEnd)}}, map[string]uint32{"run": 0}, nil)
}

// withTable adds a table of n elements to a minimal module.
func withTable(n uint32) []byte {
	m := &wasm.Module{MemorySection: &wasm.Memory{Min: 1, Max: 1, IsMaxEncoded: true},
		TypeSection:     []*wasm.FunctionType{{}},
		FunctionSection: []uint32{0},
		CodeSection:     []*wasm.Code{{Body: []byte{wasm.OpcodeEnd}}},
		TableSection:    []*wasm.Table{{Min: n, Type: wasm.RefTypeFuncref}},
		ExportSection: []*wasm.Export{{Type: wasm.ExternTypeMemory, Name: "memory"},
			{Type: wasm.ExternTypeFunc, Name: "run", Index: 0}}}
	return binary.EncodeModule(m)
}

// startSHA256 is a module whose start function hashes 16 MiB of its
// memory times times, before any method runs.
func startSHA256(times int) []byte {
	i32 := wasm.ValueTypeI32
	body := []byte{}
	for range times {
		body = append(body, wasm.OpcodeI32Const, 0, wasm.OpcodeI32Const)
		body = append(body, sleb64(16<<20)...)
		body = append(body, wasm.OpcodeI32Const, 0, wasm.OpcodeCall, 0)
	}
	body = append(body, wasm.OpcodeEnd)
	start := uint32(1)
	m := &wasm.Module{MemorySection: &wasm.Memory{Min: 257, Max: 257, IsMaxEncoded: true},
		TypeSection:     []*wasm.FunctionType{{Params: []wasm.ValueType{i32, i32, i32}}, {}},
		ImportSection:   []*wasm.Import{{Type: wasm.ExternTypeFunc, Module: abi.Module, Name: abi.FnSHA256, DescFunc: 0}},
		FunctionSection: []uint32{1, 1},
		CodeSection:     []*wasm.Code{{Body: body}, {Body: []byte{wasm.OpcodeEnd}}},
		StartSection:    &start,
		ExportSection: []*wasm.Export{{Type: wasm.ExternTypeMemory, Name: "memory"},
			{Type: wasm.ExternTypeFunc, Name: "run", Index: 2}}}
	return binary.EncodeModule(m)
}

// deepRecursion: "run" calls f, which holds locals i64 locals and pushes
// live values before calling itself, forever (the call depth cap ends it).
func deepRecursion(locals, live int) []byte {
	body := []byte{}
	for i := range live {
		body = append(body, wasm.OpcodeLocalGet)
		body = append(body, uleb(uint64(i%locals))...)
	}
	body = append(body, wasm.OpcodeCall, 1)
	body = append(body, bytes.Repeat([]byte{wasm.OpcodeI64Add}, live)...)
	body = append(body, wasm.OpcodeEnd)
	ls := make([]wasm.ValueType, locals)
	for i := range ls {
		ls[i] = wasm.ValueTypeI64
	}
	return buildModule(nil, nil, []testFunc{
		{body: []byte{wasm.OpcodeCall, 1, wasm.OpcodeDrop, wasm.OpcodeEnd}},
		{results: []wasm.ValueType{wasm.ValueTypeI64}, locals: ls, body: body},
	}, map[string]uint32{"run": 0}, nil)
}

// measure runs fn and returns the CPU time the process spent on it (wall
// time where getrusage is missing) and the bytes it allocated.
// remembered bounds what a refusal already remembered by hash may allocate
// when the same bytes come again (hashing them, the error): far below what
// checking or compiling any of the table's modules allocates. An allocation
// bound, not a time bound, so a loaded machine cannot fail it.
const remembered = 256 << 10

func measure(fn func()) (time.Duration, uint64) {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	t0 := processCPU()
	fn()
	d := processCPU() - t0
	runtime.ReadMemStats(&b)
	return d, b.TotalAlloc - a.TotalAlloc
}

// TestHostileModules is the table of issue 13's attacks and the limits'
// edges, on the real VM with the default configuration: each is refused
// with its own error, or accepted and compiled within 1 s and 256 MB, and
// where it runs, compiler and interpreter return identical results.
func TestHostileModules(t *testing.T) {
	lim := DefaultLimits()
	cases := []struct {
		name     string
		code     []byte
		checkErr error // from Check (nil: accepted by the block's check)
		initErr  error // from Compile after Check accepted it
		goCode   bool  // a 3 MB Go module: its compile time is that of its size, not its shape
	}{
		{"nested loops at the edge", nestedLoops(int(lim.MaxNesting)), nil, nil, false},
		{"nested loops beyond (20,000: 7 s to compile before)", nestedLoops(20_000), ErrNestingTooDeep, nil, false},
		{"blocks per function at the edge", manyBlocks(int(lim.MaxBlocks)), nil, nil, false},
		{"blocks per function beyond", manyBlocks(int(lim.MaxBlocks) + 1), ErrTooManyBlocks, nil, false},
		{"locals per function at the edge", manyFuncs(1, int(lim.MaxFunctionLocals)), nil, nil, false},
		{"2,000 functions x 50,000 locals (1.6 GB at 4,000 before)", manyFuncs(2000, 50_000), ErrTooManyLocals, nil, false},
		{"total locals at the edge", manyFuncs(int(lim.MaxTotalLocals/uint64(lim.MaxFunctionLocals)), int(lim.MaxFunctionLocals)), nil, nil, false},
		{"total locals beyond", manyFuncs(int(lim.MaxTotalLocals/uint64(lim.MaxFunctionLocals))+1, int(lim.MaxFunctionLocals)), ErrTooManyLocals, nil, false},
		{"functions at the edge", manyFuncs(int(lim.MaxFunctions), 0), nil, nil, false},
		{"functions beyond", manyFuncs(int(lim.MaxFunctions)+1, 0), ErrTooManyFunctions, nil, false},
		{"table at the edge", withTable(lim.MaxTableElems), nil, nil, false},
		{"table beyond", withTable(lim.MaxTableElems + 1), ErrTableTooLarge, nil, false},
		{"start section: sha256 of 16 MiB x 300 (2.8 s for 6,916 gas before)", startSHA256(300), nil, ErrInitFailed, false},
		{"_initialize that never ends", wasmCode["initloop"], nil, ErrInitFailed, true},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEngine(t, false)
			e.cfg.CacheDir = "" // measure a cold compile
			defer e.Close(ctx)
			var err error
			d, alloc := measure(func() { _, err = e.Check(c.code) })
			if !errors.Is(err, c.checkErr) || (c.checkErr == nil) != (err == nil) {
				t.Fatalf("Check: %v, want %v", err, c.checkErr)
			}
			if d > time.Second {
				t.Fatalf("Check took %v", d)
			}
			if err != nil { // remembered: a second deploy of the same bytes costs nothing
				// Remembered, not checked again: no allocation to speak of
				// (a check of these modules allocates megabytes).
				d2, alloc2 := measure(func() { _, err = e.Check(c.code) })
				if !errors.Is(err, c.checkErr) || alloc2 > remembered {
					t.Fatalf("second Check: %v in %v, %d bytes allocated", err, d2, alloc2)
				}
				t.Logf("refused in %v (%d KB allocated), again in %v: %v", d, alloc>>10, d2, err)
				return
			}
			var m *Module
			d, alloc = measure(func() { m, err = e.Compile(ctx, c.code) })
			if !errors.Is(err, c.initErr) || (c.initErr == nil) != (err == nil) {
				t.Fatalf("Compile: %v, want %v", err, c.initErr)
			}
			if !c.goCode && (d > time.Second || alloc > 256<<20) {
				t.Fatalf("compile took %v and %d MB", d, alloc>>20)
			}
			if err != nil {
				d2, alloc2 := measure(func() { _, err = e.Compile(ctx, c.code) })
				if !errors.Is(err, c.initErr) || alloc2 > remembered {
					t.Fatalf("second Compile: %v in %v, %d bytes allocated", err, d2, alloc2)
				}
				t.Logf("init refused in %v (%d MB allocated), again in %v: %v", d, alloc>>20, d2, err)
				return
			}
			t.Logf("accepted: compiled in %v, %d MB allocated", d, alloc>>20)
			res := callOnce(t, e, m, &Call{Method: "run", GasLimit: 10_000_000})
			if res.Err != nil {
				t.Fatalf("run: %v", res.Err)
			}
		})
	}
}

// TestDeepRecursionSameOnEveryEngine: deep recursion with many live values
// (the most locals a function may have, and 400 values on the operand
// stack in every frame) traps at the instrumentation's call-depth cap with
// the same code and gas on the compiler and the interpreter (before: the
// compiler's native stack overflowed at 54.9M gas, the interpreter stopped
// at its own frame limit at 100.6M gas).
func TestDeepRecursionSameOnEveryEngine(t *testing.T) {
	code := deepRecursion(int(DefaultLimits().MaxFunctionLocals)-1, 400)
	var outs []string
	for _, interp := range []bool{false, true} {
		e := newTestEngine(t, interp)
		m, err := e.Compile(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		res := callOnce(t, e, m, &Call{Method: "run", GasLimit: 500_000_000})
		_ = e.Close(context.Background())
		if res.Err == nil || res.Err.Code != CodeCallDepth {
			t.Fatalf("interpreter=%v: %+v", interp, res)
		}
		outs = append(outs, res.Err.Error()+" gas "+itoa(res.GasUsed))
	}
	if outs[0] != outs[1] {
		t.Fatalf("engines disagree:\ncompiler:    %s\ninterpreter: %s", outs[0], outs[1])
	}
	t.Logf("both: %s", outs[0])
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

// TestHostileCalls is the table of issue 13's attacks by calls (the
// module is valid): each ends within its bound with the same receipt on
// the compiler and the interpreter. The attacks that need the chain are
// tested there: 1,000 transactions × 1e9 gas in one block are cut by the
// block gas limit (chain/state TestBatchRefusesBlockOfLoops), the query
// concurrency limit answers 429 (chain/contracts TestNetwork), and a
// query's deadline or a client gone away stops the guest
// (TestQuerySessionStops).
func TestHostileCalls(t *testing.T) {
	cases := []struct {
		name    string
		query   bool   // an anonymous read-only query (NewQuerySession)
		gas     uint64 // the call's gas limit
		interp  uint64 // the limit on the interpreter (about 100x slower on a loop), if lower
		bound   time.Duration
		wantErr Code
	}{
		// A transaction's maximum (genesis max_tx_gas); a block holds at
		// most block_gas_limit / 1e9 of them (4 by default).
		{"loop to a transaction's 1e9 gas", false, 1_000_000_000, 2_000_000, 10 * time.Second, CodeOutOfGas},
		// A query's gas cap (node limits.query_gas, 20M by default).
		{"anonymous query looping to its 20M gas cap", true, 20_000_000, 2_000_000, 2 * time.Second, CodeOutOfGas},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The same receipt on both engines at the interpreter's limit.
			var receipts []string
			for _, interp := range []bool{false, true} {
				e := newTestEngine(t, interp)
				m, err := e.Compile(ctx, loopForever())
				if err != nil {
					t.Fatal(err)
				}
				s := e.NewSession(block)
				if c.query {
					s = e.NewQuerySession(block)
				}
				gas := c.gas
				if interp && c.interp != 0 {
					gas = c.interp
				}
				start := time.Now()
				res, err := s.Call(ctx, m, &Call{Contract: [32]byte{0xee}, Method: "run", GasLimit: gas})
				took := time.Since(start)
				_ = s.Close(ctx)
				_ = e.Close(ctx)
				if err != nil || res.Err == nil || res.Err.Code != c.wantErr || res.GasUsed != gas {
					t.Fatalf("interpreter=%v: %+v, %v", interp, res, err)
				}
				if took > c.bound {
					t.Fatalf("interpreter=%v: %d gas took %v, bound %v", interp, gas, took, c.bound)
				}
				t.Logf("interpreter=%v: %s after %d gas in %v", interp, res.Err, res.GasUsed, took)
				if c.interp != 0 && !interp { // the compiler at the interpreter's limit too
					e := newTestEngine(t, false)
					m, _ := e.Compile(ctx, loopForever())
					r2 := callOnce(t, e, m, &Call{Contract: [32]byte{0xee}, Method: "run", GasLimit: c.interp})
					_ = e.Close(ctx)
					receipts = append(receipts, r2.Err.Error()+" gas "+itoa(r2.GasUsed))
				} else if interp || c.interp == 0 {
					receipts = append(receipts, res.Err.Error()+" gas "+itoa(res.GasUsed))
				}
			}
			if len(receipts) == 2 && receipts[0] != receipts[1] {
				t.Fatalf("engines disagree: %q vs %q", receipts[0], receipts[1])
			}
		})
	}
}
