// Package doctor re-checks a node's stored chain against what the
// validators certified: every block's certificate (a quorum of genesis
// validators), its parent link and body root, every receipt against the
// record-log leaf it was committed as, and the record log's root against
// the last certified header. It reads only; `trialchain doctor --home DIR`
// runs it on a stopped node's store.
//
// # Notes
//
// Contract state values are not re-hashed against the state root yet: a
// tampered state value is found only by a state proof, which a client
// verifies against a certified header.
package doctor

import (
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
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
	Head     uint64    `json:"head"`
	Blocks   uint64    `json:"blocks_checked"`
	Receipts uint64    `json:"receipts_checked"`
	Problems []Problem `json:"problems"`
}

// OK reports whether nothing was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// maxProblems bounds a report (a wholly corrupt store is not listed in full).
const maxProblems = 100

// Check verifies every stored block 1..head of s against g.
func Check(g *genesis.Genesis, s *store.Store) *Report {
	head := s.Head()
	r := &Report{Head: head.Height}
	add := func(h uint64, f string, a ...any) {
		if len(r.Problems) < maxProblems {
			r.Problems = append(r.Problems, Problem{Height: h, What: fmt.Sprintf(f, a...)})
		}
	}
	valHash := g.ValidatorsHash()
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
		if err := g.VerifyCertificate(c); err != nil {
			add(h, "certificate does not verify against genesis (header altered?): %v", err)
		}
		if hd.Height != h || hd.ChainID != g.ChainID || hd.ValidatorsHash != valHash {
			add(h, "header names height %d, chain %q: not this chain's block %d", hd.Height, hd.ChainID, h)
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
	}
	if last != nil {
		lh := last.Block.Header
		if root, err := proof.RootAt(s, lh.LogSize); err != nil || root != lh.LogRoot {
			add(lh.Height, "record log of %d leaves: root %s (%v), the certified header says %s", lh.LogSize, root, err, lh.LogRoot)
		}
	}
	return r
}
