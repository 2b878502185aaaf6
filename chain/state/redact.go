package state

import (
	"crypto/ed25519"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
)

// prefixRedacted keys the redaction records: x ‖ payloadhash32 → Redaction.
const prefixRedacted = 'x'

// RedactionKey is the state key of the redaction record of a payload.
func RedactionKey(payload block.Hash) []byte { return append([]byte{prefixRedacted}, payload[:]...) }

// RedactedPayload reports whether a state key is a redaction record, and
// of which payload (the node's store shreds that payload when the record
// is written).
func RedactedPayload(key []byte) (block.Hash, bool) {
	var h block.Hash
	if len(key) != 1+len(h) || key[0] != prefixRedacted {
		return h, false
	}
	copy(h[:], key[1:])
	return h, true
}

// Redaction is the Part 11 record of one payload's redaction: who (the
// signing member), when (block time, UTC), why (basis and reason) and
// what the signature means. The payload's hash and its anchoring stay.
type Redaction struct {
	Payload       block.Hash
	Basis         block.Basis
	Reason        string
	Meaning       string
	Sender        ed25519.PublicKey
	Height        uint64
	Index         uint64
	TimeUnixMilli int64
	TxHash        block.Hash
}

// Encode: basis 1 ‖ reason string ‖ meaning string ‖ sender 32 ‖ height 8
// ‖ index 8 ‖ time 8 ‖ tx hash 32 (the payload hash is in the state key).
func (x *Redaction) Encode() []byte {
	var w block.Writer
	w.Byte(byte(x.Basis))
	w.String(x.Reason)
	w.String(x.Meaning)
	w.Fixed(x.Sender)
	w.Uint64(x.Height)
	w.Uint64(x.Index)
	w.Int64(x.TimeUnixMilli)
	w.Fixed(x.TxHash[:])
	return w.Bytes()
}

// DecodeRedaction decodes the redaction record of payload.
func DecodeRedaction(payload block.Hash, b []byte) (*Redaction, error) {
	r := block.NewReader(b)
	x := &Redaction{Payload: payload, Basis: block.Basis(r.Byte("basis"))}
	x.Reason = r.String(block.MaxReasonBytes, "reason")
	x.Meaning = r.String(block.MaxNameBytes, "meaning")
	x.Sender = ed25519.PublicKey(append([]byte(nil), r.Fixed(ed25519.PublicKeySize, "sender")...))
	x.Height = r.Uint64("height")
	x.Index = r.Uint64("index")
	x.TimeUnixMilli = r.Int64("time")
	x.TxHash = r.Hash("tx hash")
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("redaction record: %w", err)
	}
	return x, nil
}

// LookupRedaction reads the redaction record of a payload; ok=false if it
// was never redacted.
func LookupRedaction(r Reader, payload block.Hash) (*Redaction, bool, error) {
	v, ok, err := r.Get(RedactionKey(payload))
	if err != nil || !ok {
		return nil, false, err
	}
	x, err := DecodeRedaction(payload, v)
	if err != nil {
		return nil, false, err
	}
	return x, true, nil
}

// applyRedact records the redaction of each target. A target must be
// anchored (the chain only knows payloads by their anchored hash) and not
// yet redacted, and the sender must be an admin or belong to the
// organisation of a member who anchored it: a site redacts its own data,
// not another site's.
func applyRedact(ov *Overlay, tx *block.Tx, sender *Member, bc BlockContext, txHash block.Hash, index uint64, gas *uint64) ([]block.Event, error) {
	p, _ := block.DecodeRedact(tx.Payload)
	events := make([]block.Event, 0, len(p.Targets))
	for _, t := range p.Targets {
		anchors, err := Anchors(ov, t)
		if err != nil {
			return nil, fmt.Errorf("%w: read anchors of %s: %w", ErrNodeFault, t, err)
		}
		if len(anchors) == 0 {
			return nil, fmt.Errorf("payload %s is not anchored: there is nothing to redact", t)
		}
		if _, done, err := ov.Get(RedactionKey(t)); err != nil {
			return nil, fmt.Errorf("%w: read redaction of %s: %w", ErrNodeFault, t, err)
		} else if done {
			return nil, fmt.Errorf("payload %s is already redacted", t)
		}
		if sender.Role != block.RoleAdmin {
			ok := false
			for _, a := range anchors {
				m, found, err := LookupMember(ov, a.Sender)
				if err != nil {
					return nil, fmt.Errorf("%w: read member: %w", ErrNodeFault, err)
				}
				if found && m.Org == sender.Org {
					ok = true
					break
				}
			}
			if !ok {
				return nil, fmt.Errorf("%w: %s (%s) may not redact payload %s: it was anchored by another organisation", ErrForbidden, sender.Name, sender.Org, t)
			}
		}
		x := &Redaction{Payload: t, Basis: p.Basis, Reason: p.Reason, Meaning: p.Meaning, Sender: tx.Sender,
			Height: bc.Height, Index: index, TimeUnixMilli: bc.TimeUnixMilli, TxHash: txHash}
		v := x.Encode()
		*gas += GasPerStorage * uint64(len(v))
		if *gas > tx.GasLimit {
			return nil, fmt.Errorf("out of gas: redaction needs %d, limit %d", *gas, tx.GasLimit)
		}
		ov.Set(RedactionKey(t), v)
		for _, a := range anchors { // the redaction is a record of the sets its documents are in
			if a.Scope != "" {
				ov.JoinScope(a.Scope)
			}
		}
		events = append(events, block.Event{Type: "payload.redacted", Data: append([]byte(nil), t[:]...)})
	}
	return events, nil
}
