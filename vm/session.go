package vm

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/trialchain/trialchain/vm/abi"
)

// BlockInfo is what a contract may observe of the block being executed.
type BlockInfo struct {
	Height        uint64
	TimeUnixMilli int64 // from the block header, never a local clock
}

// ConsentVerifier checks a combined threshold consent signature of a
// consent group over msg whose signed meaning must equal meaning; nil
// error means valid. It must be deterministic.
//
// The VM charges the host call's base price (GasTable.ConsentVerify) and
// the bytes moved; the verifier prices the rest, which depends on what the
// consent holds (signers, key size), by calling charge with it before it
// does that work. When charge returns false the call is out of gas: the
// verifier returns at once and the call fails with CodeOutOfGas.
type ConsentVerifier func(group, meaning string, msg, sig []byte, charge func(gas uint64) bool) error

// Governor backs the govern host function: it hands the running
// contract's upgrades to the consent group (64-hex id) or returns why not.
// It must be deterministic.
type Governor func(group string) error

// Call is one contract call.
type Call struct {
	// Contract is the contract's address; instances are per address.
	Contract [32]byte
	// Caller is the sender's ed25519 public key; CallerOrg and CallerRole
	// come from the chain's membership registry.
	Caller                ed25519.PublicKey
	CallerOrg, CallerRole string
	// TxHash is the hash of the transaction making the call.
	TxHash [32]byte
	// Method is the export to call; Args are its arguments (the SDK uses JSON).
	Method string
	Args   []byte
	// GasLimit bounds the gas of the call, instantiation included.
	GasLimit uint64
	// KV is the contract's state, scoped to it (see Prefixed). It is
	// changed only if the call succeeds.
	KV KV
	// ConsentVerify backs the consent_verify host function; nil: the
	// function fails the call with CodeUnsupported.
	ConsentVerify ConsentVerifier
	// Seals holds the contract's sealed keys and prefixes (see SealStore):
	// state_set and state_delete of a sealed key fail the call with
	// CodeSealed, state_seal records a seal in it. nil: nothing is sealed
	// and state_seal fails the call with CodeUnsupported. Seals are
	// written to it directly (not buffered with the call's writes): the
	// caller discards them if the call fails.
	Seals *SealStore
	// Govern backs the govern host function; nil: CodeUnsupported.
	Govern Governor
}

// Event is emitted by a contract.
type Event struct {
	Topic string
	Data  []byte
}

// Result is the deterministic outcome of a call: equal on every validator.
type Result struct {
	// Output is what the method passed to set_result (nil on failure).
	Output []byte
	// GasUsed is the gas consumed, instantiation included; GasLimit on out
	// of gas.
	GasUsed uint64
	// Events emitted (nil on failure).
	Events []Event
	// Writes are the state changes applied to Call.KV (nil on failure).
	Writes []Write
	// Err is nil on success, else a *CallError.
	Err *CallError
	// Scopes are the record sets the call joined (abi.FnRecordScope), in
	// the order joined; kept when the call fails after joining.
	Scopes []string
}

// Code classifies a failed call.
type Code uint8

// Failure codes. Their numeric values are stored in receipts: append only.
const (
	CodeOK          Code = iota
	CodeOutOfGas         // gas ran out (GasUsed == GasLimit)
	CodeCallDepth        // the call depth cap was reached
	CodeTrap             // a wasm trap, a Go panic in the contract, proc_exit
	CodeAbort            // the contract aborted with a message
	CodeBadPointer       // a host call passed a range outside guest memory
	CodeLimit            // a host call exceeded a size limit
	CodeBadInput         // bad call: arguments too large, host API misuse
	CodeNoMethod         // the method is not exported
	CodeUnsupported      // a host function not available on this chain
	CodeSealed           // a write or delete of a sealed key
	CodeDenied           // the chain refused a governance request (govern)
)

var codeNames = [...]string{"ok", "out of gas", "call depth exceeded", "trap", "abort",
	"bad pointer", "limit exceeded", "bad input", "no such method", "unsupported", "sealed", "denied"}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", uint8(c))
}

// CallError is a deterministic call failure.
type CallError struct {
	Code    Code
	Message string
}

func (e *CallError) Error() string {
	if e.Message == "" {
		return "vm: " + e.Code.String()
	}
	return "vm: " + e.Code.String() + ": " + e.Message
}

