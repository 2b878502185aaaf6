package vm

import (
	"bytes"
	"testing"

	wbinary "github.com/tetratelabs/wabin/binary"
	"github.com/tetratelabs/wabin/wasm"
)

// TestEncodeModuleMatchesWabin checks encodeModule against wabin's
// EncodeModule, the reference it replaces, on the test contracts (their
// custom sections dropped, as instrument does) and on shapes of locals,
// bodies and data sections the contracts may not have.
func TestEncodeModuleMatchesWabin(t *testing.T) {
	i32, i64, f64 := wasm.ValueTypeI32, wasm.ValueTypeI64, wasm.ValueTypeF64
	long := make([]wasm.ValueType, 300) // a run longer than one LEB128 byte
	for i := range long {
		long[i] = i64
	}
	bigBody := append(bytes.Repeat([]byte{wasm.OpcodeNop}, 20000), wasm.OpcodeEnd)
	end := []byte{wasm.OpcodeEnd}
	synthetic := func(data bool, codes ...*wasm.Code) *wasm.Module {
		m := &wasm.Module{
			TypeSection:   []*wasm.FunctionType{{}},
			MemorySection: &wasm.Memory{Min: 1, Max: 2, IsMaxEncoded: true},
			ExportSection: []*wasm.Export{{Type: wasm.ExternTypeMemory, Name: "memory"}},
		}
		for _, c := range codes {
			m.FunctionSection = append(m.FunctionSection, 0)
			m.CodeSection = append(m.CodeSection, c)
		}
		if data {
			m.DataSection = []*wasm.DataSegment{{
				OffsetExpression: &wasm.ConstantExpression{Opcode: wasm.OpcodeI32Const, Data: []byte{8}},
				Init:             bytes.Repeat([]byte{7}, 300),
			}}
		}
		return m
	}
	cases := []struct {
		name string
		m    *wasm.Module
	}{
		{"no locals", synthetic(false, &wasm.Code{Body: end})},
		{"one run", synthetic(false, &wasm.Code{LocalTypes: []wasm.ValueType{i32, i32, i32}, Body: end})},
		{"alternating runs", synthetic(true, &wasm.Code{LocalTypes: []wasm.ValueType{i32, i64, i64, i32, f64, f64, f64, i32}, Body: end})},
		{"long run and body", synthetic(true, &wasm.Code{LocalTypes: long, Body: bigBody}, &wasm.Code{Body: end})},
		{"no code", synthetic(true)},
		{"name section (wabin's path)", func() *wasm.Module {
			m := synthetic(false, &wasm.Code{Body: end})
			m.NameSection = &wasm.NameSection{ModuleName: "m"}
			return m
		}()},
	}
	for _, name := range testContracts {
		m, err := wbinary.DecodeModule(wasmCode[name], decodeFeatures)
		if err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		m.NameSection, m.CustomSections = nil, nil
		if len(m.CodeSection) == 0 {
			t.Fatalf("%s: no code section: the case would test nothing", name)
		}
		cases = append(cases, struct {
			name string
			m    *wasm.Module
		}{name, m})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := wbinary.EncodeModule(tc.m)
			got := encodeModule(tc.m)
			if !bytes.Equal(got, want) {
				i := 0
				for i < min(len(got), len(want)) && got[i] == want[i] {
					i++
				}
				t.Fatalf("encodeModule: %d bytes, wabin's %d; first difference at byte %d", len(got), len(want), i)
			}
			if cap(got) != len(got) && len(tc.m.CodeSection) > 0 && tc.m.NameSection == nil {
				t.Errorf("encodeModule: capacity %d for %d bytes: the size was not computed exactly", cap(got), len(got))
			}
		})
	}
}
