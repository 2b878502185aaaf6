package keys

import (
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
