package consensus

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"

	bft "github.com/hyperledger-labs/SmartBFT/pkg/types"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
)

// Proposal refusals. A follower returns these from VerifyProposal and does
// not sign.
var (
	ErrBadParent    = errors.New("consensus: proposal does not extend the committed head")
	ErrBadTimestamp = errors.New("consensus: proposal timestamp out of bounds")
	ErrBadHeader    = errors.New("consensus: proposal header does not match committed state")
	ErrBadTx        = errors.New("consensus: proposal carries a transaction that fails admission")
)

const signDomain = "trialchain/bft/v1\x00"

// VerifyProposal implements api.Verifier: the header must extend our
// committed head exactly (height, parent hash, state root, record log,
// validator set, transaction root), its timestamp must be monotonic and not
// ahead of our clock by more than MaxClockSkew, and every transaction must
// pass admission in order, within its ValidUntil at the header's time.
func (r *Replica) VerifyProposal(p bft.Proposal) ([]bft.RequestInfo, error) {
	h, err := block.DecodeHeader(p.Header)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	// The proposal's bytes are never modified (SmartBFT keeps them as
	// they came): the block's transactions are slices of its payload.
	txs, err := block.DecodeTxsShared(p.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadTx, err)
	}
	b := &block.Block{Header: *h, Txs: txs}
	if err := b.CheckBody(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	if p.VerificationSequence != 0 {
		return nil, fmt.Errorf("%w: verification sequence %d", ErrBadHeader, p.VerificationSequence)
	}
	head := r.cfg.Ledger.Head()
	if h.Height <= head.Height {
		// Re-verification of a block we already committed (view change).
		stored, err := r.cfg.Ledger.Block(h.Height)
		if err == nil && stored.Block.Hash() == b.Hash() {
			return r.RequestsFromProposal(p), nil
		}
		return nil, fmt.Errorf("%w: height %d is already committed with another block", ErrBadParent, h.Height)
	}
	if err := r.CheckHeader(h); err != nil {
		return nil, err
	}
	// The stateless checks first: transactions this node verified before
	// (its API, a forwarded request, an earlier proposal) come from the
	// cache, the others' signatures are verified in batches across cores
	// (TxCache.CheckAll). Then the stateful checks in block order. The
	// refusal names the first transaction that fails, as a sequential
	// check would.
	checked, hashes, bad, badErr := r.cfg.TxCache.CheckAll(r.params, txs, runtime.GOMAXPROCS(0))
	batch := state.NewBatch(r.params, r.cfg.Ledger.State(), h.TimeUnixMilli)
	infos := make([]bft.RequestInfo, 0, len(txs))
	for i, tx := range checked {
		if i == bad {
			return nil, fmt.Errorf("%w: transaction %d (%s): %w", ErrBadTx, i, hashes[i], badErr)
		}
		if err := batch.AddChecked(tx); err != nil {
			return nil, fmt.Errorf("%w: transaction %d (%s): %w", ErrBadTx, i, hashes[i], err)
		}
		r.precompile(tx)
		infos = append(infos, r.requestInfo(hashes[i], nil, tx))
	}
	r.speculate(b) // execute it during the rounds that decide it (speculate.go)
	return infos, nil
}

// CheckHeader checks a proposed header against the committed head and the local clock.
func (r *Replica) CheckHeader(h *block.Header) error {
	head := r.cfg.Ledger.Head()
	switch {
	case h.ChainID != r.cfg.Genesis.ChainID:
		return fmt.Errorf("%w: chain id %q", ErrBadHeader, h.ChainID)
	case h.Height != head.Height+1:
		return fmt.Errorf("%w: height %d, our head is %d", ErrBadParent, h.Height, head.Height)
	case h.PrevHash != head.Hash:
		return fmt.Errorf("%w: parent %s, our head is %s", ErrBadParent, h.PrevHash, head.Hash)
	case h.StateRoot != head.StateRoot:
		return fmt.Errorf("%w: state root %s, ours is %s", ErrBadHeader, h.StateRoot, head.StateRoot)
	case h.LogSize != head.Log.Size || h.LogRoot != head.Log.Root():
		return fmt.Errorf("%w: record log %d/%s, ours is %d/%s", ErrBadHeader, h.LogSize, h.LogRoot, head.Log.Size, head.Log.Root())
	case h.ValidatorsHash != r.setAt(h.Height).Hash():
		return fmt.Errorf("%w: validator set %s", ErrBadHeader, h.ValidatorsHash)
	case h.TimeUnixMilli < r.minTime(head.Height, head.TimeUnixMilli):
		return fmt.Errorf("%w: %d is before the previous block's (or genesis) time %d", ErrBadTimestamp, h.TimeUnixMilli, r.minTime(head.Height, head.TimeUnixMilli))
	}
	if _, ok := r.setAt(h.Height).Validator(h.Proposer); !ok {
		return fmt.Errorf("%w: proposer %d is not a validator", ErrBadHeader, h.Proposer)
	}
	limit := r.cfg.Clock.Now().Add(timeDur(r.cfg.Genesis.Params.MaxClockSkew)).UnixMilli()
	if h.TimeUnixMilli > limit {
		return fmt.Errorf("%w: %d is more than %s ahead of this node's clock", ErrBadTimestamp, h.TimeUnixMilli, timeDur(r.cfg.Genesis.Params.MaxClockSkew))
	}
	return nil
}

