package witness

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
)

// Label is the domain-separation prefix of every cosigned message (the
// role of C2SP's "cosignature/v1" header line and "subtree/v1\n\0" label).
const Label = "trialchain-cosignature/v1\n\x00"

// MaxNameBytes bounds a witness name.
const MaxNameBytes = 64

// validName is a witness name: letters, digits, . _ - (the keyring's key
// names, so the key file can carry it).
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidName reports whether name may name a witness.
func ValidName(name string) bool { return validName.MatchString(name) }

// Statement is what a cosignature asserts about its checkpoint.
type Statement uint8

const (
	// Latest: as of Time, this is the newest certified checkpoint of the
	// chain the witness has seen, and every checkpoint it cosigned before
	// is a prefix of it (C2SP cosignature/v1 semantics).
	Latest Statement = 1
	// Prefix: this (older) checkpoint is a prefix of the newest one the
	// witness had cosigned at Time: it lies on the one history the witness
	// has seen. Our extension; see the package doc.
	Prefix Statement = 2
)

func (s Statement) String() string {
	switch s {
	case Latest:
		return "latest"
	case Prefix:
		return "prefix"
	}
	return fmt.Sprintf("statement(%d)", uint8(s))
}

// Cosignature is a witness's signed statement about one certified
// checkpoint. Everything but Sig is the signed message (Message); the
// checkpoint's fields are copied, so a cosignature can be checked against
// a checkpoint without the checkpoint's certificate.
type Cosignature struct {
	Name      string            // the witness's name
	Key       ed25519.PublicKey // the witness's public key (32 bytes)
	Time      int64             // when it was made, Unix seconds (the witness's clock)
	Statement Statement
	ChainID   string
	Height    uint64
	BlockHash block.Hash
	LogSize   uint64
	LogRoot   block.Hash
	StateRoot block.Hash
	Sig       []byte // ed25519 over Message (64 bytes)
}

// Errors of cosignatures; match with errors.Is.
var (
	ErrMalformed    = errors.New("witness: malformed cosignature")
	ErrBadSignature = errors.New("witness: cosignature signature does not verify (forged or altered)")
	ErrMismatch     = errors.New("witness: cosignature is for another checkpoint")
	ErrWrongWitness = errors.New("witness: cosignature is not by this witness")
)

// TimeUTC is Time as a time.Time in UTC.
func (c *Cosignature) TimeUTC() time.Time { return time.Unix(c.Time, 0).UTC() }

// Message is the signed message, one byte string per value:
//
//	Label ‖ u8 len ‖ name ‖ key[32] ‖ u64 time ‖ u8 statement ‖
//	u8 len ‖ chain id ‖ u64 height ‖ block hash[32] ‖ u64 log size ‖
//	log root[32] ‖ state root[32]
//
// integers big-endian.
func (c *Cosignature) Message() []byte {
	var w block.Writer
	w.Fixed([]byte(Label))
	w.Byte(byte(len(c.Name)))
	w.Fixed([]byte(c.Name))
	w.Fixed(c.Key)
	w.Int64(c.Time)
	w.Byte(byte(c.Statement))
	w.Byte(byte(len(c.ChainID)))
	w.Fixed([]byte(c.ChainID))
	w.Uint64(c.Height)
	w.Fixed(c.BlockHash[:])
	w.Uint64(c.LogSize)
	w.Fixed(c.LogRoot[:])
	w.Fixed(c.StateRoot[:])
	return w.Bytes()
}

// Encode is the canonical binary form: Message ‖ signature[64].
func (c *Cosignature) Encode() []byte {
	return append(c.Message(), c.Sig...)
}

