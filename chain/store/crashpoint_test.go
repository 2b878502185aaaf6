package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/trialchain/trialchain/chain/proof"
)

// TestCrashPoints crashes the store at fixed points of the commit path and
// reopens it every time: before a block's commit starts, after Commit
// returned (the batch is synced), and after the next block's writes were
// issued but with a random share of unsynced data lost (pebble's
// CrashClone keeps synced data and drops unsynced data at random). After
// each reopen the store must be consistent: a head whose blocks and state
// are all present, nothing beyond it, the record log's root rebuilt from
// its nodes, and durability: a block whose Commit returned survives.
func TestCrashPoints(t *testing.T) {
	const blocks = 70
	fs := vfs.NewCrashableMem()
	s := openInit(t, "db", fs)
	rng := rand.New(rand.NewPCG(14, 14))
	type point struct {
		fs      *vfs.MemFS
		what    string
		minHead uint64 // durable: the head cannot be below this
		maxHead uint64 // atomic: nothing beyond this was written
	}
	var points []point
	for h := uint64(1); h <= blocks; h++ {
		points = append(points, point{fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: rng}), "before commit", h - 1, h - 1})
		commitBlock(t, s, h)
		points = append(points, point{fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rng}), "after commit", h, h})
		// Unsynced pebble writes (a flush or compaction may be under
		// way): lose a random share of them.
		points = append(points, point{fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rng}), "random loss", h, h})
	}
	s.Close()
	for i, p := range points {
		s2, err := open("db", p.fs)
		if err != nil {
			t.Fatalf("point %d (%s): reopen: %v", i, p.what, err)
		}
		head := s2.Head()
		if head.Height < p.minHead || head.Height > p.maxHead {
			t.Fatalf("point %d (%s): head %d, want in [%d, %d]", i, p.what, head.Height, p.minHead, p.maxHead)
		}
		for x := uint64(1); x <= head.Height; x++ {
			if _, err := s2.Block(x); err != nil {
				t.Fatalf("point %d (%s): head %d but block %d: %v", i, p.what, head.Height, x, err)
			}
			if _, ok, _ := s2.Get([]byte(fmt.Sprintf("k%03d", x))); !ok {
				t.Fatalf("point %d (%s): head %d but the state of block %d is missing", i, p.what, head.Height, x)
			}
		}
		if _, err := s2.Block(head.Height + 1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("point %d (%s): block %d stored beyond head %d", i, p.what, head.Height+1, head.Height)
		}
		if r, err := proof.RootAt(s2, head.Log.Size); err != nil || r != head.Log.Root() {
			t.Fatalf("point %d (%s): log root from nodes %s (%v), head says %s", i, p.what, r, err, head.Log.Root())
		}
		s2.Close()
	}
	if len(points) < 200 {
		t.Fatalf("%d crash points, want at least 200", len(points))
	}
	t.Logf("reopened the store at %d crash points", len(points))
}
