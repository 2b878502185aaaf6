package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/trialchain/trialchain/chain/witness"
)

// Witness cosignatures in a bundle (Bundle.Witnesses): statements by
// organisations outside the validator set that the bundle's latest
// checkpoint lies on the one history they have seen (package witness).
// Verify does not look at them; VerifyWitnesses checks them against the
// witness keys a verifier trusts.

// MaxWitnesses bounds the cosignatures of one bundle.
const MaxWitnesses = 64

// ErrWitness is a bundle without the witness cosignatures a verifier
// requires (missing, forged, or of another checkpoint).
var ErrWitness = errors.New("bundle: not witnessed as required")

// checkWitnesses is Decode's structural check of the cosignatures (each
// decoded strictly by witness.ParseCosignatureJSON).
func checkWitnesses(cs []*witness.Cosignature) error {
	if len(cs) > MaxWitnesses {
		return fmt.Errorf("%w: %d witness cosignatures, limit %d", ErrMalformed, len(cs), MaxWitnesses)
	}
	for i, c := range cs {
		if c == nil {
			return fmt.Errorf("%w: witness cosignature %d is null", ErrMalformed, i)
		}
	}
	return nil
}

// Witnessed is a trusted witness's valid cosignature of the bundle's
// latest checkpoint.
type Witnessed struct {
	Witness     witness.PublicKey
	Cosignature *witness.Cosignature
}

// WitnessFailure is a trusted witness whose cosignature in the bundle does
// not count, and why.
type WitnessFailure struct {
	Witness witness.PublicKey
	Err     error // wraps witness.ErrBadSignature, witness.ErrMismatch...
}

// WitnessResult is what VerifyWitnesses established.
type WitnessResult struct {
	Height    uint64 // the latest checkpoint's height
	Threshold int
	Witnessed []Witnessed         // trusted witnesses that cosigned it, in the order given
	Invalid   []WitnessFailure    // trusted witnesses whose cosignature does not count
	Missing   []witness.PublicKey // trusted witnesses with no cosignature in the bundle
	Unknown   int                 // cosignatures by keys not trusted (ignored)
}

// OK reports whether at least Threshold witnesses cosigned.
func (r *WitnessResult) OK() bool { return len(r.Witnessed) >= r.Threshold }

// VerifyWitnesses checks that at least threshold of the trusted witnesses
// cosigned exactly the bundle's latest checkpoint: a cosignature counts
// for a trusted witness when it carries its name and key, its ed25519
// signature verifies, and it names that checkpoint's chain id, height,
// block hash, log size and root and state root. Cosignatures by other keys
// are ignored (C2SP); a trusted key given twice counts once. It is a pure
// function; call it after Verify (which checks the checkpoint's
// certificate).
//
// # Errors
//
// An *Error (Record -1, Part "witnesses") wrapping ErrWitness, naming each
// trusted witness that is missing or whose cosignature is invalid, and
// why; a threshold outside 1..len(trusted).
func VerifyWitnesses(b *Bundle, trusted []witness.PublicKey, threshold int) (*WitnessResult, error) {
	var keys []witness.PublicKey
	for _, pk := range trusted {
		dup := false
		for _, k := range keys {
			dup = dup || bytes.Equal(k.Key, pk.Key)
		}
		if !dup {
			keys = append(keys, pk)
		}
	}
	if threshold < 1 || threshold > len(keys) {
		return nil, fmt.Errorf("bundle: witness threshold %d, want 1..%d (the distinct witness keys given)", threshold, len(keys))
	}
	cp := b.Latest()
	if cp == nil {
		return nil, &Error{Record: -1, Part: "witnesses", Err: fmt.Errorf("%w: the bundle has no checkpoint", ErrWitness)}
	}
	res := &WitnessResult{Height: cp.Height(), Threshold: threshold}
	for _, c := range b.Witnesses {
		known := false
		for _, k := range keys {
			known = known || bytes.Equal(c.Key, k.Key)
		}
		if !known {
			res.Unknown++
		}
	}
	for _, pk := range keys {
		var found []*witness.Cosignature
		for _, c := range b.Witnesses {
			if bytes.Equal(c.Key, pk.Key) {
				found = append(found, c)
			}
		}
		if len(found) == 0 {
			res.Missing = append(res.Missing, pk)
			continue
		}
		var why error
		for _, c := range found {
			err := c.VerifyBy(pk)
			if err == nil {
				err = c.Matches(cp)
			}
			if err == nil {
				why = nil
				res.Witnessed = append(res.Witnessed, Witnessed{Witness: pk, Cosignature: c})
				break
			}
			why = err
		}
		if why != nil {
			res.Invalid = append(res.Invalid, WitnessFailure{Witness: pk, Err: why})
		}
	}
	if res.OK() {
		return res, nil
	}
	// One format with a %w per invalid cosignature, so that errors.Is sees
	// why each failed (witness.ErrBadSignature, witness.ErrMismatch...).
	var format strings.Builder
	args := []any{ErrWitness, len(res.Witnessed), threshold, cp.Height(), cp.Hash()}
	format.WriteString("%w: %d of the %d required witnesses cosigned the bundle's checkpoint (block %d, %s)")
	for _, f := range res.Invalid {
		format.WriteString("; witness %s: %w")
		args = append(args, f.Witness, f.Err)
	}
	for _, pk := range res.Missing {
		format.WriteString("; witness %s: no cosignature in the bundle")
		args = append(args, pk)
	}
	return res, &Error{Record: -1, Part: "witnesses", Err: fmt.Errorf(format.String(), args...)}
}