// check validates the fields' shapes (not the signature).
func (c *Cosignature) check() error {
	switch {
	case !validName.MatchString(c.Name):
		return fmt.Errorf("%w: name %q (letters, digits, . _ -; 1..%d)", ErrMalformed, c.Name, MaxNameBytes)
	case len(c.Key) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: key of %d bytes, want %d", ErrMalformed, len(c.Key), ed25519.PublicKeySize)
	case c.Time < 0:
		return fmt.Errorf("%w: negative time %d", ErrMalformed, c.Time)
	case c.Statement != Latest && c.Statement != Prefix:
		return fmt.Errorf("%w: unknown statement %d", ErrMalformed, c.Statement)
	case c.ChainID == "" || len(c.ChainID) > block.MaxChainIDBytes:
		return fmt.Errorf("%w: chain id must be 1..%d bytes", ErrMalformed, block.MaxChainIDBytes)
	case len(c.Sig) != ed25519.SignatureSize:
		return fmt.Errorf("%w: signature of %d bytes, want %d", ErrMalformed, len(c.Sig), ed25519.SignatureSize)
	}
	return nil
}

// EncodedSize bounds an encoded cosignature.
const maxEncodedBytes = len(Label) + 1 + MaxNameBytes + 32 + 8 + 1 + 1 + block.MaxChainIDBytes + 8 + 32 + 8 + 32 + 32 + 64

// DecodeCosignature decodes the canonical binary form strictly: every
// length bounded, no trailing bytes, the shapes Encode produces. It does
// not verify the signature: call Verify.
//
// # Errors
//
// Wraps ErrMalformed, naming the field.
func DecodeCosignature(b []byte) (*Cosignature, error) {
	if len(b) > maxEncodedBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(b), maxEncodedBytes)
	}
	r := block.NewReader(b)
	if l := r.Fixed(len(Label), "label"); r.Err() == nil && string(l) != Label {
		return nil, fmt.Errorf("%w: not a trialchain cosignature (label %q)", ErrMalformed, l)
	}
	c := &Cosignature{}
	c.Name = string(r.Fixed(int(r.Byte("name length")), "name"))
	c.Key = bytes.Clone(r.Fixed(ed25519.PublicKeySize, "key"))
	c.Time = r.Int64("time")
	c.Statement = Statement(r.Byte("statement"))
	c.ChainID = string(r.Fixed(int(r.Byte("chain id length")), "chain id"))
	c.Height = r.Uint64("height")
	c.BlockHash = r.Hash("block hash")
	c.LogSize = r.Uint64("log size")
	c.LogRoot = r.Hash("log root")
	c.StateRoot = r.Hash("state root")
	c.Sig = bytes.Clone(r.Fixed(ed25519.SignatureSize, "signature"))
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// Sign makes the cosignature of the witness (name, key) on checkpoint cp,
// dated t (truncated to seconds).
func Sign(key ed25519.PrivateKey, name string, t time.Time, st Statement, cp *proof.Checkpoint) (*Cosignature, error) {
	h := &cp.Header
	c := &Cosignature{Name: name, Key: key.Public().(ed25519.PublicKey), Time: t.Unix(), Statement: st, ChainID: h.ChainID,
		Height: h.Height, BlockHash: h.Hash(), LogSize: h.LogSize, LogRoot: h.LogRoot, StateRoot: h.StateRoot, Sig: make([]byte, ed25519.SignatureSize)}
	if err := c.check(); err != nil {
		return nil, err
	}
	c.Sig = ed25519.Sign(key, c.Message())
	return c, nil
}

// Verify checks the signature against the key the cosignature names. It
// says nothing about whether that key is trusted: see VerifyBy.
//
// # Errors
//
// ErrMalformed, ErrBadSignature.
func (c *Cosignature) Verify() error {
	if err := c.check(); err != nil {
		return err
	}
	if !ed25519.Verify(c.Key, c.Message(), c.Sig) {
		return fmt.Errorf("%w: witness %q (key %s) on block %d", ErrBadSignature, c.Name, Fingerprint(c.Key), c.Height)
	}
	return nil
}

// VerifyBy checks that the trusted witness pk made this cosignature: same
// name and key, and a valid signature.
//
// # Errors
//
// ErrWrongWitness, ErrMalformed, ErrBadSignature.
func (c *Cosignature) VerifyBy(pk PublicKey) error {
	if !bytes.Equal(c.Key, pk.Key) || c.Name != pk.Name {
		return fmt.Errorf("%w: made by %q (key %s), not %q (key %s)", ErrWrongWitness, c.Name, Fingerprint(c.Key), pk.Name, Fingerprint(pk.Key))
	}
	return c.Verify()
}

