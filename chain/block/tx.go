package block

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync/atomic"

	"github.com/hdevalence/ed25519consensus"
)

// HashSize is the size of every hash in the chain (SHA-256).
const HashSize = sha256.Size

// Hash is a SHA-256 digest.
type Hash [HashSize]byte

// String returns the lower-case hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText encodes h as hex (for JSON).
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes a hex hash.
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseHash decodes a 64-character hex hash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil {
		return h, fmt.Errorf("block: hash %q: %w", s, err)
	}
	if len(b) != HashSize {
		return h, fmt.Errorf("block: hash %q has %d bytes, want %d", s, len(b), HashSize)
	}
	copy(h[:], b)
	return h, nil
}

// Sum hashes b with SHA-256.
func Sum(b []byte) Hash { return sha256.Sum256(b) }

// Kind is what a transaction does. Decoders reject kinds not listed here.
type Kind byte

// Transaction kinds. Values are part of the wire format: never reuse one.
const (
	KindRegister     Kind = 1 // admin adds or revokes a member: RegisterPayload
	KindAnchor       Kind = 2 // record a document hash with a label: AnchorPayload
	KindDeploy       Kind = 3 // store contract code and create a contract: DeployPayload
	KindCall         Kind = 4 // call a contract method: CallPayload
	KindConsentGroup Kind = 5 // register a threshold consent group: opaque group bytes
	KindUpgrade      Kind = 6 // replace a contract's code under its policy: UpgradePayload
	KindRedact       Kind = 7 // redact off-chain payloads, keeping their hashes: RedactPayload
	KindPin          Kind = 8 // admin binds a well-known name to a contract address: PinPayload
	KindValidator    Kind = 9 // add or remove a validator under the validator organisations' consent: ValidatorPayload
)

