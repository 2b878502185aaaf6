// Package keys owns ed25519 key files and keyrings: a node's key and the
// member keys a user signs transactions with. A key file is JSON with the
// name, the public key and the private seed (hex), written 0600 and
// atomically; a keyring is a directory of NAME.key files.
package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/trialchain/trialchain/chain/genesis"
)

// ErrNotFound is returned for a key name that is not in the keyring.
var ErrNotFound = errors.New("keys: no such key")

// ErrExists is returned when creating a key whose name is taken.
var ErrExists = errors.New("keys: key already exists")

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Key is a named ed25519 key pair.
type Key struct {
	Name    string
	Private ed25519.PrivateKey
}

// Public returns the public key.
func (k *Key) Public() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

// PublicHex returns the public key as hex.
func (k *Key) PublicHex() string { return hex.EncodeToString(k.Public()) }

type file struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Public  string `json:"public_key"`
	Private string `json:"private_key"`
}

// Generate makes a new random key.
func Generate(name string) (*Key, error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("keys: invalid name %q (letters, digits, . _ -; up to 64)", name)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("keys: generate: %w", err)
	}
	return &Key{Name: name, Private: priv}, nil
}

// Save writes the key file at path (0600, atomically).
func (k *Key) Save(path string) error {
	b, err := json.MarshalIndent(file{Name: k.Name, Type: "ed25519", Public: k.PublicHex(),
		Private: hex.EncodeToString(k.Private.Seed())}, "", "  ")
	if err != nil {
		return fmt.Errorf("keys: encode: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	return genesis.WriteFileAtomic(path, append(b, '\n'), 0o600)
}

// Load reads a key file and checks that its public key matches its seed.
func Load(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if len(b) > 4096 {
		return nil, fmt.Errorf("keys: %s is not a key file (too large)", path)
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("keys: %s: %w", path, err)
	}
	seed, err := hex.DecodeString(f.Private)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("keys: %s: private key is not a %d-byte hex seed", path, ed25519.SeedSize)
	}
	k := &Key{Name: f.Name, Private: ed25519.NewKeyFromSeed(seed)}
	if f.Public != "" && !strings.EqualFold(f.Public, k.PublicHex()) {
		return nil, fmt.Errorf("keys: %s: public key does not match the private key", path)
	}
	return k, nil
}

// Ring is a directory of key files.
type Ring struct{ Dir string }

func (r Ring) path(name string) string { return filepath.Join(r.Dir, name+".key") }

// New creates and stores a key; it refuses to overwrite one.
func (r Ring) New(name string) (*Key, error) {
	if _, err := os.Stat(r.path(name)); err == nil {
		return nil, fmt.Errorf("%w: %s in %s", ErrExists, name, r.Dir)
	}
	k, err := Generate(name)
	if err != nil {
		return nil, err
	}
	if err := k.Save(r.path(name)); err != nil {
		return nil, err
	}
	return k, nil
}

// Get loads a key by name.
func (r Ring) Get(name string) (*Key, error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("keys: invalid name %q", name)
	}
	k, err := Load(r.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q in keyring %s (see 'trialchain keys list')", ErrNotFound, name, r.Dir)
	}
	return k, err
}

// List returns every key in the ring, sorted by name.
func (r Ring) List() ([]*Key, error) {
	ents, err := os.ReadDir(r.Dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("keys: %w", err)
	}
	var out []*Key
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".key") {
			continue
		}
		k, err := Load(filepath.Join(r.Dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
