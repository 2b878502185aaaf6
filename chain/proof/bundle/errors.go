package bundle

import (
	"errors"
	"fmt"
	"strings"

	"github.com/trialchain/trialchain/chain/block"
)

// What failed; match with errors.Is. Every failure Verify reports is an
// *Error wrapping one of these (and, where there is one, the lower
// layer's error: proof.ErrInclusion, genesis.ErrCertificate,
// block.ErrBadSignature, a consent error...).
var (
	ErrMalformed   = errors.New("bundle: malformed bundle")
	ErrGenesis     = errors.New("bundle: bundle is for another genesis")
	ErrCheckpoint  = errors.New("bundle: checkpoint not certified by the validators in force at its height")
	ErrConsistency = errors.New("bundle: checkpoints are not consistent (forked or rewritten log)")
	ErrInclusion   = errors.New("bundle: record not in the certified log")
	ErrTx          = errors.New("bundle: transaction invalid")
	ErrSignature   = errors.New("bundle: transaction signature invalid")
	ErrReceipt     = errors.New("bundle: receipt does not belong to the transaction")
	ErrCodeHash    = errors.New("bundle: contract code version not proven")
	ErrConsent     = errors.New("bundle: consent invalid")
	ErrPayload     = errors.New("bundle: payload does not match its commitment")
	ErrIncomplete  = errors.New("bundle: incomplete")
	ErrForeign     = errors.New("bundle: foreign record")
	ErrSigner      = errors.New("bundle: signer not an active member")
	ErrSetChange   = errors.New("bundle: validator-set change not proven")
)

// Error is one failed check. Record is the position of the record in the
// bundle (-1 when the failure is not about one record: genesis,
// checkpoints); TxHash and Leaf name it as the chain does.
type Error struct {
	Record int
	TxHash block.Hash // zero when not known
	Leaf   uint64
	Part   string // what was checked: "transaction signature", "inclusion proof", `payload "crf.json"`...
	Err    error  // wraps one of the Err… sentinels
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Record >= 0 {
		fmt.Fprintf(&b, "record %d", e.Record)
		if !e.TxHash.IsZero() {
			fmt.Fprintf(&b, " (tx %s, leaf %d)", e.TxHash, e.Leaf)
		} else {
			fmt.Fprintf(&b, " (leaf %d)", e.Leaf)
		}
		b.WriteString(": ")
	}
	if e.Part != "" {
		b.WriteString(e.Part)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Failures is every failed check of one Verify, in bundle order. errors.Is
// and errors.As see each of them.
type Failures []*Error

// maxFailures bounds what Verify collects: a wholly corrupt bundle says
// enough after this many.
const maxFailures = 100

func (f Failures) Error() string {
	if len(f) == 1 {
		return f[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d checks failed:", len(f))
	for i, e := range f {
		if i == 20 {
			fmt.Fprintf(&b, "\n  … and %d more", len(f)-i)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns every failure.
func (f Failures) Unwrap() []error {
	out := make([]error, len(f))
	for i, e := range f {
		out[i] = e
	}
	return out
}
