package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
)

// commitReceipts commits the next block with n transactions (and their
// receipts) the way the ledger does, and returns the receipts.
func commitReceipts(t testing.TB, s *Store, n int) []*block.Receipt {
	t.Helper()
	head := s.Head()
	height := head.Height + 1
	txs := make([][]byte, n)
	res := &state.Result{StateRoot: head.StateRoot, Receipts: make([]*block.Receipt, n)}
	leaves := make([]block.Hash, n)
	for i := range txs {
		txs[i] = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64([]byte("tx"), height), uint64(i))
		rc := &block.Receipt{TxHash: block.Sum(txs[i]), Height: height, Index: uint64(i), GasUsed: 1000 + uint64(i)}
		res.Receipts[i] = rc
		leaves[i] = proof.RecordLeaf(rc)
	}
	h := block.Header{ChainID: "c", Height: height, PrevHash: head.Hash, TxCount: uint64(n), TxRoot: block.TxRoot(txs),
		StateRoot: head.StateRoot, LogSize: head.Log.Size, LogRoot: head.Log.Root()}
	c := &block.Committed{Block: block.Block{Header: h, Txs: txs}}
	log, err := head.Log.Append(leaves, nil)
	if err != nil {
		t.Fatal(err)
	}
	nh := Head{GenesisHash: head.GenesisHash, Height: height, Hash: c.Block.Hash(), StateRoot: res.StateRoot, Log: log}
	if err := s.Commit(c, res, nh, leaves); err != nil {
		t.Fatalf("commit %d: %v", height, err)
	}
	return res.Receipts
}

