package block

import (
	"fmt"
	"strings"
)

// MaxPinNameBytes bounds a pinned name ("trial-protocol").
const MaxPinNameBytes = 64

// PinPayload binds a well-known name (e.g. "trial-protocol") to a contract
// address in the chain's contract registry, or rebinds it. Clients resolve
// the trial's contracts through this registry, never by a deploy label
// (anyone with deploy rights can copy a label). Only an admin may send
// it; every binding is kept, with who made it, when and why. Encoding:
//
//	name string(1..64, ValidPinName) ‖ contract address 32 ‖ reason string(1..1024)
type PinPayload struct {
	Name     string
	Contract Hash
	Reason   string
}

// Encode returns the canonical encoding.
func (p *PinPayload) Encode() []byte {
	var w Writer
	w.String(p.Name)
	w.Fixed(p.Contract[:])
	w.String(p.Reason)
	return w.Bytes()
}

// ValidPinName checks a registry name: 1..64 bytes of lower-case ASCII
// letters, digits, '-', '.' and '_', starting with a letter or digit, so
// that a name reads the same to everyone (no look-alike Unicode, no spaces).
func ValidPinName(s string) error {
	if s == "" || len(s) > MaxPinNameBytes {
		return fmt.Errorf("block: pin name of %d bytes, want 1..%d", len(s), MaxPinNameBytes)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || (i > 0 && (c == '-' || c == '.' || c == '_'))
		if !ok {
			return fmt.Errorf("block: pin name %q: byte %d (%q) is not a lower-case letter, digit, '-', '.' or '_' (nor may it start one)", s, i, c)
		}
	}
	return nil
}

// DecodePin decodes a PinPayload: a valid name, a non-zero address and a reason.
func DecodePin(b []byte) (*PinPayload, error) {
	r := NewReader(b)
	p := &PinPayload{Name: r.String(MaxPinNameBytes, "name")}
	p.Contract = r.Hash("contract")
	p.Reason = r.String(MaxReasonBytes, "reason")
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("pin payload: %w", err)
	}
	if err := ValidPinName(p.Name); err != nil {
		return nil, fmt.Errorf("pin payload: %w", err)
	}
	if p.Contract.IsZero() {
		return nil, fmt.Errorf("pin payload: the zero contract address")
	}
	if strings.TrimSpace(p.Reason) == "" {
		return nil, fmt.Errorf("pin payload: a reason is required")
	}
	return p, nil
}
