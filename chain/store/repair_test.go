package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
)

// TestFinishRepair starts from every state a crash can leave during a
// repair's swap and checks FinishRepair ends with exactly one store in
// dir — the repaired one once CommitRepair has run, else the old one —
// and no leftovers.
func TestFinishRepair(t *testing.T) {
	cases := []struct {
		name    string
		present []string // of "db", "db.repair", "db.repaired", "db.damaged"
		want    string   // whose marker dir holds afterwards
		swapped bool
	}{
		{"no repair", []string{"db"}, "db", false},
		{"crash while rebuilding", []string{"db", "db.repair"}, "db", false},
		{"crash after commit", []string{"db", "db.repaired"}, "db.repaired", true},
		{"crash after moving the damaged store aside", []string{"db.damaged", "db.repaired"}, "db.repaired", true},
		{"crash before removing the damaged copy", []string{"db.damaged", "db"}, "db", false},
		{"stale unfinished rebuild and a commit", []string{"db", "db.repair", "db.repaired"}, "db.repaired", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			for _, d := range tc.present {
				if err := os.MkdirAll(filepath.Join(base, d), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(base, d, "marker"), []byte(d), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			swapped, err := FinishRepair(filepath.Join(base, "db"))
			if err != nil || swapped != tc.swapped {
				t.Fatalf("swapped %v, %v; want %v", swapped, err, tc.swapped)
			}
			got, err := os.ReadFile(filepath.Join(base, "db", "marker"))
			if err != nil || string(got) != tc.want {
				t.Fatalf("db holds %q (%v), want %q", got, err, tc.want)
			}
			ents, err := os.ReadDir(base)
			if err != nil || len(ents) != 1 {
				t.Fatalf("leftovers: %v %v", ents, err)
			}
		})
	}
}

// TestRepairSwap writes a store through RepairDir and CommitRepair and
// opens it in place of the old one, with its payloads copied.
func TestRepairSwap(t *testing.T) {
	base := t.TempDir()
	db := filepath.Join(base, "db")
	w, err := NodeKeyWrapper(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	old, err := OpenWith(db, Options{KeyWrapper: w})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Init(block.Sum([]byte("g")), nil, smt.Empty, nil); err != nil {
		t.Fatal(err)
	}
	payload := []byte("case report form")
	h := block.Sum(payload)
	if err := old.PutPayload(h, payload); err != nil {
		t.Fatal(err)
	}
	tmp, err := RepairDir(db)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := OpenWith(tmp, Options{KeyWrapper: w})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.CopyPayloadsTo(dst); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if err := CommitRepair(db); err != nil {
		t.Fatal(err)
	}
	if swapped, err := FinishRepair(db); err != nil || !swapped {
		t.Fatalf("swapped %v, %v", swapped, err)
	}
	s, err := OpenWith(db, Options{KeyWrapper: w})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Payload(h)
	if err != nil || string(got) != string(payload) {
		t.Fatalf("payload after the swap: %q %v", got, err)
	}
}