func openInit(t testing.TB, dir string, fs vfs.FS) *Store {
	t.Helper()
	s, err := open(dir, fs)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(block.Sum([]byte("g")), nil, smt.Empty, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStoredProofsMatchFromScratch commits blocks of uneven sizes (empty
// ones included) and checks, after each, that proofs served from the
// stored nodes equal proofs computed from scratch over all leaves (the
// library's in-memory reference tree), across many sizes, and that every
// leaf maps back to its receipt.
func TestStoredProofsMatchFromScratch(t *testing.T) {
	s := openInit(t, t.TempDir(), nil)
	defer s.Close()
	ref := testonly.New(rfc6962.DefaultHasher)
	var rcs []*block.Receipt
	rng := rand.New(rand.NewPCG(6, 6))
	t.Logf("seed 6")
	for len(rcs) < 700 {
		n := []int{0, 1, 2, 3, 5, 8, 13, 31, 64, 100}[rng.IntN(10)]
		got := commitReceipts(t, s, n)
		for _, rc := range got {
			l := proof.RecordLeaf(rc)
			ref.Append(l[:])
		}
		rcs = append(rcs, got...)
		size := uint64(len(rcs))
		if s.Head().Log.Size != size {
			t.Fatalf("head log size %d, want %d", s.Head().Log.Size, size)
		}
		if size == 0 {
			continue
		}
		if r, err := proof.RootAt(s, size); err != nil || r != s.Head().Log.Root() {
			t.Fatalf("root at %d from nodes: %s %v, head says %s", size, r, err, s.Head().Log.Root())
		}
		for k := 0; k < 20; k++ {
			sz := 1 + rng.Uint64N(size)
			idx := rng.Uint64N(sz)
			p, err := proof.Inclusion(s, idx, sz)
			if err != nil {
				t.Fatalf("inclusion %d/%d: %v", idx, sz, err)
			}
			want, _ := ref.InclusionProof(idx, sz)
			if !equalRaw(p, want) {
				t.Fatalf("inclusion %d/%d: stored %v, from scratch %x", idx, sz, p, want)
			}
			var root block.Hash
			copy(root[:], ref.HashAt(sz))
			if err := proof.VerifyInclusion(idx, sz, proof.RecordLeaf(rcs[idx]), p, root); err != nil {
				t.Fatalf("verify inclusion %d/%d: %v", idx, sz, err)
			}
			s1 := rng.Uint64N(sz + 1)
			c, err := proof.Consistency(s, s1, sz)
			if err != nil {
				t.Fatalf("consistency %d→%d: %v", s1, sz, err)
			}
			wantC, _ := ref.ConsistencyProof(s1, sz)
			if !equalRaw(c, wantC) {
				t.Fatalf("consistency %d→%d: stored %v, from scratch %x", s1, sz, c, wantC)
			}
			rc, err := s.Record(idx)
			if err != nil || rc.TxHash != rcs[idx].TxHash {
				t.Fatalf("record %d: %+v %v, want tx %s", idx, rc, err, rcs[idx].TxHash)
			}
		}
	}
	// Every leaf index is LogStart(height) + index in block.
	for i, rc := range rcs {
		start, err := s.LogStart(rc.Height)
		if err != nil || start+rc.Index != uint64(i) {
			t.Fatalf("leaf %d: log start of block %d is %d (%v), index %d", i, rc.Height, start, err, rc.Index)
		}
	}
	if _, err := s.Record(uint64(len(rcs))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("record beyond the log: %v", err)
	}
	if _, err := s.LogNode(1, uint64(len(rcs))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("node beyond the log: %v", err)
	}
}

func equalRaw(a []block.Hash, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if string(a[i][:]) != string(b[i]) {
			return false
		}
	}
	return true
}

// TestCommitRefusesWrongLog: the head handed to Commit must carry the log
// its leaves make; nothing is written otherwise.
func TestCommitRefusesWrongLog(t *testing.T) {
	s := openInit(t, t.TempDir(), nil)
	defer s.Close()
	commitReceipts(t, s, 3)
	head := s.Head()
	txs := [][]byte{[]byte("x")}
	c := &block.Committed{Block: block.Block{Header: block.Header{ChainID: "c", Height: 2, PrevHash: head.Hash, TxCount: 1, TxRoot: block.TxRoot(txs)}, Txs: txs}}
	rc := &block.Receipt{TxHash: block.Sum(txs[0]), Height: 2}
	leaves := []block.Hash{proof.RecordLeaf(rc)}
	wrong, _ := head.Log.Append([]block.Hash{proof.LeafHash([]byte("other"))}, nil)
	err := s.Commit(c, &state.Result{Receipts: []*block.Receipt{rc}}, Head{Height: 2, Hash: c.Block.Hash(), Log: wrong}, leaves)
	if err == nil {
		t.Fatal("commit with a log its leaves do not make accepted")
	}
	if s.Head().Height != 1 {
		t.Fatal("head moved")
	}
	if _, err := s.Block(2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("block 2 written: %v", err)
	}
}

// TestCrashKeepsProofMaterial: every crash clone's head log can be
// rebuilt from its stored nodes (nodes are in the block's batch).
func TestCrashKeepsProofMaterial(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := openInit(t, "db", fs)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for h := 0; h < 60; h++ {
			commitReceipts(t, s, 1+h%7)
		}
	}()
	rng := rand.New(rand.NewPCG(2, 2))
	var clones []*vfs.MemFS
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			clones = append(clones, fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(100), RNG: rng}))
		}
	}
	s.Close()
	t.Logf("checked %d crash clones (seed 2)", len(clones))
	for i, c := range clones {
		s2, err := open("db", c)
		if err != nil {
			t.Fatalf("clone %d: %v", i, err)
		}
		head := s2.Head()
		if r, err := proof.RootAt(s2, head.Log.Size); err != nil || r != head.Log.Root() {
			t.Fatalf("clone %d: head %d log %d: root from nodes %s %v, want %s", i, head.Height, head.Log.Size, r, err, head.Log.Root())
		}
		s2.Close()
	}
}

