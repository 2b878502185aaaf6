package vm

import (
	"context"
	"errors"
	"testing"

	"github.com/tetratelabs/wabin/wasm"
)

// loopBody counts local 0 down to zero: n iterations of a 9-instruction loop.
var loopBody = []byte{
	wasm.OpcodeBlock, 0x40,
	wasm.OpcodeLoop, 0x40,
	wasm.OpcodeLocalGet, 0, wasm.OpcodeI32Eqz, wasm.OpcodeBrIf, 1,
	wasm.OpcodeLocalGet, 0, wasm.OpcodeI32Const, 1, wasm.OpcodeI32Sub, wasm.OpcodeLocalSet, 0,
	wasm.OpcodeBr, 0,
	wasm.OpcodeEnd,
	wasm.OpcodeEnd,
	wasm.OpcodeEnd,
}

func loopModule(n byte) []byte {
	body := append([]byte{wasm.OpcodeI32Const, n, wasm.OpcodeLocalSet, 0}, loopBody...)
	return buildModule(nil, nil, []testFunc{{locals: []wasm.ValueType{wasm.ValueTypeI32}, body: body}},
		map[string]uint32{"run": 0}, nil)
}

// TestGasExact checks the per-basic-block accounting against a count by hand.
func TestGasExact(t *testing.T) {
	e := sharedEngine(t, false)
	for _, n := range []byte{0, 1, 5, 50} {
		m, err := e.Compile(context.Background(), loopModule(n))
		if err != nil {
			t.Fatal(err)
		}
		if m.InitGas != 0 {
			t.Fatalf("InitGas = %d, want 0", m.InitGas)
		}
		res := callOnce(t, e, m, &Call{Method: "run", GasLimit: 1 << 40})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		// entry: i32.const, local.set, (block free) = 2
		// per iteration entered: local.get, i32.eqz, br_if = 3; taken n times more:
		//   local.get, i32.const, i32.sub, local.set, br = 5
		// exit: after end of block: end (free) = 0; the final end is free.
		// Plus the instance's fixed price (the loop changes no memory page).
		if m.InstanceGas != e.cfg.Gas.Instantiate {
			t.Fatalf("InstanceGas = %d", m.InstanceGas)
		}
		want := m.InstanceGas + 2 + uint64(n+1)*3 + uint64(n)*5
		if res.GasUsed != want {
			t.Errorf("n=%d: GasUsed = %d, want %d", n, res.GasUsed, want)
		}
	}
}

func TestGasOutOfGasExactLimit(t *testing.T) {
	e := sharedEngine(t, false)
	m, err := e.Compile(context.Background(), loopModule(10))
	if err != nil {
		t.Fatal(err)
	}
	full := m.InstanceGas + 2 + 11*3 + 10*5
	if res := callOnce(t, e, m, &Call{Method: "run", GasLimit: full}); res.Err != nil || res.GasUsed != full {
		t.Fatalf("at the exact limit: %+v", res)
	}
	res := callOnce(t, e, m, &Call{Method: "run", GasLimit: full - 1})
	if res.Err == nil || res.Err.Code != CodeOutOfGas || res.GasUsed != full-1 {
		t.Fatalf("one below the limit: %+v", res)
	}
}

