package view

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/trialchain/trialchain/chain/block"
)

// MaxBatchTxs bounds the transactions of one POST /v1/txs; the whole body
// is also bounded by block.MaxTxBytes, as one transaction is.
const MaxBatchTxs = 256

// ErrBadBatch is returned for a POST /v1/txs body that is not a batch.
var ErrBadBatch = errors.New("malformed transaction batch")

// AppendTxBatch appends the body of POST /v1/txs carrying raws, the
// canonical bytes of transactions: each one after its length, 4 bytes
// big-endian.
func AppendTxBatch(b []byte, raws ...[]byte) []byte {
	for _, raw := range raws {
		b = binary.BigEndian.AppendUint32(b, uint32(len(raw)))
		b = append(b, raw...)
	}
	return b
}

// SplitTxBatch returns the transactions' bytes of a POST /v1/txs body,
// sub-slices of body in their order. It refuses an empty batch, more than
// MaxBatchTxs transactions, an empty transaction, and a length that runs
// past the body's end.
func SplitTxBatch(body []byte) ([][]byte, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: no transactions", ErrBadBatch)
	}
	var raws [][]byte
	for off := 0; off < len(body); {
		if len(raws) == MaxBatchTxs {
			return nil, fmt.Errorf("%w: more than %d transactions", ErrBadBatch, MaxBatchTxs)
		}
		if len(body)-off < 4 {
			return nil, fmt.Errorf("%w: transaction %d: %d bytes left, a length takes 4", ErrBadBatch, len(raws), len(body)-off)
		}
		n := uint64(binary.BigEndian.Uint32(body[off:]))
		off += 4
		if n == 0 {
			return nil, fmt.Errorf("%w: transaction %d is empty", ErrBadBatch, len(raws))
		}
		if n > uint64(len(body)-off) {
			return nil, fmt.Errorf("%w: transaction %d announces %d bytes, %d left", ErrBadBatch, len(raws), n, len(body)-off)
		}
		raws = append(raws, body[off:off+int(n):off+int(n)])
		off += int(n)
	}
	return raws, nil
}

// SubmittedBatch is POST /v1/txs: one result per transaction, in the
// batch's order.
type SubmittedBatch struct {
	Results []BatchResult `json:"results"`
}

// BatchResult is one transaction's answer within POST /v1/txs: Status is
// the HTTP status POST /v1/tx would have answered it alone (200 accepted,
// with wait: committed; 202 accepted, not yet committed: Pending says
// why; 410 expired; 429 busy: not taken, send it again after the
// answer's Retry-After; other 4xx refused, Code and Error say why).
type BatchResult struct {
	Status  int        `json:"status"`
	Hash    block.Hash `json:"hash"`
	Code    string     `json:"code,omitempty"`
	Error   string     `json:"error,omitempty"`
	Receipt *Receipt   `json:"receipt,omitempty"`
	Pending string     `json:"pending,omitempty"`
	// Expired is the 410 answer's body (GET /v1/tx/{hash} answers the
	// same).
	Expired *TxExpired `json:"expired,omitempty"`
}
