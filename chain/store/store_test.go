package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
)

// commitBlock builds and commits the block at height with two
// transactions and one state write.
func commitBlock(t testing.TB, s *Store, height uint64) {
	t.Helper()
	commitWrites(t, s, height, []state.Write{{Key: []byte(fmt.Sprintf("k%03d", height)), Value: []byte("v")}})
}

// commitWrites commits the block at height with two transactions and the given state writes.
func commitWrites(t testing.TB, s *Store, height uint64, writes []state.Write) {
	t.Helper()
	commitTxs(t, s, height, writes, [][]byte{[]byte(fmt.Sprintf("tx-%d-a", height)), []byte(fmt.Sprintf("tx-%d-b", height))})
}

// commitTxs commits the block at height with txs and the given state writes.
func commitTxs(t testing.TB, s *Store, height uint64, writes []state.Write, txs [][]byte) {
	t.Helper()
	c, res, leaves, nh := makeBlock(t, s, height, writes, txs)
	if err := s.Commit(c, res, nh, leaves); err != nil {
		t.Fatalf("commit %d: %v", height, err)
	}
}

// makeBlock makes the block at height on s's head with txs and the given
// state writes: the block, its execution result (a receipt per
// transaction), its record-log leaves and the new head.
func makeBlock(t testing.TB, s *Store, height uint64, writes []state.Write, txs [][]byte) (*block.Committed, *state.Result, []block.Hash, Head) {
	t.Helper()
	head := s.Head()
	h := block.Header{ChainID: "c", Height: height, PrevHash: head.Hash, TxCount: uint64(len(txs)), TxRoot: block.TxRoot(txs), StateRoot: head.StateRoot}
	c := &block.Committed{Block: block.Block{Header: h, Txs: txs}}
	res := &state.Result{Writes: writes}
	var leaves []block.Hash
	for i, tx := range txs {
		rc := &block.Receipt{TxHash: block.Sum(tx), Height: height, Index: uint64(i)}
		res.Receipts = append(res.Receipts, rc)
		leaves = append(leaves, proof.LeafHash(rc.Encode()))
	}
	root, nodes, err := state.NextRoot(s, head.StateRoot, res.Writes)
	if err != nil {
		t.Fatal(err)
	}
	res.StateRoot, res.Nodes = root, nodes
	log, err := head.Log.Append(leaves, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, res, leaves, Head{GenesisHash: head.GenesisHash, Height: height, Hash: c.Block.Hash(), StateRoot: res.StateRoot, Log: log}
}

func TestCommitAndRead(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gw := []state.Write{{Key: []byte("m1"), Value: []byte("x")}}
	groot, gnodes, err := state.GenesisRoot(gw)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(block.Sum([]byte("g")), gw, groot, gnodes); err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= 5; h++ {
		commitBlock(t, s, h)
	}
	if got := s.Head().Height; got != 5 {
		t.Fatalf("head %d", got)
	}
	c, err := s.Block(3)
	if err != nil || c.Block.Header.Height != 3 {
		t.Fatalf("block 3: %v", err)
	}
	if _, err := s.Block(6); !errors.Is(err, ErrNotFound) {
		t.Fatalf("block 6: %v", err)
	}
	want, err := s.BlockRaw(3)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ReadBlockRaw(3, func(raw []byte) error {
		if string(raw) != string(want) {
			t.Error("ReadBlockRaw lends other bytes than BlockRaw returns")
		}
		return nil
	}); err != nil {
		t.Fatalf("ReadBlockRaw 3: %v", err)
	}
	errFn := errors.New("fn failed")
	if err := s.ReadBlockRaw(3, func([]byte) error { return errFn }); err != errFn {
		t.Fatalf("ReadBlockRaw returned %v, want fn's error", err)
	}
	if err := s.ReadBlockRaw(6, func([]byte) error { t.Error("fn called for a missing block"); return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReadBlockRaw 6: %v", err)
	}
	raw, rc, err := s.Tx(block.Sum([]byte("tx-4-b")))
	if err != nil || string(raw) != "tx-4-b" || rc.Index != 1 || rc.Height != 4 {
		t.Fatalf("tx lookup: %q %+v %v", raw, rc, err)
	}
	var keys []string
	s.Iterate([]byte("k"), func(k, v []byte) bool { keys = append(keys, string(k)); return true })
	if len(keys) != 5 || keys[0] != "k001" || keys[4] != "k005" {
		t.Fatalf("iterate: %v", keys)
	}
	if err := s.Commit(&block.Committed{Block: block.Block{Header: block.Header{Height: 9}}}, &state.Result{}, Head{Height: 9}, nil); err == nil {
		t.Fatal("out-of-order commit accepted")
	}
	if err := s.Init(block.Sum([]byte("other")), nil, smt.Empty, nil); err == nil {
		t.Fatal("store accepted another genesis")
	}
}

// TestCrashLeavesWholeBlocks takes crash clones of an in-memory filesystem
// (pebble's CrashClone: unsynced data is randomly lost) while blocks are
// being committed, and checks every clone reopens with a head whose blocks
// are all present and nothing beyond it.
func TestCrashLeavesWholeBlocks(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := openInit(t, "db", fs)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for h := uint64(1); h <= 40; h++ {
			commitBlock(t, s, h)
		}
	}()
	rng := rand.New(rand.NewPCG(1, 1))
	var clones []*vfs.MemFS
	for i := 0; ; i++ {
		select {
		case <-done:
		default:
			clones = append(clones, fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(100), RNG: rng}))
			continue
		}
		break
	}
	s.Close()
	t.Logf("checked %d crash clones (seed 1)", len(clones))
	for i, c := range clones {
		s2, err := open("db", c)
		if err != nil {
			t.Fatalf("clone %d: reopen: %v", i, err)
		}
		h := s2.Head().Height
		for x := uint64(1); x <= h; x++ {
			if _, err := s2.Block(x); err != nil {
				t.Fatalf("clone %d: head %d but block %d: %v", i, h, x, err)
			}
		}
		if _, err := s2.Block(h + 1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("clone %d: block %d stored beyond head %d", i, h+1, h)
		}
		if v, ok, _ := s2.Get([]byte(fmt.Sprintf("k%03d", h+1))); ok {
			t.Fatalf("clone %d: state of block %d beyond head: %q", i, h+1, v)
		}
		s2.Close()
	}
}

