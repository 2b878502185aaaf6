package state

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
)

// The contract registry: well-known names ("trial-protocol",
// "genome-access", "surgical-records") bound by an admin to contract
// addresses. Clients resolve a trial's contracts through it, never by a
// deploy label, which anyone with deploy rights can copy. A binding is
// made or changed only by a pin transaction (admin only, with a reason);
// every binding is kept, so the registry's history is in the state and in
// the record set "pin:" + name.
//
// State layout (id = PinID(name)):
//
//	p ‖ id32            → Pin: the current binding (its Version counts them from 1)
//	p ‖ id32 ‖ seq8(BE) → Pin: binding seq (from 0), never rewritten
//
// Both are in the state tree, so a state proof shows which contract a
// name is bound to at a height, or that it is not bound at all.
const prefixPin = 'p'

// PinID is the id of a registry name.
func PinID(name string) block.Hash {
	return sha256.Sum256(append([]byte("trialchain/pin/v1\x00"), name...))
}

// PinKey is the state key of the current binding of name.
func PinKey(name string) []byte {
	id := PinID(name)
	return append([]byte{prefixPin}, id[:]...)
}

// PinHistoryKey is the state key of binding seq (from 0) of name.
func PinHistoryKey(name string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(PinKey(name), seq)
}

// PinScope names the record set of a registry name's bindings.
func PinScope(name string) string { return "pin:" + name }

// Pin is one binding of a registry name to a contract: who bound it
// (an admin), when, why, and what it replaced.
type Pin struct {
	Name          string
	Contract      block.Hash
	Reason        string
	Sender        ed25519.PublicKey
	Height        uint64
	Index         uint64
	TimeUnixMilli int64
	TxHash        block.Hash
	Version       uint64     // 1 for the first binding of the name
	Previous      block.Hash // the contract it replaced (zero for the first)
}

// Encode: name string ‖ contract 32 ‖ reason string ‖ sender 32 ‖ height 8
// ‖ index 8 ‖ time 8 ‖ tx hash 32 ‖ version 8 ‖ previous 32.
func (p *Pin) Encode() []byte {
	var w block.Writer
	w.String(p.Name)
	w.Fixed(p.Contract[:])
	w.String(p.Reason)
	w.Fixed(p.Sender)
	w.Uint64(p.Height)
	w.Uint64(p.Index)
	w.Int64(p.TimeUnixMilli)
	w.Fixed(p.TxHash[:])
	w.Uint64(p.Version)
	w.Fixed(p.Previous[:])
	return w.Bytes()
}

// DecodePin decodes a binding record.
func DecodePin(b []byte) (*Pin, error) {
	r := block.NewReader(b)
	p := &Pin{Name: r.String(block.MaxPinNameBytes, "name")}
	p.Contract = r.Hash("contract")
	p.Reason = r.String(block.MaxReasonBytes, "reason")
	p.Sender = ed25519.PublicKey(append([]byte(nil), r.Fixed(ed25519.PublicKeySize, "sender")...))
	p.Height = r.Uint64("height")
	p.Index = r.Uint64("index")
	p.TimeUnixMilli = r.Int64("time")
	p.TxHash = r.Hash("tx hash")
	p.Version = r.Uint64("version")
	p.Previous = r.Hash("previous")
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("pin record: %w", err)
	}
	if err := block.ValidPinName(p.Name); err != nil {
		return nil, fmt.Errorf("pin record: %w", err)
	}
	if p.Version == 0 {
		return nil, fmt.Errorf("pin record: version 0")
	}
	return p, nil
}

// LookupPin reads the current binding of name; ok=false if it was never bound.
func LookupPin(r Reader, name string) (*Pin, bool, error) {
	v, ok, err := r.Get(PinKey(name))
	if err != nil || !ok {
		return nil, false, err
	}
	p, err := DecodePin(v)
	if err != nil {
		return nil, false, err
	}
	if p.Name != name {
		return nil, false, fmt.Errorf("pin record under %q names %q", name, p.Name)
	}
	return p, true, nil
}

// PinHistory lists every binding of name, oldest first.
func PinHistory(r Reader, name string) ([]*Pin, error) {
	var out []*Pin
	var derr error
	key := PinKey(name)
	err := r.Iterate(key, func(k, v []byte) bool {
		if len(k) != len(key)+8 {
			return true // the current binding
		}
		p, err := DecodePin(v)
		if err != nil {
			derr = err
			return false
		}
		out = append(out, p)
		return true
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return nil, fmt.Errorf("state: history of pin %q: %w", name, err)
	}
	return out, nil
}

// Pins lists the current binding of every registry name, in key order
// (which is PinID order, not name order).
func Pins(r Reader) ([]*Pin, error) {
	var out []*Pin
	var derr error
	err := r.Iterate([]byte{prefixPin}, func(k, v []byte) bool {
		if len(k) != 1+block.HashSize {
			return true // a history entry
		}
		p, err := DecodePin(v)
		if err != nil {
			derr = err
			return false
		}
		out = append(out, p)
		return true
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return nil, fmt.Errorf("state: pins: %w", err)
	}
	return out, nil
}

// ErrPin marks a pin transaction the chain refuses (no such contract, or
// the name is already bound to it).
var ErrPin = errors.New("state: pin refused")

// applyPin binds the payload's name to its contract. The contract must
// exist; binding a name to the contract it is already bound to is refused
// (a rebinding is a change, with its own reason). Admission already
// checked the sender is an admin; apply checks again, so a block a
// faulty leader filled with others' pins fails them all the same way.
func applyPin(ov *Overlay, tx *block.Tx, sender *Member, bc BlockContext, txHash block.Hash, index uint64, gas *uint64) ([]block.Event, error) {
	p, err := block.DecodePin(tx.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if sender.Role != block.RoleAdmin {
		return nil, fmt.Errorf("%w: %s is %s; only an admin binds names in the contract registry", ErrForbidden, sender.Name, sender.Role)
	}
	if _, ok, err := ov.Get(ContractKey(p.Contract)); err != nil {
		return nil, fmt.Errorf("%w: read contract %s: %w", ErrNodeFault, p.Contract, err)
	} else if !ok {
		return nil, fmt.Errorf("%w: no contract %s on this chain: deploy it first, then pin its address", ErrPin, p.Contract)
	}
	cur, bound, err := LookupPin(ov, p.Name)
	if err != nil {
		return nil, fmt.Errorf("%w: read pin %q: %w", ErrNodeFault, p.Name, err)
	}
	pin := &Pin{Name: p.Name, Contract: p.Contract, Reason: p.Reason, Sender: tx.Sender, Height: bc.Height, Index: index,
		TimeUnixMilli: bc.TimeUnixMilli, TxHash: txHash, Version: 1}
	if bound {
		if cur.Contract == p.Contract {
			return nil, fmt.Errorf("%w: %q is already pinned to %s (version %d)", ErrPin, p.Name, p.Contract, cur.Version)
		}
		pin.Version, pin.Previous = cur.Version+1, cur.Contract
	}
	v := pin.Encode()
	*gas += 2 * GasPerStorage * uint64(len(v))
	if *gas > tx.GasLimit {
		return nil, fmt.Errorf("out of gas: pinning needs %d, limit %d", *gas, tx.GasLimit)
	}
	ov.Set(PinKey(p.Name), v)
	ov.Set(PinHistoryKey(p.Name, pin.Version-1), v)
	ov.JoinScope(PinScope(p.Name))
	return []block.Event{{Type: "contract.pinned", Data: tx.Payload}}, nil
}
