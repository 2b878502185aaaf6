package vm

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
)

// GasTable prices execution. It is part of the chain's consensus rules: every
// validator must use the same table for the same height, so a change of any
// price is a new Version (the chain selects the table by height).
//
// Instruction prices are charged per basic block, in advance: when a block is
// entered its whole static price is charged (see RATIONALE.md). Host-function
// prices are charged by the host before the work is done.
type GasTable struct {
	// Version identifies this price list; it is part of the instrumentation
	// cache key, together with a hash of every field.
	Version uint32

	// Instr is the price of an instruction without a more specific price.
	// Structural instructions (block, loop, else, end, nop) are free.
	Instr uint64
	// Load and Store price memory accesses.
	Load, Store uint64
	// Call and CallIndirect price a call instruction (the callee's blocks are
	// priced separately).
	Call, CallIndirect uint64
	// DivRem prices integer division and remainder.
	DivRem uint64
	// Float prices floating-point arithmetic (each such instruction is
	// followed by an inline NaN canonicalisation).
	Float uint64
	// MemoryGrow is the static price of memory.grow; MemoryGrowPage is added
	// per requested 64 KiB page (charged even if the grow then fails).
	MemoryGrow, MemoryGrowPage uint64
	// Bulk is the static price of memory.copy/fill/init; BulkPer64Bytes is
	// added per whole 64 bytes of length.
	Bulk, BulkPer64Bytes uint64

	// HostCall is the base price of every host function call.
	HostCall uint64
	// HostPerByte is charged per byte moved between guest and host memory
	// (arguments, staged data, results).
	HostPerByte uint64
	// StateRead, StateWrite and StateDelete price one state access, on top of
	// HostCall and the bytes moved; StateWritePerByte is charged per byte of
	// key+value written (storage is the expensive resource).
	StateRead, StateWrite, StateWritePerByte, StateDelete uint64
	// ScanEntry is charged per entry returned by a state scan.
	ScanEntry uint64
	// Event and EventPerByte price emitting an event.
	Event, EventPerByte uint64
	// SHA256Per64Bytes is charged per started 64-byte block hashed.
	SHA256Per64Bytes uint64
	// Ed25519Verify and ConsentVerify price a signature verification.
	Ed25519Verify, ConsentVerify uint64
	// SealCheck is charged per seal lookup of a state write or delete
	// (one for the key, one per prefix of it ending with abi.SealSep) when
	// the chain keeps seals; Seal prices recording one seal, on top of
	// HostCall and StateWritePerByte per byte of the sealed key.
	SealCheck, Seal uint64
	// Instantiate is the fixed price every call pays for its instance
	// (kept at the module's snapshot, see Session), and InstancePage is
	// added per 64 KiB page of the snapshot's range whose content the
	// call changed (the reset after the call copies it back). Both are a
	// pure function of what the call did, whatever this node had at hand
	// and whichever reset path ran, so gas never depends on a call's
	// position in its block (see RATIONALE.md, "Reset in proportion to
	// what a call changed").
	Instantiate, InstancePage uint64
}

// DefaultGasTable returns version 3 of the price list (3: InstancePage is
// charged per page a call changed, not per page of the snapshot). One unit is roughly a
// nanosecond of work on a current x86-64 core with the compiler engine.
func DefaultGasTable() GasTable {
	return GasTable{
		Version:           3,
		Instr:             1,
		Load:              2,
		Store:             2,
		Call:              5,
		CallIndirect:      8,
		DivRem:            4,
		Float:             3,
		MemoryGrow:        1000,
		MemoryGrowPage:    2000,
		Bulk:              10,
		BulkPer64Bytes:    2,
		HostCall:          100,
		HostPerByte:       1,
		StateRead:         1000,
		StateWrite:        2000,
		StateWritePerByte: 10,
		StateDelete:       1000,
		ScanEntry:         200,
		Event:             500,
		EventPerByte:      5,
		SHA256Per64Bytes:  100,
		Ed25519Verify:     60000,
		ConsentVerify:     200000,
		SealCheck:         200,
		Seal:              2000,
		Instantiate:       50000,
		InstancePage:      8192,
	}
}

// maxPrice bounds every price so that inline arithmetic (a 32-bit length
// times a price) can never overflow 64 bits.
const maxPrice = 1 << 30

// validate checks every price is in range.
func (t GasTable) validate() error {
	v := reflect.ValueOf(t)
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() == reflect.Uint64 && f.Uint() > maxPrice {
			return fmt.Errorf("gas table field %s = %d exceeds %d", v.Type().Field(i).Name, f.Uint(), maxPrice)
		}
	}
	return nil
}

// fingerprint hashes every field (in declaration order), so two tables with
// the same Version but different prices can never share cached code.
func (t GasTable) fingerprint() [32]byte {
	h := sha256.New()
	v := reflect.ValueOf(t)
	var b [8]byte
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Uint64, reflect.Uint32:
			binary.LittleEndian.PutUint64(b[:], f.Uint())
		default:
			panic("vm: GasTable field of unexpected kind") // internal invariant
		}
		h.Write(b[:])
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// errOutOfGasHost is the panic value a host function uses when the guest
// cannot pay for it.
var errOutOfGasHost = errors.New("vm: out of gas in host call")
