package keys

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
	"golang.org/x/term"
)

// Passphrase errors.
var (
	ErrPassphrase     = errors.New("keys: wrong passphrase (or a damaged key file)")
	ErrNeedPassphrase = errors.New("keys: a passphrase is needed: set $TRIALCHAIN_PASSPHRASE_FILE (a file holding it) or $TRIALCHAIN_PASSPHRASE, pass --passphrase-file, or run on a terminal")
)

// Passphrase returns the passphrase of the key named name.
type Passphrase func(name string) ([]byte, error)

// Environment variables DefaultPassphrase reads, for scripts.
const (
	EnvPassphraseFile = "TRIALCHAIN_PASSPHRASE_FILE"
	EnvPassphrase     = "TRIALCHAIN_PASSPHRASE"
)

// DefaultPassphrase reads $TRIALCHAIN_PASSPHRASE_FILE, else
// $TRIALCHAIN_PASSPHRASE, else asks on the terminal (standard input, echo
// off), else fails with ErrNeedPassphrase.
func DefaultPassphrase(name string) ([]byte, error) {
	if p := os.Getenv(EnvPassphraseFile); p != "" {
		return PassphraseFile(p)(name)
	}
	if v, ok := os.LookupEnv(EnvPassphrase); ok {
		return []byte(v), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, ErrNeedPassphrase
	}
	fmt.Fprintf(os.Stderr, "passphrase for key %s: ", name)
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, fmt.Errorf("keys: read passphrase: %w", err)
	}
	return pw, nil
}

// PassphraseFile returns a Passphrase that reads the first line of path
// (for scripts: keep the file 0600).
func PassphraseFile(path string) Passphrase {
	return func(string) ([]byte, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("keys: passphrase file: %w", err)
		}
		defer f.Close()
		line, err := bufio.NewReader(f).ReadBytes('\n')
		if err != nil && len(line) == 0 {
			return nil, fmt.Errorf("keys: passphrase file %s: %w", path, err)
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
}

// encrypted is the sealed seed of an encrypted key file.
type encrypted struct {
	KDF        string `json:"kdf"` // "scrypt"
	LogN       uint8  `json:"log_n"`
	R          int    `json:"r"`
	P          int    `json:"p"`
	Salt       string `json:"salt"`
	Cipher     string `json:"cipher"` // "xchacha20-poly1305"
	Nonce      string `json:"nonce"`
	Ciphertext string `json:"ciphertext"`
}

// scrypt cost: N = 2^15, r = 8, p = 1 (about 32 MiB and 0.1 s). Tests
// lower logN; the file records its own cost.
var scryptLogN uint8 = 15

// Bounds a key file's cost must keep to be opened (a hostile file must not
// make Load allocate gigabytes).
const (
	minLogN, maxLogN = 10, 20
	maxR, maxP       = 32, 4
)

// additional data: what the seed is bound to.
func keyAD(name string, pub ed25519.PublicKey) []byte {
	return []byte("trialchain key v1\x00" + name + "\x00" + hex.EncodeToString(pub))
}

func stretch(pass, salt []byte, logN uint8, r, p int) ([]byte, error) {
	k, err := scrypt.Key(pass, salt, 1<<logN, r, p, chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("keys: scrypt: %w", err)
	}
	return k, nil
}

func seal(k *Key, pass []byte) (*encrypted, error) {
	if len(pass) == 0 {
		return nil, errors.New("keys: empty passphrase refused")
	}
	salt := make([]byte, 16)
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("keys: salt: %w", err)
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keys: nonce: %w", err)
	}
	e := &encrypted{KDF: "scrypt", LogN: scryptLogN, R: 8, P: 1, Cipher: "xchacha20-poly1305",
		Salt: hex.EncodeToString(salt), Nonce: hex.EncodeToString(nonce)}
	kek, err := stretch(pass, salt, e.LogN, e.R, e.P)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, fmt.Errorf("keys: cipher: %w", err)
	}
	e.Ciphertext = hex.EncodeToString(aead.Seal(nil, nonce, k.Private.Seed(), keyAD(k.Name, k.Public())))
	return e, nil
}

func open(f *file, pass []byte) (*Key, error) {
	e := f.Encrypted
	if e.KDF != "scrypt" || e.Cipher != "xchacha20-poly1305" {
		return nil, fmt.Errorf("keys: unknown key encryption %q/%q", e.KDF, e.Cipher)
	}
	if e.LogN < minLogN || e.LogN > maxLogN || e.R < 1 || e.R > maxR || e.P < 1 || e.P > maxP {
		return nil, fmt.Errorf("keys: scrypt cost out of bounds (log_n %d, r %d, p %d)", e.LogN, e.R, e.P)
	}
	salt, err1 := hex.DecodeString(e.Salt)
	nonce, err2 := hex.DecodeString(e.Nonce)
	ct, err3 := hex.DecodeString(e.Ciphertext)
	pub, err4 := hex.DecodeString(f.Public)
	if err := errors.Join(err1, err2, err3, err4); err != nil || len(salt) < 16 ||
		len(nonce) != chacha20poly1305.NonceSizeX || len(pub) != ed25519.PublicKeySize ||
		len(ct) != ed25519.SeedSize+chacha20poly1305.Overhead {
		return nil, errors.New("keys: malformed encrypted key")
	}
	kek, err := stretch(pass, salt, e.LogN, e.R, e.P)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, fmt.Errorf("keys: cipher: %w", err)
	}
	seed, err := aead.Open(nil, nonce, ct, keyAD(f.Name, pub))
	if err != nil {
		return nil, ErrPassphrase
	}
	k := &Key{Name: f.Name, Private: ed25519.NewKeyFromSeed(seed)}
	if !strings.EqualFold(f.Public, k.PublicHex()) {
		return nil, fmt.Errorf("keys: public key does not match the private key")
	}
	return k, nil
}
