package client

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/view"
)

// VerifiedState is a state key's value, or its absence, in the state after
// block Height, proved against the state root of a certified checkpoint.
type VerifiedState struct {
	Key        []byte
	Height     uint64
	Found      bool
	Value      []byte
	Proof      *smt.Proof
	Checkpoint *proof.Checkpoint // header Height+1, whose StateRoot the proof reaches
}

// StateProof fetches a state proof without verifying it (height < 0: the
// latest certified state); see ProveState.
func (c *Client) StateProof(ctx context.Context, key []byte, height int64) (*view.StateProof, error) {
	q := url.Values{"key": {hex.EncodeToString(key)}}
	if height >= 0 {
		q.Set("height", strconv.FormatInt(height, 10))
	}
	var out view.StateProof
	return &out, c.do(ctx, http.MethodGet, "/v1/proof/state?"+q.Encode(), nil, &out)
}

// ProveState proves key's value or absence in the state after block height
// (height < 0: the latest certified state) against a checkpoint it
// verifies with vals. The node is not trusted: the proof must reach the
// certified root, and a claimed absence is proved too.
//
// # Errors
//
// smt.ErrProof when the proof does not reach the certified root;
// proof.ErrCheckpoint when the checkpoint does not verify; the node's
// refusals as *APIError (code "not_checkpointed" for the head's state).
func (c *Client) ProveState(ctx context.Context, vals proof.Validators, key []byte, height int64) (*VerifiedState, error) {
	sp, err := c.StateProof(ctx, key, height)
	if err != nil {
		return nil, err
	}
	if sp.Proof == nil {
		return nil, fmt.Errorf("%w: node %s sent no proof", smt.ErrProof, c.Base)
	}
	if height >= 0 && sp.Height != uint64(height) {
		return nil, fmt.Errorf("%w: asked for height %d, node answered for %d", smt.ErrProof, height, sp.Height)
	}
	cp, err := c.VerifiedCheckpoint(ctx, vals, sp.Height+1)
	if err != nil {
		return nil, err
	}
	value, err := hex.DecodeString(sp.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: value is not hex", smt.ErrProof)
	}
	if err := VerifyState(cp, sp.Proof, key, sp.Found, value); err != nil {
		return nil, fmt.Errorf("state key %x at height %d from node %s: %w", key, sp.Height, c.Base, err)
	}
	return &VerifiedState{Key: key, Height: sp.Height, Found: sp.Found, Value: value, Proof: sp.Proof, Checkpoint: cp}, nil
}

// VerifyState checks offline that p proves key → value (found) or key's
// absence (!found) in the state whose root cp's header carries. cp must
// already be verified.
func VerifyState(cp *proof.Checkpoint, p *smt.Proof, key []byte, found bool, value []byte) error {
	if found {
		return p.VerifyValue(cp.Header.StateRoot, key, value)
	}
	return p.VerifyAbsent(cp.Header.StateRoot, key)
}
