package consensus

import "github.com/trialchain/trialchain/chain/block"

// Executing a verified proposal ahead of its decision.
//
// SmartBFT orders one proposal at a time, and the leader assembles the
// next one only when Deliver of the last has returned: Deliver's
// execution of the block was on every transaction's path, after the
// consensus rounds that decided it. A block's execution depends only on
// the committed head and the block, both known once a replica has
// verified the proposal; so VerifyProposal hands the block to the
// ledger's Speculate (on the replica's speculateLoop), which executes it
// during the prepare and commit rounds, and the Commit of that block over
// that head stores the result instead of executing it again. Nothing is
// stored before the decision and Deliver still returns only once the
// block is durable, so what SmartBFT assumes of Deliver is unchanged.

// Speculator is implemented by a Ledger that can execute a block ahead of
// its commit (chain/ledger.Ledger): Speculate executes b if it is the
// next block over the head, keeps the result for the Commit of the same
// block over the same head, and returns when done.
type Speculator interface {
	Speculate(b *block.Block)
}

// speculate hands b, a verified proposal, to speculateLoop, replacing a
// proposal it has not taken yet. It never blocks.
func (r *Replica) speculate(b *block.Block) {
	if _, ok := r.cfg.Ledger.(Speculator); !ok {
		return
	}
	for {
		select {
		case r.spec <- b:
			return
		default:
		}
		select { // a proposal not taken yet: the newer one replaces it
		case <-r.spec:
		default:
		}
	}
}

// speculateLoop runs the ledger's Speculate for the proposals speculate
// hands over, one at a time, until the replica stops.
func (r *Replica) speculateLoop(s Speculator) {
	defer r.wg.Done()
	for {
		select {
		case <-r.stopped:
			return
		case b := <-r.spec:
			s.Speculate(b)
		}
	}
}
