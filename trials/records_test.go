package trials_test

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
)

func TestRecordStore(t *testing.T) {
	st := trials.RecordStore{Dir: t.TempDir()}
	subj, _ := trials.NewSubjectID(rand.Reader)
	rec, err := trials.NewRecord(rand.Reader, "NCT1", subj, "day1", "vitals", map[string]model.FieldValue{"NOTES": {Value: "J. Doe, MRN 12345"}})
	if err != nil {
		t.Fatal(err)
	}
	path, err := st.Put(rec)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "MRN") {
		t.Fatal("the record is stored in clear")
	}
	got, err := st.Get(rec.Hash())
	if err != nil || got.Hash() != rec.Hash() {
		t.Fatalf("get: %v", err)
	}
	// An altered file, or a file under another record's name, is refused.
	raw[len(raw)-1] ^= 1
	os.WriteFile(path, raw, 0o600)
	if _, err := st.Get(rec.Hash()); err == nil {
		t.Fatal("altered record decrypted")
	}
	raw[len(raw)-1] ^= 1
	os.WriteFile(path, raw, 0o600)
	other := strings.Repeat("ab", 32)
	os.WriteFile(st.Path(other), raw, 0o600)
	if _, err := st.Get(other); err == nil {
		t.Fatal("record accepted under another hash")
	}
	// Crypto-shredding: the key goes, the record cannot be read.
	if err := st.Shred(subj); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(rec.Hash()); !errors.Is(err, trials.ErrShredded) {
		t.Fatalf("after shredding: %v", err)
	}
	if _, err := st.Get("nothex"); err == nil {
		t.Fatal("bad hash accepted")
	}
	// Keys apart from the records: the records' directory alone reads nothing.
	apart := trials.RecordStore{Dir: t.TempDir(), KeyDir: t.TempDir()}
	if _, err := apart.Put(rec); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(apart.Dir, "keys", "*")); len(m) != 0 {
		t.Fatalf("keys beside the records: %v", m)
	}
	if _, err := (trials.RecordStore{Dir: apart.Dir}).Get(rec.Hash()); !errors.Is(err, trials.ErrShredded) {
		t.Fatalf("records read without their keyring: %v", err)
	}
	if got, err := apart.Get(rec.Hash()); err != nil || got.Hash() != rec.Hash() {
		t.Fatalf("with the keyring: %v", err)
	}
}
