//go:build !wasm

package contract

import "github.com/trialchain/trialchain/sdk/jsonfast"

// scratch returns n bytes (see arena_wasm.go; outside wasm, the heap).
func scratch(n int) []byte { return make([]byte, n) }

// getDecoder returns a decoder (see arena_wasm.go); putDecoder drops it.
func getDecoder() *jsonfast.Decoder { return new(jsonfast.Decoder) }
func putDecoder(*jsonfast.Decoder)  {}
