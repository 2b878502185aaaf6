package contracts

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/state"
)

// Errors of contract transactions and lookups. Receipts carry their text;
// callers of Query, Info and Lookup can test them with errors.Is.
var (
	ErrNoContract    = errors.New("contracts: no contract at this address")
	ErrBadPolicy     = errors.New("contracts: invalid upgrade policy")
	ErrNotAllowed    = errors.New("contracts: upgrade not allowed by the contract's policy")
	ErrOutOfGas      = errors.New("contracts: out of gas")
	ErrGroupExists   = errors.New("contracts: consent group already registered")
	ErrNoGroup       = errors.New("contracts: consent group not registered")
	ErrConsentUsed   = errors.New("contracts: consent already used")
	ErrConsentRefuse = errors.New("contracts: consent refused")
	ErrBadEvent      = errors.New("contracts: event not representable in a receipt")
	ErrReceiptSize   = errors.New("contracts: events too large for a receipt")
	ErrWrongMeaning  = errors.New("contracts: the consent means something else")
	ErrGroupParty    = errors.New("contracts: consent group party is not a member")
	ErrGovern        = errors.New("contracts: governance change refused")
	ErrNotActive     = errors.New("contracts: contract code not active yet")
	ErrCannotRun     = errors.New("contracts: contract code cannot run")
)

// Contract is the record of a deployed contract. Encoding (stored under
// state.ContractKey(address)):
//
//	code hash 32 ‖ deployer 32 ‖ policy 1 ‖ owner bytes(≤64) ‖ label string(≤256) ‖
//	height 8 ‖ upgraded 8 ‖ active 8 ‖ previous 32
//
// Code is activated in two steps (RATIONALE in vm): the deploy or upgrade
// stores it, checked, and every node compiles it in the background; calls
// run it from the first block whose time is at least Active. Until then an
// upgraded contract runs its Previous code and a new one refuses calls.
type Contract struct {
	Address  block.Hash        // not encoded: it is the key
	CodeHash block.Hash        // SHA-256 of the current code
	Deployer ed25519.PublicKey // the deploying member
	Policy   block.Policy
	// Owner is empty for PolicyImmutable, the owner's member key for
	// PolicyOwner (the deployer unless named), the consent group id for
	// PolicyGroup.
	Owner    []byte
	Label    string
	Height   uint64 // deployed at
	Upgraded uint64 // last upgraded at, 0 if never
	// Active is the block time (Unix ms) from which CodeHash runs.
	Active int64
	// Previous is the code that runs before Active after an upgrade (zero
	// for a new contract: calls are refused until Active).
	Previous block.Hash
}

// Running returns the hash of the code a call at block time t runs, or
// false if the contract has no active code yet.
func (c *Contract) Running(t int64) (block.Hash, bool) {
	if t >= c.Active {
		return c.CodeHash, true
	}
	return c.Previous, c.Previous != (block.Hash{})
}

// Encode returns the canonical encoding.
func (c *Contract) Encode() []byte {
	var w block.Writer
	w.Fixed(c.CodeHash[:])
	w.Fixed(pad32(c.Deployer))
	w.Byte(byte(c.Policy))
	w.VarBytes(c.Owner)
	w.String(c.Label)
	w.Uint64(c.Height)
	w.Uint64(c.Upgraded)
	w.Int64(c.Active)
	w.Fixed(c.Previous[:])
	return w.Bytes()
}

// DecodeContract decodes the record of the contract at addr.
func DecodeContract(addr block.Hash, b []byte) (*Contract, error) {
	r := block.NewReader(b)
	c := &Contract{Address: addr}
	c.CodeHash = r.Hash("code hash")
	c.Deployer = ed25519.PublicKey(append([]byte(nil), r.Fixed(ed25519.PublicKeySize, "deployer")...))
	c.Policy = block.Policy(r.Byte("policy"))
	c.Owner = r.VarBytes(64, "owner")
	c.Label = r.String(block.MaxLabelBytes, "label")
	c.Height = r.Uint64("height")
	c.Upgraded = r.Uint64("upgraded")
	c.Active = r.Int64("active")
	c.Previous = r.Hash("previous")
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("contracts: contract record %s: %w", addr, err)
	}
	return c, nil
}

// Lookup reads the record of the contract at addr from r.
//
// # Errors
//
// ErrNoContract if there is none; a read or decode error otherwise.
func Lookup(r state.Reader, addr block.Hash) (*Contract, error) {
	v, ok, err := r.Get(state.ContractKey(addr))
	if err != nil {
		return nil, fmt.Errorf("contracts: read contract %s: %w", addr, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoContract, addr)
	}
	return DecodeContract(addr, v)
}

// Code reads the code of the contract c from r.
func Code(r state.Reader, c *Contract) ([]byte, error) {
	return codeByHash(r, c, c.CodeHash)
}

func codeByHash(r state.Reader, c *Contract, h block.Hash) ([]byte, error) {
	code, ok, err := r.Get(state.CodeKey(h))
	if err != nil {
		return nil, fmt.Errorf("contracts: read code %s: %w", h, err)
	}
	if !ok {
		return nil, fmt.Errorf("contracts: code %s of contract %s is missing from state", h, c.Address)
	}
	return code, nil
}

// Group reads the consent group with id from r.
//
// # Errors
//
// ErrNoGroup if it is not registered; a read or decode error otherwise.
func Group(r state.Reader, id block.Hash) (*consent.Group, error) {
	b, err := groupBytes(r, id)
	if err != nil {
		return nil, err
	}
	g, err := consent.ParseGroup(b)
	if err != nil {
		return nil, fmt.Errorf("contracts: stored consent group %s: %w", id, err)
	}
	return g, nil
}

func groupBytes(r state.Reader, id block.Hash) ([]byte, error) {
	b, ok, err := r.Get(state.GroupKey(id))
	if err != nil {
		return nil, fmt.Errorf("contracts: read consent group %s: %w", id, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoGroup, id)
	}
	return b, nil
}

// ConsentUsed reports whether the consent with id was used, and at which
// height.
func ConsentUsed(r state.Reader, id block.Hash) (height uint64, used bool, err error) {
	v, ok, err := r.Get(state.UsedConsentKey(id))
	if err != nil || !ok {
		return 0, false, err
	}
	if len(v) != 8 {
		return 0, true, fmt.Errorf("contracts: used-consent record of %d bytes", len(v))
	}
	return binary.BigEndian.Uint64(v), true, nil
}

// ActionUpgrade is the consent action kind of a contract upgrade.
const ActionUpgrade = "contract-upgrade"

// UpgradeAction is the action a consent group approves to upgrade the
// contract at addr to the code with codeHash: kind ActionUpgrade, data
// address ‖ code hash.
func UpgradeAction(addr, codeHash block.Hash) consent.Action {
	return consent.Action{Kind: ActionUpgrade, Data: append(append([]byte(nil), addr[:]...), codeHash[:]...)}
}

// CallAction is the action a consent must be for when a contract at addr
// passes msg to consent_verify in its method: consent.CallAction(address,
// method, msg).
func CallAction(addr block.Hash, method string, msg []byte) consent.Action {
	return consent.CallAction(addr[:], method, msg)
}

func pad32(k []byte) []byte {
	if len(k) == 32 {
		return k
	}
	out := make([]byte, 32)
	copy(out, k)
	return out
}
