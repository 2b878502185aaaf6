// Command hostile is a test contract that misbehaves in every way the VM
// must contain. Each method fails its own call.
package main

import (
	"crypto/rand"
	"strings"
	"time"
	"unsafe"

	"github.com/trialchain/trialchain/sdk/contract"
)

var sink uint64

// loop never ends.
//
//go:wasmexport loop
func loop() {
	for {
		sink++
	}
}

//go:noinline
func recurse(n uint64) uint64 {
	if n == ^uint64(0) {
		return 0
	}
	return recurse(n+1) + 1
}

// recurse recurses without bound.
//
//go:wasmexport recurse
func recurseExport() { sink = recurse(sink) }

var keep [][]byte

// membomb allocates until memory runs out.
//
//go:wasmexport membomb
func membomb() {
	for {
		keep = append(keep, make([]byte, 1<<20))
	}
}

//go:wasmimport trialchain_v1 state_set
func stateSet(k unsafe.Pointer, kn uint32, v unsafe.Pointer, vn uint32)

//go:wasmimport trialchain_v1 emit_event
func emitEvent(t unsafe.Pointer, tn uint32, d unsafe.Pointer, dn uint32)

// badptr passes a range far outside guest memory.
//
//go:wasmexport badptr
func badptr() {
	stateSet(unsafe.Pointer(uintptr(0x10)), 4, unsafe.Pointer(uintptr(0xffff0000)), 0x8000)
}

// hugeevent emits a 1 MiB event.
//
//go:wasmexport hugeevent
func hugeevent() {
	contract.Emit("huge", make([]byte, 1<<20))
}

// manyevents emits 17 events of 16 KiB each (topic and data): each is
// within the per-event limit, together one over the call's receipt cap
// (abi.MaxEventBytes, 256 KiB).
//
//go:wasmexport manyevents
func manyevents() {
	for range 17 {
		contract.Emit("e", make([]byte, 16<<10-1))
	}
}

// foreign tries to write a key of another contract: its own write, and a key
// that spells out the other contract's address as a prefix.
//
//go:wasmexport foreign
func foreign() {
	other := contract.Input() // the victim's address + key
	contract.Set(other, []byte("pwned"))
	contract.Set([]byte("../"+string(other)), []byte("pwned"))
	contract.Return([]byte("done"))
}

// abort fails with a message after writing state.
//
//go:wasmexport abort
func abort() {
	contract.Set([]byte("x"), []byte("y"))
	contract.Abort("no consent on file for subject S-042")
}

// panics panics.
//
//go:wasmexport panics
func panics() {
	var m map[string]int
	m["boom"] = 1
}

// nondet tries every source of nondeterminism Go offers.
//
//go:wasmexport nondet
func nondet() {
	var b [16]byte
	_, _ = rand.Read(b[:])
	m := map[int]int{}
	for i := 0; i < 50; i++ {
		m[i] = i
	}
	var order strings.Builder
	for k := range m {
		order.WriteByte(byte('A' + k%26))
	}
	t0 := time.Now()
	time.Sleep(10 * time.Millisecond)
	contract.ReturnJSON(map[string]any{
		"rand":  b[:],
		"order": order.String(),
		"now":   t0.UnixNano(),
		"slept": time.Since(t0).Nanoseconds(),
	})
}

func main() {}
