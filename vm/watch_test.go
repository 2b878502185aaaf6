package vm

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/tetratelabs/wabin/wasm"
)

// loopForever is one method that loops forever without a host call.
func loopForever() []byte {
	body := []byte{wasm.OpcodeLoop, 0x40, wasm.OpcodeBr, 0, wasm.OpcodeEnd, wasm.OpcodeEnd}
	return buildModule(nil, nil, []testFunc{{body: body}}, map[string]uint32{"run": 0}, nil)
}

// TestQuerySessionStops: a query session's call that would run for
// (nearly) unbounded gas stops within a few milliseconds of its context's
// end — a deadline or a cancellation (the client went away) — on the
// compiler and the interpreter, in pure wasm, in Go code, and in a loop of
// host calls; the call returns the context's error and the session goes
// on serving calls.
func TestQuerySessionStops(t *testing.T) {
	const deadline = 100 * time.Millisecond
	calls := []struct {
		name     string
		code     func() []byte
		contract [32]byte
		method   string
		args     string
	}{
		{"wasm loop", loopForever, [32]byte{0xee}, "run", ""},
		{"Go loop", func() []byte { return wasmCode["counter"] }, addrCounter, "heavy", `{"n":4000000000000}`},
		{"host calls in a loop", func() []byte { return wasmCode["counter"] }, addrCounter, "writes", `{"n":4000000000000}`},
	}
	for _, interp := range []bool{false, true} {
		e := newTestEngine(t, interp)
		defer e.Close(context.Background())
		for _, c := range calls {
			for _, how := range []string{"deadline", "cancel"} {
				name := c.name + "/" + how
				if interp {
					name = "interpreter/" + name
				}
				t.Run(name, func(t *testing.T) {
					m, err := e.Compile(context.Background(), c.code())
					if err != nil {
						t.Fatal(err)
					}
					var ctx context.Context
					var cancel context.CancelFunc
					want := context.DeadlineExceeded
					if how == "deadline" {
						ctx, cancel = context.WithTimeout(context.Background(), deadline)
					} else {
						ctx, cancel = context.WithCancel(context.Background())
						time.AfterFunc(deadline, cancel)
						want = context.Canceled
					}
					defer cancel()
					s := e.NewQuerySession(BlockInfo{Height: 1, TimeUnixMilli: 1_700_000_000_000})
					defer s.Close(context.Background())
					start := time.Now()
					call := baseCall(c.contract, NewMemKV(), c.method, c.args)
					call.GasLimit = maxGasLimit
					res, err := s.Call(ctx, m, call)
					took := time.Since(start)
					if !errors.Is(err, want) {
						t.Fatalf("Call: %v (result %+v), want %v", err, res, want)
					}
					// Instantiation (a Go module's runtime start-up) runs first;
					// the stop itself takes about watchEvery.
					if took > deadline+400*time.Millisecond {
						t.Fatalf("stopped after %v, deadline %v", took, deadline)
					}
					t.Logf("stopped after %v (deadline %v)", took, deadline)
					// The session still serves: a bounded call succeeds.
					call = baseCall(addrCounter, NewMemKV(), "heavy", `{"n":10}`)
					mc, err := e.Compile(context.Background(), wasmCode["counter"])
					if err != nil {
						t.Fatal(err)
					}
					res, err = s.Call(context.Background(), mc, call)
					if err != nil || res.Err != nil {
						t.Fatalf("next call: %v / %v", err, res.Err)
					}
				})
			}
		}
	}
}

// TestQueryStopsDuringGC: a garbage collection that starts while a query's
// guest loops does not keep the guest running past its context. A
// goroutine in compiled wasm cannot be preempted, so a collection waits
// for the guest to return to Go; the guest does so every gasSlice gas
// (the refill import), where the stop is checked. Before, the collection
// waited for the guest's whole gas (3e9 here: 2.1 s), and nothing else in
// the process ran meanwhile (issue 13, TestNetwork's flake).
func TestQueryStopsDuringGC(t *testing.T) {
	const deadline = 100 * time.Millisecond
	for _, interp := range []bool{false, true} {
		e := newTestEngine(t, interp)
		m, err := e.Compile(context.Background(), loopForever())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		gc := time.AfterFunc(deadline/2, runtime.GC)
		s := e.NewQuerySession(BlockInfo{Height: 1, TimeUnixMilli: 1_700_000_000_000})
		start := time.Now()
		res, err := s.Call(ctx, m, &Call{Contract: [32]byte{0xee}, Method: "run", GasLimit: 3_000_000_000})
		took := time.Since(start)
		cancel()
		gc.Stop()
		_ = s.Close(context.Background())
		_ = e.Close(context.Background())
		if !errors.Is(err, context.DeadlineExceeded) || took > deadline+400*time.Millisecond {
			t.Fatalf("interpreter=%v: %v (%+v) after %v, want the deadline's error soon after %v", interp, err, res, took, deadline)
		}
		t.Logf("interpreter=%v: stopped after %v", interp, took)
	}
}
