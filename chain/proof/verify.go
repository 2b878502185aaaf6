package proof

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"

	mproof "github.com/transparency-dev/merkle/proof"
	"github.com/trialchain/trialchain/chain/block"
)

// Sentinel errors of failed checks; match with errors.Is.
var (
	ErrInclusion   = errors.New("proof: inclusion proof does not verify")
	ErrConsistency = errors.New("proof: consistency proof does not verify")
	ErrCheckpoint  = errors.New("proof: invalid checkpoint")
)

// MaxProofHashes bounds the hashes of any proof of a log of at most 2^64
// leaves (inclusion: 64; consistency: 65).
const MaxProofHashes = 65

// RootMismatchError is a proof whose hashes lead to another root than the
// one committed: the proof, the leaf or the expected root was altered, or
// (consistency) the two logs have forked.
type RootMismatchError struct {
	Which      string // "root", "first root" or "second root"
	Expected   block.Hash
	Calculated block.Hash
}

func (e *RootMismatchError) Error() string {
	return fmt.Sprintf("calculated %s %s, committed %s is %s", e.Which, e.Calculated, e.Which, e.Expected)
}

func raw(hs []block.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

// mismatch turns the library's error into ours; which names the root that
// was being compared when the roots of a consistency proof are known.
func mismatch(err error, roots ...block.Hash) error {
	var rm mproof.RootMismatchError
	if !errors.As(err, &rm) {
		return err
	}
	e := &RootMismatchError{Which: "root"}
	copy(e.Expected[:], rm.ExpectedRoot)
	copy(e.Calculated[:], rm.CalculatedRoot)
	if len(roots) == 2 {
		e.Which = "second root"
		if bytes.Equal(rm.ExpectedRoot, roots[0][:]) {
			e.Which = "first root"
		}
	}
	return e
}

// VerifyInclusion checks that leaf is the leaf at index of the log of size
// whose root is root, given the inclusion proof p. It is a pure function.
//
// # Errors
//
// Wraps ErrInclusion; a *RootMismatchError when the path leads elsewhere.
func VerifyInclusion(index, size uint64, leaf block.Hash, p []block.Hash, root block.Hash) error {
	if len(p) > MaxProofHashes {
		return fmt.Errorf("%w: leaf %d in log of size %d: %d proof hashes", ErrInclusion, index, size, len(p))
	}
	if err := mproof.VerifyInclusion(hasher, index, size, leaf[:], raw(p), root[:]); err != nil {
		return fmt.Errorf("%w: leaf %d in log of size %d: %w", ErrInclusion, index, size, mismatch(err))
	}
	return nil
}

// VerifyConsistency checks that the log of size2 with root2 extends the log
// of size1 with root1, given the consistency proof p. It is a pure
// function. Any log extends the empty log (size1 = 0).
//
// # Errors
//
// Wraps ErrConsistency; a *RootMismatchError when the logs have forked or
// the proof or a root was altered.
func VerifyConsistency(size1, size2 uint64, p []block.Hash, root1, root2 block.Hash) error {
	if len(p) > MaxProofHashes {
		return fmt.Errorf("%w: log sizes %d → %d: %d proof hashes", ErrConsistency, size1, size2, len(p))
	}
	if err := mproof.VerifyConsistency(hasher, size1, size2, raw(p), root1[:], root2[:]); err != nil {
		return fmt.Errorf("%w: log sizes %d → %d: %w", ErrConsistency, size1, size2, mismatch(err, root1, root2))
	}
	return nil
}

// HexBytes is a byte string written as hex in JSON.
type HexBytes []byte

// MarshalText encodes hex.
func (b HexBytes) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(b)), nil }

// UnmarshalText decodes hex.
func (b *HexBytes) UnmarshalText(t []byte) error {
	v, err := hex.DecodeString(string(t))
	if err != nil {
		return fmt.Errorf("proof: hex: %w", err)
	}
	*b = v
	return nil
}

// InclusionProof is a record with its inclusion proof in a log of Size
// leaves (GET /v1/proof/inclusion, and bundles). Record is the leaf data:
// the canonical receipt encoding; it is absent when the proof was asked
// for by leaf index of a record the node cannot show.
type InclusionProof struct {
	LeafIndex uint64       `json:"leaf_index"`
	Size      uint64       `json:"size"`
	Leaf      block.Hash   `json:"leaf"` // RecordLeaf of Record; recomputed, never trusted, by Verify
	Record    HexBytes     `json:"record,omitempty"`
	Hashes    []block.Hash `json:"hashes"`
}

// Receipt decodes the record.
func (p *InclusionProof) Receipt() (*block.Receipt, error) {
	if len(p.Record) == 0 {
		return nil, fmt.Errorf("%w: leaf %d: no record", ErrInclusion, p.LeafIndex)
	}
	rc, err := block.DecodeReceipt(p.Record)
	if err != nil {
		return nil, fmt.Errorf("%w: leaf %d: record: %w", ErrInclusion, p.LeafIndex, err)
	}
	return rc, nil
}

// Verify checks the proof against a committed log (size and root, from a
// verified checkpoint). The leaf hash is recomputed from Record when
// present; a proof of another size than the checkpoint's is refused.
//
// # Errors
//
// Wraps ErrInclusion; names what failed (size, leaf, path).
func (p *InclusionProof) Verify(size uint64, root block.Hash) error {
	if p.Size != size {
		return fmt.Errorf("%w: proof is for log size %d, checkpoint has %d", ErrInclusion, p.Size, size)
	}
	leaf := p.Leaf
	if len(p.Record) > 0 {
		leaf = LeafHash(p.Record)
		if leaf != p.Leaf {
			return fmt.Errorf("%w: leaf %d: record hashes to %s, proof names leaf %s", ErrInclusion, p.LeafIndex, leaf, p.Leaf)
		}
	}
	return VerifyInclusion(p.LeafIndex, p.Size, leaf, p.Hashes, root)
}

// ConsistencyProof proves the log of size To extends the log of size From
// (GET /v1/proof/consistency, and bundles).
type ConsistencyProof struct {
	From   uint64       `json:"from"`
	To     uint64       `json:"to"`
	Hashes []block.Hash `json:"hashes"`
}

// Verify checks the proof between two committed logs (from verified
// checkpoints).
//
// # Errors
//
// Wraps ErrConsistency.
func (p *ConsistencyProof) Verify(size1 uint64, root1 block.Hash, size2 uint64, root2 block.Hash) error {
	if p.From != size1 || p.To != size2 {
		return fmt.Errorf("%w: proof is for log sizes %d → %d, checkpoints have %d → %d", ErrConsistency, p.From, p.To, size1, size2)
	}
	return VerifyConsistency(size1, size2, p.Hashes, root1, root2)
}
