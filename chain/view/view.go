// Package view owns the JSON shapes of the node client API: what a node
// serves and what sdk/client decodes. Binary values are hex; times are
// RFC 3339 UTC with the Unix milliseconds beside them.
package view

import (
	"encoding/hex"
	"time"

	"github.com/trialchain/trialchain/chain/block"
)

// Status is GET /v1/status.
type Status struct {
	ChainID        string     `json:"chain_id"`
	NodeID         uint64     `json:"node_id"`
	Height         uint64     `json:"height"`
	LastBlockHash  block.Hash `json:"last_block_hash"`
	LastBlockTime  string     `json:"last_block_time,omitempty"`
	StateRoot      block.Hash `json:"state_root"`
	LogSize        uint64     `json:"log_size"`
	LogRoot        block.Hash `json:"log_root"`
	GenesisHash    block.Hash `json:"genesis_hash"`
	Validators     []Peer     `json:"validators"`
	ConnectedPeers []uint64   `json:"connected_peers"`
	Leader         uint64     `json:"leader"`
	View           uint64     `json:"view"`
	// StoreDamage lists what the node found altered or missing in its own
	// store; a node with damage serves nothing else and takes no part in
	// consensus.
	StoreDamage []string `json:"store_damage,omitempty"`

	// LastBlockTimeUnixMilli is the head block's header time: a
	// transaction not committed whose ValidUntil is before it never will
	// be (absent at height 0).
	LastBlockTimeUnixMilli int64 `json:"last_block_time_unix_ms,omitempty"`
}

// Peer is a validator as the status shows it.
type Peer struct {
	ID   uint64 `json:"id"`
	Name string `json:"name"`
	Key  string `json:"key"`
	Addr string `json:"addr"`
	API  string `json:"api"`
}

// Event is a receipt event.
type Event struct {
	Source string `json:"source,omitempty"`
	Type   string `json:"type"`
	Data   string `json:"data"` // hex
}

// Receipt is a transaction's result.
type Receipt struct {
	TxHash  block.Hash `json:"tx_hash"`
	Height  uint64     `json:"height"`
	Index   uint64     `json:"index"`
	Status  string     `json:"status"`
	GasUsed uint64     `json:"gas_used"`
	Result  string     `json:"result,omitempty"` // hex
	Error   string     `json:"error,omitempty"`
	Events  []Event    `json:"events,omitempty"`
}

// FromReceipt converts a receipt.
func FromReceipt(rc *block.Receipt) *Receipt {
	v := &Receipt{TxHash: rc.TxHash, Height: rc.Height, Index: rc.Index, Status: rc.Status.String(),
		GasUsed: rc.GasUsed, Result: hex.EncodeToString(rc.Result), Error: rc.Error}
	for _, e := range rc.Events {
		ev := Event{Type: e.Type, Data: hex.EncodeToString(e.Data)}
		if !e.Source.IsZero() {
			ev.Source = e.Source.String()
		}
		v.Events = append(v.Events, ev)
	}
	return v
}

// Tx is a decoded transaction.
type Tx struct {
	Hash     block.Hash `json:"hash"`
	ChainID  string     `json:"chain_id"`
	Sender   string     `json:"sender"`
	Nonce    uint64     `json:"nonce"`
	Kind     string     `json:"kind"`
	GasLimit uint64     `json:"gas_limit"`
	Payload  string     `json:"payload"` // hex
	// ValidUntil is the latest block time (Unix ms) that may carry the
	// transaction; absent: no bound.
	ValidUntil uint64 `json:"valid_until_unix_ms,omitempty"`
}

// FromTx converts a transaction.
func FromTx(tx *block.Tx) *Tx {
	return &Tx{Hash: tx.Hash(), ChainID: tx.ChainID, Sender: hex.EncodeToString(tx.Sender), Nonce: tx.Nonce,
		Kind: tx.Kind.String(), GasLimit: tx.GasLimit, Payload: hex.EncodeToString(tx.Payload), ValidUntil: tx.ValidUntil}
}

// StatusExpired is TxExpired's Status and Code.
const StatusExpired = "expired"

