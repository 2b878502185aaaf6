package state

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
)

// State key prefixes. One byte each; the rest of the key is fixed-width
// binary so prefix iteration is exact. The c, k, s, g and u entries are
// written by package chain/contracts, which documents their values.
const (
	prefixMember   = 'm' // m ‖ key32 → Member
	prefixNonce    = 'n' // n ‖ key32 ‖ nonce8 → empty
	prefixAnchor   = 'a' // a ‖ dochash32 ‖ height8 ‖ index8 → Anchor
	prefixContract = 'c' // c ‖ addr32 → contracts.Contract encoding
	prefixCode     = 'k' // k ‖ codehash32 → wasm code, stored once per hash
	prefixStorage  = 's' // s ‖ addr32 ‖ contract key → value (the contract's own namespace)
	prefixGroup    = 'g' // g ‖ groupid32 → consent group canonical encoding (group.bin)
	prefixUsed     = 'u' // u ‖ consentid32 → height8 (single-use consents)
	prefixValSet   = 'v' // v → the validator set in force after the last change (genesis.EncodeSet); absent: the genesis set
	prefixSeal     = 'z' // z ‖ addr32 ‖ kind1 ‖ contract key → height8 (write-once seals, see vm.SealStore)
)

// MemberKey is the state key of a member record.
func MemberKey(k ed25519.PublicKey) []byte {
	return append(append(make([]byte, 0, 1+len(k)), prefixMember), k...)
}

// NonceKey is the state key marking (sender, nonce) used.
func NonceKey(k ed25519.PublicKey, nonce uint64) []byte {
	b := append(append(make([]byte, 0, 1+len(k)+8), prefixNonce), k...)
	return binary.BigEndian.AppendUint64(b, nonce)
}

// senderKeys returns MemberKey(k) and NonceKey(k, nonce) cut from one
// allocation (each capped at its end).
func senderKeys(k ed25519.PublicKey, nonce uint64) (member, nonceKey []byte) {
	b := make([]byte, 0, 2*(1+len(k))+8)
	b = append(append(b, prefixMember), k...)
	n := len(b)
	b = append(append(b, prefixNonce), k...)
	b = binary.BigEndian.AppendUint64(b, nonce)
	return b[:n:n], b[n:]
}

// AnchorPrefix is the key prefix of every anchoring of a document hash.
func AnchorPrefix(doc block.Hash) []byte { return append([]byte{prefixAnchor}, doc[:]...) }

func anchorKey(doc block.Hash, height, index uint64) []byte {
	b := append(append(make([]byte, 0, 1+len(doc)+16), prefixAnchor), doc[:]...)
	b = binary.BigEndian.AppendUint64(b, height)
	return binary.BigEndian.AppendUint64(b, index)
}

// ContractKey is the state key of a contract's metadata.
func ContractKey(addr block.Hash) []byte { return append([]byte{prefixContract}, addr[:]...) }

// CodeKey is the state key of wasm code by its hash.
func CodeKey(h block.Hash) []byte { return append([]byte{prefixCode}, h[:]...) }

// StoragePrefix is the prefix of a contract's own keys.
func StoragePrefix(addr block.Hash) []byte { return append([]byte{prefixStorage}, addr[:]...) }

// SealPrefix is the prefix of a contract's seals (vm.SealStore's layout
// follows it). The contract cannot name these keys: its own state is
// under StoragePrefix.
func SealPrefix(addr block.Hash) []byte { return append([]byte{prefixSeal}, addr[:]...) }

// ValidatorSetKey is the state key of the validator set in force after the
// last validator change (absent until the first one).
func ValidatorSetKey() []byte { return []byte{prefixValSet} }

// GroupKey is the state key of a consent group.
func GroupKey(id block.Hash) []byte { return append([]byte{prefixGroup}, id[:]...) }

// UsedConsentKey marks a consent as used.
func UsedConsentKey(id block.Hash) []byte { return append([]byte{prefixUsed}, id[:]...) }

// Member is a registered member.
type Member struct {
	Key     ed25519.PublicKey
	Org     string
	Name    string
	Role    block.Role
	Revoked bool
	Since   uint64 // height registered (0 = genesis)
}

// Encode: org string ‖ name string ‖ role 1 ‖ revoked 1 ‖ since 8 (the key is in the state key).
func (m *Member) Encode() []byte {
	var w block.Writer
	w.Grow(2*binary.MaxVarintLen64 + len(m.Org) + len(m.Name) + 1 + 1 + 8)
	w.String(m.Org)
	w.String(m.Name)
	w.Byte(byte(m.Role))
	if m.Revoked {
		w.Byte(1)
	} else {
		w.Byte(0)
	}
	w.Uint64(m.Since)
	return w.Bytes()
}

