package client

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/view"
)

// ScopeEntries fetches the first n entries of the record set name (n is
// the count of a head the caller proved; the node may hold more). Nothing
// is verified here: check state.HeadOf(entries) against the proved head.
func (c *Client) ScopeEntries(ctx context.Context, name string, n uint64) ([]*state.ScopeEntry, error) {
	out := make([]*state.ScopeEntry, 0, min(n, 1<<20))
	for uint64(len(out)) < n {
		q := url.Values{"name": {name}, "from": {strconv.Itoa(len(out))}}
		var page view.Scope
		if err := c.do(ctx, http.MethodGet, "/v1/scope?"+q.Encode(), nil, &page); err != nil {
			return nil, fmt.Errorf("record set %q from %d: %w", name, len(out), err)
		}
		if len(page.Entries) == 0 {
			return nil, fmt.Errorf("record set %q: node %s holds %d entries, the proved head has %d", name, c.Base, page.Count, n)
		}
		for _, e := range page.Entries {
			if uint64(len(out)) == n {
				break
			}
			out = append(out, &state.ScopeEntry{TxHash: e.TxHash, Height: e.Height, Index: e.Index, Kind: e.Kind})
		}
	}
	return out, nil
}

// RawStateProof fetches the proof of key's value (found) or absence in the
// state after block height, unverified: the caller checks it against the
// root of a certified header height+1 (see ProveState).
func (c *Client) RawStateProof(ctx context.Context, key []byte, height uint64) (*smt.Proof, bool, []byte, error) {
	sp, err := c.StateProof(ctx, key, int64(height))
	if err != nil {
		return nil, false, nil, err
	}
	if sp.Proof == nil || sp.Height != height {
		return nil, false, nil, fmt.Errorf("%w: node %s answered no proof, or one for height %d (asked %d)", smt.ErrProof, c.Base, sp.Height, height)
	}
	value, err := hex.DecodeString(sp.Value)
	if err != nil {
		return nil, false, nil, fmt.Errorf("%w: value is not hex", smt.ErrProof)
	}
	return sp.Proof, sp.Found, value, nil
}

// Scope fetches one page of the record set name from entry from (the node's
// word, unverified: for display; see ScopeEntries and ProveState to check).
func (c *Client) Scope(ctx context.Context, name string, from uint64) (*view.Scope, error) {
	q := url.Values{"name": {name}, "from": {strconv.FormatUint(from, 10)}}
	var page view.Scope
	if err := c.do(ctx, http.MethodGet, "/v1/scope?"+q.Encode(), nil, &page); err != nil {
		return nil, fmt.Errorf("record set %q from %d: %w", name, from, err)
	}
	return &page, nil
}
