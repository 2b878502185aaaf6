package view

import (
	"crypto/ed25519"
	"encoding/hex"
	"strconv"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
)

// Redaction is GET /v1/redactions/{sha256}: the Part 11 record of a
// payload's redaction.
type Redaction struct {
	Payload       block.Hash  `json:"payload"`
	Basis         block.Basis `json:"basis"`
	Reason        string      `json:"reason"`
	Meaning       string      `json:"meaning"`
	Sender        string      `json:"sender"`
	Height        uint64      `json:"height"`
	Index         uint64      `json:"index"`
	Time          string      `json:"time"`
	TimeUnixMilli int64       `json:"time_unix_ms"`
	TxHash        block.Hash  `json:"tx_hash"`
}

// PayloadStored is the answer of PUT /v1/payloads/{sha256}.
type PayloadStored struct {
	Payload block.Hash `json:"payload"`
	Bytes   int        `json:"bytes"`
}

// PayloadAuthHeader carries a member's signature on a payload read:
// "KEYHEX.UNIXMILLI.SIGHEX" (see PayloadReadMessage).
const PayloadAuthHeader = "X-Trialchain-Payload-Auth"

// PayloadReadMessage is what a member signs (ed25519) to read payload h
// from a node at time unixMilli: the node accepts it within a few minutes
// of its own clock, from an active member entitled to the payload.
func PayloadReadMessage(chainID string, h block.Hash, unixMilli int64) []byte {
	return []byte("trialchain/payload-read/v1\n" + chainID + "\n" + h.String() + "\n" + strconv.FormatInt(unixMilli, 10))
}

// PayloadAuth returns the PayloadAuthHeader value for reading h.
func PayloadAuth(key ed25519.PrivateKey, chainID string, h block.Hash, unixMilli int64) string {
	pub := key.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(key, PayloadReadMessage(chainID, h, unixMilli))
	return hex.EncodeToString(pub) + "." + strconv.FormatInt(unixMilli, 10) + "." + hex.EncodeToString(sig)
}

// StateProof is GET /v1/proof/state: a key's value (or absence) in the
// state after block Height, proved against the state root that the header
// of block CheckpointHeight (= Height+1) carries and its certificate
// certifies.
type StateProof struct {
	Key              string     `json:"key"` // hex
	Height           uint64     `json:"height"`
	CheckpointHeight uint64     `json:"checkpoint_height"`
	Root             block.Hash `json:"root"`
	Found            bool       `json:"found"`
	Value            string     `json:"value,omitempty"` // hex
	Proof            *smt.Proof `json:"proof"`
}

// Scope is a page of a record set's entries (GET /v1/scope): what the
// node's latest state holds. Nothing here is proof: a client checks the
// entries against the set's head proved at a certified checkpoint
// (state.HeadOf, a state proof of state.ScopeKey).
type Scope struct {
	Name    string       `json:"name"`
	ID      block.Hash   `json:"id"`
	Count   uint64       `json:"count"` // entries in the node's latest state
	From    uint64       `json:"from"`
	Entries []ScopeEntry `json:"entries"`
}

// ScopeEntry is one record of a set.
type ScopeEntry struct {
	TxHash block.Hash `json:"tx"`
	Height uint64     `json:"height"`
	Index  uint64     `json:"index"`
	Kind   string     `json:"kind"`
}
