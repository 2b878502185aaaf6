//go:build wasm

package contract

import (
	"unsafe"

	"github.com/trialchain/trialchain/vm/abi"
)

// The raw host API (see package vm/abi for the contract of each function).

//go:wasmimport trialchain_v1 input_len
func hInputLen() uint32

//go:wasmimport trialchain_v1 take
func hTake(ptr unsafe.Pointer)

//go:wasmimport trialchain_v1 set_result
func hSetResult(ptr unsafe.Pointer, n uint32)

//go:wasmimport trialchain_v1 state_get
func hStateGet(k unsafe.Pointer, kn uint32) int32

//go:wasmimport trialchain_v1 state_set
func hStateSet(k unsafe.Pointer, kn uint32, v unsafe.Pointer, vn uint32)

//go:wasmimport trialchain_v1 state_delete
func hStateDelete(k unsafe.Pointer, kn uint32)

//go:wasmimport trialchain_v1 state_scan
func hStateScan(p unsafe.Pointer, pn uint32, a unsafe.Pointer, an uint32, max uint32) uint32

//go:wasmimport trialchain_v1 caller
func hCaller(ptr unsafe.Pointer)

//go:wasmimport trialchain_v1 caller_org
func hCallerOrg() uint32

//go:wasmimport trialchain_v1 caller_role
func hCallerRole() uint32

//go:wasmimport trialchain_v1 contract
func hContract(ptr unsafe.Pointer)

//go:wasmimport trialchain_v1 block_height
func hBlockHeight() uint64

//go:wasmimport trialchain_v1 block_time
func hBlockTime() int64

//go:wasmimport trialchain_v1 tx_hash
func hTxHash(ptr unsafe.Pointer)

//go:wasmimport trialchain_v1 emit_event
func hEmitEvent(t unsafe.Pointer, tn uint32, d unsafe.Pointer, dn uint32)

//go:wasmimport trialchain_v1 sha256
func hSHA256(p unsafe.Pointer, n uint32, out unsafe.Pointer)

//go:wasmimport trialchain_v1 ed25519_verify
func hEd25519Verify(pk unsafe.Pointer, msg unsafe.Pointer, n uint32, sig unsafe.Pointer) uint32

//go:wasmimport trialchain_v1 consent_verify
func hConsentVerify(g unsafe.Pointer, gn uint32, n unsafe.Pointer, nn uint32, m unsafe.Pointer, mn uint32, s unsafe.Pointer, sn uint32) uint32

//go:wasmimport trialchain_v1 state_seal
func hStateSeal(k unsafe.Pointer, kn uint32, prefix uint32)

//go:wasmimport trialchain_v1 govern
func hGovern(g unsafe.Pointer, gn uint32)

//go:wasmimport trialchain_v1 abort
func hAbort(ptr unsafe.Pointer, n uint32)

//go:wasmimport trialchain_v1 record_scope
func hRecordScope(ptr unsafe.Pointer, n uint32)

func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

func strptr(s string) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.StringData(s))
}

// take copies n staged bytes out of the host into the arena (scratch):
// they are never changed afterwards.
func take(n uint32) []byte {
	if n == 0 {
		return []byte{}
	}
	b := scratch(int(n))
	hTake(ptr(b))
	return b
}

// takeString is take as a string sharing the bytes (never changed).
func takeString(n uint32) string {
	b := take(n)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// The caller's organisation and role, once read in a call. They start
// unset in every call: the VM resets the instance to its snapshot, taken
// after initialisation, where the host refuses these calls.
var callerOrgSeen, callerRoleSeen *string

type wasmHost struct{}

func (wasmHost) input() []byte { return take(hInputLen()) }

func (wasmHost) setResult(b []byte) { hSetResult(ptr(b), uint32(len(b))) }

func (wasmHost) get(key []byte) ([]byte, bool) {
	n := hStateGet(ptr(key), uint32(len(key)))
	if n == abi.Absent {
		return nil, false
	}
	return take(uint32(n)), true
}

func (wasmHost) set(key, value []byte) {
	hStateSet(ptr(key), uint32(len(key)), ptr(value), uint32(len(value)))
}

func (wasmHost) del(key []byte) { hStateDelete(ptr(key), uint32(len(key))) }

func (wasmHost) scan(prefix, after []byte, max int) []byte {
	return take(hStateScan(ptr(prefix), uint32(len(prefix)), ptr(after), uint32(len(after)), uint32(max)))
}

func (wasmHost) caller() (pk [32]byte) {
	hCaller(unsafe.Pointer(&pk[0]))
	return pk
}

func (wasmHost) callerOrg() string {
	if callerOrgSeen == nil {
		s := takeString(hCallerOrg())
		callerOrgSeen = &s
	}
	return *callerOrgSeen
}

func (wasmHost) callerRole() string {
	if callerRoleSeen == nil {
		s := takeString(hCallerRole())
		callerRoleSeen = &s
	}
	return *callerRoleSeen
}

func (wasmHost) self() (a [32]byte) {
	hContract(unsafe.Pointer(&a[0]))
	return a
}

func (wasmHost) height() uint64   { return hBlockHeight() }
func (wasmHost) timeMilli() int64 { return hBlockTime() }

func (wasmHost) txHash() (h [32]byte) {
	hTxHash(unsafe.Pointer(&h[0]))
	return h
}

func (wasmHost) emit(topic string, data []byte) {
	hEmitEvent(strptr(topic), uint32(len(topic)), ptr(data), uint32(len(data)))
}

func (wasmHost) sha256(b []byte) (h [32]byte) {
	hSHA256(ptr(b), uint32(len(b)), unsafe.Pointer(&h[0]))
	return h
}

func (wasmHost) ed25519Verify(pk *[32]byte, msg []byte, sig *[64]byte) bool {
	return hEd25519Verify(unsafe.Pointer(&pk[0]), ptr(msg), uint32(len(msg)), unsafe.Pointer(&sig[0])) == 1
}

func (wasmHost) consentVerify(group, meaning string, msg, sig []byte) bool {
	return hConsentVerify(strptr(group), uint32(len(group)), strptr(meaning), uint32(len(meaning)), ptr(msg), uint32(len(msg)), ptr(sig), uint32(len(sig))) == 1
}

func (wasmHost) recordScope(name string) { hRecordScope(strptr(name), uint32(len(name))) }

func (wasmHost) seal(key []byte, prefix bool) {
	var p uint32
	if prefix {
		p = 1
	}
	hStateSeal(ptr(key), uint32(len(key)), p)
}

func (wasmHost) govern(group string) { hGovern(strptr(group), uint32(len(group))) }

func (wasmHost) abort(msg string) {
	hAbort(strptr(msg), uint32(len(msg)))
	panic("unreachable: abort returned")
}

var host hostAPI = wasmHost{}
