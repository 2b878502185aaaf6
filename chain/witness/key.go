package witness

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/trialchain/trialchain/chain/proof"
)

// KeyFormat names a witness public-key file in its "format" field.
const KeyFormat = "trialchain-witness-key"

// ErrKeyFile is a witness public-key file that cannot be read.
var ErrKeyFile = errors.New("witness: invalid witness key file")

// PublicKey is a witness's identity as verifiers configure it: its name
// and ed25519 public key. A cosignature counts for it only if it carries
// both (Cosignature.VerifyBy).
type PublicKey struct {
	Name string
	Key  ed25519.PublicKey
}

func (pk PublicKey) String() string { return fmt.Sprintf("%s (key %s)", pk.Name, Fingerprint(pk.Key)) }

type keyJSON struct {
	Format string         `json:"format"`
	Name   string         `json:"name"`
	Key    proof.HexBytes `json:"public_key"`
}

// Encode is the public-key file (witness.pub), indented JSON.
func (pk PublicKey) Encode() []byte {
	b, err := json.MarshalIndent(keyJSON{Format: KeyFormat, Name: pk.Name, Key: proof.HexBytes(pk.Key)}, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("witness: key json: %v", err)) // strings and bytes only
	}
	return append(b, '\n')
}

// ParsePublicKey decodes a public-key file strictly.
//
// # Errors
//
// Wraps ErrKeyFile, naming what is wrong.
func ParsePublicKey(b []byte) (PublicKey, error) {
	if len(b) > 4096 {
		return PublicKey{}, fmt.Errorf("%w: %d bytes, a key file is small", ErrKeyFile, len(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j keyJSON
	if err := dec.Decode(&j); err != nil {
		return PublicKey{}, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return PublicKey{}, fmt.Errorf("%w: trailing data", ErrKeyFile)
	}
	switch {
	case j.Format != KeyFormat:
		return PublicKey{}, fmt.Errorf("%w: format %q, want %q (a witness's witness.pub; 'trialchain witness show' prints it)", ErrKeyFile, j.Format, KeyFormat)
	case !ValidName(j.Name):
		return PublicKey{}, fmt.Errorf("%w: name %q", ErrKeyFile, j.Name)
	case len(j.Key) != ed25519.PublicKeySize:
		return PublicKey{}, fmt.Errorf("%w: public key of %d bytes, want %d", ErrKeyFile, len(j.Key), ed25519.PublicKeySize)
	}
	return PublicKey{Name: j.Name, Key: ed25519.PublicKey(j.Key)}, nil
}

// LoadPublicKey reads a public-key file.
func LoadPublicKey(path string) (PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return PublicKey{}, fmt.Errorf("witness key: %w", err)
	}
	pk, err := ParsePublicKey(b)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return pk, nil
}
