package store

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
)

func redactionWrite(h block.Hash, height uint64) state.Write {
	x := &state.Redaction{Payload: h, Basis: block.BasisMistakenPHI, Reason: "PHI", Meaning: "approval", Sender: make([]byte, 32), Height: height}
	return state.Write{Key: state.RedactionKey(h), Value: x.Encode()}
}

// filesHolding lists the files under dir whose bytes contain secret.
func filesHolding(t *testing.T, dir string, secret []byte) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, secret) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// nodeSeed stands for a node's key file, kept outside the data directory.
var nodeSeed = bytes.Repeat([]byte{7}, 32)

func testWrapper(t *testing.T, seed []byte) KeyWrapper {
	t.Helper()
	w, err := NodeKeyWrapper(seed)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// openPayloads opens the store in dir with the key-encryption key derived
// from nodeSeed.
func openPayloads(t *testing.T, dir string) (*Store, error) {
	return OpenWith(dir, Options{KeyWrapper: testWrapper(t, nodeSeed)})
}

func TestPayloadRedactionShredsKey(t *testing.T) {
	dir := t.TempDir()
	s, err := openPayloads(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	if err := s.Init(block.Sum([]byte("g")), nil, smt.Empty, nil); err != nil {
		t.Fatal(err)
	}
	phi := []byte(`{"notes":"patient John Smith, born 1961-02-03"}`)
	other := []byte(`{"notes":"no PHI here"}`)
	h, ho := block.Sum(phi), block.Sum(other)
	for _, c := range []struct {
		name string
		h    block.Hash
		data []byte
		want error
	}{
		{"payload", h, phi, nil},
		{"again (no-op)", h, phi, nil},
		{"other payload", ho, other, nil},
		{"wrong hash", h, other, ErrHashMismatch},
	} {
		if err := s.PutPayload(c.h, c.data); !errors.Is(err, c.want) {
			t.Fatalf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	got, err := s.Payload(h)
	if err != nil || !bytes.Equal(got, phi) {
		t.Fatalf("payload: %q %v", got, err)
	}
	if got := filesHolding(t, dir, phi); len(got) != 0 {
		t.Fatalf("plain payload on disk in %v", got)
	}
	dataKey, err := s.getKey(h) // as stored: wrapped
	if err != nil {
		t.Fatal(err)
	}
	if len(filesHolding(t, filepath.Join(dir, keyStoreDir), dataKey)) == 0 {
		t.Fatal("the data key is not in the key store's files: the test would prove nothing")
	}
	clearKey, err := s.wrap.UnwrapKey(h, dataKey)
	if err != nil {
		t.Fatal(err)
	}
	if got := filesHolding(t, dir, clearKey); len(got) != 0 {
		t.Fatalf("data key in the clear in %v", got)
	}

	commitWrites(t, s, 1, []state.Write{redactionWrite(h, 1)})

	if _, err := s.Payload(h); !errors.Is(err, ErrRedacted) {
		t.Fatalf("redacted payload read: %v", err)
	}
	if ok, err := s.HasPayloadKey(h); ok || err != nil {
		t.Fatalf("data key survives redaction: %v %v", ok, err)
	}
	if _, err := s.get(payloadKey(h), "payload"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ciphertext survives redaction: %v", err)
	}
	if err := s.PutPayload(h, phi); !errors.Is(err, ErrRedacted) {
		t.Fatalf("redacted payload stored again: %v", err)
	}
	if got, err := s.Payload(ho); err != nil || !bytes.Equal(got, other) {
		t.Fatalf("unrelated payload lost: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := filesHolding(t, dir, dataKey); len(got) != 0 {
		t.Fatalf("shredded data key still in %v", got)
	}
	if s, err = openPayloads(t, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Payload(h); !errors.Is(err, ErrRedacted) {
		t.Fatalf("after reopen: %v", err)
	}
}

// TestReopenShredsRedactedPayload covers a crash between a redaction's
// commit and the shredding of its key: the next open shreds it.
func TestReopenShredsRedactedPayload(t *testing.T) {
	dir := t.TempDir()
	s, err := openPayloads(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(block.Sum([]byte("g")), nil, smt.Empty, nil); err != nil {
		t.Fatal(err)
	}
	data := []byte("mistaken PHI")
	h := block.Sum(data)
	if err := s.PutPayload(h, data); err != nil {
		t.Fatal(err)
	}
	w := redactionWrite(h, 1)
	if err := s.db.Set(stateKey(w.Key), w.Value, nil); err != nil { // the record, without the shredding
		t.Fatal(err)
	}
	s.Close()
	if s, err = openPayloads(t, dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, err := s.HasPayloadKey(h); ok || err != nil {
		t.Fatalf("open did not shred the redacted payload's key: %v %v", ok, err)
	}
	if _, err := s.get(payloadKey(h), "payload"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open did not drop the redacted ciphertext: %v", err)
	}
}

// TestCopiedDataDirCannotDecrypt: a copied data directory without the
// wrapping key cannot decrypt a payload.
func TestCopiedDataDirCannotDecrypt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	s, err := openPayloads(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(block.Sum([]byte("g")), nil, smt.Empty, nil); err != nil {
		t.Fatal(err)
	}
	phi := []byte(`{"notes":"patient Jane Roe, MRN 0042"}`)
	h := block.Sum(phi)
	if err := s.PutPayload(h, phi); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(t.TempDir(), "stolen")
	if err := os.CopyFS(copied, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		wrap KeyWrapper
		want error // nil: decrypts
	}{
		{"no wrapping key", nil, ErrNoKeyWrapper},
		{"another node's key", testWrapper(t, bytes.Repeat([]byte{8}, 32)), ErrUnwrap},
		{"the node's key (control)", testWrapper(t, nodeSeed), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := OpenWith(copied, Options{KeyWrapper: c.wrap})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Head().GenesisHash != block.Sum([]byte("g")) {
				t.Fatal("the chain itself should still open")
			}
			got, err := s.Payload(h)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if c.want == nil && !bytes.Equal(got, phi) {
				t.Fatalf("payload %q", got)
			}
			if c.want != nil && got != nil {
				t.Fatal("bytes returned with an error")
			}
		})
	}
}

// TestLegacyClearKeysWrappedAtOpen: data keys a store kept in the clear
// are wrapped at the first open with a KeyWrapper and leave every file.
func TestLegacyClearKeysWrappedAtOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := openPayloads(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("kept before wrapping existed")
	h := block.Sum(data)
	if err := s.PutPayload(h, data); err != nil {
		t.Fatal(err)
	}
	w, _ := s.getKey(h)
	clearKey, err := s.wrap.UnwrapKey(h, w)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.keys.Set(h[:], clearKey, pebble.NoSync); err != nil { // what an older store holds
		t.Fatal(err)
	}
	if err := s.keys.Flush(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if len(filesHolding(t, dir, clearKey)) == 0 {
		t.Fatal("the clear key is in no file: the test would prove nothing")
	}
	if s, err = openPayloads(t, dir); err != nil {
		t.Fatal(err)
	}
	got, err := s.Payload(h)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after wrapping: %q %v", got, err)
	}
	s.Close()
	if got := filesHolding(t, dir, clearKey); len(got) != 0 {
		t.Fatalf("clear data key still in %v", got)
	}
}

// TestStoreFilesPrivate: every file the store writes is 0600 and every
// directory 0700, and a store written with wider modes is tightened.
func TestStoreFilesPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "db")
	check := func(when string) {
		t.Helper()
		n := 0
		err := filepath.WalkDir(filepath.Dir(dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			st, err := os.Stat(p)
			if err != nil {
				return err
			}
			want := fs.FileMode(0o600)
			if d.IsDir() {
				want = 0o700
			}
			if p != filepath.Dir(dir) && st.Mode().Perm() != want { // data/ is the node's to set
				t.Errorf("%s: %s is %v, want %v", when, p, st.Mode().Perm(), want)
			}
			n++
			return nil
		})
		if err != nil || n < 5 {
			t.Fatalf("%s: walked %d files: %v", when, n, err)
		}
	}
	s, err := openPayloads(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(block.Sum([]byte("g")), nil, smt.Empty, nil); err != nil {
		t.Fatal(err)
	}
	data := []byte("x")
	if err := s.PutPayload(block.Sum(data), data); err != nil {
		t.Fatal(err)
	}
	commitWrites(t, s, 1, nil)
	check("open")
	s.Close()
	check("closed")
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, _ error) error { return os.Chmod(p, 0o755) }) // an older store
	if s, err = openPayloads(t, dir); err != nil {
		t.Fatal(err)
	}
	s.Close()
	check("reopened")
}
