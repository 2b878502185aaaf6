package witness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
)

// Refusals of Check; match with errors.Is. Each refusal wraps exactly one
// of the first six; the three kinds of fork also wrap ErrFork.
var (
	ErrNotCertified  = errors.New("witness: checkpoint is not certified by a quorum of the genesis validators")
	ErrWrongChain    = errors.New("witness: checkpoint is for another chain")
	ErrOldSize       = errors.New("witness: old size is not the witness's latest cosigned size")
	ErrRollback      = errors.New("witness: rollback: the log shrank at a later block")
	ErrInconsistent  = errors.New("witness: the checkpoint's log is not consistent with the witness's latest (fork)")
	ErrRootConflict  = errors.New("witness: same log size, different root (fork)")
	ErrBlockConflict = errors.New("witness: two certified blocks at one height (fork)")
	ErrBadRequest    = errors.New("witness: malformed add-checkpoint request")

	// ErrFork is wrapped by ErrInconsistent, ErrRootConflict and
	// ErrBlockConflict refusals: two certified histories that cannot both
	// be true. A witness that refuses with it has caught a split view.
	ErrFork = errors.New("FORK")
)

// ConflictError is an ErrOldSize refusal: the request's old size is not the
// witness's latest cosigned size (C2SP's 409 Conflict). The client fetches
// a consistency proof from Size and asks again.
type ConflictError struct {
	Size uint64 // the witness's latest cosigned log size
	Got  uint64 // the request's old size
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%v: the request says %d, the witness's latest cosigned checkpoint has a log of %d records (send a consistency proof from %d)", ErrOldSize, e.Got, e.Size, e.Size)
}

func (e *ConflictError) Unwrap() error { return ErrOldSize }

// Request is an add-checkpoint request (C2SP tlog-witness, in JSON): a
// certified checkpoint, the log size of the witness's latest cosigned
// checkpoint the client believes (OldSize; 0 for a witness that has
// cosigned nothing), and a consistency proof between the two logs — from
// OldSize to the checkpoint's size when the checkpoint is newer, from the
// checkpoint's size to OldSize when it is older (a Prefix statement).
type Request struct {
	OldSize    uint64
	Proof      []block.Hash
	Checkpoint *proof.Checkpoint
}

type requestJSON struct {
	OldSize    uint64            `json:"old_size"`
	Proof      []block.Hash      `json:"proof"`
	Checkpoint *proof.Checkpoint `json:"checkpoint"`
}

// MaxRequestBytes bounds an add-checkpoint request.
const MaxRequestBytes = proof.MaxCheckpointBytes + 8<<10

// Encode is the request's JSON.
func (r *Request) Encode() []byte {
	j := requestJSON{OldSize: r.OldSize, Proof: r.Proof, Checkpoint: r.Checkpoint}
	if j.Proof == nil {
		j.Proof = []block.Hash{}
	}
	b, err := json.Marshal(j)
	if err != nil {
		panic(fmt.Sprintf("witness: request json: %v", err)) // hashes, numbers, a checkpoint
	}
	return b
}

// DecodeRequest decodes an add-checkpoint request strictly: unknown fields,
// trailing data, more than proof.MaxProofHashes hashes, a missing or
// malformed checkpoint are refused. It checks nothing else: see Check.
//
// # Errors
//
// Wraps ErrBadRequest.
func DecodeRequest(b []byte) (*Request, error) {
	if len(b) > MaxRequestBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadRequest, len(b), MaxRequestBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j requestJSON
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the request", ErrBadRequest)
	}
	switch {
	case j.Checkpoint == nil:
		return nil, fmt.Errorf("%w: no checkpoint", ErrBadRequest)
	case len(j.Proof) > proof.MaxProofHashes:
		return nil, fmt.Errorf("%w: %d proof hashes, limit %d", ErrBadRequest, len(j.Proof), proof.MaxProofHashes)
	}
	return &Request{OldSize: j.OldSize, Proof: j.Proof, Checkpoint: j.Checkpoint}, nil
}

// Check is the witness's decision, a pure function: may a witness whose
// latest cosigned statement is last (nil: it has cosigned nothing), for
// the chain of genesis g, cosign req.Checkpoint, and with which statement?
// It checks, in order:
//
//  1. the checkpoint is of g's chain (ErrWrongChain);
//  2. it is certified by a quorum of g's validators (ErrNotCertified);
//  3. req.OldSize is the witness's latest size (*ConflictError);
//  4. against last: the same block again → Latest (a fresh cosignature);
//     another block at the same height → ErrBlockConflict; the same log
//     size with another root → ErrRootConflict; a later block whose log
//     is smaller → ErrRollback; a later block whose log the proof does not
//     show to extend last's (or, for the very next block, whose header
//     does not name last's block as its parent) → ErrInconsistent; a
//     later block that passes → Latest; an earlier block whose log the
//     proof shows to be a prefix of last's → Prefix (the witness's state
//     does not move back), else ErrInconsistent.
//
// The caller persists the new state (for Latest) before it answers;
// checking and persisting must be one atomic step (Witness.Add holds a
// lock across both).
func Check(g *genesis.Genesis, last *Cosignature, req *Request) (Statement, error) {
	return CheckAgainst(g, g, last, req)
}

