package proof

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"

	"github.com/trialchain/trialchain/chain/block"
)

// Validators checks commit certificates: the genesis validator set
// (*genesis.Genesis implements it).
type Validators interface {
	// VerifyCertificate checks that 2f+1 distinct validators signed a Vote
	// naming exactly this block (header hash, metadata, verification
	// sequence). The block's transactions are not needed.
	VerifyCertificate(c *block.Committed) error
	// ValidatorsHash commits to the validator set (ids and keys).
	ValidatorsHash() block.Hash
}

// SetsByHeight is implemented by validator sets that change with the
// height (genesis.History, walked from the genesis through the certified
// set changes): a checkpoint is checked against the set in force at its
// height.
type SetsByHeight interface {
	ValidatorsHashAt(height uint64) block.Hash
}

// Checkpoint is a committed block header with its commit certificate: the
// record-log size and root and the state root after block Height-1,
// certified by a quorum of validators. Its header fields are the only
// source of what it commits to.
type Checkpoint struct {
	Header   block.Header
	Metadata []byte // the consensus library's view metadata of the proposal (signed via its hash)
	VerSeq   uint64 // verification sequence (signed)
	Cert     block.Certificate
}

// CheckpointOf makes the checkpoint of a committed block (its transactions
// are dropped: the certificate signs the header hash).
func CheckpointOf(c *block.Committed) *Checkpoint {
	return &Checkpoint{Header: c.Block.Header, Metadata: bytes.Clone(c.Metadata), VerSeq: c.VerSeq, Cert: c.Cert}
}

// Height is the height of the certified header.
func (cp *Checkpoint) Height() uint64 { return cp.Header.Height }

// Hash is the certified block hash.
func (cp *Checkpoint) Hash() block.Hash { return cp.Header.Hash() }

// Verify checks the checkpoint against the validator set it must have been
// certified by: the header names that set, and its certificate holds a
// quorum of valid signatures over this very header. It is a pure function.
//
// If vals is a SetsByHeight (genesis.History) the header must name the
// set in force at its height; otherwise the one set vals has.
//
// # Errors
//
// Wraps ErrCheckpoint and, for a bad certificate, the validator set's error
// (genesis.ErrCertificate), which names the signer that failed.
func (cp *Checkpoint) Verify(vals Validators) error {
	h := &cp.Header
	want := vals.ValidatorsHash()
	if hv, ok := vals.(SetsByHeight); ok {
		want = hv.ValidatorsHashAt(h.Height)
	}
	if h.ValidatorsHash != want {
		return fmt.Errorf("%w: block %d is certified by validator set %s, genesis has %s", ErrCheckpoint, h.Height, h.ValidatorsHash, want)
	}
	c := &block.Committed{Block: block.Block{Header: *h}, Metadata: cp.Metadata, VerSeq: cp.VerSeq, Cert: cp.Cert}
	if err := vals.VerifyCertificate(c); err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	return nil
}

// CheckpointVersion is the version of the checkpoint JSON.
const CheckpointVersion = 1

// MaxCheckpointBytes bounds a checkpoint file.
const MaxCheckpointBytes = 8 << 20

// checkpointJSON is cp.json. Header, metadata, verification sequence and
// certificate are the certified material; the summary fields (chain id to
// state root) are there for people and must equal the header's.
type checkpointJSON struct {
	Version       int          `json:"version"`
	ChainID       string       `json:"chain_id"`
	Height        uint64       `json:"height"`
	BlockHash     block.Hash   `json:"block_hash"`
	TimeUnixMilli int64        `json:"time_unix_ms"`
	LogSize       uint64       `json:"log_size"`
	LogRoot       block.Hash   `json:"log_root"`
	StateRoot     block.Hash   `json:"state_root"`
	Header        HexBytes     `json:"header"`
	Metadata      HexBytes     `json:"metadata"`
	VerSeq        uint64       `json:"ver_seq"`
	Certificate   []commitJSON `json:"certificate"`
}

type commitJSON struct {
	Validator uint64   `json:"validator"`
	Msg       HexBytes `json:"msg"`
	Sig       HexBytes `json:"sig"`
}

