package store

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
)

// TestCommitLogStoresTheSameRecords: CommitLog with the log nodes its
// caller collected (in any order) stores byte for byte what Commit, which
// appends the leaves itself, stores.
func TestCommitLogStoresTheSameRecords(t *testing.T) {
	a := openInit(t, t.TempDir(), vfs.Default)
	defer a.Close()
	b := openInit(t, t.TempDir(), vfs.Default)
	defer b.Close()
	for i, n := range []int{1, 7, 16, 3, 33, 0, 64, 5} {
		h := uint64(i + 1)
		txs := make([][]byte, n)
		var writes []state.Write
		for j := range txs {
			txs[j] = []byte(fmt.Sprintf("tx %d/%d", h, j))
			writes = append(writes, state.Write{Key: []byte(fmt.Sprintf("k/%d/%d", h, j)), Value: []byte{byte(j)}})
		}
		c, res, leaves, head := makeBlock(t, a, h, writes, txs)
		if err := a.Commit(c, res, head, leaves); err != nil {
			t.Fatal(err)
		}
		var nodes []LogNode
		if _, err := b.Head().Log.Append(leaves, func(level uint, index uint64, x block.Hash) {
			if level > 0 {
				nodes = append(nodes, LogNode{level, index, x})
			}
		}); err != nil {
			t.Fatal(err)
		}
		slices.Reverse(nodes)
		if nodes == nil {
			nodes = []LogNode{} // given, though empty
		}
		if err := b.CommitLog(c, res, head, leaves, nodes); err != nil {
			t.Fatal(err)
		}
	}
	if da, db := dumpDB(t, a), dumpDB(t, b); !bytes.Equal(da, db) {
		t.Fatalf("stores differ: %d and %d bytes of records", len(da), len(db))
	}
}

func dumpDB(t *testing.T, s *Store) []byte {
	t.Helper()
	it, err := s.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []byte
	for ok := it.First(); ok; ok = it.Next() {
		out = fmt.Appendf(out, "%x=%x\n", it.Key(), it.Value())
	}
	return out
}
