package smt_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
)

// TestCacheChangesNothing: Cache.Apply returns what Apply returns, byte
// for byte, over a seeded stream of batches that extend the tree, fork it
// from older roots, and are computed and then thrown away (never stored),
// for caches of several depths, including ones shallower and deeper than
// the tree.
func TestCacheChangesNothing(t *testing.T) {
	for _, levels := range []int{1, 5, 10, 20} {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("levels=%d/seed=%d", levels, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, uint64(levels)))
				st := smt.MemStore{}
				c := smt.NewCache(levels)
				roots := []block.Hash{smt.Empty}
				model := map[string][]byte{}
				for step := range 80 {
					base, kind := roots[len(roots)-1], rng.IntN(4)
					if kind == 0 {
						base = roots[rng.IntN(len(roots))]
					}
					ups := randomBatch(rng, model, 3000, 1+rng.IntN(200))
					want, wantNodes, wantErr := smt.Apply(st, base, ups)
					got, gotNodes, err := c.Apply(st, base, ups)
					if err != nil || wantErr != nil {
						t.Fatalf("step %d: Cache.Apply: %v; Apply: %v", step, err, wantErr)
					}
					if got != want || !reflect.DeepEqual(gotNodes, wantNodes) {
						t.Fatalf("step %d (kind %d): Cache.Apply gives root %s and %d nodes, Apply %s and %d", step, kind, got, len(gotNodes), want, len(wantNodes))
					}
					switch kind {
					case 0: // a fork, stored but not extended
						st.Put(wantNodes)
					case 1: // computed and dropped
					default:
						st.Put(wantNodes)
						roots = append(roots, want)
						for _, u := range ups {
							if u.Delete {
								delete(model, string(u.Key))
							} else {
								model[string(u.Key)] = u.Value
							}
						}
					}
				}
			})
		}
	}
}

// TestCacheSavesReads: a batch on the path of the previous one reads the
// upper levels from the cache, not from the reader, and a corrupt
// record in the reader is still refused where the cache does not hold it.
func TestCacheSavesReads(t *testing.T) {
	st, root, _ := buildTree(t, 4000)
	c := smt.NewCache(8)
	next := func(i int) []smt.Update {
		return []smt.Update{{Key: []byte("key-1"), Value: fmt.Appendf(nil, "v%d", i)}}
	}
	cr := &countingReader{MemStore: st}
	r, nodes, err := c.Apply(cr, root, next(1))
	if err != nil {
		t.Fatal(err)
	}
	first := cr.reads
	st.Put(nodes)
	cr.reads = 0
	if _, _, err := c.Apply(cr, r, next(2)); err != nil {
		t.Fatal(err)
	}
	if first <= 8 || cr.reads != first-8 {
		t.Fatalf("second batch read %d nodes, the first %d: want the 8 cached levels fewer", cr.reads, first)
	}
	// A record the cache does not hold is checked as Apply checks it.
	bad := smt.MemStore{}
	for h, rec := range st {
		bad[h] = rec
	}
	for h, rec := range bad {
		if rec[0] == 0x00 { // leaves sit below the cached levels
			cp := append([]byte(nil), rec...)
			cp[len(cp)-1] ^= 1
			bad[h] = cp
		}
	}
	if _, _, err := c.Apply(bad, r, next(3)); !errors.Is(err, smt.ErrBadNode) {
		t.Fatalf("Cache.Apply over corrupt leaves: %v, want ErrBadNode", err)
	}
}
