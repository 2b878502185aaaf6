package trials

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// RecordStore keeps a site's full case-report-form records off chain,
// encrypted. Each subject has its own AES-256-GCM data key
// (DIR/keys/SUBJECT.key, mode 0600); a record is DIR/RECORDHASH.rec:
//
//	"TCREC1\n" ‖ subject ‖ "\n" ‖ 12-byte nonce ‖ AES-GCM(record JSON, additional data = record hash)
//
// The chain holds only the record hash (and the fields the protocol
// declares public). Shred destroys a subject's data key: every record of
// that subject becomes unreadable (crypto-shredding, e.g. on withdrawal
// with erasure) while the on-chain hashes, and every proof over them,
// stay valid. The pseudonymous subject id is stored in clear to find the
// key; it is not identifying.
//
// KeyDir, if set, holds the data keys instead of DIR/keys: a keyring the
// user chooses (another disk, an encrypted volume, a hardware-backed
// mount), so that a copy of the records alone reads nothing.
type RecordStore struct {
	Dir    string
	KeyDir string
}

const recMagic = "TCREC1\n"

var (
	// ErrShredded is returned for a record whose subject key was destroyed.
	ErrShredded = errors.New("trials: the subject's data key was destroyed (crypto-shredded)")
	subjectRe   = regexp.MustCompile(`^[0-9a-f]{32}$`)
	hashRe      = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func (s RecordStore) keyPath(subject string) string {
	if s.KeyDir != "" {
		return filepath.Join(s.KeyDir, subject+".key")
	}
	return filepath.Join(s.Dir, "keys", subject+".key")
}

// Path is where the record with hash h is kept.
func (s RecordStore) Path(h string) string { return filepath.Join(s.Dir, h+".rec") }

// subjectKey returns the subject's data key, creating it if create.
func (s RecordStore) subjectKey(subject string, create bool) ([]byte, error) {
	if !subjectRe.MatchString(subject) {
		return nil, fmt.Errorf("trials: subject id %q: want 32 hex characters", subject)
	}
	k, err := os.ReadFile(s.keyPath(subject))
	if err == nil {
		if len(k) != 32 {
			return nil, fmt.Errorf("trials: %s: corrupt data key", s.keyPath(subject))
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if !create {
		return nil, ErrShredded
	}
	k = make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(s.keyPath(subject)), 0o700); err != nil {
		return nil, err
	}
	if err := writeFileSync(s.keyPath(subject), k, 0o600); err != nil {
		return nil, err
	}
	return k, nil
}

// Put encrypts rec under its subject's key and returns the file's path.
func (s RecordStore) Put(rec Record) (string, error) {
	key, err := s.subjectKey(rec.Subject, true)
	if err != nil {
		return "", err
	}
	pt, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	h := rec.Hash()
	gcm, err := newGCM(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return "", err
	}
	var b bytes.Buffer
	b.WriteString(recMagic + rec.Subject + "\n")
	b.Write(nonce)
	b.Write(gcm.Seal(nil, nonce, pt, []byte(h)))
	return s.Path(h), writeFileSync(s.Path(h), b.Bytes(), 0o600)
}

// Get decrypts the record with hash h and checks it hashes to h.
func (s RecordStore) Get(h string) (Record, error) {
	if !hashRe.MatchString(h) {
		return Record{}, fmt.Errorf("trials: record hash %q: want 64 hex characters", h)
	}
	return s.Open(s.Path(h), h)
}

// Open decrypts the record file at path, which must hash to h (any h if "").
func (s RecordStore) Open(path, h string) (Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Record{}, err
	}
	rest, ok := bytes.CutPrefix(b, []byte(recMagic))
	if !ok {
		return Record{}, fmt.Errorf("trials: %s is not an encrypted record file", path)
	}
	subj, body, ok := bytes.Cut(rest, []byte("\n"))
	if !ok {
		return Record{}, fmt.Errorf("trials: %s: truncated", path)
	}
	key, err := s.subjectKey(string(subj), false)
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", path, err)
	}
	gcm, err := newGCM(key)
	if err != nil {
		return Record{}, err
	}
	if len(body) < gcm.NonceSize() {
		return Record{}, fmt.Errorf("trials: %s: truncated", path)
	}
	if h == "" {
		h = filepath.Base(path)
		h = h[:len(h)-len(filepath.Ext(h))]
	}
	pt, err := gcm.Open(nil, body[:gcm.NonceSize()], body[gcm.NonceSize():], []byte(h))
	if err != nil {
		return Record{}, fmt.Errorf("trials: %s: cannot decrypt (wrong key, wrong hash or altered file)", path)
	}
	var rec Record
	if err := json.Unmarshal(pt, &rec); err != nil {
		return Record{}, fmt.Errorf("trials: %s: %w", path, err)
	}
	if rec.Hash() != h {
		return Record{}, fmt.Errorf("trials: %s: decrypted record hashes to %s, not %s", path, rec.Hash(), h)
	}
	return rec, nil
}

// Shred destroys the subject's data key. Their records stay on disk as
// ciphertext nobody can read; the chain keeps only hashes.
func (s RecordStore) Shred(subject string) error {
	if !subjectRe.MatchString(subject) {
		return fmt.Errorf("trials: subject id %q: want 32 hex characters", subject)
	}
	p := s.keyPath(subject)
	if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
		_, werr := f.Write(make([]byte, 32)) // overwrite before unlinking (best effort)
		serr := f.Sync()
		f.Close()
		if werr != nil || serr != nil {
			return errors.Join(werr, serr)
		}
	} else if errors.Is(err, os.ErrNotExist) {
		return nil
	} else {
		return err
	}
	return os.Remove(p)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

// writeFileSync writes a file atomically (temp file, fsync, rename).
func writeFileSync(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