// TxExpired is the answer (410 Gone) of GET /v1/tx/{hash}, and of POST
// /v1/tx?wait=1, for a transaction this node accepted that was not
// committed by its ValidUntil time while the head is already later: no
// block will ever carry it. It is final: the sender may sign it again
// (a new nonce or bound). It extends Error, so a client reading errors
// sees Error and Code ("expired").
type TxExpired struct {
	Error      string     `json:"error"`  // the reason, for people
	Code       string     `json:"code"`   // "expired"
	Status     string     `json:"status"` // "expired"
	Hash       block.Hash `json:"hash"`
	ValidUntil uint64     `json:"valid_until_unix_ms"`
	HeadHeight uint64     `json:"head_height"`
	HeadTime   int64      `json:"head_time_unix_ms"`
}

// TxWithReceipt is GET /v1/tx/{hash}.
type TxWithReceipt struct {
	Tx      *Tx      `json:"tx"`
	Receipt *Receipt `json:"receipt"`
}

// Submitted is POST /v1/tx.
type Submitted struct {
	Hash    block.Hash `json:"hash"`
	Receipt *Receipt   `json:"receipt,omitempty"`
	Pending string     `json:"pending,omitempty"` // with wait: why there is no receipt yet
}

// Header is a block header.
type Header struct {
	ChainID        string     `json:"chain_id"`
	Height         uint64     `json:"height"`
	Hash           block.Hash `json:"hash"`
	PrevHash       block.Hash `json:"prev_hash"`
	Proposer       uint64     `json:"proposer"`
	Time           string     `json:"time"`
	TimeUnixMilli  int64      `json:"time_unix_ms"`
	TxCount        uint64     `json:"tx_count"`
	TxRoot         block.Hash `json:"tx_root"`
	StateRoot      block.Hash `json:"state_root"`
	LogSize        uint64     `json:"log_size"`
	LogRoot        block.Hash `json:"log_root"`
	ValidatorsHash block.Hash `json:"validators_hash"`
}

// Block is GET /v1/block/{height}.
type Block struct {
	Header  Header       `json:"header"`
	Txs     []block.Hash `json:"txs"`
	Signers []uint64     `json:"signers"`
	Raw     string       `json:"raw,omitempty"` // hex of the committed block encoding, with ?raw=1
}

// FromCommitted converts a committed block.
func FromCommitted(c *block.Committed) *Block {
	h := c.Block.Header
	b := &Block{Header: Header{ChainID: h.ChainID, Height: h.Height, Hash: h.Hash(), PrevHash: h.PrevHash,
		Proposer: h.Proposer, Time: FormatMilli(h.TimeUnixMilli), TimeUnixMilli: h.TimeUnixMilli, TxCount: h.TxCount,
		TxRoot: h.TxRoot, StateRoot: h.StateRoot, LogSize: h.LogSize, LogRoot: h.LogRoot, ValidatorsHash: h.ValidatorsHash}}
	for _, tx := range c.Block.Txs {
		b.Txs = append(b.Txs, block.Sum(tx))
	}
	for _, s := range c.Cert.Sigs {
		b.Signers = append(b.Signers, s.Validator)
	}
	return b
}

// Anchor is one anchoring of a document.
type Anchor struct {
	Document      block.Hash `json:"document"`
	Label         string     `json:"label"`
	Sender        string     `json:"sender"`
	SenderName    string     `json:"sender_name,omitempty"`
	SenderOrg     string     `json:"sender_org,omitempty"`
	SenderRole    string     `json:"sender_role,omitempty"`
	Height        uint64     `json:"height"`
	Index         uint64     `json:"index"`
	Time          string     `json:"time"`
	TimeUnixMilli int64      `json:"time_unix_ms"`
	TxHash        block.Hash `json:"tx_hash"`
}

// Member is a registered member.
type Member struct {
	Key     string `json:"key"`
	Name    string `json:"name"`
	Org     string `json:"org"`
	Role    string `json:"role"`
	Revoked bool   `json:"revoked"`
	Since   uint64 `json:"since_height"`
}

// Error is the body of every non-2xx answer.
type Error struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"` // e.g. "nonce_used", "bad_signature"
}

// FormatMilli formats Unix milliseconds as RFC 3339 UTC.
func FormatMilli(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}
