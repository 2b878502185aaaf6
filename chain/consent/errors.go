package consent

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers (the CLI, the VM host function) can map an error to an
// exit code or a result code with errors.Is.
var (
	// ErrMalformed: an encoding (group file, sealed share, signed share,
	// consent) does not decode, or a value is out of range.
	ErrMalformed = errors.New("consent: malformed encoding")
	// ErrInvalidGroup: a group definition or ceremony input is not usable.
	ErrInvalidGroup = errors.New("consent: invalid group")
	// ErrInvalidInput: an action, request or manifestation is not usable.
	ErrInvalidInput = errors.New("consent: invalid input")
	// ErrTooFewShares: fewer valid shares (or attested signers) than the
	// group's threshold.
	ErrTooFewShares = errors.New("consent: too few shares")
	// ErrUnknownParty: a share names a party that is not in the group.
	ErrUnknownParty = errors.New("consent: party not in group")
	// ErrDuplicateParty: two shares or signers name the same party.
	ErrDuplicateParty = errors.New("consent: duplicate party")
	// ErrWrongGroup: a share or consent is for another consent group.
	ErrWrongGroup = errors.New("consent: for another consent group")
	// ErrWrongChain: a share or consent is for another chain.
	ErrWrongChain = errors.New("consent: for another chain")
	// ErrWrongAction: a share or consent is for another action.
	ErrWrongAction = errors.New("consent: for another action")
	// ErrWrongMeaning: a share's meaning differs from the agreed one.
	ErrWrongMeaning = errors.New("consent: for another meaning")
	// ErrBadAttestation: a party's ed25519 attestation does not verify
	// (forged, or the share, manifestation or request was altered).
	ErrBadAttestation = errors.New("consent: forged or invalid attestation")
	// ErrCorruptShare: an RSA signature share is out of range or does not
	// combine into a valid signature.
	ErrCorruptShare = errors.New("consent: corrupted signature share")
	// ErrBadSignature: the combined RSA signature does not verify.
	ErrBadSignature = errors.New("consent: invalid threshold signature")
	// ErrWrongMemberKey: the member key given does not belong to the party.
	ErrWrongMemberKey = errors.New("consent: member key does not match the party")
	// ErrSealedShare: an HPKE-sealed key share cannot be opened.
	ErrSealedShare = errors.New("consent: cannot open sealed share")
)

// ShareError says which input share an error is about.
//
// Combine returns one ShareError per refused share, joined with
// errors.Join; errors.As finds the first, errors.Is finds any sentinel.
type ShareError struct {
	Party int    // 1-based party index as claimed by the share
	Name  string // party name in the group, "" if the party is unknown
	Err   error  // one of the sentinel errors, possibly wrapped with detail
}

func (e *ShareError) Error() string {
	who := "party " + strconv.Itoa(e.Party)
	if e.Name != "" {
		who += " (" + e.Name + ")"
	}
	return fmt.Sprintf("share from %s: %v", who, e.Err)
}

func (e *ShareError) Unwrap() error { return e.Err }

// BadSharesError is returned by Combine when the attested shares do not
// combine into a valid signature. CIRCL's threshold RSA is not robust: it
// cannot check a single share. Combine therefore tries subsets of the
// shares; when it has more shares than the threshold it can name the bad
// ones (Isolated is true). With exactly the threshold it cannot tell which
// share is bad, Isolated is false and Parties lists every suspect.
type BadSharesError struct {
	Parties  []int    // party indexes, ascending
	Names    []string // party names, same order
	Isolated bool
}

func (e *BadSharesError) Error() string {
	var b strings.Builder
	for i, p := range e.Parties {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "party %d (%s)", p, e.Names[i])
	}
	if e.Isolated {
		return fmt.Sprintf("%v from %s", ErrCorruptShare, b.String())
	}
	return fmt.Sprintf("%v among %s; supply more shares than the threshold to find which", ErrCorruptShare, b.String())
}

func (e *BadSharesError) Unwrap() error { return ErrCorruptShare }

func malformed(what, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, what, fmt.Sprintf(format, args...))
}
