package contracts

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/vm"
)

// DefaultQueryGas is the gas cap of a query when its caller sets none
// (Query.MaxGas): a query runs on the node's API, outside consensus, for
// anyone, so its cap is far below a transaction's (genesis max_tx_gas,
// 1e9 by default): 20M gas is about 20 ms of a loop on this machine.
const DefaultQueryGas = 20_000_000

// ErrQueryStopped is a query stopped by its context (its deadline, or the
// client went away) before it finished; it wraps the context's error.
var ErrQueryStopped = errors.New("contracts: query stopped")

// Query is a read-only call.
type Query struct {
	Contract block.Hash
	Method   string
	Args     []byte
	// GasLimit bounds the call (0: the cap; capped at it).
	GasLimit uint64
	// MaxGas is the cap of GasLimit, set by the node (0: DefaultQueryGas).
	MaxGas uint64
}

// QueryResult is the outcome of a query. A failed call is a result, not an
// error: Err is set (its Code says why) and Output is empty.
type QueryResult struct {
	Output  []byte
	Events  []block.Event // what the call would have emitted
	GasUsed uint64
	Err     error // nil on success; a *vm.CallError or a chain refusal (e.g. ErrBadEvent)
}

// Query runs q against r, the latest committed state, as if in a block
// with context bc (the node passes its head's height and time), without
// consensus: nothing it writes is kept (a consent it verifies is not
// marked used). The caller is anonymous: a zero key, empty org and role.
// It runs in a vm.Session of its own, so the contract is instantiated for
// it.
//
// # Errors
//
// ErrNoContract if there is no contract at q.Contract; ErrQueryStopped
// (wrapping ctx's error) if ctx ended first; or a node failure (storage,
// a closed engine). A contract's failure is reported in
// QueryResult.Err.
func (rt *Runtime) Query(ctx context.Context, r state.Reader, bc state.BlockContext, q Query) (*QueryResult, error) {
	capGas := q.MaxGas
	if capGas == 0 {
		capGas = DefaultQueryGas
	}
	limit := q.GasLimit
	if limit == 0 || limit > capGas {
		limit = capGas
	}
	// A query session stops the guest when ctx ends (vm.NewQuerySession):
	// the node gives ctx its deadline and the client's connection.
	sess := rt.engine.NewQuerySession(vm.BlockInfo{Height: bc.Height, TimeUnixMilli: bc.TimeUnixMilli})
	defer sess.Close(context.Background())
	ov := state.NewOverlay(r)
	m := &meter{limit: limit}
	out, events, err := rt.run(ctx, sess, nil, bc, ov, &invocation{
		contract: q.Contract, method: q.Method, args: q.Args, caller: make(ed25519.PublicKey, ed25519.PublicKeySize),
	}, m)
	switch {
	case errors.Is(err, state.ErrNodeFault):
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrQueryStopped, context.Cause(ctx))
		}
		return nil, fmt.Errorf("contracts: query: %w", err)
	case errors.Is(err, ErrNoContract):
		return nil, err
	case err != nil:
		return &QueryResult{GasUsed: m.used, Err: err}, nil
	}
	return &QueryResult{Output: out, Events: events, GasUsed: m.used}, nil
}

// Info is what Runtime.Info reports about a contract.
type Info struct {
	Contract
	CodeSize int
	Methods  []string // callable exports, sorted
}

// Info returns the record of the contract at addr in r with its code size
// and methods.
//
// # Errors
//
// ErrNoContract if there is none; a node failure otherwise.
func (rt *Runtime) Info(ctx context.Context, r state.Reader, addr block.Hash) (*Info, error) {
	rec, err := Lookup(r, addr)
	if err != nil {
		return nil, err
	}
	code, err := Code(r, rec)
	if err != nil {
		return nil, err
	}
	st, err := rt.engine.Check(code) // remembered by hash; compiles nothing
	if err != nil {
		return nil, fmt.Errorf("contracts: contract %s: %w", addr, err)
	}
	return &Info{Contract: *rec, CodeSize: st.Size, Methods: append([]string(nil), st.Methods...)}, nil
}
