package vm

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/tetratelabs/wabin/binary"
	"github.com/tetratelabs/wabin/wasm"
)

// scribbleModule is a module of 8 pages (maximum 8) with a data segment,
// an _initialize that writes page p's byte 7 to p+1, and methods:
//
//   - verify: traps unless memory is the snapshot's (byte 7 of every page,
//     the data segment, a zero byte);
//   - scribble: fills all 8 pages with 0xAB (every page changed);
//   - rewrite: copies memory onto itself (every page written, none changed);
//   - poke: changes one byte of page 3;
//   - grow: memory.grow(1) must fail (the maximum is 8 pages).
func scribbleModule() []byte {
	c := func(v int64) []byte { return append([]byte{wasm.OpcodeI32Const}, sleb64(v)...) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	pageLoop := func(inner []byte) []byte { // for local0 in 0..7 { inner }
		return cat(c(0), []byte{wasm.OpcodeLocalSet, 0, wasm.OpcodeLoop, 0x40}, inner,
			[]byte{wasm.OpcodeLocalGet, 0}, c(1), []byte{wasm.OpcodeI32Add, wasm.OpcodeLocalTee, 0}, c(8),
			[]byte{wasm.OpcodeI32LtU, wasm.OpcodeBrIf, 0, wasm.OpcodeEnd})
	}
	pageAddr := cat([]byte{wasm.OpcodeLocalGet, 0}, c(16), []byte{wasm.OpcodeI32Shl})
	pPlus1 := cat([]byte{wasm.OpcodeLocalGet, 0}, c(1), []byte{wasm.OpcodeI32Add})
	trapIfNe := []byte{wasm.OpcodeI32Ne, wasm.OpcodeIf, 0x40, wasm.OpcodeUnreachable, wasm.OpcodeEnd}
	init := cat(pageLoop(cat(pageAddr, pPlus1, []byte{wasm.OpcodeI32Store8, 0, 7})), []byte{wasm.OpcodeEnd})
	verify := cat(
		pageLoop(cat(pageAddr, []byte{wasm.OpcodeI32Load8U, 0, 7}, pPlus1, trapIfNe)),
		c(100), []byte{wasm.OpcodeI32Load8U, 0, 0}, c('h'), trapIfNe,
		c(3<<16+500), []byte{wasm.OpcodeI32Load8U, 0, 0}, c(0), trapIfNe,
		[]byte{wasm.OpcodeEnd})
	fill := []byte{wasm.OpcodeMiscPrefix, wasm.OpcodeMiscMemoryFill, 0}
	mcopy := []byte{wasm.OpcodeMiscPrefix, wasm.OpcodeMiscMemoryCopy, 0, 0}
	scribble := cat(c(0), c(0xAB), c(8<<16), fill, []byte{wasm.OpcodeEnd})
	rewrite := cat(c(0), c(0), c(8<<16), mcopy, []byte{wasm.OpcodeEnd})
	poke := cat(c(3<<16+9), c(42), []byte{wasm.OpcodeI32Store8, 0, 0, wasm.OpcodeEnd})
	grow := cat(c(1), []byte{wasm.OpcodeMemoryGrow, 0}, c(-1), trapIfNe, []byte{wasm.OpcodeEnd})

	m := &wasm.Module{MemorySection: &wasm.Memory{Min: 8, Max: 8, IsMaxEncoded: true}}
	m.TypeSection = []*wasm.FunctionType{{}}
	i32 := []wasm.ValueType{wasm.ValueTypeI32}
	for _, body := range [][]byte{init, verify, scribble, rewrite, poke, grow} {
		m.FunctionSection = append(m.FunctionSection, 0)
		m.CodeSection = append(m.CodeSection, &wasm.Code{LocalTypes: i32, Body: body})
	}
	m.ExportSection = []*wasm.Export{{Type: wasm.ExternTypeMemory, Name: "memory"}}
	for i, n := range []string{"_initialize", "verify", "scribble", "rewrite", "poke", "grow"} {
		m.ExportSection = append(m.ExportSection, &wasm.Export{Type: wasm.ExternTypeFunc, Name: n, Index: uint32(i)})
	}
	m.DataSection = []*wasm.DataSegment{{OffsetExpression: &wasm.ConstantExpression{Opcode: wasm.OpcodeI32Const, Data: sleb64(100)}, Init: []byte("hello")}}
	return binary.EncodeModule(m)
}

// resetPaths are the two ways an instance returns to its snapshot.
var resetPaths = []struct {
	name string
	copy bool
}{{"mapped", false}, {"copy", true}}

// TestResetRestoresMemory: a call that scribbles over every page is seen by
// the next call as the snapshot, on both reset paths, which charge the
// same gas (per changed page: scribble 8, rewrite 0, poke 1); the memory's
// maximum holds.
func TestResetRestoresMemory(t *testing.T) {
	ctx := context.Background()
	script := []struct {
		method  string
		changed uint64
	}{{"verify", 0}, {"scribble", 8}, {"verify", 0}, {"rewrite", 0}, {"verify", 0},
		{"poke", 1}, {"verify", 0}, {"grow", 0}, {"scribble", 8}, {"verify", 0}}
	var gas [2][]uint64
	for pi, path := range resetPaths {
		t.Run(path.name, func(t *testing.T) {
			e := newTestEngine(t, false)
			defer e.Close(ctx)
			e.copyReset = path.copy
			m, err := e.Compile(ctx, scribbleModule())
			if err != nil {
				t.Fatal(err)
			}
			s := e.NewSession(block)
			defer s.Close(ctx)
			for i, st := range script {
				res, err := s.Call(ctx, m, &Call{Method: st.method, GasLimit: 1 << 30})
				if err != nil || res.Err != nil {
					t.Fatalf("%d %s: %v %v", i, st.method, err, res.Err)
				}
				gas[pi] = append(gas[pi], res.GasUsed)
				in := s.insts[[32]byte{}]
				mem, _ := in.mod.Memory().Read(0, in.mod.Memory().Size())
				if !bytes.Equal(mem, m.snap.mem) {
					t.Fatalf("%d %s: memory is not the snapshot after the reset", i, st.method)
				}
				if wantMapped := !path.copy && runtime.GOOS == "linux"; wantMapped != (in.lm.isMapped()) {
					t.Fatalf("%s: mapped = %v, want %v", st.method, in.lm != nil, wantMapped)
				}
			}
			// Same method, same gas; the difference between scribble and
			// a no-change method is the changed pages' price.
			byMethod := map[string]uint64{}
			for i, st := range script {
				if g, ok := byMethod[st.method]; ok && g != gas[pi][i] {
					t.Errorf("%s: gas %d then %d", st.method, g, gas[pi][i])
				}
				byMethod[st.method] = gas[pi][i]
			}
		})
	}
	t.Logf("gas per call (mapped): %v", gas[0])
	if len(gas[0]) == len(script) && len(gas[1]) == len(script) {
		for i := range script {
			if gas[0][i] != gas[1][i] {
				t.Errorf("%s: mapped gas %d, copy gas %d", script[i].method, gas[0][i], gas[1][i])
			}
		}
	}
	// The reset charge itself, checked on the copy path's own count.
	e := sharedEngine(t, false)
	m, err := e.Compile(ctx, scribbleModule())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range script {
		in, err := e.newInstance(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if err := in.setUp(); err != nil {
			t.Fatal(err)
		}
		in.gas.Set(1 << 30)
		if _, err := in.mod.ExportedFunction(st.method).Call(context.WithValue(ctx, stateKey{}, in.st)); err != nil {
			t.Fatal(st.method, err)
		}
		changed, err := in.reset()
		if err != nil || changed != st.changed {
			t.Errorf("%s: changed %d pages (%v), want %d", st.method, changed, err, st.changed)
		}
		_ = in.close(ctx)
	}
}

// TestResetPathsSameOutcomes: the counter script (state, events, traps,
// out of gas, memory growth) gives the same outcomes, gas included, with
// instances reset through the mapping and through the copy.
func TestResetPathsSameOutcomes(t *testing.T) {
	var got [2][]outcome
	for i, path := range resetPaths {
		e := newTestEngine(t, false)
		e.copyReset = path.copy
		got[i] = callScript(t, e, 50_000_000)
		_ = e.Close(context.Background())
	}
	compareOutcomes(t, got[0], got[1])
}

// TestMappedInstancesDoNotLeak: creating and closing many instances leaves
// no mapping behind (each instance's reservation is unmapped on close).
func TestMappedInstancesDoNotLeak(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("mapped memory is Linux-only")
	}
	ctx := context.Background()
	e := sharedEngine(t, false)
	m, err := e.Compile(ctx, scribbleModule())
	if err != nil {
		t.Fatal(err)
	}
	maps := func() int {
		b, err := os.ReadFile("/proc/self/maps")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(b), "trialchain-snapshot")
	}
	before := maps()
	var live []*instance
	for i := 0; i < 200; i++ {
		in, err := e.newInstance(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if err := in.setUp(); err != nil {
			t.Fatal(err)
		}
		if in.lm == nil || !in.lm.isMapped() {
			t.Fatal("instance memory is not mapped")
		}
		live = append(live, in)
	}
	if n := maps() - before; n < 200 {
		t.Fatalf("%d snapshot mappings for 200 live instances", n)
	}
	for _, in := range live {
		_ = in.close(ctx)
	}
	if n := maps() - before; n != 0 {
		t.Fatalf("%d snapshot mappings left after closing every instance", n)
	}
}