// DecodeMember decodes a member record stored under key.
func DecodeMember(key ed25519.PublicKey, b []byte) (*Member, error) {
	r := block.NewReader(b)
	m := &Member{Key: key}
	m.Org = r.String(block.MaxNameBytes, "org")
	m.Name = r.String(block.MaxNameBytes, "name")
	m.Role = block.Role(r.Byte("role"))
	m.Revoked = r.Bool("revoked")
	m.Since = r.Uint64("since")
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("member record: %w", err)
	}
	return m, nil
}

// memberFlags returns the role and revocation of the member record b
// without decoding its strings, and ok if DecodeMember accepts b (if not,
// DecodeMember says why).
func memberFlags(b []byte) (role block.Role, revoked bool, ok bool) {
	r := block.NewReader(b)
	for range 2 { // org, name
		n := r.Uvarint("")
		if n > block.MaxNameBytes {
			return 0, false, false
		}
		r.Fixed(int(n), "")
	}
	role = block.Role(r.Byte(""))
	revoked = r.Bool("")
	r.Uint64("")
	if r.Done() != nil {
		return 0, false, false
	}
	return role, revoked, true
}

// Anchor is one anchoring of a document hash.
type Anchor struct {
	Doc           block.Hash
	Label         string
	Sender        ed25519.PublicKey
	Height        uint64
	Index         uint64
	TimeUnixMilli int64
	TxHash        block.Hash
	Scope         string // the record set it joined, if any
}

// Encode: label string ‖ sender 32 ‖ time 8 ‖ tx hash 32 [‖ scope string]
// (doc, height and index are in the key; the scope only when set).
func (a *Anchor) Encode() []byte {
	return a.appendEncode(make([]byte, 0, a.encodedSize()))
}

// encodedSize bounds the size of the encoding (varints at their longest).
func (a *Anchor) encodedSize() int {
	return 2*binary.MaxVarintLen64 + len(a.Label) + len(a.Sender) + 8 + len(a.TxHash) + len(a.Scope)
}

// appendEncode appends the encoding to b.
func (a *Anchor) appendEncode(b []byte) []byte {
	w := block.NewWriter(b)
	w.String(a.Label)
	w.Fixed(a.Sender)
	w.Int64(a.TimeUnixMilli)
	w.Fixed(a.TxHash[:])
	if a.Scope != "" {
		w.String(a.Scope)
	}
	return w.Bytes()
}

// DecodeAnchor decodes an anchor record from its state key and value.
func DecodeAnchor(key, value []byte) (*Anchor, error) {
	if len(key) != 1+32+16 || key[0] != prefixAnchor {
		return nil, fmt.Errorf("anchor key of %d bytes", len(key))
	}
	a := &Anchor{}
	copy(a.Doc[:], key[1:33])
	a.Height = binary.BigEndian.Uint64(key[33:41])
	a.Index = binary.BigEndian.Uint64(key[41:49])
	r := block.NewReader(value)
	a.Label = r.String(block.MaxLabelBytes, "label")
	a.Sender = ed25519.PublicKey(append([]byte(nil), r.Fixed(32, "sender")...))
	a.TimeUnixMilli = r.Int64("time")
	a.TxHash = r.Hash("tx hash")
	if r.Err() == nil && r.Len() > 0 {
		a.Scope = r.String(block.MaxScopeBytes, "scope")
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("anchor record: %w", err)
	}
	return a, nil
}

// Anchors lists every anchoring of doc in commit order.
func Anchors(r Reader, doc block.Hash) ([]*Anchor, error) {
	var out []*Anchor
	var derr error
	err := r.Iterate(AnchorPrefix(doc), func(k, v []byte) bool {
		a, err := DecodeAnchor(k, v)
		if err != nil {
			derr = err
			return false
		}
		out = append(out, a)
		return true
	})
	if err == nil {
		err = derr
	}
	return out, err
}

// LookupMember reads a member record; ok=false if the key was never registered.
func LookupMember(r Reader, key ed25519.PublicKey) (*Member, bool, error) {
	v, ok, err := r.Get(MemberKey(key))
	if err != nil || !ok {
		return nil, false, err
	}
	m, err := DecodeMember(key, v)
	if err != nil {
		return nil, false, err
	}
	return m, true, nil
}
