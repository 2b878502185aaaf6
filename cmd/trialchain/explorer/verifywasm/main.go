//go:build js && wasm

// Command verifywasm is the bundle verifier (chain/proof/bundle) compiled
// to WebAssembly for the explorer's auditor page: the browser verifies a
// bundle against a genesis file itself, trusting no server. It exports one
// function to JavaScript:
//
//	trialchainVerify(bundle Uint8Array, genesis Uint8Array) →
//	    {verified: bool, summary: string, failures: [string]}
//
// Build: GOOS=js GOARCH=wasm go build -o verify.wasm ./cmd/trialchain/explorer/verifywasm
// (make wasm).
package main

import (
	"fmt"
	"syscall/js"

	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof/bundle"
)

func main() {
	js.Global().Set("trialchainVerify", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 2 {
			return result(false, "want a bundle and a genesis file", nil)
		}
		return verify(bytesOf(args[0]), bytesOf(args[1]))
	}))
	select {} // serve calls until the page goes away
}

func bytesOf(v js.Value) []byte {
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b
}

func verify(bundleBytes, genesisBytes []byte) map[string]any {
	g, err := genesis.Parse(genesisBytes)
	if err != nil {
		return result(false, fmt.Sprintf("the genesis file is not valid: %v", err), nil)
	}
	b, err := bundle.Decode(bundleBytes)
	if err != nil {
		return result(false, "the bundle could not be read", bundle.Words(nil, err, nil))
	}
	res, err := bundle.Verify(b, g)
	if err != nil {
		return result(false, fmt.Sprintf("chain %s: the bundle does NOT verify against this genesis", g.ChainID), bundle.Words(b, err, nil))
	}
	return result(true, fmt.Sprintf("chain %s: %d records re-hashed and proven under checkpoints certified by a quorum of the genesis validators",
		g.ChainID, len(res.Records)), nil)
}

func result(ok bool, summary string, failures []string) map[string]any {
	fs := make([]any, len(failures))
	for i, f := range failures {
		fs[i] = f
	}
	return map[string]any{"verified": ok, "summary": summary, "failures": fs}
}
