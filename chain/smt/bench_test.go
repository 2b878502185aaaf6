package smt_test

import (
	"fmt"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
)

type benchTree struct {
	st   smt.MemStore
	root block.Hash
}

var benchTrees = map[int]*benchTree{}

// tree returns a tree of n keys key-0 … key-(n-1) with 32-byte values,
// built once per size in batches of at most 10^5.
func tree(b *testing.B, n int) *benchTree {
	if t, ok := benchTrees[n]; ok {
		return t
	}
	t := &benchTree{st: smt.MemStore{}, root: smt.Empty}
	const batch = 100_000
	for lo := 0; lo < n; lo += batch {
		ups := make([]smt.Update, 0, min(batch, n-lo))
		for i := lo; i < n && i < lo+batch; i++ {
			ups = append(ups, smt.Update{Key: benchKey(i), Value: benchValue(i)})
		}
		t.root = apply(b, t.st, t.root, ups)
	}
	benchTrees[n] = t
	return t
}

func benchKey(i int) []byte { return fmt.Appendf(nil, "key-%d", i) }

func benchValue(i int) []byte { return fmt.Appendf(nil, "value-%026d", i) }

var benchSizes = []int{1_000, 100_000, 1_000_000}

// BenchmarkApply applies a batch of 1000 updates (500 changed values, 500
// new keys) to a tree of 10^5 keys; one op is one batch.
func BenchmarkApply(b *testing.B) {
	t := tree(b, 100_000)
	ups := make([]smt.Update, 0, 1000)
	for i := 0; i < 500; i++ {
		ups = append(ups, smt.Update{Key: benchKey(i * 199), Value: []byte("changed")})
		ups = append(ups, smt.Update{Key: fmt.Appendf(nil, "new-%d", i), Value: benchValue(i)})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := smt.Apply(t.st, t.root, ups); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProve(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint("keys=", n), func(b *testing.B) {
			t := tree(b, n)
			keys := make([][]byte, 1024)
			for i := range keys {
				keys[i] = benchKey(i * 7919 % n)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, _, found, err := smt.Prove(t.st, t.root, keys[i%len(keys)]); err != nil || !found {
					b.Fatalf("Prove: %v, %v", found, err)
				}
				i++
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint("keys=", n), func(b *testing.B) {
			t := tree(b, n)
			type item struct {
				key, value []byte
				p          *smt.Proof
			}
			items := make([]item, 1024)
			depth := 0
			for i := range items {
				k := i * 7919 % n
				p, v, _, err := smt.Prove(t.st, t.root, benchKey(k))
				if err != nil {
					b.Fatal(err)
				}
				items[i] = item{benchKey(k), v, p}
				depth += len(p.Siblings)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				it := &items[i%len(items)]
				if err := it.p.VerifyValue(t.root, it.key, it.value); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(depth)/float64(len(items)), "siblings/proof")
		})
	}
}
