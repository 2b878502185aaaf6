// Package keys owns ed25519 key files and keyrings: a node's key and the
// member keys a user signs transactions with. A key file is JSON with the
// name, the public key and the private seed (hex), written 0600 and
// atomically in a 0700 directory; a keyring is a directory of NAME.key
// files.
//
// A key file may instead hold its seed encrypted under a passphrase
// (encrypt.go): scrypt stretches the passphrase and XChaCha20-Poly1305
// seals the seed, bound to the key's name and public key. Loading such a
// file asks a Passphrase source (a Ring's, else DefaultPassphrase: the
// environment, then the terminal); plain key files keep working.
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
	Private ed25519.PrivateKey // nil for a key Ring.List did not decrypt
	pub     ed25519.PublicKey  // set when Private is nil
}

// Public returns the public key.
func (k *Key) Public() ed25519.PublicKey {
	if k.Private == nil {
		return k.pub
	}
	return k.Private.Public().(ed25519.PublicKey)
}

// PublicHex returns the public key as hex.
func (k *Key) PublicHex() string { return hex.EncodeToString(k.Public()) }

type file struct {
	Name      string     `json:"name"`
	Type      string     `json:"type"`
	Public    string     `json:"public_key"`
	Private   string     `json:"private_key,omitempty"`
	Encrypted *encrypted `json:"encrypted,omitempty"`
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

// Save writes the key file at path (0600, atomically), the seed in the clear.
func (k *Key) Save(path string) error {
	return k.write(path, file{Name: k.Name, Type: "ed25519", Public: k.PublicHex(),
		Private: hex.EncodeToString(k.Private.Seed())})
}

// SaveEncrypted writes the key file at path (0600, atomically) with the
// seed encrypted under passphrase.
func (k *Key) SaveEncrypted(path string, passphrase []byte) error {
	e, err := seal(k, passphrase)
	if err != nil {
		return err
	}
	return k.write(path, file{Name: k.Name, Type: "ed25519", Public: k.PublicHex(), Encrypted: e})
}

func (k *Key) write(path string, f file) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("keys: encode: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	return genesis.WriteFileAtomic(path, append(b, '\n'), 0o600)
}

// Load reads a key file and checks that its public key matches its seed.
// An encrypted key file asks DefaultPassphrase.
func Load(path string) (*Key, error) { return LoadWith(path, DefaultPassphrase) }

// LoadWith reads a key file; an encrypted one asks pass for its passphrase
// (nil: the file must not be encrypted).
func LoadWith(path string, pass Passphrase) (*Key, error) {
	f, err := readFile(path)
	if err != nil {
		return nil, err
	}
	var k *Key
	if f.Encrypted != nil {
		if f.Private != "" {
			return nil, fmt.Errorf("keys: %s holds both a plain and an encrypted private key", path)
		}
		if pass == nil {
			return nil, fmt.Errorf("%w: %s is encrypted", ErrNeedPassphrase, path)
		}
		pw, err := pass(f.Name)
		if err != nil {
			return nil, fmt.Errorf("keys: %s: %w", path, err)
		}
		if k, err = open(f, pw); err != nil {
			return nil, fmt.Errorf("keys: %s: %w", path, err)
		}
	} else {
		seed, err := hex.DecodeString(f.Private)
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("keys: %s: private key is not a %d-byte hex seed", path, ed25519.SeedSize)
		}
		k = &Key{Name: f.Name, Private: ed25519.NewKeyFromSeed(seed)}
	}
	if f.Public != "" && !strings.EqualFold(f.Public, k.PublicHex()) {
		return nil, fmt.Errorf("keys: %s: public key does not match the private key", path)
	}
	return k, nil
}

// IsEncrypted reports whether the key file at path holds an encrypted seed.
func IsEncrypted(path string) (bool, error) {
	f, err := readFile(path)
	if err != nil {
		return false, err
	}
	return f.Encrypted != nil, nil
}

func readFile(path string) (*file, error) {
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
	return &f, nil
}

// Ring is a directory of key files. Passphrase answers for encrypted keys
// (nil: DefaultPassphrase).
type Ring struct {
	Dir        string
	Passphrase Passphrase
}

func (r Ring) pass() Passphrase {
	if r.Passphrase != nil {
		return r.Passphrase
	}
	return DefaultPassphrase
}

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

// NewEncrypted creates and stores a key whose seed is encrypted under the
// ring's passphrase (asked twice when it comes from a terminal).
func (r Ring) NewEncrypted(name string) (*Key, error) {
	if _, err := os.Stat(r.path(name)); err == nil {
		return nil, fmt.Errorf("%w: %s in %s", ErrExists, name, r.Dir)
	}
	k, err := Generate(name)
	if err != nil {
		return nil, err
	}
	pw, err := r.pass()(name)
	if err != nil {
		return nil, err
	}
	if len(pw) == 0 {
		return nil, fmt.Errorf("keys: empty passphrase refused for %s", name)
	}
	if err := k.SaveEncrypted(r.path(name), pw); err != nil {
		return nil, err
	}
	return k, nil
}

// Get loads a key by name.
func (r Ring) Get(name string) (*Key, error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("keys: invalid name %q", name)
	}
	k, err := LoadWith(r.path(name), r.pass())
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q in keyring %s (see 'trialchain keys list')", ErrNotFound, name, r.Dir)
	}
	return k, err
}

// List returns every key in the ring, sorted by name. It decrypts nothing:
// an encrypted key comes back with its name and public key only (Private
// nil); Get it to sign.
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
		p := filepath.Join(r.Dir, e.Name())
		f, err := readFile(p)
		if err != nil {
			return nil, err
		}
		var k *Key
		if f.Encrypted != nil {
			pub, err := hex.DecodeString(f.Public)
			if err != nil || len(pub) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("keys: %s: public key is not %d hex bytes", p, ed25519.PublicKeySize)
			}
			k = &Key{Name: f.Name, pub: pub}
		} else if k, err = LoadWith(p, nil); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
