package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
)

// Fetching and verifying record-log proofs. The node is not trusted: every
// method that returns a verified value checks it against a checkpoint
// certified by the validator set in force at its height (pass as vals the
// *genesis.Genesis loaded from the genesis file, or on a chain whose set
// changes Client.ValidatorSets(ctx, g)).
//
//	g, err := genesis.Load("genesis.json")
//	rec, err := c.ProveTx(ctx, g, txHash)        // receipt + inclusion under a certified checkpoint
//	os.WriteFile("cp.json", rec.Checkpoint.Encode(), 0o644)
//	...
//	old, err := proof.DecodeCheckpoint(cpJSON)
//	now, err := c.ProveExtends(ctx, g, old)      // the current log extends cp.json's

// ErrNotCheckpointed matches an inclusion request for a record of the
// newest block, which no checkpoint covers yet: retry after the next block.
var ErrNotCheckpointed = errors.New("client: record not covered by a checkpoint yet")

// ErrFork is returned when two certified checkpoints cannot both be true:
// different blocks at one height, a log that shrank, or a failed
// consistency proof.
var ErrFork = errors.New("client: checkpoints disagree (forked or rewritten history)")

// Checkpoint fetches the checkpoint at height (0: the latest) without
// verifying it; see VerifiedCheckpoint.
func (c *Client) Checkpoint(ctx context.Context, height uint64) (*proof.Checkpoint, error) {
	path := "/v1/checkpoint"
	if height > 0 {
		path += "?height=" + strconv.FormatUint(height, 10)
	}
	var cp proof.Checkpoint
	if err := c.do(ctx, http.MethodGet, path, nil, &cp); err != nil {
		return nil, err
	}
	if height > 0 && cp.Height() != height {
		return nil, fmt.Errorf("%w: asked for height %d, node sent %d", proof.ErrCheckpoint, height, cp.Height())
	}
	return &cp, nil
}

// VerifiedCheckpoint fetches the checkpoint at height (0: the latest) and
// verifies its certificate against vals.
func (c *Client) VerifiedCheckpoint(ctx context.Context, vals proof.Validators, height uint64) (*proof.Checkpoint, error) {
	cp, err := c.Checkpoint(ctx, height)
	if err != nil {
		return nil, err
	}
	if err := cp.Verify(vals); err != nil {
		return nil, fmt.Errorf("checkpoint from node %s: %w", c.Base, err)
	}
	return cp, nil
}

// InclusionProof fetches the inclusion proof of a transaction's record in
// the log of size (0: the latest checkpoint's size), unverified.
func (c *Client) InclusionProof(ctx context.Context, tx block.Hash, size uint64) (*proof.InclusionProof, error) {
	q := url.Values{"tx": {tx.String()}}
	if size > 0 {
		q.Set("size", strconv.FormatUint(size, 10))
	}
	return c.inclusion(ctx, q)
}

// LeafInclusionProof fetches the inclusion proof of the record at a leaf
// index in the log of size (0: the latest checkpoint's size), unverified.
func (c *Client) LeafInclusionProof(ctx context.Context, leaf, size uint64) (*proof.InclusionProof, error) {
	q := url.Values{"leaf": {strconv.FormatUint(leaf, 10)}}
	if size > 0 {
		q.Set("size", strconv.FormatUint(size, 10))
	}
	return c.inclusion(ctx, q)
}

func (c *Client) inclusion(ctx context.Context, q url.Values) (*proof.InclusionProof, error) {
	var p proof.InclusionProof
	if err := c.do(ctx, http.MethodGet, "/v1/proof/inclusion?"+q.Encode(), nil, &p); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == "not_checkpointed" {
			return nil, fmt.Errorf("%w: %w", ErrNotCheckpointed, err)
		}
		return nil, err
	}
	if len(p.Hashes) > proof.MaxProofHashes {
		return nil, fmt.Errorf("%w: %d proof hashes", proof.ErrInclusion, len(p.Hashes))
	}
	return &p, nil
}

// ConsistencyProof fetches the proof that the log of size to (0: the latest
// checkpoint's size) extends the log of size from, unverified.
func (c *Client) ConsistencyProof(ctx context.Context, from, to uint64) (*proof.ConsistencyProof, error) {
	q := url.Values{"from": {strconv.FormatUint(from, 10)}}
	if to > 0 {
		q.Set("to", strconv.FormatUint(to, 10))
	}
	var p proof.ConsistencyProof
	if err := c.do(ctx, http.MethodGet, "/v1/proof/consistency?"+q.Encode(), nil, &p); err != nil {
		return nil, err
	}
	if len(p.Hashes) > proof.MaxProofHashes {
		return nil, fmt.Errorf("%w: %d proof hashes", proof.ErrConsistency, len(p.Hashes))
	}
	return &p, nil
}

