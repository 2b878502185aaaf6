package proof

import (
	"crypto/sha256"
	"math/bits"

	"github.com/trialchain/trialchain/chain/block"
)

// InclusionVerifier verifies many inclusion proofs into one committed log
// (a bundle's records against a checkpoint). It gives exactly the result
// of InclusionProof.Verify (and VerifyInclusion), faster when the proofs
// come in ascending leaf order:
//
//   - it hashes without allocating (the library allocates a hasher and a
//     buffer per node: ~17 per leaf in a log of 10^5);
//   - it remembers the nodes of the last path that verified. Neighbouring
//     leaves share all but their lowest nodes, so a proof that reaches a
//     node of that path, at the same position and carrying the same hashes
//     above it, would hash on to the same, certified root: the rest of its
//     hashes are compared byte for byte instead of hashed again.
//
// Every hash a proof carries is thus either hashed or compared with a
// verified path's; a proof that does not reach the root is handed to the
// library (VerifyInclusion), which decides and words the error.
//
// An InclusionVerifier is not safe for concurrent use: use one per
// goroutine.
type InclusionVerifier struct {
	size uint64
	root block.Hash

	// The last path that verified: its proof hashes, nodes[t] the node
	// after t steps (nodes[0] is the leaf), and left bit t set when step t
	// hashes the proof hash on the left.
	have   bool
	n      int
	left   uint64
	nodes  [MaxProofHashes]block.Hash
	hashes [MaxProofHashes]block.Hash

	joins int // proofs accepted by joining the last path (for tests)
}

// NewInclusionVerifier returns a verifier of proofs into the log of size
// whose root is root (from a verified checkpoint).
func NewInclusionVerifier(size uint64, root block.Hash) *InclusionVerifier {
	return &InclusionVerifier{size: size, root: root}
}

// Verify is p.Verify(size, root) for the verifier's log.
//
// # Errors
//
// Those of InclusionProof.Verify.
func (v *InclusionVerifier) Verify(p *InclusionProof) error {
	if p.Size == v.size {
		leaf := p.Leaf
		if len(p.Record) > 0 {
			leaf = LeafHash(p.Record)
		}
		if leaf == p.Leaf && v.reaches(p.LeafIndex, leaf, p.Hashes) {
			return nil
		}
	}
	return p.Verify(v.size, v.root)
}

// reaches reports whether leaf at index, with proof hashes p, hashes to
// the verifier's root, computed as the library's RootFromInclusionProof
// (RFC 9162 section 2.1.3.2) computes it.
func (v *InclusionVerifier) reaches(index uint64, leaf block.Hash, p []block.Hash) bool {
	if index >= v.size || len(p) > MaxProofHashes {
		return false
	}
	inner := bits.Len64(index ^ (v.size - 1))
	if len(p) != inner+bits.OnesCount64(index>>uint(inner)) {
		return false
	}
	// Each step's side depends on the leaf's position; a valid proof has
	// at most 64 steps (inner+border ≤ 64).
	var left uint64
	for t := range p {
		if t >= inner || (index>>uint(t))&1 == 1 {
			left |= 1 << uint(t)
		}
	}
	// From step t on, the root is a function of the node after t steps,
	// the sides of the steps left and their hashes: if all three are the
	// last verified path's, so is the root.
	join := v.have && v.n == len(p)
	var nodes [MaxProofHashes]block.Hash
	var buf [1 + 2*block.HashSize]byte
	buf[0] = 1 // RFC 6962 node prefix
	seed := leaf
	for t, h := range p {
		if join && seed == v.nodes[t] && left>>uint(t) == v.left>>uint(t) && sameHashes(p[t:], v.hashes[t:len(p)]) {
			v.joins++
			return true
		}
		nodes[t] = seed
		if left>>uint(t)&1 == 1 {
			copy(buf[1:], h[:])
			copy(buf[1+block.HashSize:], seed[:])
		} else {
			copy(buf[1:], seed[:])
			copy(buf[1+block.HashSize:], h[:])
		}
		seed = sha256.Sum256(buf[:])
	}
	if seed != v.root {
		return false
	}
	v.have, v.n, v.left = true, len(p), left
	copy(v.nodes[:], nodes[:len(p)])
	copy(v.hashes[:], p)
	return true
}

func sameHashes(a, b []block.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
