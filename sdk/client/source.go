package client

import (
	"context"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
)

// Source reads the material of an export bundle from a node (it is a
// chain/proof/bundle.Source). With Vals set, every checkpoint it returns
// is verified against the genesis validators, and Latest (e.g. a
// Survey's newest checkpoint) stands for "the latest": a node cannot make
// the export end at a checkpoint of its choosing. Blocks are checked
// against their own headers here and against the certified checkpoint's
// hash chain by bundle.Export; proofs are checked by bundle.Verify.
type Source struct {
	Node   *Client
	Vals   proof.Validators  // nil: checkpoints are not verified (say so to the user)
	Latest *proof.Checkpoint // nil: ask Node for its latest
}

// Checkpoint returns the checkpoint at height (0: Latest, else the node's latest).
func (s *Source) Checkpoint(ctx context.Context, height uint64) (*proof.Checkpoint, error) {
	if height == 0 && s.Latest != nil {
		return s.Latest, nil
	}
	if s.Vals == nil {
		return s.Node.Checkpoint(ctx, height)
	}
	return s.Node.VerifiedCheckpoint(ctx, s.Vals, height)
}

// Block returns the committed block at height, its body checked against its header.
func (s *Source) Block(ctx context.Context, height uint64) (*block.Committed, error) {
	if height == 0 {
		return nil, fmt.Errorf("client: block height 0 does not exist")
	}
	return s.Node.CommittedBlock(ctx, height)
}

// InclusionProof returns a transaction's record and its inclusion proof in
// the log of size, unverified (bundle.Verify checks it).
func (s *Source) InclusionProof(ctx context.Context, tx block.Hash, size uint64) (*proof.InclusionProof, error) {
	return s.Node.InclusionProof(ctx, tx, size)
}

// StateProof implements bundle.Source: the proof of key in the state after
// block height, unverified (Export checks it against the checkpoint's
// state root, and Verify again).
func (s *Source) StateProof(ctx context.Context, key []byte, height uint64) (*smt.Proof, bool, []byte, error) {
	return s.Node.RawStateProof(ctx, key, height)
}

// ScopeEntries implements bundle.Source: the first n entries of a record
// set, unverified (Export checks they hash to the proven head).
func (s *Source) ScopeEntries(ctx context.Context, name string, n uint64) ([]*state.ScopeEntry, error) {
	return s.Node.ScopeEntries(ctx, name, n)
}