// TestIterateFrom: Pebble seeks to start within the prefix; a start below
// the prefix means the whole prefix, one past it nothing; and a Store is
// a state.Seeker, so an Overlay's scans seek too.
func TestIterateFrom(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var gw []state.Write
	for _, k := range []string{"a9", "p1", "p2", "p3", "q0"} {
		gw = append(gw, state.Write{Key: []byte(k), Value: []byte("v" + k)})
	}
	groot, gnodes, err := state.GenesisRoot(gw)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(block.Sum([]byte("g")), gw, groot, gnodes); err != nil {
		t.Fatal(err)
	}
	var _ state.Seeker = s
	for _, c := range []struct {
		start string
		nilS  bool
		want  string
	}{
		{"", true, "p1 p2 p3"},
		{"a", false, "p1 p2 p3"},
		{"p2", false, "p2 p3"},
		{"p21", false, "p3"},
		{"p4", false, ""},
		{"z", false, ""},
	} {
		var start []byte
		if !c.nilS {
			start = []byte(c.start)
		}
		got := ""
		err := s.IterateFrom([]byte("p"), start, func(k, v []byte) bool {
			if string(v) != "v"+string(k) {
				t.Errorf("%s = %s", k, v)
			}
			if got != "" {
				got += " "
			}
			got += string(k)
			return true
		})
		if err != nil || got != c.want {
			t.Errorf("from %q: %q, %v; want %q", c.start, got, err, c.want)
		}
	}
}

