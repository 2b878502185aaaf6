package store

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/trialchain/trialchain/chain/block"
	"golang.org/x/crypto/chacha20poly1305"
)

// Wrapping payload data keys
//
// The key store holds each payload's data key wrapped (encrypted) by a
// key-encryption key that is not in the data directory: a copied data
// directory, or a stolen disk image of it, decrypts nothing without it.
// KeyWrapper is shaped like a KMS client so that an operator can put the
// key-encryption key in a KMS or HSM; NodeKeyWrapper derives one from the
// node's own key file (node.key, outside the data directory).

// ErrNoKeyWrapper is returned by payload operations on a store opened
// without a KeyWrapper.
var ErrNoKeyWrapper = errors.New("store: no key-encryption key: payloads cannot be stored or read (open the store with the node's key)")

// ErrUnwrap is returned when a data key does not unwrap: the store was
// opened with another key-encryption key than the one that wrapped it.
var ErrUnwrap = errors.New("store: payload data key does not unwrap: another key-encryption key wrapped it")

// KeyWrapper wraps and unwraps payload data keys. The payload hash is
// bound to the wrapped key (a wrapped key moved to another payload does
// not unwrap).
type KeyWrapper interface {
	WrapKey(payload block.Hash, dataKey []byte) ([]byte, error)
	UnwrapKey(payload block.Hash, wrapped []byte) ([]byte, error)
}

// NodeKeyWrapper derives a key-encryption key from secret (the node's
// ed25519 seed) with HKDF-SHA256 and wraps with XChaCha20-Poly1305.
func NodeKeyWrapper(secret []byte) (KeyWrapper, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("store: key-encryption secret of %d bytes (want ≥ 32)", len(secret))
	}
	kek, err := hkdf.Key(sha256.New, secret, nil, "trialchain payload data-key wrapping v1", chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("store: derive key-encryption key: %w", err)
	}
	return localWrapper{kek: kek}, nil
}

type localWrapper struct{ kek []byte }

// wrapped data key: version 1 ‖ nonce 24 ‖ XChaCha20-Poly1305(key 32, additional data = payload hash)
const (
	wrapVersion = 1
	wrappedLen  = 1 + chacha20poly1305.NonceSizeX + dataKeyBytes + chacha20poly1305.Overhead
)

func (w localWrapper) WrapKey(h block.Hash, key []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(w.kek)
	if err != nil {
		return nil, fmt.Errorf("store: wrap: %w", err)
	}
	out := make([]byte, 1+aead.NonceSize(), wrappedLen)
	out[0] = wrapVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("store: wrap nonce: %w", err)
	}
	return aead.Seal(out, out[1:], key, h[:]), nil
}

func (w localWrapper) UnwrapKey(h block.Hash, wrapped []byte) ([]byte, error) {
	if len(wrapped) != wrappedLen || wrapped[0] != wrapVersion {
		return nil, fmt.Errorf("store: payload key %s is corrupt", h)
	}
	aead, err := chacha20poly1305.NewX(w.kek)
	if err != nil {
		return nil, fmt.Errorf("store: unwrap: %w", err)
	}
	n := 1 + aead.NonceSize()
	key, err := aead.Open(nil, wrapped[1:n], wrapped[n:], h[:])
	if err != nil {
		return nil, fmt.Errorf("%w: payload %s", ErrUnwrap, h)
	}
	return key, nil
}

// Private files: everything the store writes is 0600, its directories 0700.

// privateFS makes every file Pebble creates 0600 and every directory 0700
// (before a byte is written to it).
type privateFS struct{ vfs.FS }

func (f privateFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	file, err := f.FS.Create(name, c)
	if err == nil {
		if err = os.Chmod(name, 0o600); err != nil {
			file.Close()
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	return file, err
}

func (f privateFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	file, err := f.FS.OpenReadWrite(name, c, opts...)
	if err == nil {
		if err = os.Chmod(name, 0o600); err != nil {
			file.Close()
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	return file, err
}

func (f privateFS) Lock(name string) (io.Closer, error) {
	c, err := f.FS.Lock(name)
	if err == nil {
		if err = os.Chmod(name, 0o600); err != nil {
			c.Close()
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	return c, err
}

func (f privateFS) MkdirAll(dir string, _ os.FileMode) error {
	if err := f.FS.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// makePrivate tightens an existing store written with wider modes.
func makePrivate(dir string) error {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o600)
		if d.IsDir() {
			mode = 0o700
		} else if !d.Type().IsRegular() {
			return nil
		}
		return os.Chmod(p, mode)
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: make %s private: %w", dir, err)
	}
	return nil
}
