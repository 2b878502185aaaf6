// Package proof owns the record log — an append-only Merkle tree in the
// RFC 9162 (Certificate Transparency v2) shape over everything a block
// records — its inclusion and consistency proofs, and certified
// checkpoints. It is the only importer of github.com/transparency-dev/merkle;
// the library's types never appear in this package's API.
//
// # Records and leaves
//
// A record is the canonical encoding of a committed transaction's receipt
// (block.Receipt.Encode: tx hash, height, index in block, status, gas,
// result, error, events). Every transaction of a block gets exactly one
// receipt, failed ones included, and the receipts of block H are appended
// in transaction order, so
//
//	leaf index of (H, i) = Header(H).LogSize + i
//	leaf hash            = SHA-256(0x00 ‖ receipt encoding)        (RecordLeaf)
//	interior node        = SHA-256(0x01 ‖ left ‖ right)
//	root of empty log    = SHA-256("")
//
// An anchored document hash is recorded by its anchor transaction's
// receipt: the receipt's result is the 32-byte document hash and its
// "anchored" event carries the anchor payload (hash and label). There is no
// separate leaf per document; proving a document was anchored is proving
// its anchor receipt is in the log.
//
// # Stored tree
//
// A node stores, in the same synced batch as the block (chain/store), every
// leaf hash and every perfect-subtree node completed by the block's
// leaves (Frontier.Append's visit callback reports them). Perfect nodes
// never change once complete, so any proof for any size up to the current
// one is read from at most 2·log2(size) stored nodes plus one "ephemeral"
// right-border node rehashed on the fly; nothing is recomputed from all
// leaves.
//
// # Checkpoints
//
// Header H commits to the record log (size and root) and the state root
// after block H-1; with its commit certificate (2f+1 validator signatures
// over a Vote naming the header hash) it is a Checkpoint that anyone with
// the genesis validator set can check. The latest checkpoint therefore
// covers every record except those of the newest block.
//
// # Usage
//
// Appending (the ledger, once per block):
//
//	leaves := []block.Hash{proof.RecordLeaf(rc), ...}       // one per receipt, in order
//	log, err := head.Log.Append(leaves, nil)                // root for the next header
//
// Serving proofs (a node, given a NodeReader such as *store.Store):
//
//	incl, err := proof.Inclusion(nodes, index, size)        // []block.Hash
//	cons, err := proof.Consistency(nodes, size1, size2)
//
// Checking them (anyone; pure functions, typed errors):
//
//	cp, err := proof.DecodeCheckpoint(cpJSON)
//	err = cp.Verify(gen)                                    // gen: *genesis.Genesis
//	err = p.Verify(cp.Header.LogSize, cp.Header.LogRoot)    // p: *InclusionProof
//	err = proof.VerifyConsistency(old.Header.LogSize, cp.Header.LogSize, hashes, old.Header.LogRoot, cp.Header.LogRoot)
//
// # Errors
//
// Failed checks wrap ErrInclusion, ErrConsistency or ErrCheckpoint; a
// proof whose hashes do not lead to the expected root also carries a
// *RootMismatchError naming both roots.
package proof