// minTime is the earliest time a block after the head may carry: the
// head's time, or the genesis time for the first block.
func (r *Replica) minTime(height uint64, headTime int64) int64 {
	if height == 0 {
		return r.cfg.Genesis.Time.UnixMilli()
	}
	return headTime
}

// VerifyRequest implements api.Verifier for requests forwarded by peers and
// for pool pruning: full admission against committed state.
func (r *Replica) VerifyRequest(raw []byte) (bft.RequestInfo, error) {
	tx, h, err := r.cfg.TxCache.CheckTx(r.params, raw)
	if err != nil {
		return bft.RequestInfo{}, err
	}
	// Past its bound at the earliest time the next block may carry, no
	// block ever will.
	head := r.cfg.Ledger.Head()
	if err := state.CheckValidUntil(tx, r.minTime(head.Height, head.TimeUnixMilli)); err != nil {
		return bft.RequestInfo{}, err
	}
	if err := state.CheckSender(r.cfg.Ledger.State(), tx); err != nil {
		return bft.RequestInfo{}, err
	}
	r.precompile(tx)
	return r.requestInfo(h, nil, tx), nil
}

// VerifyConsenterSig implements api.Verifier: the signature must be by a
// validator over a Vote naming exactly this proposal. It returns the vote's
// auxiliary data.
func (r *Replica) VerifyConsenterSig(sig bft.Signature, p bft.Proposal) ([]byte, error) {
	h, err := block.DecodeHeader(p.Header)
	if err != nil {
		return nil, fmt.Errorf("consensus: proposal header: %w", err)
	}
	v, ok := r.setAt(h.Height).Validator(sig.ID)
	if !ok {
		return nil, fmt.Errorf("consensus: signer %d is not a validator at height %d", sig.ID, h.Height)
	}
	vote, err := block.DecodeVote(sig.Msg)
	if err != nil {
		return nil, fmt.Errorf("consensus: vote of %d: %w", sig.ID, err)
	}
	if vote.ChainID != r.cfg.Genesis.ChainID || vote.Height != h.Height || vote.BlockHash != h.Hash() ||
		vote.MetadataHash != block.Sum(p.Metadata) || vote.VerSeq != uint64(p.VerificationSequence) {
		return nil, fmt.Errorf("consensus: validator %d signed a different proposal", sig.ID)
	}
	if !ed25519.Verify(ed25519.PublicKey(v.Key), sig.Msg, sig.Value) {
		return nil, fmt.Errorf("consensus: bad signature of validator %d", sig.ID)
	}
	return vote.Aux, nil
}

// VerifySignature implements api.Verifier for SmartBFT's own messages.
func (r *Replica) VerifySignature(sig bft.Signature) error {
	v, ok := r.currentSet().Validator(sig.ID)
	if !ok {
		return fmt.Errorf("consensus: signer %d is not a validator", sig.ID)
	}
	if !ed25519.Verify(ed25519.PublicKey(v.Key), append([]byte(signDomain), sig.Msg...), sig.Value) {
		return fmt.Errorf("consensus: bad signature of validator %d", sig.ID)
	}
	return nil
}

// VerificationSequence implements api.Verifier: the validator set never changes.
func (r *Replica) VerificationSequence() uint64 { return 0 }

// RequestsFromProposal implements api.Verifier.
func (r *Replica) RequestsFromProposal(p bft.Proposal) []bft.RequestInfo {
	txs, err := block.DecodeTxsShared(p.Payload) // only hashed here
	if err != nil {
		return nil
	}
	infos := make([]bft.RequestInfo, len(txs))
	for i, raw := range txs {
		infos[i] = r.RequestID(raw)
	}
	return infos
}

// AuxiliaryData implements api.Verifier.
func (r *Replica) AuxiliaryData(msg []byte) []byte {
	v, err := block.DecodeVote(msg)
	if err != nil {
		return nil
	}
	return v.Aux
}

// --- Signer ---

// Sign implements api.Signer for SmartBFT's own messages (domain-separated from votes).
func (r *Replica) Sign(data []byte) []byte {
	return ed25519.Sign(r.cfg.Key, append([]byte(signDomain), data...))
}

// SignProposal implements api.Signer: sign a Vote for the proposal's block.
func (r *Replica) SignProposal(p bft.Proposal, aux []byte) *bft.Signature {
	h, err := block.DecodeHeader(p.Header)
	if err != nil {
		panic(fmt.Sprintf("consensus: signing an undecodable proposal: %v", err))
	}
	v := block.Vote{ChainID: r.cfg.Genesis.ChainID, Height: h.Height, BlockHash: h.Hash(),
		MetadataHash: block.Sum(p.Metadata), VerSeq: uint64(p.VerificationSequence), Aux: aux}
	msg := v.Encode()
	return &bft.Signature{ID: r.cfg.SelfID, Value: ed25519.Sign(r.cfg.Key, msg), Msg: msg}
}