// CheckAgainst is Check with the certificate checked against vals: on a
// chain whose validator set changes, the sets walked from g's set through
// the certified set changes (a genesis.History), so that a checkpoint is
// certified by the set in force at its height — a validator's signature
// counts neither before it was added nor after it was removed.
func CheckAgainst(g *genesis.Genesis, vals proof.Validators, last *Cosignature, req *Request) (Statement, error) {
	cp := req.Checkpoint
	if cp == nil {
		return 0, fmt.Errorf("%w: no checkpoint", ErrBadRequest)
	}
	h := &cp.Header
	if h.ChainID != g.ChainID {
		return 0, fmt.Errorf("%w: block %d is of chain %q, this witness follows %q", ErrWrongChain, h.Height, h.ChainID, g.ChainID)
	}
	if err := cp.Verify(vals); err != nil {
		return 0, fmt.Errorf("%w: block %d: %w", ErrNotCertified, h.Height, err)
	}
	var lastSize uint64
	if last != nil {
		lastSize = last.LogSize
	}
	if req.OldSize != lastSize {
		return 0, &ConflictError{Size: lastSize, Got: req.OldSize}
	}
	if last == nil {
		if len(req.Proof) != 0 {
			return 0, fmt.Errorf("%w: a first checkpoint (old size 0) needs an empty proof, got %d hashes", ErrBadRequest, len(req.Proof))
		}
		return Latest, nil
	}
	hash := cp.Hash()
	switch {
	case hash == last.BlockHash && h.Height == last.Height:
		if len(req.Proof) != 0 {
			return 0, fmt.Errorf("%w: the same checkpoint again needs an empty proof", ErrBadRequest)
		}
		return Latest, nil
	case h.Height == last.Height:
		return 0, fmt.Errorf("%w: %w: block %d is %s, the witness cosigned %s at that height", ErrFork, ErrBlockConflict, h.Height, hash, last.BlockHash)
	case h.LogSize == last.LogSize && h.LogRoot != last.LogRoot:
		return 0, fmt.Errorf("%w: %w: block %d's log of %d records has root %s, the witness cosigned root %s for that size (block %d)",
			ErrFork, ErrRootConflict, h.Height, h.LogSize, h.LogRoot, last.LogRoot, last.Height)
	case h.Height > last.Height:
		if h.LogSize < last.LogSize {
			return 0, fmt.Errorf("%w: block %d has a log of %d records, the witness cosigned %d records at block %d", ErrRollback, h.Height, h.LogSize, last.LogSize, last.Height)
		}
		if h.Height == last.Height+1 && h.PrevHash != last.BlockHash {
			return 0, fmt.Errorf("%w: %w: block %d's parent is %s, the witness cosigned block %d = %s", ErrFork, ErrInconsistent, h.Height, h.PrevHash, last.Height, last.BlockHash)
		}
		if err := proof.VerifyConsistency(last.LogSize, h.LogSize, req.Proof, last.LogRoot, h.LogRoot); err != nil {
			return 0, fmt.Errorf("%w: %w: block %d's log (%d records) does not extend the one the witness cosigned at block %d (%d records): %w",
				ErrFork, ErrInconsistent, h.Height, h.LogSize, last.Height, last.LogSize, err)
		}
		return Latest, nil
	default: // an earlier block: at most a prefix statement
		if h.LogSize > last.LogSize {
			return 0, fmt.Errorf("%w: %w: block %d, below the witness's latest block %d, has a larger log (%d records, not %d)",
				ErrFork, ErrInconsistent, h.Height, last.Height, h.LogSize, last.LogSize)
		}
		if err := proof.VerifyConsistency(h.LogSize, last.LogSize, req.Proof, h.LogRoot, last.LogRoot); err != nil {
			return 0, fmt.Errorf("%w: %w: block %d's log (%d records) is not a prefix of the one the witness cosigned at block %d (%d records): %w",
				ErrFork, ErrInconsistent, h.Height, h.LogSize, last.Height, last.LogSize, err)
		}
		return Prefix, nil
	}
}

// APIError is the JSON body of a refusal from a witness's HTTP API: the
// message, a stable code (RefusalCode) and, for "old_size", the
// witness's latest cosigned size.
type APIError struct {
	Error string  `json:"error"`
	Code  string  `json:"code"`
	Size  *uint64 `json:"size,omitempty"`
}

// refusalCodes maps each refusal to its stable API code, most specific first.
var refusalCodes = []struct {
	err  error
	code string
}{
	{ErrWrongChain, "wrong_chain"},
	{ErrNotCertified, "not_certified"},
	{ErrOldSize, "old_size"},
	{ErrBlockConflict, "block_conflict"},
	{ErrRootConflict, "root_conflict"},
	{ErrInconsistent, "inconsistent"},
	{ErrRollback, "rollback"},
	{ErrBadRequest, "bad_request"},
}

// RefusalCode is the API code of a refusal ("internal" for anything else).
func RefusalCode(err error) string {
	for _, rc := range refusalCodes {
		if errors.Is(err, rc.err) {
			return rc.code
		}
	}
	return "internal"
}

// Err turns an API refusal back into an error that matches the same
// sentinels as the witness's own (errors.Is), so clients tell a fork from
// a stale size.
func (e *APIError) Err() error {
	if e.Code == "old_size" && e.Size != nil {
		return &remoteConflict{ConflictError{Size: *e.Size}, e.Error}
	}
	for _, rc := range refusalCodes {
		if rc.code == e.Code {
			if rc.err == ErrBlockConflict || rc.err == ErrRootConflict || rc.err == ErrInconsistent {
				return fmt.Errorf("%w: %w: witness says: %s", ErrFork, rc.err, e.Error)
			}
			return fmt.Errorf("%w: witness says: %s", rc.err, e.Error)
		}
	}
	return fmt.Errorf("witness: %s (%s)", e.Error, e.Code)
}

// remoteConflict is a ConflictError received over the API, with the
// witness's own words.
type remoteConflict struct {
	ConflictError
	msg string
}

func (e *remoteConflict) Error() string { return "witness says: " + e.msg }

func (e *remoteConflict) Unwrap() error { return &e.ConflictError }
