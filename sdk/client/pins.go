package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/view"
)

// ErrNotPinned is returned by ResolvePin for a name that no admin bound in
// the contract registry.
var ErrNotPinned = errors.New("client: name not pinned in the contract registry")

// Pins lists the current bindings of the chain's contract registry
// (`trialchain contract pin`), by name.
func (c *Client) Pins(ctx context.Context) ([]view.Pin, error) {
	var out []view.Pin
	if err := c.do(ctx, http.MethodGet, "/v1/pins", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Pin returns a registry name's current binding and its history
// (ErrNotFound, code "not_pinned", if it was never bound).
func (c *Client) Pin(ctx context.Context, name string) (*view.PinHistory, error) {
	var out view.PinHistory
	if err := c.do(ctx, http.MethodGet, "/v1/pins/"+url.PathEscape(name), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ResolvePin returns the contract address bound to name in the registry,
// as the node reports it (no proof: see ProvePin). A name never bound is
// ErrNotPinned.
func (c *Client) ResolvePin(ctx context.Context, name string) (block.Hash, error) {
	h, err := c.Pin(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return block.Hash{}, fmt.Errorf("%w: %q", ErrNotPinned, name)
	}
	if err != nil {
		return block.Hash{}, err
	}
	if h.Current.Name != name {
		return block.Hash{}, fmt.Errorf("client: node %s answered pin %q for %q", c.Base, h.Current.Name, name)
	}
	return h.Current.Contract, nil
}

// VerifiedPin is a registry name's binding, or its absence (Pin nil), in
// the state after block Height, proved against a certified checkpoint.
type VerifiedPin struct {
	Name  string
	Pin   *state.Pin // nil: the name was not bound at Height
	State *VerifiedState
}

// ProvePin proves name's binding (or that it has none) at height (< 0:
// the latest certified state) with a state proof checked against a
// checkpoint that vals certify. The node is not trusted.
func (c *Client) ProvePin(ctx context.Context, vals proof.Validators, name string, height int64) (*VerifiedPin, error) {
	if err := block.ValidPinName(name); err != nil {
		return nil, err
	}
	vs, err := c.ProveState(ctx, vals, state.PinKey(name), height)
	if err != nil {
		return nil, err
	}
	out := &VerifiedPin{Name: name, State: vs}
	if !vs.Found {
		return out, nil
	}
	p, err := state.DecodePin(vs.Value)
	if err != nil {
		return nil, fmt.Errorf("client: proved pin %q: %w", name, err)
	}
	if p.Name != name {
		return nil, fmt.Errorf("client: proved pin under %q names %q", name, p.Name)
	}
	out.Pin = p
	return out, nil
}
