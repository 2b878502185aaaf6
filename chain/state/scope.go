package state

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/vm/abi"
)

// Record sets ("scopes") are ordered sets of records that the chain keeps,
// not contract code: every record-producing transaction is appended to the
// sets it belongs to, in commit order, and the state commits to each set
// by a head (count and a hash chain over the entries) and to each entry.
// Because the head is in the state tree, a certified header proves it, and
// a bundle that lists a set's entries proves it holds every record of the
// set: none dropped, none spliced in from another set, none twice.
//
// Which sets a transaction joins:
//
//	call      the sets its contract names with record_scope (e.g. "trial:ID"),
//	          kept even when the call then fails (refused attempts are records too)
//	deploy    "code:" + hex(contract address)   (every version of a contract's code)
//	upgrade   "code:" + hex(contract address)
//	register  "member:" + hex(key)              (a key's whole membership history)
//	anchor    the set named in its payload, if any (a trial's documents)
//	redact    the sets of the anchors of the documents it redacts
//
// State layout:
//
//	r ‖ id32            → ScopeHead: count 8 ‖ acc 32
//	r ‖ id32 ‖ seq8(BE) → ScopeEntry (seq from 0)
//
// where id = ScopeID(name).
const prefixScope = 'r'

// GasScopeJoin is the chain's charge for appending a transaction to one
// record set (two state writes), for the kinds the chain executes itself.
// Contract calls pay it through the VM's record_scope.
const GasScopeJoin = 2 * GasPerStorage * 64

// MaxScopeKindBytes bounds ScopeEntry.Kind.
const MaxScopeKindBytes = 2 * block.MaxNameBytes

// ScopeID is the id of the record set name.
func ScopeID(name string) block.Hash {
	return sha256.Sum256(append([]byte("trialchain/scope/v1\x00"), name...))
}

// ScopeKey is the state key of a record set's head.
func ScopeKey(name string) []byte {
	id := ScopeID(name)
	return append([]byte{prefixScope}, id[:]...)
}

// ScopeEntryKey is the state key of entry seq of the set with id.
func ScopeEntryKey(id block.Hash, seq uint64) []byte {
	k := append([]byte{prefixScope}, id[:]...)
	return binary.BigEndian.AppendUint64(k, seq)
}

// TrialScope names the record set of a trial.
func TrialScope(id string) string { return "trial:" + id }

// CodeScope names the record set of a contract's code versions.
func CodeScope(addr block.Hash) string { return "code:" + hex.EncodeToString(addr[:]) }

// MemberScope names the record set of a member key's registrations.
func MemberScope(key ed25519.PublicKey) string { return "member:" + hex.EncodeToString(key) }

// ScopeEntry is one record of a set: the transaction, where it was
// committed, and what it was, for people ("call:ae", "anchor", "deploy"…).
type ScopeEntry struct {
	TxHash block.Hash
	Height uint64
	Index  uint64 // position in its block
	Kind   string
}

// Encode: tx hash 32 ‖ height 8 ‖ index 8 ‖ kind string.
func (e *ScopeEntry) Encode() []byte {
	var w block.Writer
	w.Fixed(e.TxHash[:])
	w.Uint64(e.Height)
	w.Uint64(e.Index)
	w.String(e.Kind)
	return w.Bytes()
}

// DecodeScopeEntry decodes an entry.
func DecodeScopeEntry(b []byte) (*ScopeEntry, error) {
	r := block.NewReader(b)
	e := &ScopeEntry{TxHash: r.Hash("tx hash"), Height: r.Uint64("height"), Index: r.Uint64("index"), Kind: r.String(MaxScopeKindBytes, "kind")}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("record set entry: %w", err)
	}
	return e, nil
}

// ScopeHead commits to a set: how many entries, and a hash chain over
// them (Acc of the empty set is zero).
type ScopeHead struct {
	Count uint64
	Acc   block.Hash
}

// Next is the head after appending e.
func (h ScopeHead) Next(e *ScopeEntry) ScopeHead {
	d := sha256.New()
	d.Write([]byte("trialchain/scope-acc/v1\x00"))
	d.Write(h.Acc[:])
	d.Write(e.Encode())
	var acc block.Hash
	d.Sum(acc[:0])
	return ScopeHead{Count: h.Count + 1, Acc: acc}
}

// HeadOf is the head of a set with exactly these entries, in order.
func HeadOf(entries []*ScopeEntry) ScopeHead {
	var h ScopeHead
	for _, e := range entries {
		h = h.Next(e)
	}
	return h
}

// Encode: count 8 ‖ acc 32.
func (h ScopeHead) Encode() []byte {
	return append(binary.BigEndian.AppendUint64(nil, h.Count), h.Acc[:]...)
}

// DecodeScopeHead decodes a head.
func DecodeScopeHead(b []byte) (ScopeHead, error) {
	if len(b) != 40 {
		return ScopeHead{}, fmt.Errorf("record set head of %d bytes, want 40", len(b))
	}
	var h ScopeHead
	h.Count = binary.BigEndian.Uint64(b)
	copy(h.Acc[:], b[8:])
	return h, nil
}

// ReadScopeHead returns the head of the set name (zero if it is empty).
func ReadScopeHead(r Reader, name string) (ScopeHead, error) {
	v, ok, err := r.Get(ScopeKey(name))
	if err != nil || !ok {
		return ScopeHead{}, err
	}
	return DecodeScopeHead(v)
}

// ScopeEntries returns entries [from, to) of the set name, in order.
func ScopeEntries(r Reader, name string, from, to uint64) ([]*ScopeEntry, error) {
	id := ScopeID(name)
	out := make([]*ScopeEntry, 0, min(to-from, 1<<16))
	for seq := from; seq < to; seq++ {
		v, ok, err := r.Get(ScopeEntryKey(id, seq))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("record set %q: entry %d is missing from state", name, seq)
		}
		e, err := DecodeScopeEntry(v)
		if err != nil {
			return nil, fmt.Errorf("record set %q: entry %d: %w", name, seq, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// AppendScope appends e to the set name in ov: what the executor does for
// each set a transaction joins (tools and tests that build state use it too).
func AppendScope(ov *Overlay, name string, e *ScopeEntry) error {
	h, err := ReadScopeHead(ov, name)
	if err != nil {
		return fmt.Errorf("%w: read record set %q: %w", ErrNodeFault, name, err)
	}
	ov.Set(ScopeEntryKey(ScopeID(name), h.Count), e.Encode())
	ov.Set(ScopeKey(name), h.Next(e).Encode())
	return nil
}

// ValidScopeName reports why a contract or an anchor may not name the set
// name (nil if it may): see abi.ValidScopeName.
func ValidScopeName(name string) error {
	if why := abi.ValidScopeName(name); why != "" {
		return fmt.Errorf("record set %q: %s", name, why)
	}
	return nil
}

// EventScope is the type of the chain's receipt event naming a record set
// the transaction joined (data: the set's name). Its source is zero, so a
// contract cannot forge it, and the receipt is a leaf of the record log:
// every record proves the sets it belongs to.
const EventScope = "record.scope"
