package vm

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/tetratelabs/wabin/binary"
	"github.com/tetratelabs/wabin/wasm"
)

// memoryHash returns the SHA-256 of the contract instance's linear memory.
func memoryHash(t testing.TB, s *Session, contract [32]byte) [32]byte {
	t.Helper()
	in := s.insts[contract]
	if in == nil {
		return [32]byte{}
	}
	mem := in.mod.Memory()
	b, ok := mem.Read(0, mem.Size())
	if !ok {
		t.Fatal("memory read")
	}
	return sha256.Sum256(b)
}

// wasmModule builds a small hand-written module: one memory (exported as
// "memory"), the given imports, functions and exports.
type testFunc struct {
	params, results []wasm.ValueType
	locals          []wasm.ValueType
	body            []byte
}

func buildModule(imports []*wasm.Import, importTypes []*wasm.FunctionType, funcs []testFunc, exports map[string]uint32, start *uint32) []byte {
	m := &wasm.Module{MemorySection: &wasm.Memory{Min: 1, Max: 1, IsMaxEncoded: true}}
	m.TypeSection = append(m.TypeSection, importTypes...)
	m.ImportSection = imports
	for _, f := range funcs {
		m.TypeSection = append(m.TypeSection, &wasm.FunctionType{Params: f.params, Results: f.results})
		m.FunctionSection = append(m.FunctionSection, uint32(len(m.TypeSection)-1))
		m.CodeSection = append(m.CodeSection, &wasm.Code{LocalTypes: f.locals, Body: f.body})
	}
	m.ExportSection = append(m.ExportSection, &wasm.Export{Type: wasm.ExternTypeMemory, Name: "memory"})
	names := make([]string, 0, len(exports))
	for n := range exports {
		names = append(names, n)
	}
	sortStrings(names)
	for _, n := range names {
		m.ExportSection = append(m.ExportSection, &wasm.Export{Type: wasm.ExternTypeFunc, Name: n, Index: exports[n]})
	}
	m.StartSection = start
	return binary.EncodeModule(m)
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// callOnce runs one call in a fresh session.
func callOnce(t testing.TB, e *Engine, m *Module, c *Call) Result {
	t.Helper()
	ctx := context.Background()
	s := e.NewSession(BlockInfo{Height: 1, TimeUnixMilli: 1_700_000_000_000})
	defer s.Close(ctx)
	res, err := s.Call(ctx, m, c)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
