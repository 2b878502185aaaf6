package state

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
)

// Admission errors: each refusal names its own cause.
var (
	ErrTooLarge      = errors.New("state: transaction too large")
	ErrMalformed     = errors.New("state: malformed transaction")
	ErrBadSignature  = errors.New("state: bad signature")
	ErrWrongChain    = errors.New("state: wrong chain id")
	ErrGasLimit      = errors.New("state: gas limit out of range")
	ErrUnknownSender = errors.New("state: sender is not a registered member")
	ErrRevoked       = errors.New("state: sender's membership is revoked")
	ErrForbidden     = errors.New("state: sender's role may not send this kind")
	ErrNonceUsed     = errors.New("state: nonce already used")
	// ErrBlockFull: the transaction is valid but its gas limit does not fit
	// in this block (Params.BlockGasLimit); it waits for the next one.
	ErrBlockFull = errors.New("state: block gas limit reached")
	// ErrExpired: the block's time is past the transaction's ValidUntil.
	// Block times never go back, so no later block may carry it either.
	ErrExpired = errors.New("state: transaction expired")
)

// CheckValidUntil refuses tx in a block of time blockTime (Unix
// milliseconds) later than its ValidUntil bound.
func CheckValidUntil(tx *block.Tx, blockTime int64) error {
	if tx.Admissible(blockTime) {
		return nil
	}
	return fmt.Errorf("%w: valid until %d ms, the block's time is %d ms (Unix)", ErrExpired, tx.ValidUntil, blockTime)
}

// Params are the chain parameters the transition depends on.
type Params struct {
	ChainID    string
	MaxTxBytes int
	MaxTxGas   uint64
	// BlockGasLimit caps the sum of the gas limits of a block's
	// transactions (0: no cap). Batch enforces it, so a leader never
	// proposes more and a follower refuses a proposal that does.
	BlockGasLimit uint64
}

// allowed lists, per kind, the roles that may send it (least privilege).
// Calls are open to every active member: the contract checks the caller's role.
var allowed = map[block.Kind][]block.Role{
	block.KindRegister:     {block.RoleAdmin},
	block.KindAnchor:       {block.RoleAdmin, block.RoleSponsor, block.RoleSite, block.RoleRegulator, block.RoleCommittee},
	block.KindDeploy:       {block.RoleAdmin, block.RoleSponsor},
	block.KindUpgrade:      {block.RoleAdmin, block.RoleSponsor},
	block.KindConsentGroup: {block.RoleAdmin, block.RoleSponsor, block.RoleSite, block.RoleCommittee},
	block.KindCall:         block.Roles(),
	block.KindRedact:       {block.RoleAdmin, block.RoleSponsor, block.RoleSite, block.RoleCommittee},
	block.KindPin:          {block.RoleAdmin}, // the contract registry (pin.go)
	// Any member may carry a validator change: the validator
	// organisations' consent is what authorises it.
	block.KindValidator: block.Roles(),
}

// selfRotation reports whether tx is a member rotating its own key (a
// register transaction whose Replaces is the sender): any active member
// may, the chain then checks the organisation and role are kept.
func selfRotation(tx *block.Tx) bool {
	if tx.Kind != block.KindRegister {
		return false
	}
	p, err := block.DecodeRegister(tx.Payload)
	return err == nil && len(p.Replaces) > 0 && bytes.Equal(p.Replaces, tx.Sender)
}

// Allowed reports whether role may send kind.
func Allowed(kind block.Kind, role block.Role) bool {
	for _, r := range allowed[kind] {
		if r == role {
			return true
		}
	}
	return false
}

