package vm

import (
	"bytes"
	"context"
	"testing"

	"github.com/tetratelabs/wabin/binary"
	"github.com/tetratelabs/wabin/wasm"
	"github.com/tetratelabs/wazero"
)

// dataModule has two active data segments, optionally a data count section
// and methods using memory.init and data.drop on segment 0.
func dataModule(count bool) []byte {
	c := func(v int64) []byte { return append([]byte{wasm.OpcodeI32Const}, sleb64(v)...) }
	initN := func(n int64) []byte { // memory.init segment 0: dst 0, src 0, n bytes
		return bytes.Join([][]byte{c(0), c(0), c(n), {wasm.OpcodeMiscPrefix, wasm.OpcodeMiscMemoryInit, 0, 0, wasm.OpcodeEnd}}, nil)
	}
	m := &wasm.Module{MemorySection: &wasm.Memory{Min: 2, Max: 2, IsMaxEncoded: true}}
	m.TypeSection = []*wasm.FunctionType{{}}
	m.ExportSection = []*wasm.Export{{Type: wasm.ExternTypeMemory, Name: "memory"}}
	bodies := [][]byte{{wasm.OpcodeEnd}}
	if count {
		bodies = append(bodies, initN(0), initN(1), []byte{wasm.OpcodeMiscPrefix, wasm.OpcodeMiscDataDrop, 0, wasm.OpcodeEnd})
	}
	for i, body := range bodies {
		m.FunctionSection = append(m.FunctionSection, 0)
		m.CodeSection = append(m.CodeSection, &wasm.Code{Body: body})
		m.ExportSection = append(m.ExportSection, &wasm.Export{Type: wasm.ExternTypeFunc, Name: []string{"noop", "init0", "init1", "drop"}[i], Index: uint32(i)})
	}
	m.DataSection = []*wasm.DataSegment{
		{OffsetExpression: &wasm.ConstantExpression{Opcode: wasm.OpcodeI32Const, Data: sleb64(200)}, Init: []byte("xyz")},
		{OffsetExpression: &wasm.ConstantExpression{Opcode: wasm.OpcodeI32Const, Data: sleb64(65536 + 7)}, Init: []byte("second")},
	}
	code := binary.EncodeModule(m)
	if !count {
		return code
	}
	// wabin does not encode a data count section: insert one (2 segments)
	// before the code section.
	for pc := 8; pc < len(code); {
		size, next, err := readU32(code, pc+1)
		if err != nil {
			panic(err)
		}
		if code[pc] == 10 {
			return bytes.Join([][]byte{code[:pc], {12, 1, 2}, code[pc:]}, nil)
		}
		pc = next + int(size)
	}
	panic("no code section")
}

// TestStripData: a module without its active data segments, plus the host's
// applyData, gives the memory wazero's instantiation gives, and memory.init
// and data.drop behave as on the original's segments.
func TestStripData(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	for _, count := range []bool{false, true} {
		orig := dataModule(count)
		stripped, segs, ok := stripData(orig)
		if !ok || len(segs) != 2 || bytes.Contains(stripped, []byte("second")) != count {
			t.Fatalf("count=%v: ok=%v, %d segments, data left in the code: %v", count, ok, len(segs), bytes.Contains(stripped, []byte("second")))
		}
		var mems [2][]byte
		var outcomes [2][]bool
		for i, code := range [][]byte{orig, stripped} {
			cm, err := rt.CompileModule(ctx, code)
			if err != nil {
				t.Fatalf("count=%v, variant %d: %v", count, i, err)
			}
			mod, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName(""))
			if err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				if err := applyData(mod.Memory(), segs); err != nil {
					t.Fatal(err)
				}
			}
			b, _ := mod.Memory().Read(0, mod.Memory().Size())
			mems[i] = append([]byte(nil), b...)
			for _, name := range []string{"init0", "init1", "drop", "init0"} {
				if f := mod.ExportedFunction(name); f != nil {
					_, err := f.Call(ctx)
					outcomes[i] = append(outcomes[i], err == nil)
				}
			}
			_ = mod.Close(ctx)
		}
		if !bytes.Equal(mems[0], mems[1]) {
			t.Errorf("count=%v: memories differ", count)
		}
		if !bytes.Equal(boolBytes(outcomes[0]), boolBytes(outcomes[1])) {
			t.Errorf("count=%v: memory.init/data.drop outcomes %v, stripped %v", count, outcomes[0], outcomes[1])
		}
	}
	// Out of bounds: the same refusal as instantiation.
	small := dataModule(false)
	_, segs, _ := stripData(small)
	segs[1].offset = 2*65536 - 2
	cm, _ := rt.CompileModule(ctx, small)
	mod, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("oob"))
	if err != nil {
		t.Fatal(err)
	}
	if err := applyData(mod.Memory(), segs); err == nil || err.Error() != "data[1]: out of bounds memory access" {
		t.Errorf("out of bounds segment: %v", err)
	}
	// A start section: left alone.
	if _, _, ok := stripData(buildModule(nil, nil, []testFunc{{body: []byte{wasm.OpcodeEnd}}}, nil, new(uint32))); ok {
		t.Error("a module with a start section was stripped")
	}
}

func boolBytes(v []bool) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		if x {
			b[i] = 1
		}
	}
	return b
}

// FuzzStripData: stripData never panics, and what it strips has no active
// segment left and keeps every byte outside the data section.
func FuzzStripData(f *testing.F) {
	f.Add(dataModule(false))
	f.Add(dataModule(true))
	f.Add(scribbleModule())
	f.Fuzz(func(t *testing.T, code []byte) {
		out, segs, ok := stripData(code)
		if !ok {
			if !bytes.Equal(out, code) {
				t.Fatal("refused but changed")
			}
			return
		}
		again, segs2, ok2 := stripData(out)
		if !ok2 || len(segs2) != 0 || !bytes.Equal(again, out) {
			t.Fatalf("stripping twice: ok=%v, %d segments, changed=%v (first: %d)", ok2, len(segs2), !bytes.Equal(again, out), len(segs))
		}
	})
}
