package store

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
)

// TestCommitBlocksLargerThanMemtable commits blocks whose batch is at
// least half a memtable (Pebble applies it as a flushable batch of its
// own, not through the memtable) or larger than one — a contract's code
// may be up to 8 MB — between small blocks, then reopens the store,
// synced and from a crash clone taken after each large commit, and
// checks every block's state value and transaction.
func TestCommitBlocksLargerThanMemtable(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{
		// Over half (and over all) of the largest memtable memTableSize
		// draws, so whatever this opening drew.
		{"half a memtable", maxMemTableBytes/2 + 1},
		{"a memtable and more", maxMemTableBytes + 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := vfs.NewCrashableMem()
			s := openInit(t, "db", fs)
			value := func(h uint64) []byte {
				if h%2 == 0 { // even heights are large
					return bytes.Repeat([]byte{byte(h)}, tc.size)
				}
				return []byte(fmt.Sprintf("small %d", h))
			}
			key := func(h uint64) []byte { return []byte(fmt.Sprintf("k%03d", h)) }
			tx := func(h uint64) []byte { // large too, within a transaction's limit
				v := value(h)
				return append([]byte(fmt.Sprintf("tx %d ", h)), v[:min(len(v), maxMemTableBytes/2)]...)
			}
			var clones []*vfs.MemFS
			const blocks = 5
			for h := uint64(1); h <= blocks; h++ {
				commitTxs(t, s, h, []state.Write{{Key: key(h), Value: value(h)}}, [][]byte{tx(h)})
				if h%2 == 0 {
					clones = append(clones, fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0}))
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			check := func(what string, s *Store, head uint64) {
				t.Helper()
				if got := s.Head().Height; got != head {
					t.Fatalf("%s: head %d, want %d", what, got, head)
				}
				for h := uint64(1); h <= head; h++ {
					v, ok, err := s.Get(key(h))
					if err != nil || !ok || !bytes.Equal(v, value(h)) {
						t.Fatalf("%s: state of block %d: %d bytes, found %v, %v; want %d bytes", what, h, len(v), ok, err, len(value(h)))
					}
					raw, rc, err := s.Tx(block.Sum(tx(h)))
					if err != nil || !bytes.Equal(raw, tx(h)) || rc.Height != h {
						t.Fatalf("%s: transaction of block %d: %d bytes, %v", what, h, len(raw), err)
					}
				}
			}
			s2, err := open("db", fs)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			check("reopened", s2, blocks)
			s2.Close()
			for i, c := range clones {
				s3, err := open("db", c)
				if err != nil {
					t.Fatalf("crash clone after block %d: reopen: %v", 2*(i+1), err)
				}
				check(fmt.Sprintf("crash clone after block %d", 2*(i+1)), s3, uint64(2*(i+1)))
				s3.Close()
			}
		})
	}
}