// TestTxLookupChecksWhatItServes alters, on disk, the copy of a small
// transaction in the transaction index and a large transaction in its
// block: neither is served (nor the small one's receipt), and their
// intact neighbours still are.
func TestTxLookupChecksWhatItServes(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Init(block.Sum([]byte("g")), nil, smt.Empty, nil); err != nil {
		t.Fatal(err)
	}
	small, small2 := []byte("small transaction"), []byte("another small one")
	large := bytes.Repeat([]byte("L"), inlineTxBytes+1)
	large2 := bytes.Repeat([]byte("M"), inlineTxBytes+1)
	commitTxs(t, s, 1, nil, [][]byte{small, large, small2, large2})
	for _, tx := range [][]byte{small, large, small2, large2} {
		raw, rc, err := s.Tx(block.Sum(tx))
		if err != nil || !bytes.Equal(raw, tx) || rc.TxHash != block.Sum(tx) {
			t.Fatalf("lookup of a %d-byte transaction: %d bytes, %v", len(tx), len(raw), err)
		}
	}
	alter := func(key []byte, old []byte) {
		v, closer, err := s.db.Get(key)
		if err != nil {
			t.Fatal(err)
		}
		v = bytes.Clone(v)
		closer.Close()
		at := bytes.Index(v, old)
		if at < 0 {
			t.Fatalf("%q not in the stored value", old[:8])
		}
		v[at] ^= 0x20
		if err := s.db.Set(key, v, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	sh := block.Sum(small)
	alter(append([]byte{pTx}, sh[:]...), small)
	alter(heightKey(pBlock, 1), large)
	for _, tc := range []struct {
		name string
		tx   []byte
		want string // "" if served
	}{
		{"small, altered in the index", small, "index of transaction"},
		{"large, altered in its block", large, "block 1 is corrupt"},
		{"small, intact", small2, ""},
		{"large, intact", large2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, _, err := s.Tx(block.Sum(tc.tx))
			if tc.want == "" {
				if err != nil || !bytes.Equal(raw, tc.tx) {
					t.Fatalf("intact transaction: %d bytes, %v", len(raw), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("altered transaction served (%d bytes), err %v; want %q", len(raw), err, tc.want)
			}
		})
	}
	if _, err := s.Receipt(block.Sum(small)); err == nil {
		t.Fatal("the receipt of a transaction whose index entry was altered is served")
	}
}

// BenchmarkTxLookup looks up transactions of a block that also carries
// two 4 MiB deploys, as receipt polls do after a flood: "small" (an
// anchor-sized transaction, served from the index), "large" (a 64 KiB
// one, cut out of its block) and, for comparison in the same run,
// "whole block" (the lookup before 2026-12-06: decode the block and
// re-hash every transaction in it).
func BenchmarkTxLookup(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Init(block.Sum([]byte("g")), nil, smt.Empty, nil); err != nil {
		b.Fatal(err)
	}
	small := bytes.Repeat([]byte("a"), 250)
	large := bytes.Repeat([]byte("b"), 64<<10)
	txs := [][]byte{bytes.Repeat([]byte("x"), 4<<20), small, large, bytes.Repeat([]byte("y"), 4<<20)}
	commitTxs(b, s, 1, nil, txs)
	for _, bc := range []struct {
		name string
		tx   []byte
	}{{"small", small}, {"large", large}} {
		b.Run(bc.name, func(b *testing.B) {
			h := block.Sum(bc.tx)
			for b.Loop() {
				if _, _, err := s.Tx(h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("whole block", func(b *testing.B) {
		h := block.Sum(small)
		for b.Loop() {
			rc, err := s.Receipt(h)
			if err != nil {
				b.Fatal(err)
			}
			c, err := s.Block(rc.Height)
			if err != nil || !bytes.Equal(c.Block.Txs[rc.Index], small) {
				b.Fatal(err)
			}
		}
	})
}

// Validators that draw their memtable sizes apart flush and compact at
// different moments (memTableSize): every draw is within a quarter of
// memTableBytes, and the draws spread over that range.
func TestMemTableSize(t *testing.T) {
	lo, hi := uint64(minMemTableBytes), uint64(maxMemTableBytes)
	least, most := hi, lo
	for range 1000 {
		n := memTableSize()
		if n < lo || n > hi {
			t.Fatalf("memtable of %d bytes, outside [%d, %d]", n, lo, hi)
		}
		least, most = min(least, n), max(most, n)
	}
	if spread := most - least; spread < memTableBytes/4 {
		t.Fatalf("1000 draws spread over %d bytes only (%d to %d)", spread, least, most)
	}
}
