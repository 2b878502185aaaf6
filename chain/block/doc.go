// Package block owns the chain's wire values — transactions, payloads, block
// headers, blocks, commit votes and certificates, receipts — and their one
// canonical binary encoding, hashes and signatures.
//
// # Encoding
//
// Every value has exactly one byte string: fields in a fixed order,
// integers as 8-byte big-endian or minimal unsigned LEB128 varints, byte
// strings and lists prefixed by a varint length, no maps. Each type's doc
// comment lists its fields byte for byte. Decoders reject trailing bytes,
// non-minimal varints, unknown versions, kinds, roles and statuses, and any
// length over the limits declared here, before allocating.
//
// # Hashes and signatures
//
// Hashes are SHA-256. A transaction is signed with ed25519 by its sender
// over a domain-separated encoding (Tx.SigningBytes); its hash covers the
// signature too. Transaction signatures are verified under the ZIP-215
// rules, one at a time (Tx.VerifySignature) or in batches
// (VerifySignatures), which accept exactly the same signatures
// (RATIONALE.md). A block is committed when 2f+1 validators sign a Vote
// naming its header hash; those signatures form its Certificate.
//
// # Usage
//
//	tx := &block.Tx{ChainID: "trial-net", Nonce: n, Kind: block.KindAnchor, Payload: p.Encode()}
//	tx.Sign(key)
//	raw := tx.Encode()        // submit these bytes
//	back, err := block.DecodeTx(raw)
//	err = back.VerifySignature()
//
// This package does no I/O. Besides the standard library it imports only
// github.com/hdevalence/ed25519consensus (its one home), for the
// transaction-signature rule.
package block
