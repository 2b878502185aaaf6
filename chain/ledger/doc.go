// Package ledger is a node's single writer: it executes each committed
// block (chain/state with the node's contract runtime), appends its
// receipts to the record log and stores the block, its certificate and all
// its effects in one synced batch (chain/store).
//
// # Usage
//
//	led, _ := ledger.New(genesis, store, &state.Executor{Params: ledger.Params(genesis)})
//	led.Speculate(&proposed.Block)   // optional: execute a verified proposal ahead of its decision...
//	ok, err := led.Commit(committed) // the next block: executed (or the speculation's result) and stored, or an error
//	led.Head()                       // the last committed head
//	led.WaitReceipt(ctx, txHash)     // a transaction's receipt once committed
//	w := led.Watch(txHash)           // registered before an admission check...
//	rc, err := w.Wait(ctx)           // ...its receipt, from a commit after Watch
//	<-led.Changed()                  // closed at the next commit...
//	s, ok := led.Recent(height)      // ...a recent block's tx hashes and gas, from memory
//
// Commit takes blocks in height order: a block at or below the head is
// ignored (already stored), a gap or a wrong parent is an error. It is safe
// for concurrent use; commits are serialised. When Commit returns true the
// block is durable. The consensus adapter (chain/consensus) reaches the
// ledger through its own small interface, so an in-process cluster can run
// it on a temporary store.
package ledger
