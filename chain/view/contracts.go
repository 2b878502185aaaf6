package view

import (
	"encoding/json"

	"github.com/trialchain/trialchain/chain/block"
)

// QueryRequest is the body of POST /v1/query. The arguments are given as
// text in Args (what the Go SDK decodes: JSON) or, for binary arguments, as
// hex in ArgsHex; not both.
type QueryRequest struct {
	Contract block.Hash `json:"contract"`
	Method   string     `json:"method"`
	Args     string     `json:"args,omitempty"`
	ArgsHex  string     `json:"args_hex,omitempty"`
	Gas      uint64     `json:"gas,omitempty"` // 0: the node's default (and cap)
}

// QueryResult is POST /v1/query. A contract that fails answers 200 with
// Status "failed", like a receipt; Code names the VM failure ("out of
// gas", "abort", ...) when there is one.
type QueryResult struct {
	Contract   block.Hash      `json:"contract"`
	Method     string          `json:"method"`
	Height     uint64          `json:"height"`                // the committed state it ran against
	Status     string          `json:"status"`                // "ok" or "failed"
	Result     string          `json:"result,omitempty"`      // hex
	ResultJSON json.RawMessage `json:"result_json,omitempty"` // the result, when it is JSON
	Error      string          `json:"error,omitempty"`
	Code       string          `json:"code,omitempty"`
	GasUsed    uint64          `json:"gas_used"`
	Events     []Event         `json:"events,omitempty"`
}

// Contract is GET /v1/contracts/{address}.
type Contract struct {
	Address      block.Hash `json:"address"`
	CodeHash     block.Hash `json:"code_hash"`
	CodeSize     int        `json:"code_size"`
	Policy       string     `json:"policy"`          // immutable, owner or group
	Owner        string     `json:"owner,omitempty"` // hex: member key (owner) or consent group id (group)
	Deployer     string     `json:"deployer"`        // hex member key
	DeployerName string     `json:"deployer_name,omitempty"`
	Label        string     `json:"label"`
	Height       uint64     `json:"height"`             // deployed at
	Upgraded     uint64     `json:"upgraded,omitempty"` // last upgrade height
	// Active is the block time (Unix ms) from which CodeHash runs: code is
	// activated code_activation_delay after its deploy or upgrade (before
	// that, calls run the previous code, or are refused for a new contract).
	Active  int64    `json:"active_unix_ms"`
	Methods []string `json:"methods"`
}

// ConsentGroup is GET /v1/consent-groups/{id}: the group as registered.
type ConsentGroup struct {
	ID    block.Hash      `json:"id"`
	Group json.RawMessage `json:"group"` // the group.json form (consent.Group JSON)
	Raw   string          `json:"raw"`   // hex of the canonical encoding stored on chain
}

// Pin is one binding of a name in the chain's contract registry: GET
// /v1/pins lists the current ones, GET /v1/pins/{name} one name's with
// its history. StateKey is the binding's state key (hex), for a state
// proof (GET /v1/proof/state?key=...).
type Pin struct {
	Name          string     `json:"name"`
	Contract      block.Hash `json:"contract"`
	Reason        string     `json:"reason"`
	Sender        string     `json:"sender"` // hex: the admin who bound it
	SenderName    string     `json:"sender_name,omitempty"`
	Height        uint64     `json:"height"`
	Index         uint64     `json:"index"`
	Time          string     `json:"time"`
	TimeUnixMilli int64      `json:"time_unix_ms"`
	TxHash        block.Hash `json:"tx_hash"`
	Version       uint64     `json:"version"`            // 1 for the name's first binding
	Previous      string     `json:"previous,omitempty"` // hex address it replaced
	StateKey      string     `json:"state_key"`
}

// PinHistory is GET /v1/pins/{name}: the current binding and every one,
// oldest first.
type PinHistory struct {
	Current Pin   `json:"current"`
	History []Pin `json:"history"`
}
