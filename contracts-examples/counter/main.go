// Command counter is the smallest useful TrialChain contract: a counter that
// sites may increase. Build it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o counter.wasm ./contracts-examples/counter
package main

import "github.com/trialchain/trialchain/sdk/contract"

var count = contract.NewValue[int64]("count")

type addArgs struct {
	By int64 `json:"by"`
}

// add increases the counter by args.by and returns the new value.
//
//go:wasmexport add
func add() {
	contract.Handle(func(a addArgs) (any, error) {
		contract.RequireRole("site")
		n, _ := count.Get()
		n += a.By
		count.Set(n)
		contract.EmitJSON("added", a)
		return n, nil
	})
}

// get returns the counter.
//
//go:wasmexport get
func get() {
	n, _ := count.Get()
	contract.ReturnJSON(n)
}

func main() {}
