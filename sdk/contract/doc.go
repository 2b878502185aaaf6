// Package contract is the SDK for TrialChain contracts written in plain Go.
//
// A contract is a package main built for WASI preview 1 as a library:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o counter.wasm ./contracts-examples/counter
//
// Each method is a //go:wasmexport function with no parameters and no
// results; its export name is the method name. Arguments arrive as JSON
// (Args, or Handle which also encodes the result and turns an error into an
// aborted call). main must exist and is never called.
//
// State (Get, Set, Delete, Scan; typed Value and Map) is the contract's own:
// the chain scopes every key to the contract's address, so a contract cannot
// read or write another contract's keys. A call that aborts, panics, traps or
// runs out of gas has no effect on state and emits no events.
//
// # Determinism
//
// Contracts run in a deterministic sandbox: time.Now returns the block time,
// crypto/rand and math/rand seeds are all zeros (never use them for secrets),
// there is no filesystem, network or environment, and output written to
// stdout/stderr is only kept (truncated) as a diagnostic of a failed call.
// Every call starts from the state right after initialisation (package
// variables and init functions): nothing a call leaves in package-level
// variables is seen by the next call, in the same block or another, so a
// call's result and gas depend on the call alone. Keep everything that
// matters in state. Work done during initialisation (at deploy, once) is
// not paid again by calls: prepare the JSON encoding of argument types
// there (Prepare).
//
// # Example
//
//	package main
//
//	import "github.com/trialchain/trialchain/sdk/contract"
//
//	var count = contract.NewValue[int64]("count")
//
//	type addArgs struct{ By int64 }
//
//	//go:wasmexport add
//	func add() {
//		contract.Handle(func(a addArgs) (any, error) {
//			contract.RequireRole("site")
//			n, _ := count.Get()
//			n += a.By
//			count.Set(n)
//			contract.EmitJSON("added", a)
//			return n, nil
//		})
//	}
//
//	func main() {}
//
// # Records that must not change
//
// Write a record once, then Seal it (or Map.Seal): no later transaction,
// under this code or any code the contract is upgraded to, can change or
// delete it; change means a new record that references the sealed one.
// SealPrefix (Map.SealUnder) closes a whole prefix, present and future
// keys (a database lock). Create record ids with Map.Create, which never
// replaces an existing record. A method that needs a group's approval
// passes the meaning it requires to VerifyConsent ("approve amendment"): a
// consent that means anything else is refused. Govern hands the
// contract's upgrades to a consent group, so that no single party can
// change the code that holds the records. vm/RATIONALE.md explains what an
// upgrade may and may not touch.
//
// # Refusals, logs and record sets
//
// Refuse returns an error whose message starts with a code
// ("not-holder: ..."), so the failed receipt says which rule refused the
// call. Journal is an append-only log per subject whose entries are
// created once and sealed; Counter numbers records. Call TryRecordScope
// (or RecordScope) with the subject's record set before any check: a
// refused call writes nothing, but its receipt is then a record of the set,
// where an auditor finds every refusal (contracts-examples/record-sharing,
// claims, drug-trace).
//
// The package imports only vm/abi and the standard library.
package contract