func TestInstrumentRejects(t *testing.T) {
	cfg := instrumentConfig{gas: DefaultGasTable(), maxCallDepth: 100, initGas: 1000, limits: DefaultLimits()}
	fn := func(body ...byte) []byte {
		return buildModule(nil, nil, []testFunc{{locals: []wasm.ValueType{wasm.ValueTypeI32}, body: body}},
			map[string]uint32{"run": 0}, nil)
	}
	cases := []struct {
		name string
		code []byte
		want error
	}{
		{"simd", fn(wasm.OpcodeVecPrefix, 0x0c, wasm.OpcodeEnd), errUnsupportedInstr},
		{"ref.func", fn(wasm.OpcodeRefFunc, 0, wasm.OpcodeDrop, wasm.OpcodeEnd), errUnsupportedInstr},
		{"table.grow", fn(wasm.OpcodeMiscPrefix, 0x0f, 0, wasm.OpcodeEnd), errUnsupportedInstr},
		{"tail call", fn(0x12, 0, wasm.OpcodeEnd), errUnsupportedInstr},
		{"global out of range", fn(wasm.OpcodeGlobalGet, 0, wasm.OpcodeDrop, wasm.OpcodeEnd), errBadIndex},
		{"local out of range", fn(wasm.OpcodeLocalGet, 1, wasm.OpcodeDrop, wasm.OpcodeEnd), errBadIndex},
		{"call out of range", fn(wasm.OpcodeCall, 5, wasm.OpcodeEnd), errBadIndex},
		{"label out of range", fn(wasm.OpcodeBr, 1, wasm.OpcodeEnd), errBadIndex},
		{"truncated", fn(wasm.OpcodeI32Const, 0x80, wasm.OpcodeEnd), errTruncated},
		{"unterminated LEB", fn(wasm.OpcodeI64Const, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, wasm.OpcodeEnd), errLEBTooLong},
		{"code after the final end", fn(wasm.OpcodeEnd, wasm.OpcodeNop, wasm.OpcodeEnd), errAfterEnd},
	}
	for _, c := range cases {
		if _, err := instrument(c.code, cfg); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

// FuzzInstrument feeds arbitrary bytes to the decoder and instrumenter; the
// result, if any, must decode again and instrument again.
func FuzzInstrument(f *testing.F) {
	f.Add(loopModule(3))
	f.Add(wrappedLoopsModule())
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add(buildModule(nil, nil, []testFunc{{results: []wasm.ValueType{wasm.ValueTypeF64},
		body: []byte{wasm.OpcodeF64Const, 0, 0, 0, 0, 0, 0, 0, 0, wasm.OpcodeF64Const, 0, 0, 0, 0, 0, 0, 0, 0, wasm.OpcodeF64Div, wasm.OpcodeEnd}}},
		map[string]uint32{"run": 0}, nil))
	cfg := instrumentConfig{gas: DefaultGasTable(), maxCallDepth: 100, initGas: 1000, limits: DefaultLimits()}
	f.Fuzz(func(t *testing.T, code []byte) {
		out, err := instrument(code, cfg)
		if err != nil {
			return
		}
		if _, err := instrument(out.code, cfg); err != nil && !errors.Is(err, errBadIndex) {
			// Re-instrumenting may refuse the reserved export names; anything
			// else means the output is not a module we can read.
			if !containsReserved(err) {
				t.Fatalf("instrumented output does not decode: %v", err)
			}
		}
	})
}

func containsReserved(err error) bool {
	return err != nil && len(err.Error()) > 0 && (errors.Is(err, errBadIndex) ||
		// "export "__tc_gas" uses the reserved prefix", or the refill import
		contains(err.Error(), "reserved prefix") || contains(err.Error(), "instrumentation's own"))
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// FuzzValidate runs the whole deploy-time check (including wazero's
// validation, compilation and a trial instantiation) on arbitrary bytes.
func FuzzValidate(f *testing.F) {
	f.Add(loopModule(3))
	f.Add(wrappedLoopsModule())
	f.Add(startLoopModule())
	f.Add(forbiddenImportModule())
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x01"))
	e := sharedEngine(f, false)
	f.Fuzz(func(t *testing.T, code []byte) {
		m, err := e.Compile(context.Background(), code)
		if err != nil {
			return
		}
		for _, name := range m.Methods {
			res := callOnce(t, e, m, &Call{Method: name, GasLimit: 1_000_000})
			_ = res // any outcome is fine; the node must not crash
		}
	})
}

// overdrawModule exports "trap" and "ret": k (i32.const 0; drop) pairs, one
// straight-line segment of 2k gas with no check inside, then an
// out-of-bounds load (trap: 4 gas more, same segment) or the end (ret).
func overdrawModule(k int) []byte {
	var pad []byte
	for range k {
		pad = append(pad, wasm.OpcodeI32Const, 0, wasm.OpcodeDrop)
	}
	trap := append(append([]byte(nil), pad...),
		wasm.OpcodeI32Const, 0x7f, wasm.OpcodeI32Load, 2, 0, wasm.OpcodeDrop, wasm.OpcodeEnd)
	ret := append(append([]byte(nil), pad...), wasm.OpcodeEnd)
	return buildModule(nil, nil, []testFunc{{body: trap}, {body: ret}},
		map[string]uint32{"trap": 0, "ret": 1}, nil)
}

// TestLazyCheckExact: the gas local runs below zero between checks (see
// RATIONALE.md, "Lazy gas checks"); outcomes and gas must still be those
// of per-basic-block charging, on both engines: a trap after the charges
// overdrew the call is out of gas at the limit, a trap within the budget
// pays its whole segment (also when the segment overdraws the gas global
// and only the reserve covers it), and a return checks first.
func TestLazyCheckExact(t *testing.T) {
	for _, interp := range []bool{false, true} {
		e := sharedEngine(t, interp)
		for _, k := range []int{10, 60_000} { // 120,000 gas > gasSlice: the global goes negative
			m, err := e.Compile(context.Background(), overdrawModule(k))
			if err != nil {
				t.Fatal(err)
			}
			seg := m.InstanceGas + 2*uint64(k)
			cases := []struct {
				method string
				limit  uint64
				code   Code // CodeOK: success
				gas    uint64
			}{
				{"trap", 1 << 40, CodeTrap, seg + 4},
				{"trap", seg + 4, CodeTrap, seg + 4},
				{"trap", seg + 3, CodeOutOfGas, seg + 3},
				{"trap", seg - 100, CodeOutOfGas, seg - 100},
				{"ret", 1 << 40, CodeOK, seg},
				{"ret", seg, CodeOK, seg},
				{"ret", seg - 1, CodeOutOfGas, seg - 1},
			}
			for _, c := range cases {
				res := callOnce(t, e, m, &Call{Method: c.method, GasLimit: c.limit})
				code := CodeOK
				if res.Err != nil {
					code = res.Err.Code
				}
				if code != c.code || res.GasUsed != c.gas {
					t.Errorf("interp=%v k=%d %s limit %d: %v gas %d, want %v gas %d",
						interp, k, c.method, c.limit, res.Err, res.GasUsed, c.code, c.gas)
				}
			}
		}
	}
}

// wrappedLoopsModule exports "run": nested loops whose gas checks leave
// them to refill (instrumenter v5, see wrapLoop in instrument.go), with
// branches that cross the wrappers (br_if and br_table out of an inner
// loop, a br to the function's label from inside a loop), a loop with a
// result that falls through, and a loop with a parameter (a type-index
// block type: not wrapped). It traps unless it computes wrappedLoopsWant.
func wrappedLoopsModule() []byte {
	const i, j, acc, k = 0, 1, 2, 3
	c := func(v int64) []byte { return append([]byte{wasm.OpcodeI32Const}, sleb64(v)...) }
	var b []byte
	add := func(p ...[]byte) {
		for _, x := range p {
			b = append(b, x...)
		}
	}
	op := func(o ...byte) []byte { return o }
	add(c(300), op(wasm.OpcodeLocalSet, i),
		op(wasm.OpcodeBlock, 0x40), // $done
		op(wasm.OpcodeLoop, 0x40),  // $outer
		op(wasm.OpcodeLocalGet, i, wasm.OpcodeI32Eqz, wasm.OpcodeBrIf, 1),
		op(wasm.OpcodeLocalGet, i), c(1), op(wasm.OpcodeI32Sub, wasm.OpcodeLocalSet, i),
		c(1000), op(wasm.OpcodeLocalSet, j),
		op(wasm.OpcodeBlock, 0x40), // $next
		op(wasm.OpcodeLoop, 0x40),  // $inner
		op(wasm.OpcodeLocalGet, acc), c(1), op(wasm.OpcodeI32Add, wasm.OpcodeLocalSet, acc),
		op(wasm.OpcodeLocalGet, j), c(1), op(wasm.OpcodeI32Sub, wasm.OpcodeLocalTee, j),
		op(wasm.OpcodeI32Eqz, wasm.OpcodeBrIf, 1), // to $next
		op(wasm.OpcodeLocalGet, j), c(7), op(wasm.OpcodeI32RemU),
		op(wasm.OpcodeBrTable, 7, 0, 0, 0, 0, 0, 0, 2, 0), // j%7 == 6: on with $outer
		op(wasm.OpcodeEnd), // $inner
		op(wasm.OpcodeEnd), // $next
		op(wasm.OpcodeLocalGet, acc), c(1000), op(wasm.OpcodeI32Add, wasm.OpcodeLocalSet, acc),
		op(wasm.OpcodeBr, 0), // $outer
		op(wasm.OpcodeEnd),   // $outer
		op(wasm.OpcodeEnd),   // $done
		// A loop with a result: add 3 until acc >= 600,000, yield acc.
		op(wasm.OpcodeLoop, wasm.ValueTypeI32),
		op(wasm.OpcodeLocalGet, acc), c(3), op(wasm.OpcodeI32Add, wasm.OpcodeLocalTee, acc),
		op(wasm.OpcodeLocalGet, acc), c(600_000), op(wasm.OpcodeI32LtU, wasm.OpcodeBrIf, 0),
		op(wasm.OpcodeEnd),
		op(wasm.OpcodeLocalSet, acc),
		// A loop with a parameter (type 1: (i32) -> ()): count 5 down.
		c(5), op(wasm.OpcodeLoop, 1),
		c(1), op(wasm.OpcodeI32Sub, wasm.OpcodeLocalTee, k, wasm.OpcodeLocalGet, k, wasm.OpcodeBrIf, 0),
		op(wasm.OpcodeDrop, wasm.OpcodeEnd),
		op(wasm.OpcodeLocalGet, acc), c(wrappedLoopsWant), op(wasm.OpcodeI32Ne, wasm.OpcodeIf, 0x40, wasm.OpcodeUnreachable, wasm.OpcodeEnd),
		// Leave through the function's label from inside a loop.
		op(wasm.OpcodeLoop, 0x40, wasm.OpcodeLocalGet, k, wasm.OpcodeI32Eqz, wasm.OpcodeBrIf, 1, wasm.OpcodeBr, 0, wasm.OpcodeEnd),
		op(wasm.OpcodeUnreachable, wasm.OpcodeEnd),
	)
	i32 := wasm.ValueTypeI32
	return buildModule(nil, nil, []testFunc{
		{locals: []wasm.ValueType{i32, i32, i32, i32}, body: b},
		{params: []wasm.ValueType{i32}, body: []byte{wasm.OpcodeEnd}}, // its type is the loop's
	}, map[string]uint32{"run": 0}, nil)
}

// wrappedLoopsWant is what wrappedLoopsModule computes, by the same steps.
var wrappedLoopsWant = func() int64 {
	var acc uint32
	for i := 300; i != 0; {
		i--
		for j := uint32(1000); ; {
			acc++
			j--
			if j == 0 {
				acc += 1000
				break
			}
			if j%7 == 6 {
				break
			}
		}
	}
	for {
		acc += 3
		if acc >= 600_000 {
			break
		}
	}
	return int64(int32(acc))
}()

// TestWrappedLoops: loops whose gas check leaves them to refill run as the
// original code does (the module traps otherwise), on both engines, with
// the same gas, over many refills (the run is ~16 gas slices); the call
// runs out of gas at exactly its gas and at any lower limit.
func TestWrappedLoops(t *testing.T) {
	var gas [2]uint64
	for n, interp := range []bool{false, true} {
		e := sharedEngine(t, interp)
		m, err := e.Compile(context.Background(), wrappedLoopsModule())
		if err != nil {
			t.Fatal(err)
		}
		res := callOnce(t, e, m, &Call{Method: "run", GasLimit: 1 << 40})
		if res.Err != nil {
			t.Fatalf("interp=%v: %v", interp, res.Err)
		}
		gas[n] = res.GasUsed
		if g := res.GasUsed - m.InstanceGas; g < 10*gasSlice {
			t.Fatalf("interp=%v: %d gas in the guest, want many slices", interp, g)
		}
		for _, limit := range []uint64{res.GasUsed, res.GasUsed - 1, res.GasUsed / 2, m.InstanceGas + gasSlice + 7} {
			r := callOnce(t, e, m, &Call{Method: "run", GasLimit: limit})
			want := CodeOutOfGas
			if limit == res.GasUsed {
				want = CodeOK
			}
			code := CodeOK
			if r.Err != nil {
				code = r.Err.Code
			}
			if code != want || r.GasUsed != limit {
				t.Errorf("interp=%v limit %d: %v gas %d, want %v gas %d", interp, limit, r.Err, r.GasUsed, want, limit)
			}
		}
	}
	if gas[0] != gas[1] {
		t.Errorf("gas: compiler %d, interpreter %d", gas[0], gas[1])
	}
}
