package block

import (
	"encoding/binary"
	"fmt"
)

// Status is the outcome of a transaction.
type Status byte

// Receipt statuses.
const (
	StatusOK     Status = 0
	StatusFailed Status = 1 // the transaction ran and failed; its writes were reverted
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusFailed:
		return "failed"
	}
	return fmt.Sprintf("status(%d)", byte(s))
}

// MarshalText encodes the status name (for JSON).
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Limits on receipt fields.
const (
	MaxResultBytes = 64 << 10
	MaxErrorBytes  = 1024
	MaxEvents      = 256
	MaxEventBytes  = 16 << 10
	// MaxReceiptEventBytes caps the types and data of all the events of
	// one receipt (a contract's, abi.MaxEventBytes, and the chain's own).
	MaxReceiptEventBytes = 256 << 10
)

// Event is something a transaction announces. Source is the contract address,
// or zero for the chain itself.
type Event struct {
	Source Hash
	Type   string
	Data   []byte
}

// Receipt is the result of one transaction in a block. Encoding:
//
//	tx hash 32 ‖ height 8 ‖ index uvarint ‖ status 1 ‖ gas used 8 ‖
//	result bytes(≤64 KiB) ‖ error string(≤1 KiB) ‖
//	events: uvarint count(≤256) ‖ each: source 32 ‖ type string(≤128) ‖ data bytes(≤16 KiB)
//
// Receipts are the leaves of the record log.
type Receipt struct {
	TxHash  Hash
	Height  uint64
	Index   uint64
	Status  Status
	GasUsed uint64
	Result  []byte
	Error   string
	Events  []Event
}

// Encode returns the canonical encoding.
func (rc *Receipt) Encode() []byte {
	return rc.AppendEncode(make([]byte, 0, rc.encodedSize()))
}

// AppendEncode appends the canonical encoding to b and returns the result
// (Encode into a caller's buffer).
func (rc *Receipt) AppendEncode(b []byte) []byte {
	w := Writer{buf: b}
	w.Fixed(rc.TxHash[:])
	w.Uint64(rc.Height)
	w.Uvarint(rc.Index)
	w.Byte(byte(rc.Status))
	w.Uint64(rc.GasUsed)
	w.VarBytes(rc.Result)
	w.String(rc.Error)
	w.Uvarint(uint64(len(rc.Events)))
	for _, e := range rc.Events {
		w.Fixed(e.Source[:])
		w.String(e.Type)
		w.VarBytes(e.Data)
	}
	return w.Bytes()
}

// encodedSize bounds the size of the encoding (varints at their longest).
func (rc *Receipt) encodedSize() int {
	n := HashSize + 8 + binary.MaxVarintLen64 + 1 + 8 + binary.MaxVarintLen64 + len(rc.Result) +
		binary.MaxVarintLen64 + len(rc.Error) + binary.MaxVarintLen64
	for _, e := range rc.Events {
		n += HashSize + binary.MaxVarintLen64 + len(e.Type) + binary.MaxVarintLen64 + len(e.Data)
	}
	return n
}

// Hash returns SHA-256 of the encoding.
func (rc *Receipt) Hash() Hash { return Sum(rc.Encode()) }

// DecodeReceipt decodes a receipt.
func DecodeReceipt(b []byte) (*Receipt, error) {
	r := NewReader(b)
	rc := &Receipt{}
	rc.TxHash = r.Hash("tx hash")
	rc.Height = r.Uint64("height")
	rc.Index = r.Uvarint("index")
	rc.Status = Status(r.Byte("status"))
	if r.Err() == nil && rc.Status > StatusFailed {
		r.Fail(fmt.Errorf("status %d: %w", byte(rc.Status), ErrUnknownKind))
	}
	rc.GasUsed = r.Uint64("gas used")
	rc.Result = r.VarBytes(MaxResultBytes, "result")
	rc.Error = r.String(MaxErrorBytes, "error")
	n := r.Count(MaxEvents, "events")
	for i := 0; i < n && r.Err() == nil; i++ {
		rc.Events = append(rc.Events, Event{
			Source: r.Hash("event source"),
			Type:   r.String(MaxNameBytes, "event type"),
			Data:   r.VarBytes(MaxEventBytes, "event data"),
		})
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	return rc, nil
}

// ContractAddress is the address of a contract deployed by sender with nonce:
// SHA-256("trialchain/contract/v1\x00" ‖ sender ‖ nonce 8 bytes big-endian).
func ContractAddress(sender []byte, nonce uint64) Hash {
	b := append([]byte("trialchain/contract/v1\x00"), padKey(sender)...)
	b = binary.BigEndian.AppendUint64(b, nonce)
	return Sum(b)
}