// MarshalJSON writes cp.json.
func (cp *Checkpoint) MarshalJSON() ([]byte, error) {
	h := &cp.Header
	j := checkpointJSON{Version: CheckpointVersion, ChainID: h.ChainID, Height: h.Height, BlockHash: h.Hash(),
		TimeUnixMilli: h.TimeUnixMilli, LogSize: h.LogSize, LogRoot: h.LogRoot, StateRoot: h.StateRoot,
		Header: h.Encode(), Metadata: cp.Metadata, VerSeq: cp.VerSeq, Certificate: []commitJSON{}}
	if j.Metadata == nil {
		j.Metadata = []byte{}
	}
	for _, s := range cp.Cert.Sigs {
		j.Certificate = append(j.Certificate, commitJSON{Validator: s.Validator, Msg: s.Msg, Sig: s.Sig})
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads cp.json; see DecodeCheckpoint.
func (cp *Checkpoint) UnmarshalJSON(b []byte) error {
	out, err := DecodeCheckpoint(b)
	if err != nil {
		return err
	}
	*cp = *out
	return nil
}

// Encode returns cp.json, indented.
func (cp *Checkpoint) Encode() []byte {
	b, err := cp.MarshalJSON()
	if err != nil {
		panic(fmt.Sprintf("proof: checkpoint json: %v", err)) // only hashes, numbers and byte strings
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		panic(fmt.Sprintf("proof: checkpoint json: %v", err))
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// DecodeCheckpoint decodes cp.json strictly: unknown fields, trailing data,
// a malformed header or a summary field that disagrees with the header are
// refused, and every length is bounded. It does not verify signatures:
// call Verify.
//
// # Errors
//
// Wraps ErrCheckpoint, naming the field.
func DecodeCheckpoint(b []byte) (*Checkpoint, error) {
	if len(b) > MaxCheckpointBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrCheckpoint, len(b), MaxCheckpointBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j checkpointJSON
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the checkpoint", ErrCheckpoint)
	}
	if j.Version != CheckpointVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrCheckpoint, j.Version, CheckpointVersion)
	}
	h, err := block.DecodeHeader(j.Header)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	switch {
	case j.ChainID != h.ChainID:
		return nil, fmt.Errorf("%w: chain_id %q, header says %q", ErrCheckpoint, j.ChainID, h.ChainID)
	case j.Height != h.Height:
		return nil, fmt.Errorf("%w: height %d, header says %d", ErrCheckpoint, j.Height, h.Height)
	case j.TimeUnixMilli != h.TimeUnixMilli:
		return nil, fmt.Errorf("%w: time_unix_ms %d, header says %d", ErrCheckpoint, j.TimeUnixMilli, h.TimeUnixMilli)
	case j.LogSize != h.LogSize:
		return nil, fmt.Errorf("%w: log_size %d, header says %d", ErrCheckpoint, j.LogSize, h.LogSize)
	case j.LogRoot != h.LogRoot:
		return nil, fmt.Errorf("%w: log_root %s, header says %s", ErrCheckpoint, j.LogRoot, h.LogRoot)
	case j.StateRoot != h.StateRoot:
		return nil, fmt.Errorf("%w: state_root %s, header says %s", ErrCheckpoint, j.StateRoot, h.StateRoot)
	case j.BlockHash != h.Hash():
		return nil, fmt.Errorf("%w: block_hash %s, header hashes to %s", ErrCheckpoint, j.BlockHash, h.Hash())
	case len(j.Metadata) > 64<<10:
		return nil, fmt.Errorf("%w: metadata of %d bytes", ErrCheckpoint, len(j.Metadata))
	case len(j.Certificate) > block.MaxCertSigs:
		return nil, fmt.Errorf("%w: %d certificate signatures, limit %d", ErrCheckpoint, len(j.Certificate), block.MaxCertSigs)
	}
	cp := &Checkpoint{Header: *h, Metadata: j.Metadata, VerSeq: j.VerSeq, Cert: block.Certificate{Sigs: make([]block.CommitSig, 0, len(j.Certificate))}}
	for i, s := range j.Certificate {
		if len(s.Msg) > 70<<10 {
			return nil, fmt.Errorf("%w: certificate signature %d: message of %d bytes", ErrCheckpoint, i, len(s.Msg))
		}
		if len(s.Sig) != ed25519.SignatureSize {
			return nil, fmt.Errorf("%w: certificate signature %d (validator %d): %d bytes, want %d", ErrCheckpoint, i, s.Validator, len(s.Sig), ed25519.SignatureSize)
		}
		cp.Cert.Sigs = append(cp.Cert.Sigs, block.CommitSig{Validator: s.Validator, Msg: s.Msg, Sig: s.Sig})
	}
	return cp, nil
}
