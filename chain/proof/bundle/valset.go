package bundle

import (
	"bytes"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
)

// Validator-set changes in a bundle. The genesis names the first set; a
// validator transaction (block.KindValidator) carrying the threshold
// consent of the validator organisations (params.validator_group) adds or
// removes one validator, in force from the block after the one that
// carried it. A verifier with the genesis alone walks the changes:
//
//   - the block that carried a change is certified by the set in force at
//     its height (the set walked so far), and its header names that set;
//   - the transaction is in that block (audit path to the header's
//     transaction root), signed, and a validator change;
//   - its consent verifies against the validator organisations' group the
//     genesis names, for exactly this change, with the meaning of a
//     validator change, and was not used by an earlier change;
//   - the change fits the set in force (genesis.Set.Apply);
//   - its receipt — status OK, the chain's "validator.changed" event — is
//     in the certified log of one of the bundle's checkpoints.
//
// Every checkpoint is then checked against the set in force at its
// height: a change left out, reordered or forged leaves a set whose hash
// is not the one a later certified header names, and a certificate signed
// by a validator before it joined or after it left names a signer that is
// not in the set.

// EventValidatorChanged is the chain's event of a successful validator
// change; its data is the change's canonical encoding.
const EventValidatorChanged = "validator.changed"

// MaxSetChanges bounds the set changes of one bundle.
const MaxSetChanges = 4096

// maxGroupBytes bounds the validator group's encoding (a consent group:
// modulus, verification keys and member keys of at most
// consent.MaxParties parties).
const maxGroupBytes = 1 << 20

// SetChange is one committed validator-set change with what proves it
// from the set in force before it.
type SetChange struct {
	// Block is the header and commit certificate of the block that carried
	// the change, certified by the set in force at its height.
	Block *proof.Checkpoint
	// TxIndex is the transaction's position in the block; TxPath its audit
	// path to Block.Header.TxRoot (RFC 9162 over the transaction hashes).
	TxIndex uint64
	TxPath  []block.Hash
	// Tx is the signed validator transaction.
	Tx proof.HexBytes
	// Receipt is the transaction's receipt and its inclusion proof in the
	// log of one of the bundle's checkpoints.
	Receipt *proof.InclusionProof
}

// Height is the height of the block that carried the change.
func (s *SetChange) Height() uint64 { return s.Block.Height() }

type setChangeJSON struct {
	Block   *proof.Checkpoint     `json:"block"`
	TxIndex uint64                `json:"tx_index"`
	TxPath  []block.Hash          `json:"tx_path"`
	Tx      proof.HexBytes        `json:"tx"`
	Receipt *proof.InclusionProof `json:"receipt"`
}

func encodeSetChanges(cs []*SetChange) []*setChangeJSON {
	var out []*setChangeJSON
	for _, c := range cs {
		path := c.TxPath
		if path == nil {
			path = []block.Hash{}
		}
		out = append(out, &setChangeJSON{Block: c.Block, TxIndex: c.TxIndex, TxPath: path, Tx: c.Tx, Receipt: c.Receipt})
	}
	return out
}

// decodeSetChanges checks the structure of the decoded set changes: each
// complete and within bounds. Order and content are Verify's.
func decodeSetChanges(js []*setChangeJSON, group []byte) ([]*SetChange, error) {
	switch {
	case len(js) > MaxSetChanges:
		return nil, fmt.Errorf("%w: %d set changes, limit %d", ErrMalformed, len(js), MaxSetChanges)
	case len(group) > maxGroupBytes:
		return nil, fmt.Errorf("%w: validator_group of %d bytes, limit %d", ErrMalformed, len(group), maxGroupBytes)
	case len(js) == 0 && len(group) > 0:
		return nil, fmt.Errorf("%w: validator_group without set changes", ErrMalformed)
	case len(js) > 0 && len(group) == 0:
		return nil, fmt.Errorf("%w: set changes without the validator_group their consents verify against", ErrMalformed)
	}
	var out []*SetChange
	for i, j := range js {
		switch {
		case j == nil || j.Block == nil || j.Receipt == nil:
			return nil, fmt.Errorf("%w: set change %d: block, transaction and receipt are required", ErrMalformed, i)
		case len(j.Tx) == 0 || len(j.Tx) > block.MaxTxBytes:
			return nil, fmt.Errorf("%w: set change %d: transaction of %d bytes", ErrMalformed, i, len(j.Tx))
		case len(j.TxPath) > proof.MaxProofHashes || j.TxPath == nil:
			return nil, fmt.Errorf("%w: set change %d: tx_path must be a list of at most %d hashes", ErrMalformed, i, proof.MaxProofHashes)
		case len(j.Receipt.Record) == 0 || len(j.Receipt.Hashes) > proof.MaxProofHashes:
			return nil, fmt.Errorf("%w: set change %d: the receipt proof carries no receipt or is too long", ErrMalformed, i)
		}
		out = append(out, &SetChange{Block: j.Block, TxIndex: j.TxIndex, TxPath: j.TxPath, Tx: j.Tx, Receipt: j.Receipt})
	}
	return out, nil
}

