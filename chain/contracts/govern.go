package contracts

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
)

// governor backs the govern host function for one call: it hands the
// running contract's upgrades to a consent group (see the package doc,
// "Governance").
type governor struct {
	ov     *state.Overlay
	rec    *Contract
	caller ed25519.PublicKey
	cc     *consentCheck // the consents this call verified

	events  []block.Event
	nodeErr error
}

// govern implements vm.Governor.
func (g *governor) govern(group string) error {
	id, err := block.ParseHash(group)
	if err != nil {
		return fmt.Errorf("%w: group must be the 64-hex consent group id: %w", ErrGovern, err)
	}
	rec, err := Lookup(g.ov, g.rec.Address) // an earlier govern of this call may have changed it
	if err != nil {
		g.nodeErr = err
		return err
	}
	if _, err := groupBytes(g.ov, id); errors.Is(err, ErrNoGroup) {
		return fmt.Errorf("%w: %w", ErrGovern, err)
	} else if err != nil {
		g.nodeErr = err
		return err
	}
	switch rec.Policy {
	case block.PolicyImmutable:
		return nil // no one can upgrade it: stricter than any group
	case block.PolicyOwner:
		if !bytes.Equal(g.caller, rec.Owner) {
			return fmt.Errorf("%w: only the owner %x of contract %s can hand its upgrades to consent group %s, not %x",
				ErrGovern, rec.Owner, rec.Address, id, []byte(g.caller))
		}
	case block.PolicyGroup:
		cur := block.Hash(rec.Owner)
		if cur == id {
			return nil
		}
		if !slices.Contains(g.cc.verified, cur) {
			return fmt.Errorf("%w: contract %s is governed by consent group %s%s; moving its upgrades to group %s needs a consent of that group in the same call",
				ErrGovern, rec.Address, cur, groupName(g.ov, cur), id)
		}
	default:
		return fmt.Errorf("%w: contract %s has policy %s", ErrGovern, rec.Address, rec.Policy)
	}
	old := rec.Owner
	rec.Policy, rec.Owner = block.PolicyGroup, append([]byte(nil), id[:]...)
	g.ov.Set(state.ContractKey(rec.Address), rec.Encode())
	var w block.Writer
	w.Fixed(rec.Address[:])
	w.VarBytes(old)
	w.Fixed(id[:])
	g.events = append(g.events, block.Event{Type: "contract.governed", Data: w.Bytes()})
	return nil
}

// groupName returns " (NAME)" for a registered group, else "".
func groupName(r state.Reader, id block.Hash) string {
	g, err := Group(r, id)
	if err != nil {
		return ""
	}
	return " (" + g.Name + ")"
}
