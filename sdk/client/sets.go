package client

import (
	"context"
	"encoding/hex"
	"fmt"
	"maps"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
)

// SetHistory walks the validator-set changes of the chain c serves, from
// the genesis set to the set in force after its latest block (a SetWalk
// through c's head). With it, checkpoints certified after a set change
// verify (proof.Validators, proof.SetsByHeight).
//
// A chain whose genesis names no validator organisations' group
// (params.validator_group) cannot change its set: the genesis history is
// returned without asking the node. Otherwise every block is fetched
// once (an export reads them all anyway).
func (c *Client) SetHistory(ctx context.Context, g *genesis.Genesis) (*genesis.History, error) {
	w := NewSetWalk(g)
	if g.Params.ValidatorGroup == "" {
		return w.Hist, nil
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: validator-set history: %w", err)
	}
	if err := w.Walk(ctx, c, st.Height); err != nil {
		return nil, err
	}
	return w.Hist, nil
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

// SetWalk walks the validator-set changes from the genesis through
// certified blocks, a node's or several nodes' in turn:
//
//   - each block's certificate is checked against the set in force at its
//     height, and its header must name that set (genesis.History.ApplyCertified);
//   - a validator transaction in it changes the set from the next block on
//     when the node reports it succeeded AND its consent verifies — against
//     the validator organisations' group the genesis names (the node's copy
//     must hash to it), for exactly this change, with the meaning of a
//     validator change, not used by an earlier change.
//
// The node is trusted only for which consented changes succeeded: a lie
// there leaves a set whose hash is not the one the next certified header
// names, so later certificates fail to verify; it cannot make a forged one
// pass, nor count a validator's signature outside the blocks it was in the
// set for. bundle.Verify re-checks each change with its receipt proven.
type SetWalk struct {
	G    *genesis.Genesis
	Hist *genesis.History
	Next uint64 // the first block not walked

	group []byte              // the validator organisations' group, fetched at the first change
	used  map[block.Hash]bool // consents already used by a change
}

// NewSetWalk starts a walk at the genesis set, before block 1.
func NewSetWalk(g *genesis.Genesis) *SetWalk {
	return &SetWalk{G: g, Hist: genesis.NewHistory(g), Next: 1, used: map[block.Hash]bool{}}
}

// Clone returns a copy that walks on apart from w.
func (w *SetWalk) Clone() *SetWalk {
	return &SetWalk{G: w.G, Hist: w.Hist.Clone(), Next: w.Next, group: w.group, used: maps.Clone(w.used)}
}

// Walk walks blocks w.Next..to of c. After an error w may hold part of a
// block's changes: walk a Clone and keep it only on success.
func (w *SetWalk) Walk(ctx context.Context, c *Client, to uint64) error {
	for ; w.Next <= to; w.Next++ {
		h := w.Next
		b, err := c.CommittedBlock(ctx, h)
		if err != nil {
			return fmt.Errorf("client: validator-set history: block %d: %w", h, err)
		}
		var changes []genesis.Change
		for _, raw := range b.Block.Txs {
			tx, err := block.DecodeTx(raw)
			if err != nil || tx.Kind != block.KindValidator {
				continue
			}
			txh := block.Sum(raw)
			r, err := c.Tx(ctx, txh)
			if err != nil {
				return fmt.Errorf("client: validator-set history: receipt of validator change %s (block %d): %w", txh, h, err)
			}
			if r.Receipt == nil || r.Receipt.Status != block.StatusOK.String() {
				continue
			}
			ch, err := w.consented(ctx, c, tx)
			if err != nil {
				return fmt.Errorf("client: validator-set history: node %s says validator change %s (block %d) succeeded: %w", c.Label(), txh, h, err)
			}
			changes = append(changes, ch)
		}
		if err := w.Hist.ApplyCertified(b, changes); err != nil {
			return fmt.Errorf("client: validator-set history: %w", err)
		}
	}
	return nil
}

// consented decodes a validator transaction's change and checks its
// consent (see SetWalk).
func (w *SetWalk) consented(ctx context.Context, c *Client, tx *block.Tx) (genesis.Change, error) {
	p, err := block.DecodeValidator(tx.Payload)
	if err != nil {
		return genesis.Change{}, err
	}
	ch, err := genesis.DecodeChange(p.Change)
	if err != nil {
		return genesis.Change{}, err
	}
	if w.group == nil {
		want, err := block.ParseHash(w.G.Params.ValidatorGroup)
		if err != nil {
			return genesis.Change{}, fmt.Errorf("the genesis names no valid validator organisations' group: %w", err)
		}
		v, err := c.ConsentGroup(ctx, want)
		if err != nil {
			return genesis.Change{}, fmt.Errorf("the validator organisations' group %s: %w", want, err)
		}
		raw, err := hex.DecodeString(v.Raw)
		if err != nil || block.Sum(raw) != want {
			return genesis.Change{}, fmt.Errorf("the node's copy of the validator organisations' group is not %s, the one the genesis names", want)
		}
		w.group = raw
	}
	chh := ch.Hash()
	cons, _, err := consent.VerifyEncoded(w.group, w.G.ChainID, consent.Action{Kind: consent.KindValidatorChange, Data: chh[:]}, p.Consent)
	if err != nil {
		return genesis.Change{}, fmt.Errorf("its consent: %w", err)
	}
	if cons.Request.Meaning != consent.MeaningApproveValidatorChange {
		return genesis.Change{}, fmt.Errorf("its consent's meaning is %q, not %q", cons.Request.Meaning, consent.MeaningApproveValidatorChange)
	}
	id := block.Hash(cons.ID())
	if w.used[id] {
		return genesis.Change{}, fmt.Errorf("its consent %s was used by an earlier change", id)
	}
	w.used[id] = true
	return ch, nil
}
