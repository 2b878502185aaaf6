//go:build !wasm

package contract

// scratch returns n bytes (see arena_wasm.go; outside wasm, the heap).
func scratch(n int) []byte { return make([]byte, n) }
