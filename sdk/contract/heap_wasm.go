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

// After the collection, init allocates one object of each small size
// class, with and without pointers, and drops it: the allocator's
// per-class spans are then cached in the snapshot, so a call's first
// allocation of a class does not go to the central lists and the page
// heap (span set-up, the collector's pacing) on every call. The objects
// are garbage at once, so a call that does collect (one that allocates
// megabytes) sweeps them as before.
var (
	primeBytes []byte
	primePtrs  []*byte
)

func init() {
	b := make([]byte, heapReserve)
	runtime.KeepAlive(b)
	b = nil
	runtime.GC()
	for _, n := range [...]int{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192} {
		primeBytes = make([]byte, n)
		primePtrs = make([]*byte, n/8)
		primePtrs = make([]*byte, (n-8)/8) // over 512 bytes, an object with pointers carries an 8-byte header
	}
	primeBytes, primePtrs = nil, nil
}