var kindNames = map[Kind]string{
	KindRegister: "register", KindAnchor: "anchor", KindDeploy: "deploy",
	KindCall: "call", KindConsentGroup: "consent-group", KindUpgrade: "upgrade",
	KindRedact: "redact", KindPin: "pin", KindValidator: "validator",
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { _, ok := kindNames[k]; return ok }

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Limits on transaction fields. They bound memory before any signature check.
const (
	// TxVersion is the encoding of a transaction without a validity bound
	// (ValidUntil 0); TxVersionBounded, of one with a bound. Both decode.
	TxVersion        = 1
	TxVersionBounded = 2
	MaxChainIDBytes  = 64
	// MaxPayloadBytes bounds a transaction payload. A minimal Go contract
	// compiled to wasm is about 1.8 MB and one using encoding/json and fmt
	// about 4 MB; 8 MiB (the VM's code limit) leaves room for them while
	// keeping a consensus request at half of the batch byte limit (16 MiB)
	// and below the transport's frame cap.
	MaxPayloadBytes = 8 << 20
	// MaxTxBytes bounds a whole encoded transaction.
	MaxTxBytes = MaxPayloadBytes + 1024
)

// Tx is a signed transaction.
//
// Its canonical encoding, field by field:
//
//	version      1 byte: 1 without a validity bound, 2 with one
//	chain id     uvarint length + bytes (≤ 64)
//	sender       32 bytes, ed25519 public key
//	nonce        8 bytes big-endian; each (sender, nonce) is accepted once
//	kind         1 byte (see Kind)
//	gas limit    8 bytes big-endian
//	payload      uvarint length + bytes (≤ MaxPayloadBytes)
//	valid until  8 bytes big-endian, version 2 only, never 0
//	signature    64 bytes, ed25519 over "trialchain/tx/v1\x00" ‖ all fields above
//
// Varints are unsigned LEB128 and must be minimal. The transaction hash is
// SHA-256 of the whole encoding, signature included. A transaction with
// ValidUntil 0 is encoded as version 1, byte for byte as before bounds
// existed; a version 2 encoding with a bound of 0 is refused (one encoding
// per value). The signed bytes hold the version and the bound, so neither
// can be changed or stripped.
type Tx struct {
	ChainID  string
	Sender   ed25519.PublicKey
	Nonce    uint64
	Kind     Kind
	GasLimit uint64
	Payload  []byte
	// ValidUntil bounds the block time (Unix milliseconds of the header)
	// of a block that may carry the transaction: a block whose time is
	// later refuses it. 0: no bound. Block times never go back, so once
	// a committed block is later than the bound an uncommitted
	// transaction never commits (Expired).
	ValidUntil uint64
	Signature  []byte
}

// Admissible reports whether tx may be carried by a block of time
// blockTime (Unix milliseconds).
func (tx *Tx) Admissible(blockTime int64) bool {
	return tx.ValidUntil == 0 || (blockTime >= 0 && uint64(blockTime) <= tx.ValidUntil)
}

// Expired reports whether tx, if not committed at a head of time headTime,
// never will be: every later block's time is at least headTime.
func (tx *Tx) Expired(headTime int64) bool { return !tx.Admissible(headTime) }

const txDomain = "trialchain/tx/v1\x00"

func (tx *Tx) writeBody(w *Writer) {
	if tx.ValidUntil == 0 {
		w.Byte(TxVersion)
	} else {
		w.Byte(TxVersionBounded)
	}
	w.String(tx.ChainID)
	w.Fixed(padKey(tx.Sender))
	w.Uint64(tx.Nonce)
	w.Byte(byte(tx.Kind))
	w.Uint64(tx.GasLimit)
	w.VarBytes(tx.Payload)
	if tx.ValidUntil != 0 {
		w.Uint64(tx.ValidUntil)
	}
}

func padKey(k ed25519.PublicKey) []byte {
	if len(k) == ed25519.PublicKeySize {
		return k
	}
	out := make([]byte, ed25519.PublicKeySize)
	copy(out, k)
	return out
}

// SigningBytes returns the bytes the sender signs.
func (tx *Tx) SigningBytes() []byte {
	return tx.appendSigningBytes(make([]byte, 0, len(txDomain)+tx.bodySize()))
}

// appendSigningBytes appends SigningBytes to b.
func (tx *Tx) appendSigningBytes(b []byte) []byte {
	w := Writer{buf: append(b, txDomain...)}
	tx.writeBody(&w)
	return w.Bytes()
}

// bodySize bounds the size of writeBody's output (varints counted at
// their longest), so that one allocation holds an encoding.
func (tx *Tx) bodySize() int {
	return 1 + binary.MaxVarintLen64 + len(tx.ChainID) + ed25519.PublicKeySize + 8 + 1 + 8 +
		binary.MaxVarintLen64 + len(tx.Payload) + 8
}

// Sign sets Sender from key and signs the transaction.
func (tx *Tx) Sign(key ed25519.PrivateKey) {
	tx.Sender = key.Public().(ed25519.PublicKey)
	tx.Signature = ed25519.Sign(key, tx.SigningBytes())
}

// VerifySignature checks the ed25519 signature under the ZIP-215 rules
// (ed25519consensus.Verify), the one rule for transaction signatures
// everywhere: admission, proposals, execution, offline bundles, and the
// batches of VerifySignatures, which accept exactly what it accepts.
//
// # Notes
//
// ZIP-215 accepts every signature crypto/ed25519 (RFC 8032, cofactorless,
// canonical R only) accepts, and also non-canonical encodings of R and
// of the key and signatures that only hold up to the cofactor (small-order
// components). Every chain valid before the switch stays valid; see
// RATIONALE.md beside this file, "Why ZIP-215 for transaction signatures?".
func (tx *Tx) VerifySignature() error {
	if len(tx.Sender) != ed25519.PublicKeySize || len(tx.Signature) != ed25519.SignatureSize {
		return ErrBadSignature
	}
	if !ed25519consensus.Verify(tx.Sender, tx.SigningBytes(), tx.Signature) {
		return ErrBadSignature
	}
	return nil
}

// Encode returns the canonical encoding.
func (tx *Tx) Encode() []byte {
	w := Writer{buf: make([]byte, 0, tx.bodySize()+ed25519.SignatureSize)}
	tx.writeBody(&w)
	sig := tx.Signature
	if len(sig) != ed25519.SignatureSize {
		sig = make([]byte, ed25519.SignatureSize)
		copy(sig, tx.Signature)
	}
	w.Fixed(sig)
	return w.Bytes()
}

// Hash returns SHA-256 of the canonical encoding.
func (tx *Tx) Hash() Hash { return Sum(tx.Encode()) }

// DecodeTx decodes a canonical transaction. It checks structure and limits,
// not the signature: call VerifySignature.
func DecodeTx(b []byte) (*Tx, error) {
	if len(b) > MaxTxBytes {
		return nil, fmt.Errorf("transaction of %d bytes, limit %d: %w", len(b), MaxTxBytes, ErrTooLarge)
	}
	// One copy of the input holds the decoded byte fields (Sender,
	// Payload, Signature), each a slice of it capped at its own end: one
	// allocation instead of one per field, and nothing aliases b.
	r := &Reader{buf: bytes.Clone(b), alias: true}
	tx, err := readTx(r)
	if err != nil {
		return nil, err
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("transaction: %w", err)
	}
	return tx, nil
}

// lastChainID is the chain id DecodeTx decoded last: a node sees one chain
// id in almost every transaction, which then shares this string instead
// of allocating its own.
var lastChainID atomic.Pointer[string]

// chainID returns b as a string, lastChainID's if equal.
func chainID(b []byte) string {
	if p := lastChainID.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	lastChainID.Store(&s)
	return s
}

func readTx(r *Reader) (*Tx, error) {
	v := r.Byte("tx version")
	if r.Err() == nil && v != TxVersion && v != TxVersionBounded {
		return nil, fmt.Errorf("transaction version %d: %w", v, ErrBadVersion)
	}
	tx := &Tx{}
	tx.ChainID = chainID(r.varBytes(MaxChainIDBytes, "chain id", -1))
	tx.Sender = ed25519.PublicKey(r.Fixed(ed25519.PublicKeySize, "sender"))
	tx.Nonce = r.Uint64("nonce")
	tx.Kind = Kind(r.Byte("kind"))
	if r.Err() == nil && !tx.Kind.Valid() {
		return nil, fmt.Errorf("transaction kind %d: %w", byte(tx.Kind), ErrUnknownKind)
	}
	tx.GasLimit = r.Uint64("gas limit")
	tx.Payload = r.VarBytes(MaxPayloadBytes, "payload")
	if v == TxVersionBounded {
		tx.ValidUntil = r.Uint64("valid until")
		if r.Err() == nil && tx.ValidUntil == 0 {
			return nil, fmt.Errorf("transaction version %d with a valid-until of 0 (encoded as version %d): %w", v, TxVersion, ErrBadVersion)
		}
	}
	tx.Signature = r.Fixed(ed25519.SignatureSize, "signature")
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("transaction: %w", err)
	}
	return tx, nil
}
