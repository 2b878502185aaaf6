// Package state owns the deterministic state transition: admission rules
// (CheckTx, CheckSender, Batch), the layout of chain state (members, used
// nonces, anchors, contracts, consent groups), and Executor.Apply, which
// applies a block to a Reader and returns the sorted write set, the
// receipts and the new state root.
//
// # Usage
//
//	ex := &state.Executor{Params: p}
//	res, err := ex.Apply(committed, prevRoot, blk) // pure: no I/O
//	// the caller writes res.Writes, the block and res.Receipts in one batch
//
// The package imports no os, net, time or math/rand (see deps_test.go):
// the same block on the same state gives the same bytes on every node.
package state
