package proof

import (
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	mproof "github.com/transparency-dev/merkle/proof"
	"github.com/trialchain/trialchain/chain/block"
)

// RecordLeaf is the record-log leaf hash of a receipt: SHA-256(0x00 ‖
// rc.Encode()).
func RecordLeaf(rc *block.Receipt) block.Hash { return LeafHash(rc.Encode()) }

// NodeReader reads stored nodes of the record log's tree: level 0 is the
// leaf hashes, level l index i is the root of the perfect subtree over
// leaves [i·2^l, (i+1)·2^l). *store.Store implements it.
type NodeReader interface {
	LogNode(level uint, index uint64) (block.Hash, error)
}

// Inclusion returns the RFC 9162 inclusion proof (audit path) of the leaf
// at index in the log of the given size, reading O(log size) nodes from r.
//
// # Errors
//
// index ≥ size, or a node r cannot read (for a size beyond what r holds,
// the reader's not-found error, wrapped).
func Inclusion(r NodeReader, index, size uint64) ([]block.Hash, error) {
	ns, err := mproof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("proof: inclusion of leaf %d in log of size %d: %w", index, size, err)
	}
	return fetch(r, ns)
}

// Consistency returns the RFC 9162 consistency proof that the log of size2
// extends the log of size1 (empty when size1 is 0 or equals size2).
//
// # Errors
//
// size1 > size2, or a node r cannot read.
func Consistency(r NodeReader, size1, size2 uint64) ([]block.Hash, error) {
	ns, err := mproof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("proof: consistency of log sizes %d and %d: %w", size1, size2, err)
	}
	return fetch(r, ns)
}

// fetch reads the nodes a proof needs and folds the ephemeral right-border
// nodes into one, as the library prescribes.
func fetch(r NodeReader, ns mproof.Nodes) ([]block.Hash, error) {
	hs := make([][]byte, len(ns.IDs))
	for i, id := range ns.IDs {
		h, err := r.LogNode(id.Level, id.Index)
		if err != nil {
			return nil, fmt.Errorf("proof: log node (level %d, index %d): %w", id.Level, id.Index, err)
		}
		hs[i] = h[:]
	}
	hs, err := ns.Rehash(hs, hasher.HashChildren)
	if err != nil {
		return nil, fmt.Errorf("proof: rehash: %w", err)
	}
	out := make([]block.Hash, len(hs))
	for i, h := range hs {
		copy(out[i][:], h)
	}
	return out, nil
}

// RootAt returns the root of the log's first size leaves from stored nodes
// (the compact range [0, size) folded right to left): what a checkpoint of
// that size must carry. It reads at most 64 nodes.
func RootAt(r NodeReader, size uint64) (block.Hash, error) {
	if size == 0 {
		return Frontier{}.Root(), nil
	}
	ids := compact.RangeNodes(0, size, nil)
	f := Frontier{Size: size, Hashes: make([]block.Hash, len(ids))}
	for i, id := range ids {
		h, err := r.LogNode(id.Level, id.Index)
		if err != nil {
			return block.Hash{}, fmt.Errorf("proof: root of log size %d: node (level %d, index %d): %w", size, id.Level, id.Index, err)
		}
		f.Hashes[i] = h
	}
	return f.Root(), nil
}
