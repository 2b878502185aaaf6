// Package bundle is the offline evidence of TrialChain: a self-contained
// file of committed records with everything needed to check them against
// the genesis file alone — no node, no network — and the pure function that
// checks it.
//
// # What a bundle holds
//
//   - the genesis hash and chain id it is for;
//   - one or more certified checkpoints (header + commit certificate), in
//     ascending height, linked by consistency proofs;
//   - records, in ascending leaf order: the signed transaction bytes, the
//     receipt (the record-log leaf data, which carries the Part 11
//     manifestation a trial contract returns: printed name, meaning, UTC
//     block time, signer key and organisation), the inclusion proof of the
//     receipt in a checkpoint's log, the code hash of the contract version
//     that executed a call, and the threshold consents the call used;
//   - the deploy and upgrade records of every contract called (the code
//     itself only with Options.WithCode: a Go contract is megabytes) and the
//     registration of every consent group whose consent was used;
//   - off-chain payloads the exporter chose to include, each with the place
//     its hash is committed (an anchor, or a JSON pointer into a call's
//     arguments such as /recordHash).
//
// The file is indented JSON in one canonical form (Encode); Decode refuses
// anything else, so changing any byte either breaks decoding or changes a
// value that Verify re-checks. Two labels are for people only and not
// evidence: the scope and the payload names.
//
// # Usage
//
// Exporting (what to fetch; src is a node behind sdk/client, or a store):
//
//	b, err := bundle.Export(ctx, src, chainID, genesisHash, bundle.Options{Scope: "trial:T1", Select: sel})
//	res, err := bundle.Verify(b, g)          // never write what does not verify
//	os.WriteFile("trial.bundle.json", b.Encode(), 0o644)
//
// Verifying (how to check; pure, offline):
//
//	g, err := genesis.Load("genesis.json")
//	b, err := bundle.Decode(data)
//	res, err := bundle.Verify(b, g)          // res.Records: what verified
//	var e *bundle.Error
//	if errors.As(err, &e) { fmt.Println(e.Record, e.TxHash, e.Part) }
//
// # What Verify re-computes
//
// Nothing in the bundle is taken on trust: the genesis hash, every
// validator-set change (valset.go: walked from the genesis set, each
// proven by a quorum of the set in force before it and by the validator
// organisations' consent), every checkpoint certificate (a quorum of the
// ed25519 signatures of the validators in force at its height over the
// header), each consistency proof, each receipt's leaf
// hash and audit path to a certified root, each transaction's hash (it must
// be the receipt's) and ed25519 signature, each call's code version (from
// the deploy and upgrade receipts before it; their code re-hashed when
// present), each consent (RSA threshold signature, member attestations,
// bound to the call's contract and method, and recorded as used by the
// receipt), each payload's SHA-256 against its record's commitment.
//
// # Errors
//
// Verify returns Failures, every failed check as an *Error naming the
// record (position, transaction hash, leaf index) and the part, wrapping
// one of ErrGenesis, ErrCheckpoint, ErrConsistency, ErrInclusion, ErrTx,
// ErrSignature, ErrReceipt, ErrCodeHash, ErrConsent, ErrPayload. Decode
// wraps ErrMalformed.
//
// # Limits
//
// A bundle proves its records are in the certified log; it cannot prove
// that no other record of a trial exists (completeness needs state proofs,
// issue 6 item 4) — the audit report says so. The newest block's records
// are certified only once a later block exists: Export leaves them out.
package bundle
