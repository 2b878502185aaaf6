package view

import (
	"crypto/ed25519"
	"encoding/hex"
	"strconv"
	"time"

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

// PayloadAuthHeader carries a member's signature on one payload request
// (read or upload): "KEYHEX.UNIXMILLI.NONCEHEX.SIGHEX" over
// RequestMessage. A node accepts it only if it names that node's key, the
// request's method and path, is within RequestAuthWindow of the node's
// clock, and its nonce was not seen before: a captured header cannot be
// replayed, to the same node or another.
const PayloadAuthHeader = "X-Trialchain-Payload-Auth"

// RequestAuthWindow is how far a signed request's time may be from the
// node's clock; the node remembers nonces for twice this long.
const RequestAuthWindow = 30 * time.Second

// RequestNonceBytes is the length of a signed request's nonce.
const RequestNonceBytes = 16

// RequestMessage is what a member signs (ed25519) for one request to the
// node whose key is nodeKey on chain chainID.
func RequestMessage(chainID string, nodeKey ed25519.PublicKey, method, path string, unixMilli int64, nonce []byte) []byte {
	return []byte("trialchain/request/v1\n" + chainID + "\n" + hex.EncodeToString(nodeKey) + "\n" + method + "\n" + path + "\n" +
		strconv.FormatInt(unixMilli, 10) + "\n" + hex.EncodeToString(nonce))
}

// RequestAuth returns the PayloadAuthHeader value for one request.
func RequestAuth(key ed25519.PrivateKey, chainID string, nodeKey ed25519.PublicKey, method, path string, unixMilli int64, nonce []byte) string {
	pub := key.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(key, RequestMessage(chainID, nodeKey, method, path, unixMilli, nonce))
	return hex.EncodeToString(pub) + "." + strconv.FormatInt(unixMilli, 10) + "." + hex.EncodeToString(nonce) + "." + hex.EncodeToString(sig)
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
