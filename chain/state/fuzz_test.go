package state

import (
	"bytes"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

// FuzzDecodeScope: record set entries and heads (read from state and from
// bundles) decode strictly: whatever decodes re-encodes to the same bytes.
func FuzzDecodeScope(f *testing.F) {
	e := &ScopeEntry{TxHash: block.Sum([]byte("tx")), Height: 7, Index: 2, Kind: "call:ae"}
	f.Add(e.Encode())
	f.Add(HeadOf([]*ScopeEntry{e}).Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, err := DecodeScopeEntry(b); err == nil && !bytes.Equal(got.Encode(), b) {
			t.Fatalf("entry %x re-encodes as %x", b, got.Encode())
		}
		if h, err := DecodeScopeHead(b); err == nil && !bytes.Equal(h.Encode(), b) {
			t.Fatalf("head %x re-encodes as %x", b, h.Encode())
		}
	})
}

func FuzzDecodePin(f *testing.F) {
	f.Add((&Pin{Name: "trial-protocol", Contract: block.Hash{1}, Reason: "audited", Sender: make([]byte, 32), Version: 2, Previous: block.Hash{2}}).Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, err := DecodePin(b); err == nil && !bytes.Equal(got.Encode(), b) {
			t.Fatalf("pin %x re-encodes as %x", b, got.Encode())
		}
	})
}
