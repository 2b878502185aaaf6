package e2e

import (
	"context"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
)

// checkSafety fetches every block 1..h from every node, verifying each
// certificate against genesis (a node serves only verified data), and
// checks: identical block hashes and state roots everywhere, no
// transaction committed twice, every acknowledged transaction in the
// block its receipt named. It returns the chains it read and the failures.
//
// A node that did not catch up (h is 0 when the nodes did not converge) is
// checked up to its own height; that it lags is a liveness failure, which
// the caller reports.
func checkSafety(ctx context.Context, c *Cluster, h uint64, acks []Ack) ([][]*block.Committed, []string) {
	var fails []string
	chains := make([][]*block.Committed, c.N())
	heights := c.Heights()
	for i, cl := range c.Clients {
		top := h
		if h == 0 && heights[i] > 0 {
			top = uint64(heights[i])
		}
		for height := uint64(1); height <= top; height++ {
			b, err := cl.VerifiedBlock(ctx, c.Genesis, height)
			if err != nil {
				fails = append(fails, fmt.Sprintf("node %d block %d: %v", i, height, err))
				break
			}
			chains[i] = append(chains[i], b)
		}
	}
	for i := 1; i < len(chains); i++ {
		for k := range min(len(chains[0]), len(chains[i])) {
			a, b := chains[0][k].Block.Header, chains[i][k].Block.Header
			if a.Hash() != b.Hash() || a.StateRoot != b.StateRoot {
				fails = append(fails, fmt.Sprintf("safety: block %d differs between node 0 (%s) and node %d (%s)", a.Height, a.Hash(), i, b.Hash()))
				break
			}
		}
	}
	for i, ch := range chains {
		seen := map[block.Hash]uint64{}
		for _, b := range ch {
			for _, raw := range b.Block.Txs {
				th := block.Sum(raw)
				if at, dup := seen[th]; dup {
					fails = append(fails, fmt.Sprintf("safety: node %d committed transaction %s twice (blocks %d and %d)", i, th, at, b.Block.Header.Height))
				}
				seen[th] = b.Block.Header.Height
			}
		}
		lost := 0
		for _, a := range acks {
			if a.Height > uint64(len(ch)) {
				continue // beyond this node's (lagging) head
			}
			if at, ok := seen[a.Hash]; !ok || at != a.Height {
				if lost < 3 {
					fails = append(fails, fmt.Sprintf("safety: node %d lacks acknowledged transaction %s (acknowledged at height %d)", i, a.Hash, a.Height))
				}
				lost++
			}
		}
		if lost > 3 {
			fails = append(fails, fmt.Sprintf("safety: node %d lacks %d acknowledged transactions in all", i, lost))
		}
	}
	// The state at the head: every node reports the same root.
	var root block.Hash
	for i := range c.Clients {
		st, err := c.Status(i)
		if err != nil {
			fails = append(fails, fmt.Sprintf("node %d status: %v", i, err))
			continue
		}
		if h > 0 && st.Height == h {
			if root == (block.Hash{}) {
				root = st.StateRoot
			} else if st.StateRoot != root {
				fails = append(fails, fmt.Sprintf("safety: node %d state root %s differs at height %d", i, st.StateRoot, h))
			}
		}
	}
	return chains, fails
}
