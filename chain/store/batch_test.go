package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
)

// TestCommitBatch builds the commit batch of blocks of anchor-like
// transactions (two state writes each) on a store that already holds
// some, and checks that commitBatchSize covers the batch (so it is
// allocated once) and that the records of each prefix the batch writes in
// key order form one ascending run.
func TestCommitBatch(t *testing.T) {
	for _, n := range []int{2, 150, 1000} {
		t.Run(fmt.Sprintf("%d txs", n), func(t *testing.T) {
			s, err := open("db", vfs.NewMem())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Init(block.Sum([]byte("g")), nil, smt.Empty, nil); err != nil {
				t.Fatal(err)
			}
			for h := uint64(1); h <= 3; h++ {
				c, res, leaves, head := anchorBlock(t, s, h, n)
				b, _, err := s.commitBatch(c, res, s.Head(), head, leaves, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got, est := b.Len(), commitBatchSize(len(c.Encode()), c.Block.Txs, res, len(leaves)); got > est {
					t.Errorf("block %d: batch of %d bytes, estimated %d", h, got, est)
				}
				checkRuns(t, b.Repr(), "LMNR")
				b.Close()
				if err := s.Commit(c, res, head, leaves); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// checkRuns checks that the keys with each prefix in sorted form one run,
// in ascending order, in repr: a Pebble batch's encoding (a 12-byte header,
// then kind, varint-prefixed key and, for a set, varint-prefixed value).
func checkRuns(t *testing.T, repr []byte, sorted string) {
	t.Helper()
	const kindDelete, kindSet = 0, 1
	seen := map[byte]bool{}
	var last []byte
	r := repr[12:]
	next := func() []byte {
		l, w := binary.Uvarint(r)
		if w <= 0 || uint64(len(r)-w) < l {
			t.Fatalf("batch repr is corrupt at %d", len(repr)-len(r))
		}
		b := r[w : w+int(l)]
		r = r[w+int(l):]
		return b
	}
	for len(r) > 0 {
		kind := r[0]
		r = r[1:]
		k := next()
		switch kind {
		case kindSet:
			next()
		case kindDelete:
		default:
			t.Fatalf("record kind %d in a commit batch", kind)
		}
		p := k[0]
		inSorted := strings.IndexByte(sorted, p) >= 0
		if last != nil && last[0] == p {
			if inSorted && bytes.Compare(last, k) >= 0 {
				t.Fatalf("prefix %c: key %x after %x", p, k, last)
			}
		} else if seen[p] && inSorted {
			t.Fatalf("prefix %c: a second run begins at %x", p, k)
		}
		seen[p] = true
		last = append(last[:0], k...)
	}
	for _, p := range []byte(sorted) {
		if !seen[p] {
			t.Fatalf("no record with prefix %c", p)
		}
	}
}

// anchorBlock makes the block at height with n transactions of 200 bytes,
// each writing two new state keys, its execution result, record-log
// leaves and new head.
func anchorBlock(t *testing.T, s *Store, height uint64, n int) (*block.Committed, *state.Result, []block.Hash, Head) {
	t.Helper()
	txs := make([][]byte, n)
	var writes []state.Write
	for i := range txs {
		txs[i] = bytes.Repeat([]byte{byte(i)}, 200)
		copy(txs[i], fmt.Sprintf("%d/%d", height, i))
		writes = append(writes,
			state.Write{Key: []byte(fmt.Sprintf("anchor/%d/%d", height, i)), Value: bytes.Repeat([]byte{1}, 80)},
			state.Write{Key: []byte(fmt.Sprintf("nonce/%d/%d", height, i)), Value: []byte{1}})
	}
	return makeBlock(t, s, height, writes, txs)
}
