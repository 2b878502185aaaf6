// Package state owns the deterministic state transition: admission rules
// (CheckTx, CheckSender, Batch), the layout of chain state (members, used
// nonces, anchors, contracts, consent groups), and Executor.Apply, which
// applies a block to committed state and returns the sorted write set, the
// receipts, the new state root (the root of a sparse Merkle tree over all
// state, chain/smt) and the tree's new nodes. It also owns the redaction
// records (redact.go): the chain's Part 11 record that an off-chain
// payload was destroyed; and the contract registry (pin.go): the names
// ("trial-protocol", …) an admin bound to contract addresses with a pin
// transaction, each binding kept and provable, which clients resolve
// contracts through instead of deploy labels a look-alike can copy.
//
// # Usage
//
//	ex := &state.Executor{Params: p}
//	res, err := ex.Apply(committed, prevRoot, blk) // pure: no I/O; committed is a Reader and smt.NodeReader
//	// the caller writes res.Writes, res.Nodes, the block and res.Receipts in one batch
//
// A node checks each transaction once: a TxCache (txcache.go), shared by
// its API admission, its consensus adapter (Batch.Cache, CheckAll for a
// proposal's new transactions, their signatures verified in batches on
// every core) and its Executor (Executor.Cache; CheckAll again for a
// block fetched by catch-up), remembers the transactions that passed CheckTx, keyed
// by the hash of their exact signed bytes. A hit returns what CheckTx
// would; a miss is a full check; failures are never remembered.
//
// The package imports no os, net, time or math/rand (see deps_test.go):
// the same block on the same state gives the same bytes on every node.
package state
