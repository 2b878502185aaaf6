package store

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

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

func TestPayloadRedactionShredsKey(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
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
	dataKey, err := s.getKey(h)
	if err != nil {
		t.Fatal(err)
	}
	if len(filesHolding(t, filepath.Join(dir, keyStoreDir), dataKey)) == 0 {
		t.Fatal("the data key is not in the key store's files: the test would prove nothing")
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
	if s, err = Open(dir); err != nil {
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
	s, err := Open(dir)
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
	if s, err = Open(dir); err != nil {
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
