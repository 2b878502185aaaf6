package block

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
)

// Role is what a member may do. Values are part of the wire format.
type Role byte

// Member roles (least privilege: each transaction kind names the roles that
// may send it, see state.Allowed).
const (
	RoleAdmin      Role = 1
	RoleSponsor    Role = 2
	RoleSite       Role = 3
	RoleRegulator  Role = 4
	RoleCommittee  Role = 5
	RoleOperator   Role = 6
	RoleResearcher Role = 7
	RoleSubject    Role = 8 // a subject's delegate or legal representative
)

var roleNames = map[Role]string{
	RoleAdmin: "admin", RoleSponsor: "sponsor", RoleSite: "site", RoleRegulator: "regulator",
	RoleCommittee: "committee", RoleOperator: "operator", RoleResearcher: "researcher", RoleSubject: "subject",
}

// Roles lists every role in wire order.
func Roles() []Role {
	return []Role{RoleAdmin, RoleSponsor, RoleSite, RoleRegulator, RoleCommittee, RoleOperator, RoleResearcher, RoleSubject}
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := roleNames[r]; return ok }

func (r Role) String() string {
	if s, ok := roleNames[r]; ok {
		return s
	}
	return fmt.Sprintf("role(%d)", byte(r))
}

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if roleNames[r] == strings.ToLower(strings.TrimSpace(s)) {
			return r, nil
		}
	}
	return 0, fmt.Errorf("block: unknown role %q (want one of admin, sponsor, site, regulator, committee, operator, researcher, subject)", s)
}

// MarshalText encodes the role name (for JSON).
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses a role name.
func (r *Role) UnmarshalText(b []byte) error {
	p, err := ParseRole(string(b))
	*r = p
	return err
}

// Limits on payload fields.
const (
	MaxNameBytes   = 128
	MaxLabelBytes  = 256
	MaxMethodBytes = 64
	MaxArgsBytes   = 256 << 10
)

// RegisterPayload adds, changes or revokes a member. Encoding:
//
//	key 32 bytes ‖ org string(≤128) ‖ name string(≤128) ‖ role 1 byte ‖ revoke 1 byte (0|1)
type RegisterPayload struct {
	Key    ed25519.PublicKey
	Org    string
	Name   string
	Role   Role
	Revoke bool
	// Replaces, if set, rotates a key: Key takes over the organisation and
	// role of the active member Replaces, which is revoked in the same
	// transaction. Sent by an admin or by Replaces itself. Encoded only
	// when set (a trailing 32 bytes).
	Replaces ed25519.PublicKey
}

// Encode returns the canonical encoding.
func (p *RegisterPayload) Encode() []byte {
	var w Writer
	w.Fixed(padKey(p.Key))
	w.String(p.Org)
	w.String(p.Name)
	w.Byte(byte(p.Role))
	w.Byte(boolByte(p.Revoke))
	if len(p.Replaces) > 0 {
		w.Fixed(padKey(p.Replaces))
	}
	return w.Bytes()
}

// DecodeRegister decodes a RegisterPayload.
func DecodeRegister(b []byte) (*RegisterPayload, error) {
	r := NewReader(b)
	p := &RegisterPayload{}
	p.Key = ed25519.PublicKey(append([]byte(nil), r.Fixed(ed25519.PublicKeySize, "member key")...))
	p.Org = r.String(MaxNameBytes, "org")
	p.Name = r.String(MaxNameBytes, "name")
	p.Role = Role(r.Byte("role"))
	if r.Err() == nil && !p.Role.Valid() {
		r.Fail(fmt.Errorf("role %d: %w", byte(p.Role), ErrUnknownKind))
	}
	p.Revoke = r.Bool("revoke")
	if r.Err() == nil && r.Len() > 0 {
		p.Replaces = ed25519.PublicKey(append([]byte(nil), r.Fixed(ed25519.PublicKeySize, "replaced key")...))
		if r.Err() == nil && p.Revoke {
			r.Fail(errors.New("a key rotation cannot also revoke"))
		}
		if r.Err() == nil && bytes.Equal(p.Replaces, p.Key) {
			r.Fail(errors.New("a key cannot replace itself"))
		}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("register payload: %w", err)
	}
	return p, nil
}

// AnchorPayload records a document hash. Encoding: hash 32 bytes ‖ label string(≤256).
type AnchorPayload struct {
	Hash  Hash
	Label string
	// Scope, if set, names the record set the anchor joins (e.g.
	// "trial:NCT05503693": a trial's analysis plan or narrative). Encoded
	// only when set (a trailing string of 1..MaxScopeBytes).
	Scope string
}

// MaxScopeBytes bounds a record set name (as vm/abi.MaxScopeLen).
const MaxScopeBytes = 128

// Encode returns the canonical encoding.
func (p *AnchorPayload) Encode() []byte {
	var w Writer
	w.Fixed(p.Hash[:])
	w.String(p.Label)
	if p.Scope != "" {
		w.String(p.Scope)
	}
	return w.Bytes()
}

// DecodeAnchor decodes an AnchorPayload.
func DecodeAnchor(b []byte) (*AnchorPayload, error) {
	doc, label, scope, err := ParseAnchor(b)
	if err != nil {
		return nil, err
	}
	return &AnchorPayload{Hash: doc, Label: string(label), Scope: string(scope)}, nil
}