// Matches checks that the cosignature names exactly checkpoint cp: chain
// id, height, block hash, log size and root, state root.
//
// # Errors
//
// ErrMismatch naming the first field that differs.
func (c *Cosignature) Matches(cp *proof.Checkpoint) error {
	h := &cp.Header
	switch {
	case c.ChainID != h.ChainID:
		return fmt.Errorf("%w: chain %q, the checkpoint is of chain %q", ErrMismatch, c.ChainID, h.ChainID)
	case c.Height != h.Height || c.BlockHash != h.Hash():
		return fmt.Errorf("%w: witness %q cosigned block %d (%s), the checkpoint is block %d (%s)", ErrMismatch, c.Name, c.Height, c.BlockHash, h.Height, h.Hash())
	case c.LogSize != h.LogSize || c.LogRoot != h.LogRoot:
		return fmt.Errorf("%w: witness %q cosigned a log of %d records (root %s), the checkpoint has %d (root %s)", ErrMismatch, c.Name, c.LogSize, c.LogRoot, h.LogSize, h.LogRoot)
	case c.StateRoot != h.StateRoot:
		return fmt.Errorf("%w: witness %q cosigned state root %s, the checkpoint has %s", ErrMismatch, c.Name, c.StateRoot, h.StateRoot)
	}
	return nil
}

// Fingerprint is a short, stable name of a public key for people: the
// first 8 bytes of its SHA-256, hex.
func Fingerprint(key []byte) string {
	s := sha256.Sum256(key)
	return hex.EncodeToString(s[:8])
}

// cosignatureJSON is the JSON form (bundles, the witness API).
type cosignatureJSON struct {
	Name      string         `json:"witness"`
	Key       proof.HexBytes `json:"key"`
	Time      int64          `json:"time_unix"`
	Statement string         `json:"statement"`
	ChainID   string         `json:"chain_id"`
	Height    uint64         `json:"height"`
	BlockHash block.Hash     `json:"block_hash"`
	LogSize   uint64         `json:"log_size"`
	LogRoot   block.Hash     `json:"log_root"`
	StateRoot block.Hash     `json:"state_root"`
	Sig       proof.HexBytes `json:"signature"`
}

// MarshalJSON writes the JSON form.
func (c *Cosignature) MarshalJSON() ([]byte, error) {
	return json.Marshal(cosignatureJSON{Name: c.Name, Key: proof.HexBytes(c.Key), Time: c.Time, Statement: c.Statement.String(), ChainID: c.ChainID,
		Height: c.Height, BlockHash: c.BlockHash, LogSize: c.LogSize, LogRoot: c.LogRoot, StateRoot: c.StateRoot, Sig: c.Sig})
}

// UnmarshalJSON reads the JSON form; see ParseCosignatureJSON.
func (c *Cosignature) UnmarshalJSON(b []byte) error {
	out, err := ParseCosignatureJSON(b)
	if err != nil {
		return err
	}
	*c = *out
	return nil
}

// ParseCosignatureJSON decodes the JSON form strictly (unknown fields,
// trailing data, wrong lengths and unknown statements are refused). It
// does not verify the signature.
//
// # Errors
//
// Wraps ErrMalformed.
func ParseCosignatureJSON(b []byte) (*Cosignature, error) {
	if len(b) > 4096 {
		return nil, fmt.Errorf("%w: %d bytes of JSON", ErrMalformed, len(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j cosignatureJSON
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the cosignature", ErrMalformed)
	}
	c := &Cosignature{Name: j.Name, Key: ed25519.PublicKey(j.Key), Time: j.Time, ChainID: j.ChainID, Height: j.Height,
		BlockHash: j.BlockHash, LogSize: j.LogSize, LogRoot: j.LogRoot, StateRoot: j.StateRoot, Sig: j.Sig}
	switch j.Statement {
	case "latest":
		c.Statement = Latest
	case "prefix":
		c.Statement = Prefix
	default:
		return nil, fmt.Errorf("%w: statement %q, want \"latest\" or \"prefix\"", ErrMalformed, j.Statement)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}
