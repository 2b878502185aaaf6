package client

import (
	"context"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
)

// SetHistory walks the validator-set changes of the chain c serves, from
// the genesis set to the set in force after its latest block: every
// block's certificate is checked against the set in force at its height
// (genesis.History.ApplyCertified), and the validator transactions the
// node reports as succeeded change the set from the next block on. With
// it, checkpoints certified after a set change verify (proof.Validators,
// proof.SetsByHeight).
//
// A chain whose genesis names no validator organisations' group
// (params.validator_group) cannot change its set: the genesis history is
// returned without asking the node. Otherwise every block is fetched
// once (an export reads them all anyway).
//
// The node is trusted only for which validator transactions succeeded;
// a lie there makes later certificates fail to verify (it cannot make a
// forged one pass), and bundle.Verify re-checks each change's consent and
// receipt.
func (c *Client) SetHistory(ctx context.Context, g *genesis.Genesis) (*genesis.History, error) {
	hist := genesis.NewHistory(g)
	if g.Params.ValidatorGroup == "" {
		return hist, nil
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: validator-set history: %w", err)
	}
	if _, err := c.WalkSets(ctx, hist, 1, st.Height); err != nil {
		return nil, err
	}
	return hist, nil
}

// ValidatorSets is what checkpoints of c's chain verify against: g itself
// when its genesis names no validator organisations' group (the set
// cannot change), else the sets walked from the genesis through c's
// blocks (SetHistory). Pass the result wherever a proof.Validators is
// asked for (VerifiedBlock, VerifiedTx, ProveState, Source.Vals...): a
// certificate is then checked against the set in force at its height, so
// a validator's signature counts only while it is in the set.
func (c *Client) ValidatorSets(ctx context.Context, g *genesis.Genesis) (proof.Validators, error) {
	if g.Params.ValidatorGroup == "" {
		return g, nil
	}
	return c.SetHistory(ctx, g)
}

// WalkSets extends hist, walked through block from-1, with blocks
// from..to of c: each block's certificate is checked against the set in
// force at its height and its succeeded validator transactions applied
// (see SetHistory). A follower calls it with from = the first block it
// has not walked; next is the first block still not walked. After an
// error hist may hold part of block next's changes: walk a Clone and
// keep it only on success.
func (c *Client) WalkSets(ctx context.Context, hist *genesis.History, from, to uint64) (next uint64, err error) {
	h := max(from, 1)
	for ; h <= to; h++ {
		b, err := c.CommittedBlock(ctx, h)
		if err != nil {
			return h, fmt.Errorf("client: validator-set history: block %d: %w", h, err)
		}
		var changes []genesis.Change
		for _, raw := range b.Block.Txs {
			tx, err := block.DecodeTx(raw)
			if err != nil || tx.Kind != block.KindValidator {
				continue
			}
			r, err := c.Tx(ctx, block.Sum(raw))
			if err != nil {
				return h, fmt.Errorf("client: validator-set history: receipt of validator change %s (block %d): %w", block.Sum(raw), h, err)
			}
			if r.Receipt == nil || r.Receipt.Status != block.StatusOK.String() {
				continue
			}
			p, err := block.DecodeValidator(tx.Payload)
			if err != nil {
				continue
			}
			if ch, err := genesis.DecodeChange(p.Change); err == nil {
				changes = append(changes, ch)
			}
		}
		if err := hist.ApplyCertified(b, changes); err != nil {
			return h, fmt.Errorf("client: validator-set history: %w", err)
		}
	}
	return h, nil
}
