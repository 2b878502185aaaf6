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
	txs := [][]byte{[]byte(fmt.Sprintf("tx-%d-a", height)), []byte(fmt.Sprintf("tx-%d-b", height))}
	head := s.Head()
	h := block.Header{ChainID: "c", Height: height, PrevHash: head.Hash, TxCount: 2, TxRoot: block.TxRoot(txs), StateRoot: head.StateRoot}
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
	nh := Head{GenesisHash: head.GenesisHash, Height: height, Hash: c.Block.Hash(), StateRoot: res.StateRoot, Log: log}
	if err := s.Commit(c, res, nh, leaves); err != nil {
		t.Fatalf("commit %d: %v", height, err)
	}
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
	// A transaction whose bytes were altered on disk is not served; its
	// neighbour in the same block, intact, still is.
	enc, err := s.BlockRaw(4)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(enc, []byte("tx-4-b"))
	tampered := bytes.Clone(enc)
	tampered[at] = 'T'
	if err := s.db.Set(heightKey(pBlock, 4), tampered, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Tx(block.Sum([]byte("tx-4-b"))); err == nil || !strings.Contains(err.Error(), "block 4 is corrupt") {
		t.Fatalf("altered transaction served: %v", err)
	}
	if raw, _, err := s.Tx(block.Sum([]byte("tx-4-a"))); err != nil || string(raw) != "tx-4-a" {
		t.Fatalf("intact neighbour: %q %v", raw, err)
	}
	if err := s.db.Set(heightKey(pBlock, 4), enc, pebble.Sync); err != nil {
		t.Fatal(err)
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
	s, err := open("db", fs)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(block.Sum([]byte("g")), nil, smt.Empty, nil); err != nil {
		t.Fatal(err)
	}
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
