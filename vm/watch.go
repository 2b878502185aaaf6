package vm

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// watchdog stops a running guest when its context ends, for sessions
// outside consensus (queries). wazero can only interrupt compiled code
// with WithCloseOnContextDone, which costs every loop iteration of every
// call (measured 2.6x on a JSON call, 5.8x on a tight loop: see
// RATIONALE.md), so the engine keeps it off and the watchdog uses the
// metering instead: it zeroes the guest's gas global, and the next metered
// segment traps out of gas. The guest's own read-modify-write of the
// global may overwrite one zero, so the watchdog repeats it every
// watchEvery until the call returns. Host functions run under mu (the
// watchdog never writes the global while one reads or writes it) and stop
// at their next charge once stopped is set.
//
// The watchdog is a goroutine: it needs a free scheduler slot (P) while
// guests run, because a goroutine in compiled wasm is not preemptible. The
// node raises GOMAXPROCS above its cores plus its query limit for that
// (node.reserveProcs). A garbage collection that stops the world waits
// for running guests too; then the query's gas cap is what ends it.
type watchdog struct {
	mu      sync.Mutex
	stopped atomic.Bool
}

// watchEvery is how often a stopped guest's gas is zeroed again.
const watchEvery = time.Millisecond

// check fails the call if the watchdog has stopped it. The failure's code
// does not matter: Session.Call reports the context's error instead.
func (w *watchdog) check(st *callState) {
	if w.stopped.Load() {
		st.fail(CodeOutOfGas, "stopped: the call's context ended")
	}
}

// guard starts watching in for ctx; call the returned function when the
// guest has returned. With a nil watchdog (block execution) it does
// nothing.
func (w *watchdog) guard(ctx context.Context, in *instance) (done func()) {
	if w == nil || ctx.Done() == nil {
		return func() {}
	}
	w.stopped.Store(false)
	finished := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-finished:
			return
		case <-ctx.Done():
		}
		w.stopped.Store(true)
		t := time.NewTicker(watchEvery)
		defer t.Stop()
		for {
			w.mu.Lock()
			in.gas.Set(0)
			w.mu.Unlock()
			select {
			case <-finished:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(finished)
		<-exited
	}
}
