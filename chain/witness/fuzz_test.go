package witness

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
)

// seedCosignature is a valid cosignature for the fuzz corpora.
func seedCosignature(f *testing.F) (*Cosignature, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	cp := &proof.Checkpoint{Header: block.Header{ChainID: "trial-net", Height: 7, LogSize: 12, LogRoot: block.Sum([]byte("root")), StateRoot: block.Sum([]byte("state"))}}
	c, err := Sign(priv, "regulator", time.Unix(1_760_000_000, 0), Latest, cp)
	if err != nil {
		f.Fatal(err)
	}
	return c, priv
}

// FuzzDecodeCosignature: the binary decoder never panics and accepts only
// what re-encodes to the same bytes.
func FuzzDecodeCosignature(f *testing.F) {
	c, _ := seedCosignature(f)
	f.Add(c.Encode())
	f.Add([]byte(Label))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCosignature(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Encode(), b) {
			t.Fatal("accepted a non-canonical encoding")
		}
		_ = c.Verify()
	})
}

// FuzzParseCosignatureJSON: the JSON decoder never panics, and what it
// accepts survives a round trip through both encodings.
func FuzzParseCosignatureJSON(f *testing.F) {
	c, _ := seedCosignature(f)
	j, _ := json.Marshal(c)
	f.Add(j)
	f.Add([]byte(`{"witness":"w","statement":"prefix"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCosignatureJSON(b)
		if err != nil {
			return
		}
		back, err := DecodeCosignature(c.Encode())
		if err != nil || !bytes.Equal(back.Encode(), c.Encode()) {
			t.Fatalf("accepted JSON does not round-trip: %v", err)
		}
	})
}

// FuzzParsePublicKey: the key-file decoder never panics.
func FuzzParsePublicKey(f *testing.F) {
	f.Add(PublicKey{Name: "regulator", Key: make([]byte, 32)}.Encode())
	f.Add([]byte(`{"format":"trialchain-witness-key"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, err := ParsePublicKey(b)
		if err != nil {
			return
		}
		if back, err := ParsePublicKey(pk.Encode()); err != nil || back.Name != pk.Name || !bytes.Equal(back.Key, pk.Key) {
			t.Fatalf("accepted key does not round-trip: %v", err)
		}
	})
}

// FuzzDecodeRequest: the add-checkpoint decoder never panics and bounds
// the proof.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"old_size":3,"proof":["` + block.Sum(nil).String() + `"],"checkpoint":null}`))
	f.Add([]byte(`{"old_size":0,"proof":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err != nil {
			return
		}
		if r.Checkpoint == nil || len(r.Proof) > proof.MaxProofHashes {
			t.Fatal("accepted an unbounded or empty request")
		}
	})
}

// FuzzStateFiles: Open never panics on any state file and log, and a log
// it accepts is one whose every record verifies.
func FuzzStateFiles(f *testing.F) {
	c, priv := seedCosignature(f)
	pk := PublicKey{Name: "regulator", Key: priv.Public().(ed25519.PublicKey)}
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, LogFile), nil, 0o600); err != nil {
		f.Fatal(err)
	}
	s := &Store{dir: dir, st: &stateJSON{Format: stateFmt, Version: 1, Name: pk.Name, Key: proof.HexBytes(pk.Key), Head: logGenesis()}}
	lf, err := os.OpenFile(filepath.Join(dir, LogFile), os.O_RDWR, 0)
	if err != nil {
		f.Fatal(err)
	}
	s.log = lf
	if err := s.Append(c); err != nil {
		f.Fatal(err)
	}
	s.Close()
	sb, _ := os.ReadFile(filepath.Join(dir, StateFile))
	lb, _ := os.ReadFile(filepath.Join(dir, LogFile))
	f.Add(sb, lb)
	f.Add(sb[:len(sb)/2], lb)
	f.Add(sb, lb[:len(lb)-3])
	// One directory per fuzz worker, its two files rewritten by each input
	// (a fresh TempDir per input cost more than the input), in memory when
	// the machine has a tmpfs: Open fsyncs its repairs, and a disk's fsync
	// made this target run ~300 inputs a second instead of ~10,000.
	d := memTempDir(f)
	f.Fuzz(func(t *testing.T, state, log []byte) {
		if err := os.WriteFile(filepath.Join(d, StateFile), state, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, LogFile), log, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := Open(d, pk)
		if err != nil {
			return
		}
		defer st.Close()
		if l := st.Latest(); l != nil {
			if err := l.VerifyBy(pk); err != nil {
				t.Fatalf("opened a state whose latest cosignature does not verify: %v", err)
			}
		}
	})
}

// memTempDir is a temporary directory on /dev/shm when it is usable, else
// f.TempDir().
func memTempDir(f *testing.F) string {
	if d, err := os.MkdirTemp("/dev/shm", "witness-fuzz-"); err == nil {
		f.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return f.TempDir()
}
