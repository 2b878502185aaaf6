package smt

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
)

// Proof is the path from a root to the terminal node met when descending
// along a key's hash: an Empty subtree or a leaf (the key's own, or the
// only leaf of the subtree the key would be in).
//
// # Encoding
//
// Encode gives one byte string per proof:
//
//	terminal  1 byte: 0x00 Empty, 0x01 leaf
//	leaf      key hash (32) ‖ value hash (32), only when terminal is 0x01
//	count     minimal unsigned LEB128 varint, at most 256
//	siblings  count × 32 bytes, root first
//
// JSON (MarshalJSON) is {"siblings":["hex",...],"leaf":{"key_hash":"hex",
// "value_hash":"hex"}} in lower-case hex, "leaf" omitted for an Empty
// terminal.
type Proof struct {
	// Siblings are the hashes next to the path, root first; there are as
	// many as the depth of the terminal node, at most 256.
	Siblings []block.Hash
	// Leaf is the terminal leaf, or nil when the terminal is Empty.
	Leaf *LeafRef
}

// LeafRef names a leaf by its key hash and the hash of its value.
type LeafRef struct {
	KeyHash, ValueHash block.Hash
}

// VerifyValue checks that p proves key maps to value in the tree whose root
// is root. It is pure: nothing is read.
//
// # Errors
//
// An error wrapping ErrProof that says which check failed.
func (p *Proof) VerifyValue(root block.Hash, key, value []byte) error {
	if err := p.check(); err != nil {
		return err
	}
	kh := KeyHash(key)
	switch {
	case p.Leaf == nil:
		return fmt.Errorf("terminal is empty, the key is absent: %w", ErrProof)
	case p.Leaf.KeyHash != kh:
		return fmt.Errorf("leaf is another key's (%s, want %s): %w", p.Leaf.KeyHash, kh, ErrProof)
	}
	if vh := block.Hash(sha256.Sum256(value)); p.Leaf.ValueHash != vh {
		return fmt.Errorf("value hash differs: leaf has %s, value hashes to %s: %w", p.Leaf.ValueHash, vh, ErrProof)
	}
	return p.fold(root, kh)
}

// VerifyAbsent checks that p proves key has no value in the tree whose root
// is root: the key's path ends at an Empty subtree, or at a leaf of another
// key whose hash shares the path down to it. It is pure: nothing is read.
//
// # Errors
//
// An error wrapping ErrProof that says which check failed.
func (p *Proof) VerifyAbsent(root block.Hash, key []byte) error {
	if err := p.check(); err != nil {
		return err
	}
	kh := KeyHash(key)
	if p.Leaf != nil {
		if p.Leaf.KeyHash == kh {
			return fmt.Errorf("leaf is the key's own, the key is present: %w", ErrProof)
		}
		if d := firstDiff(&p.Leaf.KeyHash, &kh); d < len(p.Siblings) {
			return fmt.Errorf("leaf %s leaves the key's path at depth %d, above its depth %d: %w",
				p.Leaf.KeyHash, d, len(p.Siblings), ErrProof)
		}
	}
	return p.fold(root, kh)
}

// check rejects proofs no canonical tree has: over 256 siblings, or a
// deepest sibling that is Empty (its parent would have been compacted).
func (p *Proof) check() error {
	if p == nil {
		return fmt.Errorf("nil proof: %w", ErrProof)
	}
	n := len(p.Siblings)
	if n > Depth {
		return fmt.Errorf("%d siblings, limit %d: %w", n, Depth, ErrProof)
	}
	if n > 0 && p.Siblings[n-1] == Empty {
		return fmt.Errorf("deepest sibling is empty, not a canonical tree: %w", ErrProof)
	}
	return nil
}

