package block

import "github.com/hdevalence/ed25519consensus"

// VerifySignatures checks the signatures of txs in one batch: it returns
// nil if every one is valid, and otherwise a slice whose i-th error is
// txs[i].VerifySignature() (nil for the valid ones).
//
// # Notes
//
// Two or more signatures go through ed25519consensus's BatchVerifier,
// which accepts a batch exactly when VerifySignature accepts each of its
// signatures (both are ZIP-215, cofactored), at a fraction of the cost per
// signature. A batch that fails says only that one of them is bad: each
// is then verified on its own, so the answer, and the error each caller
// reports, is what VerifySignature gives, one transaction at a time.
//
// The batch draws random 128-bit coefficients (crypto/rand) that only
// bound the chance of a bad batch passing, below 2⁻¹²⁰: they never change
// the answer for valid signatures, so the outcome is deterministic.
//
// VerifySignatures runs on the calling goroutine; a caller spreads a
// large set across cores by calling it on disjoint parts.
func VerifySignatures(txs []*Tx) []error {
	switch len(txs) {
	case 0:
		return nil
	case 1: // a batch of one costs more than a single verification
		if err := txs[0].VerifySignature(); err != nil {
			return []error{err}
		}
		return nil
	}
	bv := ed25519consensus.NewPreallocatedBatchVerifier(len(txs))
	var msg []byte // Add keeps no reference: one buffer serves every message
	for _, tx := range txs {
		msg = tx.appendSigningBytes(msg[:0])
		bv.Add(tx.Sender, msg, tx.Signature) // a bad length fails the batch
	}
	if bv.Verify() {
		return nil
	}
	errs := make([]error, len(txs))
	for i, tx := range txs {
		errs[i] = tx.VerifySignature()
	}
	return errs
}
