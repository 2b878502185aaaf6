package smt

import (
	"bytes"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
)

// walk descends from root along kh to the first Empty node or leaf, and
// returns it with the siblings passed, root first (when siblings is
// non-nil, it is appended to).
func walk(nr NodeReader, root, kh block.Hash, siblings *[]block.Hash) (node, error) {
	h := root
	for depth := 0; ; depth++ {
		n, err := load(nr, h)
		if err != nil {
			return node{}, err
		}
		if n.kind != kindInner {
			return n, nil
		}
		if depth >= Depth {
			return node{}, fmt.Errorf("smt: inner node %s below depth %d: %w", h, Depth, ErrBadNode)
		}
		next, sib := n.left, n.right
		if bit(&kh, depth) == 1 {
			next, sib = n.right, n.left
		}
		if siblings != nil {
			*siblings = append(*siblings, sib)
		}
		h = next
	}
}

// Get returns the value of key in the tree whose root is root, and whether
// the key is present. The value is a copy. It reads one node per level down
// to the key's leaf or the Empty subtree where it would be.
//
// # Errors
//
// An error wrapping ErrMissingNode or ErrBadNode if a node on the path
// cannot be read or is corrupt.
func Get(nr NodeReader, root block.Hash, key []byte) (value []byte, found bool, err error) {
	kh := KeyHash(key)
	n, err := walk(nr, root, kh, nil)
	if err != nil || n.kind != kindLeaf || n.keyHash != kh {
		return nil, false, err
	}
	return bytes.Clone(n.value), true, nil
}

// Prove walks from root along KeyHash(key) to the first Empty node or leaf
// and returns the proof of what it found, plus the key's value (a copy) if
// the leaf is the key's. With found true the proof passes VerifyValue for
// that value; with found false it passes VerifyAbsent.
//
// # Errors
//
// As Get.
func Prove(nr NodeReader, root block.Hash, key []byte) (p *Proof, value []byte, found bool, err error) {
	kh := KeyHash(key)
	p = &Proof{Siblings: []block.Hash{}}
	n, err := walk(nr, root, kh, &p.Siblings)
	if err != nil {
		return nil, nil, false, err
	}
	if n.kind == kindLeaf {
		p.Leaf = &LeafRef{KeyHash: n.keyHash, ValueHash: n.valueHash}
		if n.keyHash == kh {
			return p, bytes.Clone(n.value), true, nil
		}
	}
	return p, nil, false, nil
}
