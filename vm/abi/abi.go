// Package abi holds the constants and byte layouts shared by the host side
// of the TrialChain contract VM (package vm) and the guest side
// (package sdk/contract, compiled to WebAssembly).
//
// It imports nothing, so a contract that links it stays small, and the two
// sides cannot drift apart: a change here is a change of the ABI and must
// bump [Version] (and the import module name) if it is not backwards
// compatible.
//
// # Calling convention
//
// A contract method is an exported WebAssembly function with no parameters
// and no results (in Go: a //go:wasmexport function with no parameters); the
// export name is the method name. The host calls it with the instance's gas,
// depth and status globals reset. The method pulls its arguments with
// [FnInputLen]/[FnTake], and returns its result with [FnSetResult]. It fails
// the call with [FnAbort] (a contract error, with a message).
//
// Variable-size results of host functions (input, state values, scan pages,
// caller org and role) use one staging buffer per call: the host function
// returns the length n of the staged bytes (or [Absent]) and the guest copies
// them into its memory with [FnTake](ptr), which copies exactly n bytes and
// clears the staging buffer. Any host call that stages replaces what was
// staged before.
//
// Every pointer/length pair is checked against the guest's memory; an
// out-of-range pair traps the call (status Trap), never the node.
package abi

// Version is the ABI version; the import module name carries it.
const Version = 1

// Module is the import module name of the host API.
const Module = "trialchain_v1"

// Host function names in [Module]. Signatures use WebAssembly types; pointers
// and lengths are i32 (Go: uint32 / int32).
const (
	// FnInputLen () -> i32: stages the call arguments, returns their length.
	FnInputLen = "input_len"
	// FnTake (ptr i32): copies the staged bytes to ptr and clears the stage.
	FnTake = "take"
	// FnSetResult (ptr, len i32): sets the call's output (last call wins).
	FnSetResult = "set_result"
	// FnStateGet (kptr, klen i32) -> i32: stages the value of key, returns its
	// length, or Absent.
	FnStateGet = "state_get"
	// FnStateSet (kptr, klen, vptr, vlen i32).
	FnStateSet = "state_set"
	// FnStateDelete (kptr, klen i32).
	FnStateDelete = "state_delete"
	// FnStateScan (pptr, plen, aptr, alen, max i32) -> i32: stages a page of
	// at most max entries (and at most MaxScanBytes) whose keys start with the
	// prefix and sort strictly after the key at aptr (alen 0: from the first),
	// in ascending key order, encoded as repeated
	// [u32le klen][key][u32le vlen][value]; returns the page's byte length.
	FnStateScan = "state_scan"
	// FnCaller (ptr i32): writes the caller's 32-byte ed25519 public key.
	FnCaller = "caller"
	// FnCallerOrg () -> i32: stages the caller's organisation.
	FnCallerOrg = "caller_org"
	// FnCallerRole () -> i32: stages the caller's role.
	FnCallerRole = "caller_role"
	// FnContract (ptr i32): writes the 32-byte address of the running contract.
	FnContract = "contract"
	// FnBlockHeight () -> i64.
	FnBlockHeight = "block_height"
	// FnBlockTime () -> i64: block time, Unix milliseconds (from the header).
	FnBlockTime = "block_time"
	// FnTxHash (ptr i32): writes the 32-byte transaction hash.
	FnTxHash = "tx_hash"
	// FnEmitEvent (tptr, tlen, dptr, dlen i32): appends an event (topic, data).
	FnEmitEvent = "emit_event"
	// FnSHA256 (ptr, len, out i32): writes the 32-byte SHA-256 of the input.
	FnSHA256 = "sha256"
	// FnEd25519Verify (pk, msg, msglen, sig i32) -> i32: 1 valid, 0 invalid;
	// pk is 32 bytes, sig 64 bytes.
	FnEd25519Verify = "ed25519_verify"
	// FnConsentVerify (gptr, glen, nptr, nlen, mptr, mlen, sptr, slen i32) -> i32:
	// 1 valid, 0 invalid. Verifies a combined threshold consent signature of
	// a consent group over a message (the verifier is supplied by the chain)
	// whose signed meaning is exactly the meaning at nptr (e.g. "approve
	// amendment"): a consent that means something else is refused.
	FnConsentVerify = "consent_verify"
	// FnAbort (ptr, len i32): fails the call with a message; never returns.
	FnAbort = "abort"
	// FnRecordScope (ptr, len i32): the running transaction's record joins
	// the record set named by the bytes (e.g. "trial:NCT05503693"), kept by
	// the chain, not the contract: the state commits to each set's ordered
	// list of records, so an export proves it holds all of them. A call
	// joins at most MaxScopes sets (the same name twice counts once), and
	// it joins them even if it fails afterwards, so refused attempts stay
	// in the record. Names are 1..MaxScopeLen printable ASCII bytes (no
	// space); names starting with a ReservedScopePrefixes entry are the
	// chain's own and trap.
	FnRecordScope = "record_scope"
)

