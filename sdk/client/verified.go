package client

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/state"
)

// Reading chain data that chains to a quorum. A node is not trusted: each
// Verified* method checks what the node sent against the genesis
// validator set (vals) — a block by its own commit certificate, a
// receipt by its inclusion proof under a certified checkpoint, a state
// value by its state proof — and refuses what does not verify.
//
//	blk, err := c.VerifiedBlock(ctx, g, 12)     // header, body and certificate
//	vt, err := c.VerifiedTx(ctx, g, txHash)      // the signed transaction and its receipt
//	as, err := c.VerifiedAnchors(ctx, g, docHash)

// ErrBlock is returned when a block a node sent is not the certified one:
// its certificate does not verify, its body does not match its header, or
// it is not the block asked for.
var ErrBlock = errors.New("client: block does not verify")

// ErrTxNotInBlock is returned when a node says a transaction is in a block
// that, as certified, does not hold it.
var ErrTxNotInBlock = errors.New("client: transaction is not in the certified block the node names")

// CommittedBlock fetches the committed block at height (0: the latest)
// with its commit certificate. The body is checked against the header
// (block.DecodeCommitted) and the height against the one asked for; the
// certificate is not verified: see VerifiedBlock.
func (c *Client) CommittedBlock(ctx context.Context, height uint64) (*block.Committed, error) {
	v, err := c.Block(ctx, height)
	if err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(v.Raw)
	if err != nil {
		return nil, fmt.Errorf("%w: block %d from node %s: raw encoding: %w", ErrBlock, height, c.Label(), err)
	}
	cb, err := block.DecodeCommitted(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: block %d from node %s: %w", ErrBlock, height, c.Label(), err)
	}
	if height > 0 && cb.Block.Header.Height != height {
		return nil, fmt.Errorf("%w: asked node %s for block %d, it sent block %d", ErrBlock, c.Label(), height, cb.Block.Header.Height)
	}
	return cb, nil
}

// VerifiedBlock fetches the block at height (0: the latest) and verifies
// it against vals: the header names the validator set in force at its
// height (the genesis set, or vals's set at that height when vals is a
// genesis.History: Client.ValidatorSets), the
// certificate holds a quorum of valid signatures over this header, and the
// transactions are the ones the header commits to.
//
// # Errors
//
// ErrBlock (wrapping the certificate's error, which names the signer) when
// the block does not verify; the node's refusals as *APIError.
func (c *Client) VerifiedBlock(ctx context.Context, vals proof.Validators, height uint64) (*block.Committed, error) {
	cb, err := c.CommittedBlock(ctx, height)
	if err != nil {
		return nil, err
	}
	if err := VerifyBlock(vals, cb); err != nil {
		return nil, fmt.Errorf("block %d from node %s: %w", cb.Block.Header.Height, c.Label(), err)
	}
	return cb, nil
}

// VerifyBlock checks offline that cb is certified by vals and that its
// body matches its header.
func VerifyBlock(vals proof.Validators, cb *block.Committed) error {
	if err := cb.Block.CheckBody(); err != nil {
		return fmt.Errorf("%w: %w", ErrBlock, err)
	}
	if err := proof.CheckpointOf(cb).Verify(vals); err != nil {
		return fmt.Errorf("%w: %w", ErrBlock, err)
	}
	return nil
}

// VerifiedTx is a committed transaction checked against a quorum: the
// signed transaction is in a certified block, and its receipt (when a
// checkpoint covers it) is proven in the record log.
type VerifiedTx struct {
	Tx    *block.Tx
	Raw   []byte
	Block *block.Committed // the certified block that holds it
	Index uint64           // its position in Block
	// Receipt and Record are nil while no checkpoint covers the
	// transaction (it is in the newest block); the transaction itself is
	// still verified by its block's certificate.
	Receipt *block.Receipt
	Record  *VerifiedRecord
}