// Session executes the calls of one block. Every call runs on an instance
// at its module's snapshot (the state right after initialisation, taken
// once at Compile), reset right after the call, and pays
// GasTable.Instantiate plus GasTable.InstancePage per 64 KiB page it
// changed, so a call's result and gas depend on the call alone: not on its
// position in the block, on the calls before it (failed ones included),
// nor on whether this node had an instance at hand. Instances are kept
// for the session's later calls and, after Close, for later sessions;
// that only saves time.
//
// A Session is not safe for concurrent use: calls run in block order. Close
// it at the end of the block.
type Session struct {
	e             *Engine
	block         BlockInfo
	insts         map[[32]byte]*instance // looked up only, never iterated for results
	interruptible bool                   // a query session: see NewQuerySession
}

// NewSession starts the execution of a block.
func (e *Engine) NewSession(block BlockInfo) *Session {
	return &Session{e: e, block: block, insts: make(map[[32]byte]*instance)}
}

// NewQuerySession starts a session outside consensus (a read-only query)
// whose calls stop when their context ends: a deadline or a client gone
// away stops a guest that is looping within about gasSlice gas (a
// millisecond), and the call returns the context's error. Block sessions
// (NewSession) ignore their context while a guest runs: gas alone bounds
// them.
func (e *Engine) NewQuerySession(block BlockInfo) *Session {
	s := e.NewSession(block)
	s.interruptible = true
	return s
}

// Close ends the session; its instances go back to their modules for
// later sessions.
func (s *Session) Close(ctx context.Context) error {
	for k, in := range s.insts { // order is irrelevant: only releasing
		s.release(ctx, in)
		delete(s.insts, k)
	}
	return nil
}

// release returns in to its module's idle instances, or closes it if it
// cannot serve another call.
func (s *Session) release(ctx context.Context, in *instance) {
	if in.reusable() {
		in.module.idle.put(ctx, in)
		return
	}
	_ = in.close(ctx)
}

// instance is one instantiated contract.
type instance struct {
	module        *Module
	mod           api.Module
	gas           api.MutableGlobal
	depth, status api.MutableGlobal
	st            *callState
	globals       []api.MutableGlobal // the module's own mutable globals, in index order
	fns           map[string]api.Function
	mono          uint64        // monotonic clock, advanced by guest sleeps
	debug         []byte        // tail of stdout/stderr
	unmetered     bool          // an uninstrumented module (BenchmarkMetering only): host calls are free
	lm            *mappedMemory // the mapped linear memory (Linux); nil: heap memory, reset by copy
	pm            []byte        // pagemap scratch of reset
}

func (in *instance) close(ctx context.Context) error {
	if in.mod == nil {
		return nil
	}
	return in.mod.Close(ctx)
}

func (in *instance) debugWrite(b []byte, limit int) {
	if limit == 0 {
		return
	}
	if room := limit - len(in.debug); room > 0 {
		in.debug = append(in.debug, b[:min(room, len(b))]...)
	}
}

// debugTail returns the first line the guest wrote to stdout/stderr during
// this call (a Go panic's message) as a message suffix.
func (in *instance) debugTail() string {
	s := strings.TrimSpace(string(in.debug))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return ""
	}
	return ": " + s
}

// classify turns an error from a guest call into a CallError.
func (in *instance) classify(err error) *CallError {
	if f := in.st.failure; f != nil {
		return f
	}
	if in.st.overdrawn() { // per-block charging would have stopped earlier
		return &CallError{Code: CodeOutOfGas, Message: "out of gas"}
	}
	switch in.status.Get() {
	case statusOutOfGas:
		return &CallError{Code: CodeOutOfGas, Message: "out of gas"}
	case statusCallDepth:
		return &CallError{Code: CodeCallDepth, Message: fmt.Sprintf("call depth exceeds %d", in.st.e.cfg.MaxCallDepth)}
	}
	return &CallError{Code: CodeTrap, Message: firstLine(err.Error()) + in.debugTail()}
}