// benchStore builds a store whose record log has n leaves, in blocks of
// block.MaxBlockTxs receipts committed through Store.Commit.
func benchStore(b *testing.B, n int) *Store {
	s := openInit(b, b.TempDir(), nil)
	b.Cleanup(func() { s.Close() })
	start := time.Now()
	for left := n; left > 0; {
		k := min(left, block.MaxBlockTxs)
		commitReceipts(b, s, k)
		left -= k
	}
	b.Logf("built a log of %d records in %d blocks in %s", n, s.Head().Height, time.Since(start).Round(time.Millisecond))
	// Measure the steady state, not a store with its compactions pending.
	start = time.Now()
	if err := s.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
		b.Fatal(err)
	}
	b.Logf("compacted in %s", time.Since(start).Round(time.Millisecond))
	return s
}

// BenchmarkRecordLog measures proof generation from a Pebble-backed log and
// proof verification at 10^3, 10^5 and 10^6 records. Each size is built
// once (through Store.Commit, 10,000 receipts per block) and compacted;
// indices and sizes are drawn with a fixed seed.
//
//	go test ./chain/store -run '^$' -bench RecordLog -benchtime 2000x
func BenchmarkRecordLog(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		s := benchStore(b, n)
		size := uint64(n)
		root := s.Head().Log.Root()
		b.Run(fmt.Sprintf("inclusion/records=%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			for b.Loop() {
				if _, err := proof.Inclusion(s, rng.Uint64N(size), size); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("inclusion+record/records=%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			for b.Loop() {
				i := rng.Uint64N(size)
				if _, err := s.Record(i); err != nil {
					b.Fatal(err)
				}
				if _, err := proof.Inclusion(s, i, size); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("consistency/records=%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(2, uint64(n)))
			for b.Loop() {
				if _, err := proof.Consistency(s, 1+rng.Uint64N(size-1), size); err != nil {
					b.Fatal(err)
				}
			}
		})
		// Verification: a pool of proofs made beforehand.
		const pool = 256
		rng := rand.New(rand.NewPCG(3, uint64(n)))
		type incl struct {
			idx  uint64
			leaf block.Hash
			p    []block.Hash
		}
		type cons struct {
			size1 uint64
			root1 block.Hash
			p     []block.Hash
		}
		var ins []incl
		var cos []cons
		for range pool {
			i := rng.Uint64N(size)
			leaf, _ := s.LeafHash(i)
			p, _ := proof.Inclusion(s, i, size)
			ins = append(ins, incl{i, leaf, p})
			s1 := 1 + rng.Uint64N(size-1)
			r1, err := proof.RootAt(s, s1)
			if err != nil {
				b.Fatal(err)
			}
			cp, _ := proof.Consistency(s, s1, size)
			cos = append(cos, cons{s1, r1, cp})
		}
		b.Run(fmt.Sprintf("verify-inclusion/records=%d", n), func(b *testing.B) {
			k := 0
			for b.Loop() {
				x := ins[k%pool]
				k++
				if err := proof.VerifyInclusion(x.idx, size, x.leaf, x.p, root); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("verify-consistency/records=%d", n), func(b *testing.B) {
			k := 0
			for b.Loop() {
				x := cos[k%pool]
				k++
				if err := proof.VerifyConsistency(x.size1, size, x.p, x.root1, root); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestOpenRebuildsLogNodes: a store without tree nodes (written before they
// were kept) gets them rebuilt from its leaves at open; proofs then match.
func TestOpenRebuildsLogNodes(t *testing.T) {
	dir := t.TempDir()
	s := openInit(t, dir, nil)
	for i := 0; i < 40; i++ {
		commitReceipts(t, s, 1+i%9)
	}
	size := s.Head().Log.Size
	want, err := proof.Inclusion(s, 17, size)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.DeleteRange([]byte{pNode}, []byte{pNode + 1}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := proof.Inclusion(s, 17, size); !errors.Is(err, ErrNotFound) {
		t.Fatalf("nodes not deleted: %v", err)
	}
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := proof.Inclusion(s, 17, size)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after rebuild: %v %v, want %v", got, err, want)
	}
	commitReceipts(t, s, 5) // and the log goes on
}