// CheckTx performs the stateless admission checks: size, canonical decoding
// of the transaction and its payload, signature, chain id and gas limit.
//
// They run in this order, and the first that fails gives the error: size,
// decoding, signature, chain id, gas limit, payload.
// TxCache.CheckAll runs the same three stages (decodeTx, the signature,
// checkDecoded) over many transactions, with the signatures in batches,
// and gives each transaction the error this function gives it.
func CheckTx(p Params, raw []byte) (*block.Tx, error) {
	tx, err := decodeTx(p, raw)
	if err != nil {
		return nil, err
	}
	if err := tx.VerifySignature(); err != nil {
		return nil, badSignature(tx)
	}
	if err := checkDecoded(p, tx); err != nil {
		return nil, err
	}
	return tx, nil
}

// decodeTx is CheckTx's first stage: the size limit and the canonical
// decoding.
func decodeTx(p Params, raw []byte) (*block.Tx, error) {
	if len(raw) > p.MaxTxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), p.MaxTxBytes)
	}
	tx, err := block.DecodeTx(raw)
	if err != nil {
		if errors.Is(err, block.ErrTooLarge) {
			return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return tx, nil
}

// badSignature is CheckTx's error for a transaction whose signature fails.
func badSignature(tx *block.Tx) error {
	return fmt.Errorf("%w: transaction %s", ErrBadSignature, tx.Hash())
}

// checkDecoded is CheckTx's last stage, after the signature: chain id,
// gas limit and payload.
func checkDecoded(p Params, tx *block.Tx) error {
	if tx.ChainID != p.ChainID {
		return fmt.Errorf("%w: transaction is for %q, this chain is %q", ErrWrongChain, tx.ChainID, p.ChainID)
	}
	if min := IntrinsicGas(tx); tx.GasLimit < min || tx.GasLimit > p.MaxTxGas {
		return fmt.Errorf("%w: %d, want %d..%d", ErrGasLimit, tx.GasLimit, min, p.MaxTxGas)
	}
	if err := checkPayload(tx); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// MaxPayloadBytes caps a payload per kind, at admission and in every
// proposal: a kind whose payload is small by nature may not be used to
// carry megabytes. Deploys, upgrades and calls are bounded by the chain's
// MaxTxBytes (a contract is ~2 MB). A consent group of MaxParties parties
// encodes to well under 64 KiB.
var MaxPayloadBytes = map[block.Kind]int{
	block.KindRegister:     16 << 10,
	block.KindAnchor:       16 << 10,
	block.KindRedact:       64 << 10,
	block.KindConsentGroup: 64 << 10,
	block.KindValidator:    66 << 10,
}

func checkPayload(tx *block.Tx) error {
	if limit, ok := MaxPayloadBytes[tx.Kind]; ok && len(tx.Payload) > limit {
		return fmt.Errorf("%s payload of %d bytes, limit %d", tx.Kind, len(tx.Payload), limit)
	}
	var err error
	switch tx.Kind {
	case block.KindRegister:
		_, err = block.DecodeRegister(tx.Payload)
	case block.KindAnchor:
		_, _, _, err = block.ParseAnchor(tx.Payload)
	case block.KindDeploy:
		_, err = block.DecodeDeploy(tx.Payload)
	case block.KindCall:
		_, err = block.DecodeCall(tx.Payload)
	case block.KindUpgrade:
		_, err = block.DecodeUpgrade(tx.Payload)
	case block.KindRedact:
		_, err = block.DecodeRedact(tx.Payload)
	case block.KindPin:
		_, err = block.DecodePin(tx.Payload)
	case block.KindValidator:
		_, err = block.DecodeValidator(tx.Payload)
	case block.KindConsentGroup:
		if len(tx.Payload) == 0 {
			err = errors.New("empty consent group")
		}
	}
	return err
}

// CheckSender performs the stateful admission checks against r: the sender
// is an active member whose role may send this kind, and the nonce is unused.
func CheckSender(r Reader, tx *block.Tx) error {
	_, _, err := checkSender(r, tx, false)
	return err
}

// checkSender is CheckSender; with decode it also returns the sender's
// member record (else nil: the checks read only its role and revocation,
// and decode the whole record only to word a refusal). It returns the
// transaction's NonceKey too, for the caller that marks it used.
func checkSender(r Reader, tx *block.Tx, decode bool) (*Member, []byte, error) {
	memberKey, nonceKey := senderKeys(tx.Sender, tx.Nonce)
	// Read without a copy: memberFlags and DecodeMember only read v.
	v, ok, err := getShared(r, memberKey)
	if err != nil {
		return nil, nil, fmt.Errorf("state: read member: %w", err)
	}
	if !ok {
		return nil, nil, fmt.Errorf("%w: %x", ErrUnknownSender, []byte(tx.Sender))
	}
	var m *Member
	role, revoked, flagsOK := memberFlags(v)
	if decode || !flagsOK || revoked || !Allowed(tx.Kind, role) {
		if m, err = DecodeMember(tx.Sender, v); err != nil {
			return nil, nil, fmt.Errorf("state: read member: %w", err)
		}
		if m.Revoked {
			return nil, nil, fmt.Errorf("%w: %s (%s)", ErrRevoked, m.Name, m.Org)
		}
		if !Allowed(tx.Kind, m.Role) && !selfRotation(tx) {
			return nil, nil, fmt.Errorf("%w: %s is %s, %s needs one of %v", ErrForbidden, m.Name, m.Role, tx.Kind, allowed[tx.Kind])
		}
	}
	_, used, err := r.Get(nonceKey)
	if err != nil {
		return nil, nil, fmt.Errorf("state: read nonce: %w", err)
	}
	if used {
		return nil, nil, fmt.Errorf("%w: %d", ErrNonceUsed, tx.Nonce)
	}
	return m, nonceKey, nil
}

// Batch checks a sequence of transactions in order, as they would be
// executed: each must pass CheckTx, CheckValidUntil and CheckSender
// against the state left by the ones before it. It is what a leader uses
// to assemble a proposal and a follower to verify one.
type Batch struct {
	// Cache, if set, remembers the stateless checks (TxCache.CheckTx).
	Cache *TxCache
	p     Params
	ov    *Overlay
	time  int64  // the block's header time (Unix milliseconds)
	gas   uint64 // sum of the admitted transactions' gas limits
}

// NewBatch starts a batch for a block of time blockTime (Unix
// milliseconds, the header's) over committed state r.
func NewBatch(p Params, r Reader, blockTime int64) *Batch {
	return &Batch{p: p, ov: NewOverlay(r), time: blockTime}
}

// Add admits raw if it is valid after the batch so far, and records its
// effect on admission (its nonce, and member changes it makes).
func (b *Batch) Add(raw []byte) (*block.Tx, error) {
	tx, _, err := b.Cache.CheckTx(b.p, raw)
	if err != nil {
		return nil, err
	}
	if err := b.AddChecked(tx); err != nil {
		return nil, err
	}
	return tx, nil
}

// AddChecked is Add for a transaction that already passed CheckTx with
// the batch's Params (TxCache.CheckAll): it runs the stateful checks and
// records the transaction's effect on admission.
func (b *Batch) AddChecked(tx *block.Tx) error {
	if err := CheckValidUntil(tx, b.time); err != nil {
		return err
	}
	_, nonceKey, err := checkSender(b.ov, tx, false)
	if err != nil {
		return err
	}
	if b.p.BlockGasLimit > 0 && tx.GasLimit > b.p.BlockGasLimit-b.gas {
		return fmt.Errorf("%w: %d of %d gas taken, this transaction asks %d", ErrBlockFull, b.gas, b.p.BlockGasLimit, tx.GasLimit)
	}
	b.gas += tx.GasLimit
	b.ov.markOwned(nonceKey) // built for this transaction by checkSender
	if tx.Kind == block.KindRegister {
		p, _ := block.DecodeRegister(tx.Payload)
		if _, err := applyRegisterTx(b.ov, p, 0); err != nil {
			return err
		}
	}
	return nil
}