// ParseAnchor is DecodeAnchor without the copies: label and scope alias
// b (scope is empty if absent). It accepts and refuses what DecodeAnchor
// does, allocating nothing unless it refuses.
func ParseAnchor(b []byte) (doc Hash, label, scope []byte, err error) {
	r := Reader{buf: b, alias: true}
	doc = r.Hash("document hash")
	label = r.varBytes(MaxLabelBytes, "label", -1)
	if r.Err() == nil && r.Len() > 0 {
		scope = r.varBytes(MaxScopeBytes, "scope", -1)
		if r.Err() == nil && len(scope) == 0 {
			r.Fail(errors.New("an empty scope is left out, not encoded"))
		}
	}
	if err := r.Done(); err != nil {
		return Hash{}, nil, nil, fmt.Errorf("anchor payload: %w", err)
	}
	return doc, label, scope, nil
}

// Policy says who may replace a contract's code.
type Policy byte

// Upgrade policies.
const (
	PolicyImmutable Policy = 1 // nobody
	PolicyOwner     Policy = 2 // the deployer (or the named owner key)
	PolicyGroup     Policy = 3 // a consent group (by id) must approve
)

var policyNames = map[Policy]string{PolicyImmutable: "immutable", PolicyOwner: "owner", PolicyGroup: "group"}

func (p Policy) String() string {
	if s, ok := policyNames[p]; ok {
		return s
	}
	return fmt.Sprintf("policy(%d)", byte(p))
}

// ParsePolicy parses a policy name.
func ParsePolicy(s string) (Policy, error) {
	for k, v := range policyNames {
		if v == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("block: unknown policy %q (want immutable, owner or group)", s)
}

// DeployPayload creates a contract. Encoding:
//
//	code bytes(≤MaxPayloadBytes) ‖ policy 1 byte ‖ owner bytes(≤64) ‖ label string(≤256)
//
// Owner is the member key (PolicyOwner, empty = deployer) or the consent
// group id (PolicyGroup). The contract address is ContractAddress(deployer, nonce).
type DeployPayload struct {
	Code   []byte
	Policy Policy
	Owner  []byte
	Label  string
}

// Encode returns the canonical encoding.
func (p *DeployPayload) Encode() []byte {
	var w Writer
	w.VarBytes(p.Code)
	w.Byte(byte(p.Policy))
	w.VarBytes(p.Owner)
	w.String(p.Label)
	return w.Bytes()
}

// DecodeDeploy decodes a DeployPayload.
func DecodeDeploy(b []byte) (*DeployPayload, error) {
	r := NewReader(b)
	p := &DeployPayload{}
	p.Code = r.VarBytes(MaxPayloadBytes, "code")
	p.Policy = Policy(r.Byte("policy"))
	if _, ok := policyNames[p.Policy]; r.Err() == nil && !ok {
		r.Fail(fmt.Errorf("policy %d: %w", byte(p.Policy), ErrUnknownKind))
	}
	p.Owner = r.VarBytes(64, "owner")
	p.Label = r.String(MaxLabelBytes, "label")
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("deploy payload: %w", err)
	}
	return p, nil
}

// CallPayload calls a contract. Encoding: contract 32 bytes ‖ method string(≤64) ‖ args bytes(≤256 KiB).
type CallPayload struct {
	Contract Hash
	Method   string
	Args     []byte
}

// Encode returns the canonical encoding.
func (p *CallPayload) Encode() []byte {
	var w Writer
	w.Fixed(p.Contract[:])
	w.String(p.Method)
	w.VarBytes(p.Args)
	return w.Bytes()
}

// DecodeCall decodes a CallPayload.
func DecodeCall(b []byte) (*CallPayload, error) {
	r := NewReader(b)
	p := &CallPayload{Contract: r.Hash("contract"), Method: r.String(MaxMethodBytes, "method"), Args: r.VarBytes(MaxArgsBytes, "args")}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("call payload: %w", err)
	}
	return p, nil
}

// UpgradePayload replaces a contract's code. Encoding: contract 32 bytes ‖ code bytes ‖ consent bytes(≤64 KiB).
type UpgradePayload struct {
	Contract Hash
	Code     []byte
	Consent  []byte
}

// Encode returns the canonical encoding.
func (p *UpgradePayload) Encode() []byte {
	var w Writer
	w.Fixed(p.Contract[:])
	w.VarBytes(p.Code)
	w.VarBytes(p.Consent)
	return w.Bytes()
}

// DecodeUpgrade decodes an UpgradePayload.
func DecodeUpgrade(b []byte) (*UpgradePayload, error) {
	r := NewReader(b)
	p := &UpgradePayload{Contract: r.Hash("contract"), Code: r.VarBytes(MaxPayloadBytes, "code"), Consent: r.VarBytes(64<<10, "consent")}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("upgrade payload: %w", err)
	}
	return p, nil
}

// MaxValidatorChangeBytes bounds the change a ValidatorPayload carries.
const MaxValidatorChangeBytes = 1 << 10

// ValidatorPayload adds or removes a validator. Change is the canonical
// encoding of a genesis.Change; Consent is the validator organisations'
// threshold consent to it. Encoding: change bytes(≤1 KiB) ‖ consent
// bytes(≤64 KiB).
type ValidatorPayload struct {
	Change  []byte
	Consent []byte
}

// Encode returns the canonical encoding.
func (p *ValidatorPayload) Encode() []byte {
	var w Writer
	w.VarBytes(p.Change)
	w.VarBytes(p.Consent)
	return w.Bytes()
}

// DecodeValidator decodes a ValidatorPayload.
func DecodeValidator(b []byte) (*ValidatorPayload, error) {
	r := NewReader(b)
	p := &ValidatorPayload{Change: r.VarBytes(MaxValidatorChangeBytes, "change"), Consent: r.VarBytes(64<<10, "consent")}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("validator payload: %w", err)
	}
	return p, nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
