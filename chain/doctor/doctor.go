// Package doctor re-checks a node's stored chain against what the
// validators certified, and rebuilds a damaged store from certified blocks.
//
// # Check
//
// Check verifies every block's certificate (a quorum of the validator set
// in force at its height: the genesis set, then as validator transactions
// changed it), its parent link and body root, every receipt against the
// record-log leaf it was committed as, the record log's root against the
// last certified header, and every stored state value (anchors, members,
// contract state) against the state tree of the head's state root, whose
// root is rebuilt from the stored values. It reads only; `trialchain
// doctor --home DIR` runs it on a stopped node's store, and a node runs it
// at start (chain/node) before it serves anything.
//
// # Repair
//
// Rebuild.Run writes a new store by re-executing the certified chain from
// genesis: each block is the damaged store's own if it verifies (its
// certificate, parent hash and transaction root), else fetched from a peer
// and verified the same way — a peer whose copy does not verify is refused
// and the next one asked. After each block the rebuilt state root and
// record log must equal those its successor's certified header commits
// to, and the finished store must pass Check. The node (chain/node) then
// swaps it in atomically (store.CommitRepair, store.FinishRepair).
//
// Why re-execute rather than fetch receipts and state values with proofs?
// Re-execution needs nothing from peers but certified blocks, which the
// catch-up protocol already serves and which a quorum signed: a lying peer
// can only be refused, never believed. Receipts and state then come out
// of the node's own deterministic executor and are checked against the
// certified log and state roots, so every kind of damage — a block, a
// receipt, a record-log leaf or node, a state value or state-tree node,
// even one Check cannot attribute — is repaired by one path with one
// argument of correctness. Fetching receipts (checked against the record
// log) and state values (with chain/smt proofs against the certified root)
// would be faster on a long chain, but needs a new protocol and a proof
// check per kind of data, and it patches a store in place where a rebuild
// writes a fresh one that is swapped in by one rename. The cost is a
// replay of the whole chain (a checkpointed state would shorten it).
//
// # Notes
//
// The head's state root is certified by the next block's header; the
// head's own is the one the node computed, checked against the tree's
// stored nodes (each read hashes to the hash it was asked for). The state
// check needs a store no one writes to: CheckChain alone is safe on a
// running node.
package doctor

import (
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/store"
)

// Problem is one piece of stored data that does not match what was certified.
type Problem struct {
	Height uint64 `json:"height"`
	What   string `json:"what"`
}

func (p Problem) String() string { return fmt.Sprintf("block %d: %s", p.Height, p.What) }

// Report is the outcome of a check.
type Report struct {
	Head     uint64 `json:"head"`
	Blocks   uint64 `json:"blocks_checked"`
	Receipts uint64 `json:"receipts_checked"`
	States   uint64 `json:"state_values_checked"`
	// Abandoned is set when a paced check was stopped before the head.
	Abandoned bool      `json:"abandoned,omitempty"`
	Problems  []Problem `json:"problems"`
}

// OK reports whether nothing was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// maxProblems bounds a report (a wholly corrupt store is not listed in full).
const maxProblems = 100

// Check verifies every stored block 1..head of s against g, then the
// stored state against the head's state root. s must not be written to
// meanwhile.
func Check(g *genesis.Genesis, s *store.Store) *Report {
	r := CheckChain(g, s)
	checkState(s, r)
	return r
}

func (r *Report) add(h uint64, f string, a ...any) {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, Problem{Height: h, What: fmt.Sprintf(f, a...)})
	}
}

// CheckChain verifies the stored blocks, receipts and record log of s
// against g (not the state). These never change once written, so it is
// safe while the node commits blocks.
func CheckChain(g *genesis.Genesis, s *store.Store) *Report { return CheckChainPaced(g, s, nil) }

