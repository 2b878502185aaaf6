package smt

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"

	"github.com/trialchain/trialchain/chain/block"
)

// Depth is the depth of the full tree: one level per bit of a key hash.
const Depth = 256

// Sentinel errors; match with errors.Is.
var (
	// ErrMissingNode is a node the NodeReader does not hold.
	ErrMissingNode = errors.New("smt: missing node")
	// ErrBadNode is a stored record that is malformed, does not hash to the
	// hash it is stored under, or sits where a canonical tree cannot have it.
	ErrBadNode = errors.New("smt: bad node record")
	// ErrProof is a proof that does not verify; the wrapping error says why.
	ErrProof = errors.New("smt: proof does not verify")
	// ErrDuplicateKey is a batch naming the same key twice.
	ErrDuplicateKey = errors.New("smt: key updated twice in one batch")
)

// Empty is the hash of a subtree without leaves, and so the root of the
// empty tree: 32 zero bytes.
var Empty block.Hash

// Record tags: the first byte of a stored record and of a hashed node.
const (
	tagLeaf  = 0x00
	tagInner = 0x01
)

// NodeReader reads node records by hash. The caller owns the storage: this
// package never writes, it returns what to store (see Apply).
type NodeReader interface {
	// Node returns the record of the node with hash h, or an error wrapping
	// ErrMissingNode.
	Node(h block.Hash) ([]byte, error)
}

// Node is a content-addressed node record to store under its hash.
//
// A leaf record is 0x00 ‖ key hash (32) ‖ value (all remaining bytes,
// possibly none); an inner record is 0x01 ‖ left (32) ‖ right (32).
// Records are immutable: a hash always names the same record.
type Node struct {
	Hash   block.Hash
	Record []byte
}

// Update sets Key to Value, or deletes Key when Delete is true (Value is
// then ignored). A nil Value with Delete false sets the empty value.
type Update struct {
	Key    []byte
	Value  []byte
	Delete bool
}

// KeyHash returns the path of a state key: SHA-256(key).
func KeyHash(key []byte) block.Hash { return sha256.Sum256(key) }

// LeafHash returns SHA-256(0x00 ‖ keyHash ‖ valueHash), where valueHash is
// SHA-256 of the value.
func LeafHash(keyHash, valueHash block.Hash) block.Hash {
	var buf [1 + 2*block.HashSize]byte
	buf[0] = tagLeaf
	copy(buf[1:], keyHash[:])
	copy(buf[1+block.HashSize:], valueHash[:])
	return sha256.Sum256(buf[:])
}

// InnerHash returns SHA-256(0x01 ‖ l ‖ r).
func InnerHash(l, r block.Hash) block.Hash {
	var buf [1 + 2*block.HashSize]byte
	buf[0] = tagInner
	copy(buf[1:], l[:])
	copy(buf[1+block.HashSize:], r[:])
	return sha256.Sum256(buf[:])
}

// bit returns bit d of h: 0 is the most significant bit of h[0].
func bit(h *block.Hash, d int) int { return int(h[d>>3]>>(7-uint(d&7))) & 1 }

// firstDiff returns the first bit at which a and b differ, or Depth.
func firstDiff(a, b *block.Hash) int {
	for i := range a {
		if x := a[i] ^ b[i]; x != 0 {
			return i*8 + bits.LeadingZeros8(x)
		}
	}
	return Depth
}

// kind is what a hash names.
type kind uint8

const (
	kindUnknown kind = iota // not read yet
	kindEmpty
	kindLeaf
	kindInner
)

// node is a parsed record.
type node struct {
	kind        kind
	keyHash     block.Hash // leaf
	valueHash   block.Hash // leaf: SHA-256(value)
	value       []byte     // leaf; aliases the record
	left, right block.Hash // inner
}

// load reads and parses the node h, checking that its record hashes to h.
// Empty needs no read.
func load(nr NodeReader, h block.Hash) (node, error) {
	if h == Empty {
		return node{kind: kindEmpty}, nil
	}
	rec, err := nr.Node(h)
	if err != nil {
		return node{}, fmt.Errorf("smt: node %s: %w", h, err)
	}
	if len(rec) == 0 {
		return node{}, fmt.Errorf("smt: node %s: empty record: %w", h, ErrBadNode)
	}
	var n node
	switch rec[0] {
	case tagLeaf:
		if len(rec) < 1+block.HashSize {
			return node{}, fmt.Errorf("smt: node %s: leaf record of %d bytes: %w", h, len(rec), ErrBadNode)
		}
		n.kind = kindLeaf
		copy(n.keyHash[:], rec[1:])
		n.value = rec[1+block.HashSize:]
		n.valueHash = sha256.Sum256(n.value)
		if got := LeafHash(n.keyHash, n.valueHash); got != h {
			return node{}, fmt.Errorf("smt: node %s: leaf record hashes to %s: %w", h, got, ErrBadNode)
		}
	case tagInner:
		if len(rec) != 1+2*block.HashSize {
			return node{}, fmt.Errorf("smt: node %s: inner record of %d bytes: %w", h, len(rec), ErrBadNode)
		}
		n.kind = kindInner
		copy(n.left[:], rec[1:])
		copy(n.right[:], rec[1+block.HashSize:])
		if got := InnerHash(n.left, n.right); got != h {
			return node{}, fmt.Errorf("smt: node %s: inner record hashes to %s: %w", h, got, ErrBadNode)
		}
	default:
		return node{}, fmt.Errorf("smt: node %s: record tag %#x: %w", h, rec[0], ErrBadNode)
	}
	return n, nil
}

// MemStore is an in-memory NodeReader for tests and tools.
type MemStore map[block.Hash][]byte

// Node returns the record stored under h, or an error wrapping
// ErrMissingNode. The record is not copied: do not modify it.
func (m MemStore) Node(h block.Hash) ([]byte, error) {
	rec, ok := m[h]
	if !ok {
		return nil, ErrMissingNode
	}
	return rec, nil
}

// Put stores nodes, as returned by Apply.
func (m MemStore) Put(nodes []Node) {
	for _, n := range nodes {
		m[n.Hash] = n.Record
	}
}