// ReservedScopePrefixes name the record sets only the chain maintains:
// every deploy and upgrade of a contract ("code:" + hex address) and every
// registration of a member key ("member:" + hex key), every binding of a
// name in the contract registry ("pin:" + name).
var ReservedScopePrefixes = []string{"code:", "member:", "pin:"}

// ValidScopeName reports why name cannot name a record set a contract
// joins ("" if it can).
func ValidScopeName(name string) string {
	if len(name) == 0 || len(name) > MaxScopeLen {
		return "a record set name has 1 to 128 bytes"
	}
	for i := 0; i < len(name); i++ {
		if name[i] <= ' ' || name[i] > '~' {
			return "a record set name is printable ASCII without spaces"
		}
	}
	for _, p := range ReservedScopePrefixes {
		if len(name) >= len(p) && name[:len(p)] == p {
			return "record sets named " + p + "… are kept by the chain itself"
		}
	}
	return ""
}

// Write-once state and code governance (see vm/RATIONALE.md, "Sealed
// state and code governance").
const (
	// FnStateSeal (kptr, klen, prefix i32): seals the key (prefix 0) or
	// every key starting with it (prefix 1; the prefix must end with
	// [SealSep]): from then on state_set and state_delete of a sealed key
	// fail the call with status Sealed, in this call and in every later
	// transaction, under any code the contract is upgraded to. Sealing is
	// idempotent and cannot be undone.
	FnStateSeal = "state_seal"
	// FnGovern (gptr, glen i32): hands the contract's upgrades to the
	// consent group whose 64-hex id is at gptr (see chain/contracts); a
	// refusal fails the call with status Denied.
	FnGovern = "govern"
)

// SealSep ends every sealed prefix: a write checks its own key and each
// prefix of it that ends with SealSep, so the cost of the check is bounded
// by the key's separators, not by the number of seals.
const SealSep = '/'

// Absent is returned by FnStateGet for a missing key.
const Absent = -1

// Size limits enforced by the host (a violation traps the call with
// status BadInput).
const (
	MaxKeyLen     = 1024
	MaxValueLen   = 64 << 10
	MaxTopicLen   = 128       // = block.MaxNameBytes: a receipt event type holds it
	MaxEventLen   = 16 << 10  // event data
	MaxEvents     = 256       // events per call
	MaxEventBytes = 256 << 10 // topics and data of all the events of one call (a receipt's size cap)
	MaxArgsLen    = 64 << 10
	MaxResultLen  = 64 << 10
	MaxAbortLen   = 1024
	MaxScanBytes  = 128 << 10
	MaxGroupLen   = 256
	MaxMeaningLen = 256
	MaxConsentSig = 4096
	MaxScopeLen   = 128 // a record set name (FnRecordScope)
	MaxScopes     = 4   // record sets one call joins
	HashLen       = 32
	PublicKeyLen  = 32
	SignatureLen  = 64
)
