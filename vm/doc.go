// Package vm runs TrialChain contracts: WebAssembly modules built from Go
// (GOOS=wasip1, -buildmode=c-shared, //go:wasmexport methods; see package
// sdk/contract) on wazero, deterministically and with gas metering. It is
// the only importer of wazero and wabin.
//
// # Usage
//
// One Engine per node; one Session per block; calls in block order:
//
//	e, err := vm.NewEngine(ctx, cfg)            // cfg := vm.DefaultConfig(); cfg.CacheDir = dataDir+"/vm"
//	defer e.Close(ctx)
//
//	// Deploy (and, after a restart, load): validates, instruments, compiles,
//	// and trial-instantiates; cached in memory by code hash and on disk.
//	m, err := e.Compile(ctx, code)              // err wraps ErrInvalidModule, ErrForbiddenImport, ...
//
//	// Execute a block.
//	sess := e.NewSession(vm.BlockInfo{Height: h, TimeUnixMilli: header.Time})
//	for _, tx := range block.Txs {
//		res, err := sess.Call(ctx, m, &vm.Call{
//			Contract: addr, Caller: pk, CallerOrg: org, CallerRole: role, TxHash: txHash,
//			Method: method, Args: args, GasLimit: limit,
//			KV: vm.Prefixed(blockState, addr[:]), // scoped to the contract
//		})
//		if err != nil { /* node failure (I/O): abort the block, do not commit */ }
//		// res.Err == nil: res.Writes were applied to KV; res.Output, res.Events.
//		// res.Err != nil: KV is unchanged; record res.Err.Code/Message and res.GasUsed.
//	}
//	sess.Close(ctx)
//
// Ownership and ordering: an Engine is safe for concurrent use (several
// blocks may be executed at once, e.g. a replay beside consensus); a Session
// is not (its calls are the block's order). Modules are immutable and
// shared. Results are deterministic: every validator, and a validator
// restarted in the middle of a block that re-executes it from the start,
// gets the same Output, Events, Writes, Err and GasUsed. Nothing is durable
// here: the caller persists the writes with the block.
//
// # Instance lifetime
//
// Compile runs a module's initialisation (start function, _initialize)
// once and keeps a snapshot of the result: linear memory and globals.
// Every call runs on an instance at that snapshot, reset right after the
// call, and pays for it: Module.InstanceGas (GasTable.Instantiate) plus
// GasTable.InstancePage per 64 KiB page whose content the call changed (on
// Linux the memory is a private mapping of the snapshot and only the pages
// the kernel saw written are compared and copied back; elsewhere the whole
// memory is compared: same gas). So its result and gas do not depend on
// what ran before it: not its position in the block, not a failed call by
// someone else, not whether this node had an instance at hand. Package-level variables of a contract therefore never
// carry over from one call to the next. Instances are reused (within a
// session, then from a small pool per module) only to save time; one
// whose memory grew past the snapshot's is replaced.
//
// # Determinism
//
// The guest sees no wall clock, randomness, environment, filesystem,
// network or host threads: the WASI subset Go's runtime imports is
// implemented here (wasi.go) with the block time as the clock, zeros as
// random bytes, empty args and environment, a monotonic clock that only
// advances when the guest sleeps, stdout/stderr captured (a Go panic's first
// line becomes the failure message). Float results that are NaN are
// canonicalised by the instrumentation. SIMD, threads, reference types and
// tail calls are refused at deploy. The interpreter and the compiler agree
// (TestDifferential).
//
// # Gas and limits
//
// The module is instrumented before compilation (see RATIONALE.md): each
// basic block charges its static price from an exported i64 global, and
// traps with a status global set to "out of gas" when the gas would go
// negative; call sites count the call depth (Config.MaxCallDepth); memory
// is capped by Config.MaxMemoryPages; memory.grow and bulk memory
// instructions charge by size. Host functions charge GasTable prices by the
// bytes they move and the work they do. Out of gas reports GasUsed ==
// GasLimit.
//
// # Host API (import module "trialchain_v1", ABI version 1)
//
// Pointers and lengths are i32; see package vm/abi for exact semantics and
// size limits. Variable-size results are staged and fetched with take.
//
//	input_len() -> i32                       stage the call arguments
//	take(ptr)                                copy the staged bytes to ptr
//	set_result(ptr, len)                     the call's output
//	state_get(kptr, klen) -> i32             stage value; -1 if absent
//	state_set(kptr, klen, vptr, vlen)
//	state_delete(kptr, klen)
//	state_scan(pptr, plen, aptr, alen, max) -> i32   stage a page of entries after key a
//	caller(ptr)                              32-byte ed25519 key of the sender
//	caller_org() -> i32, caller_role() -> i32        stage the sender's org / role
//	contract(ptr)                            32-byte address of this contract
//	block_height() -> i64, block_time() -> i64       (Unix ms)
//	tx_hash(ptr)                             32-byte transaction hash
//	emit_event(tptr, tlen, dptr, dlen)
//	sha256(ptr, len, out)
//	ed25519_verify(pk, msg, msglen, sig) -> i32      1 valid, 0 not
//	consent_verify(gptr, glen, nptr, nlen, mptr, mlen, sptr, slen) -> i32   via Call.ConsentVerify; n = the required meaning
//	state_seal(kptr, klen, prefix)           make a key (or every key under a prefix ending in '/') write-once, via Call.Seals
//	govern(gptr, glen)                       hand the contract's upgrades to a consent group, via Call.Govern
//	abort(ptr, len)                          fail the call with a message
//
// A state key is scoped by the KV the chain passes (Prefixed with the
// contract address): no key a contract can name is outside its namespace.
// Every pointer/length pair is bounds-checked; a bad one fails the call with
// CodeBadPointer, never the node. Context-dependent functions are not
// available during a module's initialisation.
//
// # Errors
//
// Compile returns ErrCodeTooLarge, ErrInvalidModule (malformed, unsupported
// instruction, no "memory" export, reserved export name), ErrForbiddenImport
// (an import outside the table above and the WASI subset, or with another
// signature), ErrNoMethods, or ErrInitFailed (start function or _initialize
// trapped or did not finish within Config.InitGasLimit). Call failures are
// a *CallError with a Code: OutOfGas, CallDepth, Trap, Abort, BadPointer,
// Limit, BadInput, NoMethod, Unsupported, Sealed (a write or delete of a
// sealed key), Denied (govern refused).
package vm