// txPath is the RFC 9162 audit path of leaf m among the transactions
// whose hashes are leaves (the tree of block.TxRoot).
func txPath(leaves []block.Hash, m int) []block.Hash {
	n := len(leaves)
	if n <= 1 {
		return []block.Hash{}
	}
	k := 1
	for k<<1 < n {
		k <<= 1
	}
	if m < k {
		return append(txPath(leaves[:k], m), block.MerkleRoot(leaves[k:]))
	}
	return append(txPath(leaves[k:], m-k), block.MerkleRoot(leaves[:k]))
}

// SetChangeInfo is a verified validator-set change.
type SetChangeInfo struct {
	Height    uint64     `json:"height"` // of the block that carried it; in force from Height+1
	Op        string     `json:"op"`     // "add" or "remove"
	Validator uint64     `json:"validator"`
	Name      string     `json:"name,omitempty"`
	TxHash    block.Hash `json:"tx"`
	SetHash   block.Hash `json:"set_hash"` // of the set in force from Height+1
	Size      int        `json:"size"`     // validators in that set
}

// pendingReceipt is a change whose receipt is checked once the
// checkpoints (and so the certified log roots) are known.
type pendingReceipt struct {
	i      int
	txHash block.Hash
	height uint64
	change []byte
}

// walkSets walks the bundle's set changes from the genesis set. It
// returns the history and the receipts left to check; ok is false if a
// change failed (the walk stops there: later sets are unknown).
func (v *verifier) walkSets() (*genesis.History, []pendingReceipt, bool) {
	hist := genesis.NewHistory(v.g)
	if len(v.b.SetChanges) == 0 {
		return hist, nil, true
	}
	fail := func(i int, h uint64, format string, args ...any) {
		v.fail(-1, block.Hash{}, 0, fmt.Sprintf("set change %d (block %d)", i, h), ErrSetChange, format, args...)
	}
	want, err := block.ParseHash(v.g.Params.ValidatorGroup)
	if err != nil {
		v.fail(-1, block.Hash{}, 0, "set changes", ErrSetChange, "the genesis names no validator organisations' group (params.validator_group), so its validator set cannot change, yet the bundle carries %d changes", len(v.b.SetChanges))
		return hist, nil, false
	}
	if got := block.Sum(v.b.ValidatorGroup); got != want {
		v.fail(-1, block.Hash{}, 0, "validator group", ErrSetChange, "the bundle's validator group hashes to %s, the genesis names %s", got, want)
		return hist, nil, false
	}
	for i, sc := range v.b.SetChanges {
		if i == 0 {
			continue
		}
		prev := v.b.SetChanges[i-1]
		if h, ph := sc.Height(), prev.Height(); h < ph || (h == ph && sc.TxIndex <= prev.TxIndex) {
			fail(i, h, "out of order: it follows set change %d (block %d, transaction %d); changes must be in chain order, each once", i-1, ph, prev.TxIndex)
			return hist, nil, false
		}
	}
	var pending []pendingReceipt
	usedConsents := map[block.Hash]int{}
	for i, sc := range v.b.SetChanges {
		h := sc.Height()
		if sc.Block.Header.ChainID != v.g.ChainID {
			fail(i, h, "block is for chain %q, not %q", sc.Block.Header.ChainID, v.g.ChainID)
			return hist, nil, false
		}
		set := hist.At(h)
		if err := sc.Block.Verify(hist); err != nil {
			fail(i, h, "the block that carries it is not certified by the set in force at height %d (%d validators %v, from height %d): %w", h, len(set.Validators), set.IDs(), set.From, err)
			return hist, nil, false
		}
		txh := block.Sum(sc.Tx)
		if err := proof.VerifyInclusion(sc.TxIndex, sc.Block.Header.TxCount, proof.LeafHash(txh[:]), sc.TxPath, sc.Block.Header.TxRoot); err != nil {
			fail(i, h, "transaction %s is not transaction %d of block %d: %w", txh, sc.TxIndex, h, err)
			return hist, nil, false
		}
		tx, err := block.DecodeTx(sc.Tx)
		if err == nil {
			err = tx.VerifySignature()
		}
		if err != nil {
			fail(i, h, "transaction %s: %w", txh, err)
			return hist, nil, false
		}
		if tx.Kind != block.KindValidator || tx.ChainID != v.g.ChainID {
			fail(i, h, "transaction %s is a %s of chain %q, not a validator change of this chain", txh, tx.Kind, tx.ChainID)
			return hist, nil, false
		}
		p, err := block.DecodeValidator(tx.Payload)
		if err != nil {
			fail(i, h, "transaction %s: %w", txh, err)
			return hist, nil, false
		}
		ch, err := genesis.DecodeChange(p.Change)
		if err != nil {
			fail(i, h, "transaction %s: %w", txh, err)
			return hist, nil, false
		}
		chh := ch.Hash()
		cons, _, err := consent.VerifyEncoded(v.b.ValidatorGroup, v.g.ChainID, consent.Action{Kind: consent.KindValidatorChange, Data: chh[:]}, p.Consent)
		if err != nil {
			fail(i, h, "%s of validator %d: the validator organisations' consent: %w", opName(ch.Op), ch.Validator.ID, err)
			return hist, nil, false
		}
		if cons.Request.Meaning != consent.MeaningApproveValidatorChange {
			fail(i, h, "%s of validator %d: the consent's meaning is %q, a validator change needs %q", opName(ch.Op), ch.Validator.ID, cons.Request.Meaning, consent.MeaningApproveValidatorChange)
			return hist, nil, false
		}
		cid := block.Hash(cons.ID())
		if k, dup := usedConsents[cid]; dup {
			fail(i, h, "%s of validator %d: its consent %s was already used by set change %d", opName(ch.Op), ch.Validator.ID, cid, k)
			return hist, nil, false
		}
		usedConsents[cid] = i
		if err := hist.Apply(ch, h); err != nil {
			fail(i, h, "%s of validator %d does not fit the set in force (%v): %w", opName(ch.Op), ch.Validator.ID, set.IDs(), err)
			return hist, nil, false
		}
		next := hist.Latest()
		v.res.SetChanges = append(v.res.SetChanges, SetChangeInfo{Height: h, Op: opName(ch.Op), Validator: ch.Validator.ID, Name: ch.Validator.Name,
			TxHash: txh, SetHash: next.Hash(), Size: len(next.Validators)})
		pending = append(pending, pendingReceipt{i: i, txHash: txh, height: h, change: p.Change})
	}
	return hist, pending, true
}

