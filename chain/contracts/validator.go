package contracts

import (
	"errors"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/state"
)

// SetValidators enables validator transactions (block.KindValidator) for
// the chain of g: each needs the threshold consent of the consent group
// g.Params.ValidatorGroup (the validator organisations), and changes the
// set in force from g's validators on. Without it, or with no group in g,
// validator transactions fail. Consensus: equal on every validator.
func (rt *Runtime) SetValidators(g *genesis.Genesis) *Runtime {
	if id, err := block.ParseHash(g.Params.ValidatorGroup); err == nil {
		rt.valGroup, rt.valGenesis = id, g.Set()
	}
	return rt
}

// ValidatorChangeAction is the act a validator organisations' consent
// authorises: the change, by its hash.
func ValidatorChangeAction(c genesis.Change) consent.Action {
	h := c.Hash()
	return consent.Action{Kind: consent.KindValidatorChange, Data: h[:]}
}

// ValidatorSet returns the validator set in force after the last
// validator change in r, or genesisSet if there was none.
func ValidatorSet(r state.Reader, genesisSet *genesis.Set) (*genesis.Set, error) {
	b, ok, err := r.Get(state.ValidatorSetKey())
	if err != nil {
		return nil, fmt.Errorf("contracts: read validator set: %w", err)
	}
	if !ok {
		return genesisSet, nil
	}
	s, err := genesis.DecodeSet(b)
	if err != nil {
		return nil, fmt.Errorf("contracts: stored validator set: %w", err)
	}
	return s, nil
}

// changeValidators executes a validator transaction: the change must fit
// the set in force and carry the validator organisations' threshold
// consent (meaning consent.MeaningApproveValidatorChange); the new set is
// in force from the next block.
func (b *blockRunner) changeValidators(bc state.BlockContext, ov *state.Overlay, tx *block.Tx, m *meter) ([]byte, []block.Event, error) {
	p, err := block.DecodeValidator(tx.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("contracts: validator change: %w", err)
	}
	if b.rt.valGenesis == nil {
		return nil, nil, fmt.Errorf("%w: this chain's genesis names no validator organisations' consent group (params.validator_group): its validator set cannot change", ErrNotAllowed)
	}
	ch, err := genesis.DecodeChange(p.Change)
	if err != nil {
		return nil, nil, fmt.Errorf("contracts: validator change: %w", err)
	}
	cur, err := ValidatorSet(ov, b.rt.valGenesis)
	if err != nil {
		return nil, nil, nodeFault(err)
	}
	next, err := cur.Apply(ch, bc.Height+1)
	if err != nil {
		return nil, nil, fmt.Errorf("contracts: validator change: %w", err)
	}
	if len(p.Consent) == 0 {
		return nil, nil, fmt.Errorf("%w: a validator change needs the threshold consent (meaning %q) of the validator organisations' group %s%s",
			ErrNotAllowed, consent.MeaningApproveValidatorChange, b.rt.valGroup, groupName(ov, b.rt.valGroup))
	}
	if err := m.charge(GasConsentVerify+state.GasPerStorage*uint64(8+len(genesis.EncodeSet(next))), "consent verification"); err != nil {
		return nil, nil, err
	}
	cc := &consentCheck{ov: ov, chainID: b.rt.chainID, height: bc.Height}
	pay := func(gas uint64) error { return m.charge(gas, "consent verification") }
	if err := cc.check(b.rt.valGroup, ValidatorChangeAction(ch), p.Consent, consent.MeaningApproveValidatorChange, pay); err != nil {
		if cc.nodeErr != nil {
			return nil, nil, nodeFault(cc.nodeErr)
		}
		if errors.Is(err, ErrOutOfGas) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrNotAllowed, err)
	}
	ov.Set(state.ValidatorSetKey(), genesis.EncodeSet(next))
	h := next.Hash()
	return h[:], append(cc.events, block.Event{Type: "validator.changed", Data: p.Change}), nil
}
