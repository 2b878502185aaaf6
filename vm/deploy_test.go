package vm

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/tetratelabs/wabin/wasm"
)

// startLoopModule has a wasm start function that never finishes.
func startLoopModule() []byte {
	start := uint32(0)
	return buildModule(nil, nil, []testFunc{
		{body: []byte{wasm.OpcodeLoop, 0x40, wasm.OpcodeBr, 0, wasm.OpcodeEnd, wasm.OpcodeEnd}},
		{body: []byte{wasm.OpcodeEnd}},
	}, map[string]uint32{"run": 1}, &start)
}

// forbiddenImportModule imports WASI's path_open-like escape hatch that we
// never offer: sock_open does not exist in our table.
func forbiddenImportModule() []byte {
	i32 := wasm.ValueTypeI32
	return buildModule(
		[]*wasm.Import{{Type: wasm.ExternTypeFunc, Module: "env", Name: "now", DescFunc: 0}},
		[]*wasm.FunctionType{{Results: []wasm.ValueType{i32}}},
		[]testFunc{{body: []byte{wasm.OpcodeEnd}}},
		map[string]uint32{"run": 1}, nil)
}

func TestDeployRejects(t *testing.T) {
	e := sharedEngine(t, false)
	i32 := wasm.ValueTypeI32
	empty := []testFunc{{body: []byte{wasm.OpcodeEnd}}}
	tooLarge := make([]byte, e.cfg.MaxCodeBytes+1)
	copy(tooLarge, loopModule(1))
	cases := []struct {
		name string
		code []byte
		want error
	}{
		{"malformed", []byte("\x00asm\x01\x00\x00\x00\x0a\xff\xff"), ErrInvalidModule},
		{"not wasm", []byte("#!/bin/sh\nrm -rf /\n"), ErrInvalidModule},
		{"empty", nil, ErrInvalidModule},
		{"too large", tooLarge, ErrCodeTooLarge},
		{"forbidden import", forbiddenImportModule(), ErrForbiddenImport},
		{"wasi import with a wrong signature", buildModule(
			[]*wasm.Import{{Type: wasm.ExternTypeFunc, Module: wasiModule, Name: "random_get", DescFunc: 0}},
			[]*wasm.FunctionType{{Params: []wasm.ValueType{i32}, Results: []wasm.ValueType{i32}}},
			empty, map[string]uint32{"run": 1}, nil), ErrForbiddenImport},
		{"unknown wasi function", buildModule(
			[]*wasm.Import{{Type: wasm.ExternTypeFunc, Module: wasiModule, Name: "sock_open", DescFunc: 0}},
			[]*wasm.FunctionType{{}},
			empty, map[string]uint32{"run": 1}, nil), ErrForbiddenImport},
		{"imported memory", func() []byte {
			b := buildModule(nil, nil, empty, map[string]uint32{"run": 0}, nil)
			return b
		}(), nil}, // control: valid
		{"exports nothing callable", buildModule(nil, nil, empty, nil, nil), ErrNoMethods},
		{"only a method with parameters", buildModule(nil, nil,
			[]testFunc{{params: []wasm.ValueType{i32}, body: []byte{wasm.OpcodeEnd}}},
			map[string]uint32{"run": 0}, nil), ErrNoMethods},
		{"reserved export name", buildModule(nil, nil, empty, map[string]uint32{"__tc_gas": 0, "run": 0}, nil), ErrInvalidModule},
		{"start function never finishes", startLoopModule(), ErrInitFailed},
		{"Go init never finishes", wasmCode["initloop"], ErrInitFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.Compile(context.Background(), c.code)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if err != nil {
				t.Logf("%v", err)
			}
		})
	}
}

func TestMinimalContract(t *testing.T) {
	e := sharedEngine(t, false)
	m := compile(t, e, "minimal")
	if !bytes.Equal([]byte(m.Methods[0]), []byte("run")) || len(m.Methods) != 1 {
		t.Fatalf("methods %v", m.Methods)
	}
	res := callOnce(t, e, m, &Call{Method: "run", GasLimit: 1e8})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	res = callOnce(t, e, m, &Call{Method: "nope", GasLimit: 1e8})
	if res.Err == nil || res.Err.Code != CodeNoMethod {
		t.Fatalf("unknown method: %+v", res)
	}
}