// VerifiedRecord is a transaction's record proven to be in the log
// committed by a certified checkpoint.
type VerifiedRecord struct {
	Receipt    *block.Receipt
	Proof      *proof.InclusionProof
	Checkpoint *proof.Checkpoint
}

// ProveTx returns the receipt of transaction tx, verified: the latest
// checkpoint is checked against vals, and the receipt's record against the
// checkpoint's log root with an inclusion proof.
//
// # Errors
//
// ErrNotCheckpointed for a transaction of the newest block (retry after the
// next block); proof.ErrCheckpoint, proof.ErrInclusion when what the node
// sent does not verify; the node's refusals as *APIError.
func (c *Client) ProveTx(ctx context.Context, vals proof.Validators, tx block.Hash) (*VerifiedRecord, error) {
	cp, err := c.VerifiedCheckpoint(ctx, vals, 0)
	if err != nil {
		return nil, err
	}
	if cp.Header.LogSize == 0 {
		return nil, fmt.Errorf("%w: transaction %s: the latest checkpoint (height %d) has an empty log", ErrNotCheckpointed, tx, cp.Height())
	}
	p, err := c.InclusionProof(ctx, tx, cp.Header.LogSize)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == "beyond_size" {
			return nil, fmt.Errorf("%w: %w", ErrNotCheckpointed, err)
		}
		return nil, err
	}
	rec, err := VerifyRecord(cp, p, tx)
	if err != nil {
		return nil, fmt.Errorf("transaction %s from node %s: %w", tx, c.Base, err)
	}
	return rec, nil
}

// VerifyRecord checks offline that p proves the record of transaction tx
// (zero: any) in the log committed by cp. cp must already be verified.
func VerifyRecord(cp *proof.Checkpoint, p *proof.InclusionProof, tx block.Hash) (*VerifiedRecord, error) {
	rc, err := p.Receipt()
	if err != nil {
		return nil, err
	}
	if !tx.IsZero() && rc.TxHash != tx {
		return nil, fmt.Errorf("%w: record is of transaction %s, not %s", proof.ErrInclusion, rc.TxHash, tx)
	}
	if err := p.Verify(cp.Header.LogSize, cp.Header.LogRoot); err != nil {
		return nil, err
	}
	return &VerifiedRecord{Receipt: rc, Proof: p, Checkpoint: cp}, nil
}

// ProveExtends proves that the node's current record log extends the one
// committed by old (e.g. a saved cp.json): both checkpoints are verified
// against vals and linked by a consistency proof. It returns the newer
// checkpoint.
//
// # Errors
//
// ErrFork (wrapping proof.ErrConsistency where a proof failed) when the
// node's certified history contradicts old; proof.ErrCheckpoint when a
// checkpoint does not verify.
func (c *Client) ProveExtends(ctx context.Context, vals proof.Validators, old *proof.Checkpoint) (*proof.Checkpoint, error) {
	if err := old.Verify(vals); err != nil {
		return nil, fmt.Errorf("client: saved checkpoint: %w", err)
	}
	cp, err := c.VerifiedCheckpoint(ctx, vals, 0)
	if err != nil {
		return nil, err
	}
	if err := checkOrder(old, cp); err != nil {
		return nil, err
	}
	p, err := c.ConsistencyProof(ctx, old.Header.LogSize, cp.Header.LogSize)
	if err != nil {
		return nil, err
	}
	if err := VerifyExtends(old, cp, p); err != nil {
		return nil, fmt.Errorf("node %s: %w", c.Base, err)
	}
	return cp, nil
}

func checkOrder(old, cp *proof.Checkpoint) error {
	switch {
	case cp.Height() < old.Height():
		return fmt.Errorf("%w: node's latest checkpoint is at height %d, below the saved one (%d): the node is behind or rewound", ErrFork, cp.Height(), old.Height())
	case cp.Height() == old.Height() && cp.Hash() != old.Hash():
		return fmt.Errorf("%w: two certified blocks at height %d: %s and %s", ErrFork, cp.Height(), old.Hash(), cp.Hash())
	case cp.Header.LogSize < old.Header.LogSize:
		return fmt.Errorf("%w: log shrank from %d to %d records", ErrFork, old.Header.LogSize, cp.Header.LogSize)
	}
	return nil
}

// VerifyExtends checks offline that checkpoint cp's log extends old's, given
// the consistency proof p. Both checkpoints must already be verified.
func VerifyExtends(old, cp *proof.Checkpoint, p *proof.ConsistencyProof) error {
	if err := checkOrder(old, cp); err != nil {
		return err
	}
	if err := p.Verify(old.Header.LogSize, old.Header.LogRoot, cp.Header.LogSize, cp.Header.LogRoot); err != nil {
		return fmt.Errorf("%w: checkpoint %d → %d: %w", ErrFork, old.Height(), cp.Height(), err)
	}
	return nil
}
