//go:build wasm

package contract

import "runtime"

// heapReserve is how much free heap a contract instance starts every call
// with. The VM resets an instance to its state right after initialisation
// before each call, and an instance whose memory grew past that state
// must be replaced (wasm memory cannot shrink), which costs milliseconds.
// Go's runtime grows the wasm memory only when its heap has no free
// pages, so the SDK allocates this much once during initialisation and
// collects it: the pages stay mapped and free, and a call's allocations
// reuse them (the collector runs, deterministically, before the heap
// outgrows them: its minimum goal is 4 MiB).
const heapReserve = 2 << 20

func init() {
	b := make([]byte, heapReserve)
	runtime.KeepAlive(b)
	b = nil
	runtime.GC()
}
