// Package model holds the clinical-trial data shared by the three trial
// contracts (contracts-examples/trial-protocol, genome-access,
// surgical-records) and the host side (package trials and the CLI): the
// JSON arguments of every contract method, the records the contracts keep
// in state, and the pure rules both sides apply — case-report-form
// validation, the outcome-reporting report, the GA4GH DUO access decision,
// the digests that consents sign.
//
// It imports only the standard library and never reads a clock, a random
// source or the environment, so a contract compiled to WebAssembly and a
// client on a laptop apply exactly the same rules: a client can check what
// it is about to send and say what to fix before the chain refuses it.
//
// # Determinism
//
// Everything here is a function of its arguments. Maps are only iterated in
// sorted key order; numbers in forms are decimal strings compared exactly
// (see Decimal), never floats; times are RFC 3339 UTC strings, and the
// contracts take "now" from the block.
//
// # Errors
//
// Validation errors are *Error values carrying a short code (e.g.
// "out-of-range") and a message that says what to fix; errors.Is matches
// them against the sentinel Err… values by code.
package model