// setReceipts checks each change's receipt against the certified log
// roots: the change was executed, and succeeded.
func (v *verifier) setReceipts(pending []pendingReceipt) {
	for _, pr := range pending {
		sc := v.b.SetChanges[pr.i]
		fail := func(format string, args ...any) {
			v.fail(-1, block.Hash{}, 0, fmt.Sprintf("set change %d (block %d) receipt", pr.i, pr.height), ErrSetChange, format, args...)
		}
		root, ok := v.roots[sc.Receipt.Size]
		if !ok {
			fail("its proof is for log size %d, which no verified checkpoint of the bundle certifies", sc.Receipt.Size)
			continue
		}
		if err := sc.Receipt.Verify(sc.Receipt.Size, root); err != nil {
			fail("%w", err)
			continue
		}
		rc, err := sc.Receipt.Receipt()
		if err != nil {
			fail("%w", err)
			continue
		}
		switch {
		case rc.TxHash != pr.txHash || rc.Height != pr.height || rc.Index != sc.TxIndex:
			fail("the receipt is of transaction %s (block %d, index %d), not of %s (block %d, index %d)", rc.TxHash, rc.Height, rc.Index, pr.txHash, pr.height, sc.TxIndex)
		case rc.Status != block.StatusOK:
			fail("the change failed on the chain (status %s: %s): it changed no set", rc.Status, rc.Error)
		default:
			found := false
			for _, d := range chainEvents(rc, EventValidatorChanged, 0) {
				found = found || bytes.Equal(d, pr.change)
			}
			if !found {
				fail("the receipt has no %q event of this change", EventValidatorChanged)
			}
		}
	}
}

func opName(op byte) string {
	if op == genesis.ChangeAdd {
		return "add"
	}
	return "remove"
}
