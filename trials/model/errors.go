package model

import "fmt"

// Error is a refusal: Code classifies it, Msg says what is wrong and what to
// fix. Contracts abort with Error() as the message.
type Error struct {
	Code string
	Msg  string
}

func (e *Error) Error() string { return e.Code + ": " + e.Msg }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func errf(code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Sentinel errors, matched by code with errors.Is.
var (
	ErrInvalid       = &Error{Code: "invalid"}          // malformed input
	ErrForbidden     = &Error{Code: "forbidden"}        // caller may not do this
	ErrNotFound      = &Error{Code: "not-found"}        // no such trial, subject, record...
	ErrExists        = &Error{Code: "exists"}           // already there
	ErrState         = &Error{Code: "wrong-state"}      // not allowed in the current state
	ErrConsent       = &Error{Code: "consent-required"} // missing or invalid consent
	ErrRequired      = &Error{Code: "missing-required"} // a required form field is missing
	ErrOutOfRange    = &Error{Code: "out-of-range"}     // a value outside its declared range
	ErrType          = &Error{Code: "wrong-type"}       // a value of the wrong type
	ErrUnit          = &Error{Code: "wrong-unit"}       // a value in another unit
	ErrUnknownField  = &Error{Code: "unknown-field"}    // a field the form does not declare
	ErrExpired       = &Error{Code: "expired"}          // a grant past its expiry
	ErrRevoked       = &Error{Code: "revoked"}          // a revoked grant
	ErrNotAllowedOrg = &Error{Code: "site-not-allowed"} // a site not allowed by the protocol
)