// fold hashes from the terminal up along kh and compares with root.
func (p *Proof) fold(root, kh block.Hash) error {
	cur := Empty
	if p.Leaf != nil {
		cur = LeafHash(p.Leaf.KeyHash, p.Leaf.ValueHash)
	}
	for d := len(p.Siblings) - 1; d >= 0; d-- {
		if bit(&kh, d) == 0 {
			cur = InnerHash(cur, p.Siblings[d])
		} else {
			cur = InnerHash(p.Siblings[d], cur)
		}
	}
	if cur != root {
		return fmt.Errorf("root mismatch: computed %s, want %s: %w", cur, root, ErrProof)
	}
	return nil
}

// Encode returns the canonical binary encoding of p (see Proof).
func (p *Proof) Encode() []byte {
	var w block.Writer
	if p.Leaf == nil {
		w.Byte(0)
	} else {
		w.Byte(1)
		w.Fixed(p.Leaf.KeyHash[:])
		w.Fixed(p.Leaf.ValueHash[:])
	}
	w.Uvarint(uint64(len(p.Siblings)))
	for i := range p.Siblings {
		w.Fixed(p.Siblings[i][:])
	}
	return w.Bytes()
}

// DecodeProof decodes a proof encoded by Encode.
//
// # Errors
//
// Errors wrapping block.ErrTruncated, block.ErrTrailing,
// block.ErrNonMinimal, block.ErrTooLarge (over 256 siblings) or
// block.ErrUnknownKind (a terminal byte other than 0 or 1); an error wrapping
// ErrProof for a proof no canonical tree has (its deepest sibling Empty).
// Whatever decodes re-encodes to the same bytes.
func DecodeProof(b []byte) (*Proof, error) {
	r := block.NewReader(b)
	p := &Proof{}
	if r.Bool("proof terminal") {
		p.Leaf = &LeafRef{KeyHash: r.Hash("leaf key hash"), ValueHash: r.Hash("leaf value hash")}
	}
	n := r.Count(Depth, "proof siblings")
	if r.Err() == nil && r.Len() < n*block.HashSize {
		r.Fail(fmt.Errorf("proof siblings: need %d bytes, have %d: %w", n*block.HashSize, r.Len(), block.ErrTruncated))
	}
	if r.Err() == nil {
		p.Siblings = make([]block.Hash, n)
		for i := range p.Siblings {
			p.Siblings[i] = r.Hash("proof sibling")
		}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("smt: decode proof: %w", err)
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("smt: decode proof: %w", err)
	}
	return p, nil
}

type proofJSON struct {
	Siblings []block.Hash `json:"siblings"`
	Leaf     *leafJSON    `json:"leaf,omitempty"`
}

type leafJSON struct {
	KeyHash   *block.Hash `json:"key_hash"`
	ValueHash *block.Hash `json:"value_hash"`
}

// MarshalJSON encodes p as described under Proof.
func (p *Proof) MarshalJSON() ([]byte, error) {
	j := proofJSON{Siblings: p.Siblings}
	if j.Siblings == nil {
		j.Siblings = []block.Hash{}
	}
	if p.Leaf != nil {
		j.Leaf = &leafJSON{KeyHash: &p.Leaf.KeyHash, ValueHash: &p.Leaf.ValueHash}
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the form MarshalJSON writes. It rejects unknown
// fields, a leaf without both hashes, and proofs no canonical tree has (as
// DecodeProof).
func (p *Proof) UnmarshalJSON(b []byte) error {
	var j proofJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("smt: decode proof JSON: %w", err)
	}
	q := Proof{Siblings: j.Siblings}
	if q.Siblings == nil {
		q.Siblings = []block.Hash{}
	}
	if j.Leaf != nil {
		if j.Leaf.KeyHash == nil || j.Leaf.ValueHash == nil {
			return fmt.Errorf("smt: decode proof JSON: leaf needs key_hash and value_hash: %w", ErrProof)
		}
		q.Leaf = &LeafRef{KeyHash: *j.Leaf.KeyHash, ValueHash: *j.Leaf.ValueHash}
	}
	if err := q.check(); err != nil {
		return fmt.Errorf("smt: decode proof JSON: %w", err)
	}
	*p = q
	return nil
}
