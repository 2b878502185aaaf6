package keys

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRing(t *testing.T) {
	r := Ring{Dir: filepath.Join(t.TempDir(), "keys")}
	a, err := r.New("sponsor")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.New("sponsor"); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	got, err := r.Get("sponsor")
	if err != nil || !got.Public().Equal(a.Public()) {
		t.Fatalf("get: %v", err)
	}
	if _, err := r.Get("nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := r.New("../evil"); err == nil {
		t.Fatal("path traversal name accepted")
	}
	st, _ := os.Stat(filepath.Join(r.Dir, "sponsor.key"))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode().Perm())
	}
	ks, err := r.List()
	if err != nil || len(ks) != 1 {
		t.Fatalf("list: %v %d", err, len(ks))
	}
}

func TestLoadRejectsMismatchedPublicKey(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.key")
	os.WriteFile(p, []byte(`{"name":"x","public_key":"00","private_key":"`+string(make([]byte, 0))+`0000000000000000000000000000000000000000000000000000000000000000"}`), 0o600)
	if _, err := Load(p); err == nil {
		t.Fatal("mismatched public key accepted")
	}
}

func TestEncryptedKeys(t *testing.T) {
	scryptLogN = 10 // the file records its cost; production uses 15
	t.Cleanup(func() { scryptLogN = 15 })
	dir := filepath.Join(t.TempDir(), "keys")
	pw := func(s string) Passphrase { return func(string) ([]byte, error) { return []byte(s), nil } }
	r := Ring{Dir: dir, Passphrase: pw("correct horse")}
	k, err := r.NewEncrypted("site")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.New("plain"); err != nil { // plain keys keep working beside encrypted ones
		t.Fatal(err)
	}
	p := filepath.Join(dir, "site.key")
	b, _ := os.ReadFile(p)
	if bytes.Contains(b, []byte(hex.EncodeToString(k.Private.Seed()))) {
		t.Fatal("seed in the clear in an encrypted key file")
	}
	if enc, err := IsEncrypted(p); !enc || err != nil {
		t.Fatalf("IsEncrypted: %v %v", enc, err)
	}
	st, _ := os.Stat(p)
	dst, _ := os.Stat(dir)
	if st.Mode().Perm() != 0o600 || dst.Mode().Perm() != 0o700 {
		t.Fatalf("modes: file %v dir %v", st.Mode().Perm(), dst.Mode().Perm())
	}
	passFile := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(passFile, []byte("correct horse\n"), 0o600)
	tampered := bytes.Replace(b, []byte(`"name": "site"`), []byte(`"name": "sitf"`), 1)
	os.WriteFile(filepath.Join(dir, "tampered.key"), tampered, 0o600)

	for _, c := range []struct {
		name string
		ring Ring
		key  string
		want error // nil: loads k
	}{
		{"right passphrase", r, "site", nil},
		{"passphrase file (scripts)", Ring{Dir: dir, Passphrase: PassphraseFile(passFile)}, "site", nil},
		{"wrong passphrase", Ring{Dir: dir, Passphrase: pw("battery staple")}, "site", ErrPassphrase},
		{"name tampered (bound as additional data)", r, "tampered", ErrPassphrase},
	} {
		got, err := c.ring.Get(c.key)
		if !errors.Is(err, c.want) {
			t.Fatalf("%s: %v, want %v", c.name, err, c.want)
		}
		if c.want == nil && !got.Private.Equal(k.Private) {
			t.Fatalf("%s: another key", c.name)
		}
	}
	if _, err := LoadWith(p, nil); !errors.Is(err, ErrNeedPassphrase) {
		t.Fatalf("no passphrase source: %v", err)
	}
	t.Setenv(EnvPassphraseFile, "")
	t.Setenv(EnvPassphrase, "correct horse")
	if got, err := Load(p); err != nil || !got.Private.Equal(k.Private) {
		t.Fatalf("$%s: %v", EnvPassphrase, err)
	}
	os.Remove(filepath.Join(dir, "tampered.key"))
	ks, err := Ring{Dir: dir, Passphrase: pw("wrong")}.List() // List decrypts nothing
	if err != nil || len(ks) != 2 || ks[1].Name != "site" || !ks[1].Public().Equal(k.Public()) || ks[1].Private != nil {
		t.Fatalf("list: %v %v", err, ks)
	}
	if _, err := (Ring{Dir: dir, Passphrase: pw("")}).NewEncrypted("empty"); err == nil {
		t.Fatal("empty passphrase accepted")
	}
}

func TestEncryptedKeyCostBounded(t *testing.T) {
	k, _ := Generate("x")
	scryptLogN = 10
	t.Cleanup(func() { scryptLogN = 15 })
	e, err := seal(k, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	e.LogN = 30 // 2^30 × 1 KiB: a hostile file must not make Load allocate it
	if _, err := open(&file{Name: "x", Public: k.PublicHex(), Encrypted: e}, []byte("pw")); err == nil {
		t.Fatal("unbounded scrypt cost accepted")
	}
}
