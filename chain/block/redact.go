package block

import (
	"bytes"
	"fmt"
	"strings"
)

// Redaction limits.
const (
	MaxRedactTargets = 64   // payloads one redaction may name
	MaxReasonBytes   = 1024 // the free-text reason of a redaction
)

// Basis is why payloads are redacted. Values are part of the wire format.
type Basis byte

// Redaction bases.
const (
	BasisMistakenPHI       Basis = 1 // protected health information entered by mistake
	BasisWithdrawalErasure Basis = 2 // a subject withdrew and asked for erasure
	BasisLegalOrder        Basis = 3 // a court or authority ordered erasure
)

var basisNames = map[Basis]string{
	BasisMistakenPHI: "mistaken-phi", BasisWithdrawalErasure: "withdrawal-erasure", BasisLegalOrder: "legal-order",
}

// Valid reports whether b is a known basis.
func (b Basis) Valid() bool { _, ok := basisNames[b]; return ok }

func (b Basis) String() string {
	if s, ok := basisNames[b]; ok {
		return s
	}
	return fmt.Sprintf("basis(%d)", byte(b))
}

// ParseBasis parses a basis name.
func ParseBasis(s string) (Basis, error) {
	for b, n := range basisNames {
		if n == strings.ToLower(strings.TrimSpace(s)) {
			return b, nil
		}
	}
	return 0, fmt.Errorf("block: unknown redaction basis %q (want mistaken-phi, withdrawal-erasure or legal-order)", s)
}

// MarshalText encodes the basis name (for JSON).
func (b Basis) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText parses a basis name.
func (b *Basis) UnmarshalText(t []byte) error {
	p, err := ParseBasis(string(t))
	*b = p
	return err
}

// RedactPayload redacts off-chain payloads: every node destroys its copy
// (and the copy's data key) while the payload's hash, its anchoring and
// every proof over them stay. The sender, block time and this payload make
// the Part 11 record: who, when, why (basis and reason) and the meaning of
// the signature. Encoding:
//
//	count uvarint(1..64) ‖ count × payload SHA-256 32 bytes (strictly ascending)
//	‖ basis 1 byte ‖ reason string(1..1024) ‖ meaning string(1..128)
type RedactPayload struct {
	Targets []Hash
	Basis   Basis
	Reason  string
	Meaning string
}

// Encode returns the canonical encoding.
func (p *RedactPayload) Encode() []byte {
	var w Writer
	w.Uvarint(uint64(len(p.Targets)))
	for _, t := range p.Targets {
		w.Fixed(t[:])
	}
	w.Byte(byte(p.Basis))
	w.String(p.Reason)
	w.String(p.Meaning)
	return w.Bytes()
}

// DecodeRedact decodes a RedactPayload. Targets must be strictly ascending
// (so each is named once and the encoding is unique); basis, reason and
// meaning must be present.
func DecodeRedact(b []byte) (*RedactPayload, error) {
	r := NewReader(b)
	p := &RedactPayload{}
	n := r.Count(MaxRedactTargets, "targets")
	if r.Err() == nil && n == 0 {
		r.Fail(fmt.Errorf("no targets"))
	}
	for i := 0; i < n && r.Err() == nil; i++ {
		h := r.Hash("target")
		if i > 0 && bytes.Compare(p.Targets[i-1][:], h[:]) >= 0 {
			r.Fail(fmt.Errorf("targets not strictly ascending at %d", i))
		}
		p.Targets = append(p.Targets, h)
	}
	p.Basis = Basis(r.Byte("basis"))
	if r.Err() == nil && !p.Basis.Valid() {
		r.Fail(fmt.Errorf("basis %d: %w", byte(p.Basis), ErrUnknownKind))
	}
	p.Reason = r.String(MaxReasonBytes, "reason")
	p.Meaning = r.String(MaxNameBytes, "meaning")
	if r.Err() == nil && (strings.TrimSpace(p.Reason) == "" || strings.TrimSpace(p.Meaning) == "") {
		r.Fail(fmt.Errorf("reason and meaning are required"))
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("redact payload: %w", err)
	}
	return p, nil
}