// VerifiedTx fetches transaction h and checks it: the block the node names
// must be certified by vals and hold exactly this transaction, and the
// receipt must be proven by an inclusion proof under the latest certified
// checkpoint (when one covers it yet; see VerifiedTx.Receipt).
//
// # Errors
//
// ErrNotFound when the node knows no such committed transaction;
// ErrBlock, ErrTxNotInBlock, proof.ErrCheckpoint, proof.ErrInclusion when
// what the node sent does not verify.
func (c *Client) VerifiedTx(ctx context.Context, vals proof.Validators, h block.Hash) (*VerifiedTx, error) {
	t, err := c.Tx(ctx, h)
	if err != nil {
		return nil, err
	}
	if t.Receipt == nil {
		return nil, fmt.Errorf("transaction %s: %w (the node holds no receipt: not committed)", h, ErrNotFound)
	}
	cb, err := c.VerifiedBlock(ctx, vals, t.Receipt.Height)
	if err != nil {
		return nil, err
	}
	vt := &VerifiedTx{Block: cb}
	found := false
	for i, raw := range cb.Block.Txs {
		if block.Sum(raw) == h {
			vt.Raw, vt.Index, found = raw, uint64(i), true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: node %s says transaction %s is in block %d", ErrTxNotInBlock, c.Label(), h, cb.Block.Header.Height)
	}
	if vt.Tx, err = block.DecodeTx(vt.Raw); err != nil {
		return nil, fmt.Errorf("transaction %s in certified block %d: %w", h, cb.Block.Header.Height, err)
	}
	rec, err := c.ProveTx(ctx, vals, h)
	switch {
	case errors.Is(err, ErrNotCheckpointed):
		return vt, nil
	case err != nil:
		return nil, err
	}
	if rec.Receipt.Height != cb.Block.Header.Height || rec.Receipt.Index != vt.Index {
		return nil, fmt.Errorf("%w: transaction %s: proven receipt is for block %d index %d, the certified block holds it at %d index %d",
			proof.ErrInclusion, h, rec.Receipt.Height, rec.Receipt.Index, cb.Block.Header.Height, vt.Index)
	}
	vt.Receipt, vt.Record = rec.Receipt, rec
	return vt, nil
}

// VerifiedAnchor is one anchoring of a document, checked: the anchor
// transaction is in a certified block (time and height are that block's),
// its receipt is proven when a checkpoint covers it, and the sender's
// member record is proven in the latest certified state.
type VerifiedAnchor struct {
	Doc           block.Hash
	Label         string
	Sender        ed25519.PublicKey
	Height        uint64
	Index         uint64
	TimeUnixMilli int64
	TxHash        block.Hash
	// ReceiptProven is false while the anchor is in the newest block (no
	// checkpoint covers its receipt yet).
	ReceiptProven bool
	// Member is the sender's member record proven in the latest certified
	// state; nil when the state holds none for the key.
	Member *state.Member
}

// VerifiedAnchors returns every anchoring of doc the node reports, each
// verified (see VerifiedAnchor). A node can withhold an anchoring: an
// empty answer proves nothing; ask another node.
//
// # Errors
//
// Those of VerifiedTx; proof.ErrInclusion when a node's anchor listing
// disagrees with the certified transaction (hash, label, sender, height).
func (c *Client) VerifiedAnchors(ctx context.Context, vals proof.Validators, doc block.Hash) ([]VerifiedAnchor, error) {
	as, err := c.Anchors(ctx, doc)
	if err != nil {
		return nil, err
	}
	out := make([]VerifiedAnchor, 0, len(as))
	members := map[string]*state.Member{}
	for _, a := range as {
		vt, err := c.VerifiedTx(ctx, vals, a.TxHash)
		if err != nil {
			return nil, fmt.Errorf("anchor of %s in tx %s: %w", doc, a.TxHash, err)
		}
		if vt.Tx.Kind != block.KindAnchor {
			return nil, fmt.Errorf("%w: node %s lists tx %s as an anchor of %s; the certified transaction is a %s", ErrTxNotInBlock, c.Label(), a.TxHash, doc, vt.Tx.Kind)
		}
		p, err := block.DecodeAnchor(vt.Tx.Payload)
		if err != nil {
			return nil, fmt.Errorf("anchor tx %s: %w", a.TxHash, err)
		}
		h := &vt.Block.Block.Header
		switch {
		case p.Hash != doc:
			return nil, fmt.Errorf("%w: node %s lists tx %s as an anchor of %s; it anchors %s", ErrTxNotInBlock, c.Label(), a.TxHash, doc, p.Hash)
		case p.Label != a.Label || a.Sender != hex.EncodeToString(vt.Tx.Sender) || a.Height != h.Height || a.Index != vt.Index:
			return nil, fmt.Errorf("%w: node %s's listing of anchor tx %s (label %q, sender %s…, block %d) differs from the certified transaction (label %q, block %d)",
				ErrTxNotInBlock, c.Label(), a.TxHash, a.Label, shortHex(a.Sender), a.Height, p.Label, h.Height)
		case vt.Receipt != nil && vt.Receipt.Status != block.StatusOK:
			return nil, fmt.Errorf("%w: node %s lists tx %s as an anchor, its proven receipt says %s", ErrTxNotInBlock, c.Label(), a.TxHash, vt.Receipt.Status)
		}
		va := VerifiedAnchor{Doc: doc, Label: p.Label, Sender: vt.Tx.Sender, Height: h.Height, Index: vt.Index,
			TimeUnixMilli: h.TimeUnixMilli, TxHash: a.TxHash, ReceiptProven: vt.Receipt != nil}
		m, ok := members[string(vt.Tx.Sender)]
		if !ok {
			vs, err := c.ProveState(ctx, vals, state.MemberKey(vt.Tx.Sender), -1)
			if err != nil {
				return nil, fmt.Errorf("member record of anchor sender %x: %w", vt.Tx.Sender, err)
			}
			if vs.Found {
				if m, err = state.DecodeMember(vt.Tx.Sender, vs.Value); err != nil {
					return nil, fmt.Errorf("member record of anchor sender %x: %w", vt.Tx.Sender, err)
				}
			}
			members[string(vt.Tx.Sender)] = m
		}
		va.Member = m
		out = append(out, va)
	}
	return out, nil
}

func shortHex(s string) string {
	if len(s) > 16 {
		return s[:16]
	}
	return s
}