// Call runs one call. A deterministic failure (out of gas, trap, abort, ...)
// is reported in Result.Err with the gas used, and leaves Call.KV unchanged.
// The error return is for failures of the node,
// not the contract: a cancelled ctx or a KV error. Then the result is
// meaningless, the session should be closed and the block not committed.
//
// m must have been returned by Compile on the session's engine.
func (s *Session) Call(ctx context.Context, m *Module, c *Call) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	limit := min(c.GasLimit, maxGasLimit)
	switch {
	case len(c.Args) > abi.MaxArgsLen:
		return failed(0, CodeBadInput, "arguments of %d bytes exceed %d", len(c.Args), abi.MaxArgsLen), nil
	case !m.HasMethod(c.Method):
		return failed(0, CodeNoMethod, "%q", c.Method), nil
	}

	// Every call pays the same fixed price for its instance, and after it
	// runs, for the pages it changed (see Session).
	used := m.InstanceGas
	if used > limit {
		return failed(limit, CodeOutOfGas, "out of gas in instantiation"), nil
	}
	in, err := s.instance(ctx, m, c.Contract)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		// Compile proved instantiation works; failing now is a node fault.
		return Result{}, fmt.Errorf("vm: instantiate %x: %w", m.Hash[:8], err)
	}

	st := in.st
	*st = callState{e: s.e, inst: in, call: c, block: s.block, kv: NewOverlay(c.KV),
		stage: st.stage[:0], output: nil}
	if s.interruptible {
		st.stop = ctx
	}
	budget := limit - used
	in.gas.Set(min(budget, gasSlice))
	st.reserve = budget - min(budget, gasSlice)
	in.depth.Set(0)
	in.status.Set(statusOK)
	in.debug = in.debug[:0]

	fn := in.fns[c.Method]
	if fn == nil {
		fn = in.mod.ExportedFunction(c.Method)
		in.fns[c.Method] = fn
	}
	_, err = fn.Call(context.WithValue(ctx, stateKey{}, st))
	// After a trap the global may be below zero (charges since the guest's
	// last check, see overdrawn): the sum wraps to the right value.
	left := in.gas.Get() + st.reserve
	if err != nil && (st.nodeErr != nil || ctx.Err() != nil) {
		s.drop(ctx, c.Contract)
		if st.nodeErr != nil {
			return Result{}, fmt.Errorf("vm: state: %w", st.nodeErr)
		}
		return Result{}, ctx.Err()
	}
	// Back to the snapshot now, whatever the call did (a failure included),
	// so the instance is clean for the next call. The call pays for the
	// pages it changed: a pure function of the call.
	changed, rerr := in.reset()
	if rerr != nil {
		s.drop(ctx, c.Contract)
		return Result{}, fmt.Errorf("vm: reset %x: %w", m.Hash[:8], rerr)
	}
	if !in.reusable() { // grown past the snapshot: replaced (time, not gas)
		s.drop(ctx, c.Contract)
	}
	resetGas := s.e.cfg.Gas.InstancePage * changed
	if resetGas > left {
		st.call, st.kv, st.output, st.events, st.stop = nil, nil, nil, nil, nil
		return Result{GasUsed: limit, Err: &CallError{Code: CodeOutOfGas, Message: "out of gas in reset"}, Scopes: st.scopes}, nil
	}
	gas := limit - left + resetGas
	if err != nil {
		cerr := in.classify(err)
		if cerr.Code == CodeOutOfGas {
			gas = limit
		}
		return Result{GasUsed: gas, Err: cerr, Scopes: st.scopes}, nil
	}
	writes := st.kv.Writes()
	if err := st.kv.Commit(); err != nil {
		s.drop(ctx, c.Contract)
		return Result{}, fmt.Errorf("vm: state: %w", err)
	}
	res := Result{Output: st.output, GasUsed: gas, Events: st.events, Writes: writes, Scopes: st.scopes}
	st.call, st.kv, st.output, st.events, st.scopes, st.stop = nil, nil, nil, nil, nil, nil
	return res, nil
}

// instance returns the session's instance of m for contract, at m's
// snapshot: the session's own, an idle one of m, or a new one. Instances
// are reset after every call, so whichever it is, it is clean.
func (s *Session) instance(ctx context.Context, m *Module, contract [32]byte) (*instance, error) {
	in := s.insts[contract]
	if in != nil && in.module != m { // the contract's code changed within the block
		s.drop(ctx, contract)
		in = nil
	}
	if in == nil {
		if in = m.idle.get(); in == nil {
			var err error
			if in, err = s.e.newInstance(ctx, m); err != nil {
				return nil, err
			}
			if err := in.setUp(); err != nil {
				_ = in.close(ctx)
				return nil, err
			}
		}
		s.insts[contract] = in
	}
	return in, nil
}

func (s *Session) drop(ctx context.Context, contract [32]byte) {
	if in := s.insts[contract]; in != nil {
		_ = in.close(ctx)
		delete(s.insts, contract)
	}
}

func failed(gas uint64, code Code, format string, args ...any) Result {
	return Result{GasUsed: gas, Err: &CallError{Code: code, Message: fmt.Sprintf(format, args...)}}
}