// CheckChainPaced is CheckChain calling pace (if not nil) after each
// block: a running node sleeps there to bound the check's share of the
// disk, and returns false to abandon the check (Report.Abandoned).
func CheckChainPaced(g *genesis.Genesis, s *store.Store, pace func() bool) *Report {
	head := s.Head()
	r := &Report{Head: head.Height}
	add := r.add
	// The validator sets by height, walked from the genesis as consensus
	// walks them (a chain whose genesis names the validator organisations'
	// group can change its set; a change that does not fit is skipped
	// there too).
	sets := genesis.NewHistory(g)
	walk := g.Params.ValidatorGroup != ""
	var prev block.Hash
	var last *block.Committed
	for h := uint64(1); h <= head.Height; h++ {
		c, err := s.Block(h) // decodes and checks the body against the header's transaction root
		if err != nil {
			add(h, "stored block unreadable or its transactions do not match its header: %v", err)
			prev = block.Hash{}
			continue
		}
		hd := c.Block.Header
		if err := sets.VerifyCertificate(c); err != nil {
			add(h, "certificate does not verify against the validator set in force from height %d (header altered?): %v", sets.At(h).From, err)
		}
		if hd.Height != h || hd.ChainID != g.ChainID {
			add(h, "header names height %d, chain %q: not this chain's block %d", hd.Height, hd.ChainID, h)
		}
		if walk {
			for _, ch := range ledger.StoredSetChanges(s, c) {
				_ = sets.Apply(ch, h) // an unfit change is skipped, as consensus skips it
			}
		}
		if h > 1 && prev != (block.Hash{}) && hd.PrevHash != prev {
			add(h, "parent hash %s, but block %d hashes to %s", hd.PrevHash, h-1, prev)
		}
		prev = hd.Hash()
		r.Blocks++
		start, err := s.LogStart(h)
		if err != nil {
			add(h, "log position: %v", err)
			continue
		}
		for i, raw := range c.Block.Txs {
			th := block.Sum(raw)
			rc, err := s.Receipt(th)
			if err != nil {
				add(h, "receipt of transaction %s: %v", th, err)
				continue
			}
			leaf, err := s.LeafHash(start + uint64(i))
			if err != nil {
				add(h, "record-log leaf %d: %v", start+uint64(i), err)
				continue
			}
			if rc.TxHash != th || rc.Height != h || rc.Index != uint64(i) || proof.LeafHash(rc.Encode()) != leaf {
				add(h, "receipt of transaction %s does not match the record committed for it (altered on disk)", th)
			}
			r.Receipts++
		}
		last = c
		if pace != nil && !pace() {
			r.Abandoned = true
			return r
		}
	}
	if last != nil {
		lh := last.Block.Header
		if root, err := proof.RootAt(s, lh.LogSize); err != nil || root != lh.LogRoot {
			add(lh.Height, "record log of %d leaves: root %s (%v), the certified header says %s", lh.LogSize, root, err, lh.LogRoot)
		}
	}
	return r
}

// checkState rebuilds the state root from every stored state value and
// compares it with the head's; only on a mismatch does it walk the state
// tree for each key, to name the altered or added ones (a root that still
// differs then means a value is missing).
func checkState(s *store.Store, r *Report) {
	head := s.Head()
	var ups []smt.Update
	if err := s.Iterate(nil, func(k, v []byte) bool {
		r.States++
		ups = append(ups, smt.Update{Key: k, Value: v})
		return true
	}); err != nil {
		r.add(head.Height, "state unreadable: %v", err)
		return
	}
	root, _, err := smt.Apply(smt.MemStore{}, smt.Empty, ups)
	if err != nil {
		r.add(head.Height, "rebuild the state root: %v", err)
		return
	}
	if root == head.StateRoot {
		return
	}
	before := len(r.Problems)
	for _, u := range ups {
		got, found, err := smt.Get(s, head.StateRoot, u.Key)
		switch {
		case err != nil:
			r.add(head.Height, "state tree at key %x: %v", u.Key, err)
			return
		case !found:
			r.add(head.Height, "state key %x holds a value the state root %s does not have (added on disk)", u.Key, head.StateRoot)
		case string(got) != string(u.Value):
			r.add(head.Height, "state value of key %x differs from the one under the state root %s (altered on disk)", u.Key, head.StateRoot)
		}
	}
	if len(r.Problems) == before {
		r.add(head.Height, "the stored state values make root %s, the head's state root is %s (a value is missing)", root, head.StateRoot)
	}
}
