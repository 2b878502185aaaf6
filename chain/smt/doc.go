// Package smt owns the authenticated map over chain state: a compacted
// sparse Merkle tree of depth 256 keyed by SHA-256 of the state key, with
// content-addressed immutable nodes, and its proofs of a key's value or of
// its absence, which a client checks holding only a root.
//
// It owns the hashing rules and node records below, which are
// consensus-critical: a change is a fork. It does not own storage (the
// caller reads nodes through a NodeReader and stores what Apply returns),
// the encoding of state keys and values (chain/state), nor which root
// belongs to which height (the caller keeps one root per height).
//
// # Hashing, byte by byte
//
// All hashes are SHA-256; ‖ is concatenation.
//
//	path of key    = KeyHash(key)   = SHA-256(key)
//	empty subtree  = Empty          = 32 zero bytes
//	leaf           = LeafHash       = SHA-256(0x00 ‖ keyHash (32) ‖ SHA-256(value) (32))
//	inner node     = InnerHash      = SHA-256(0x01 ‖ left (32) ‖ right (32))
//
// Bit d of the path (bit 0 is the most significant bit of byte 0) chooses
// the left (0) or right (1) child at depth d; the root is at depth 0.
//
// The tree is canonically compacted: a subtree without leaves hashes to
// Empty, a subtree with exactly one leaf hashes to that leaf's hash at
// whatever depth it stands, and a subtree with two or more leaves is an
// inner node over its two children (either of which may be Empty). So the
// root of the empty tree is Empty, the root of a one-key tree is that
// key's leaf hash, and the root depends only on the set of (key, value)
// pairs, never on the order they were written in.
//
// # Node records
//
// Nodes are stored by hash, as records:
//
//	leaf record   = 0x00 ‖ keyHash (32) ‖ value (all remaining bytes, possibly none)
//	inner record  = 0x01 ‖ left (32) ‖ right (32)
//
// Empty is never stored. A leaf's record and hash do not depend on its
// depth, so a leaf moved up or down by compaction is not rewritten.
// Records are immutable and this package never deletes one, so every root
// ever returned stays readable as long as its nodes are kept: versioning by
// height is keeping the root of each height. Reads check that each record
// hashes to the hash it was asked for.
//
// # Proofs
//
// A Proof lists the siblings from the root down to the terminal node — the
// first Empty subtree or leaf on the key's path — and the terminal leaf's
// key hash and value hash (none for Empty). A verifier folds the siblings
// from the deepest up with InnerHash along the key's path bits, starting
// from the terminal's hash, and compares with the root. For a value, the
// leaf must be the key's and carry SHA-256(value); for absence, the
// terminal is Empty or the leaf of another key sharing the path down to
// it. Encode and DecodeProof give the one binary form; MarshalJSON the JSON
// form.
//
// # Usage
//
//	store := smt.MemStore{}                       // or a NodeReader over the database
//	root, nodes, err := smt.Apply(store, prevRoot, []smt.Update{
//		{Key: []byte("acct/alice"), Value: v},
//		{Key: []byte("acct/bob"), Delete: true},
//	})
//	store.Put(nodes)                              // persist nodes with the block, then
//	roots[height] = root                          // remember the root of this height
//
//	value, found, err := smt.Get(store, roots[h], key)   // any past height
//	p, value, found, err := smt.Prove(store, roots[h], key)
//	raw := p.Encode()                             // send to a client, which does
//	p, err = smt.DecodeProof(raw)
//	err = p.VerifyValue(root, key, value)         // or p.VerifyAbsent(root, key)
//
// A caller that applies batch after batch to a growing tree (a node's
// ledger) keeps a Cache and calls its Apply instead: the same result,
// with the upper levels read from memory.
//
//	cache := smt.NewCache(18)
//	root, nodes, err := cache.Apply(store, prevRoot, ups)
//
// Apply is deterministic and pure apart from NodeReader calls; it is safe
// to call concurrently on the same reader if the reader is. This package
// does no I/O and imports only the standard library and chain/block.
package smt
