package smt_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
)

// refRoot is the literal reference: the canonical root of m computed from
// scratch, recursively over the sorted key hashes.
func refRoot(m map[string][]byte) block.Hash {
	type kv struct{ kh, vh block.Hash }
	var l []kv
	for k, v := range m {
		l = append(l, kv{smt.KeyHash([]byte(k)), sha256.Sum256(v)})
	}
	slices.SortFunc(l, func(a, b kv) int { return bytes.Compare(a.kh[:], b.kh[:]) })
	var build func(l []kv, d int) block.Hash
	build = func(l []kv, d int) block.Hash {
		switch len(l) {
		case 0:
			return smt.Empty
		case 1:
			return smt.LeafHash(l[0].kh, l[0].vh)
		}
		var left, right []kv
		for _, e := range l {
			if e.kh[d/8]>>(7-d%8)&1 == 0 {
				left = append(left, e)
			} else {
				right = append(right, e)
			}
		}
		return smt.InnerHash(build(left, d+1), build(right, d+1))
	}
	return build(l, 0)
}

// apply applies ups to root, stores the new nodes and returns the new root.
func apply(t testing.TB, st smt.MemStore, root block.Hash, ups []smt.Update) block.Hash {
	t.Helper()
	r, nodes, err := smt.Apply(st, root, ups)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	st.Put(nodes)
	return r
}

// checkKey checks Get and Prove of key under root against want (nil: absent).
func checkKey(t *testing.T, st smt.MemStore, root block.Hash, key string, want []byte, present bool) {
	t.Helper()
	v, found, err := smt.Get(st, root, []byte(key))
	if err != nil || found != present || !bytes.Equal(v, want) {
		t.Fatalf("Get(%q) = %x, %v, %v; want %x, %v", key, v, found, err, want, present)
	}
	p, v, found, err := smt.Prove(st, root, []byte(key))
	if err != nil || found != present || !bytes.Equal(v, want) {
		t.Fatalf("Prove(%q) = %x, %v, %v; want %x, %v", key, v, found, err, want, present)
	}
	if present {
		if err := p.VerifyValue(root, []byte(key), want); err != nil {
			t.Fatalf("VerifyValue(%q): %v", key, err)
		}
		if err := p.VerifyAbsent(root, []byte(key)); !errors.Is(err, smt.ErrProof) {
			t.Fatalf("VerifyAbsent(%q) of a present key: got %v, want ErrProof", key, err)
		}
	} else {
		if err := p.VerifyAbsent(root, []byte(key)); err != nil {
			t.Fatalf("VerifyAbsent(%q): %v", key, err)
		}
		if err := p.VerifyValue(root, []byte(key), nil); !errors.Is(err, smt.ErrProof) {
			t.Fatalf("VerifyValue(%q) of an absent key: got %v, want ErrProof", key, err)
		}
	}
	q, err := smt.DecodeProof(p.Encode())
	if err != nil || !reflect.DeepEqual(p, q) {
		t.Fatalf("DecodeProof(Encode) of %q = %+v, %v; want %+v", key, q, err, p)
	}
}

func TestSmall(t *testing.T) {
	kv := func(k, v string) smt.Update { return smt.Update{Key: []byte(k), Value: []byte(v)} }
	tests := []struct {
		name string
		ups  []smt.Update
		root func() block.Hash
	}{
		{"empty batch", nil, func() block.Hash { return smt.Empty }},
		{"delete from empty", []smt.Update{{Key: []byte("a"), Delete: true}}, func() block.Hash { return smt.Empty }},
		{"single key", []smt.Update{kv("a", "1")}, func() block.Hash {
			return smt.LeafHash(smt.KeyHash([]byte("a")), sha256.Sum256([]byte("1")))
		}},
		{"empty value", []smt.Update{{Key: []byte("a")}}, func() block.Hash {
			return smt.LeafHash(smt.KeyHash([]byte("a")), sha256.Sum256(nil))
		}},
		{"empty key", []smt.Update{kv("", "x")}, func() block.Hash {
			return smt.LeafHash(smt.KeyHash(nil), sha256.Sum256([]byte("x")))
		}},
		{"two keys", []smt.Update{kv("a", "1"), kv("b", "2")}, func() block.Hash {
			return refRoot(map[string][]byte{"a": []byte("1"), "b": []byte("2")})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := smt.MemStore{}
			root := apply(t, st, smt.Empty, tt.ups)
			if want := tt.root(); root != want {
				t.Fatalf("root = %s, want %s", root, want)
			}
			for _, u := range tt.ups {
				checkKey(t, st, root, string(u.Key), bytes.Clone(u.Value), !u.Delete)
			}
			checkKey(t, st, root, "absent", nil, false)
		})
	}
}

func TestEmptyTreeProof(t *testing.T) {
	p, _, found, err := smt.Prove(smt.MemStore{}, smt.Empty, []byte("k"))
	if err != nil || found || len(p.Siblings) != 0 || p.Leaf != nil {
		t.Fatalf("Prove on empty tree = %+v, %v, %v", p, found, err)
	}
	if err := p.VerifyAbsent(smt.Empty, []byte("k")); err != nil {
		t.Fatalf("VerifyAbsent: %v", err)
	}
	other := smt.InnerHash(smt.Empty, smt.Empty)
	if err := p.VerifyAbsent(other, []byte("k")); !errors.Is(err, smt.ErrProof) {
		t.Fatalf("VerifyAbsent against a non-empty root: got %v, want ErrProof", err)
	}
}

type version struct {
	root  block.Hash
	model map[string][]byte
}

// TestAgainstReference applies random batches of inserts, updates and
// deletes, checks each root against the reference, then checks every key
// at every past root (versioning).
func TestAgainstReference(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			const universe = 500
			st := smt.MemStore{}
			model := map[string][]byte{}
			versions := []version{{smt.Empty, map[string][]byte{}}}
			root := smt.Empty
			for batch := 0; batch < 10; batch++ {
				ups := randomBatch(rng, model, universe, 1+rng.IntN(200))
				newRoot, nodes, err := smt.Apply(st, root, ups)
				if err != nil {
					t.Fatalf("seed %d batch %d: Apply: %v", seed, batch, err)
				}
				// Order independence: same root and same nodes for a shuffle.
				shuffled := slices.Clone(ups)
				rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				r2, nodes2, err := smt.Apply(st, root, shuffled)
				if err != nil || r2 != newRoot || !reflect.DeepEqual(nodes, nodes2) {
					t.Fatalf("seed %d batch %d: shuffled batch gave %s (%d nodes, %v), want %s (%d nodes)",
						seed, batch, r2, len(nodes2), err, newRoot, len(nodes))
				}
				if !slices.IsSortedFunc(nodes, func(a, b smt.Node) int { return bytes.Compare(a.Hash[:], b.Hash[:]) }) {
					t.Fatalf("seed %d batch %d: nodes not sorted by hash", seed, batch)
				}
				for _, n := range nodes {
					// A node may come back (a subtree restored to an earlier
					// state), but a hash always names the same record.
					if old, ok := st[n.Hash]; ok && !bytes.Equal(old, n.Record) {
						t.Fatalf("seed %d batch %d: node %s has a new record", seed, batch, n.Hash)
					}
				}
				st.Put(nodes)
				root = newRoot
				for _, u := range ups {
					if u.Delete {
						delete(model, string(u.Key))
					} else {
						model[string(u.Key)] = bytes.Clone(u.Value)
					}
				}
				if want := refRoot(model); root != want {
					t.Fatalf("seed %d batch %d: root %s, reference %s", seed, batch, root, want)
				}
				versions = append(versions, version{root, cloneMap(model)})
			}
			for _, v := range versions {
				for k := 0; k < universe; k++ {
					key := fmt.Sprint("key-", k)
					want, ok := v.model[key]
					checkKey(t, st, v.root, key, want, ok)
				}
			}
		})
	}
}

// randomBatch returns n updates on distinct keys of the universe: sets to
// new values, sets to the current value, deletes of present and absent keys.
func randomBatch(rng *rand.Rand, model map[string][]byte, universe, n int) []smt.Update {
	seen := map[int]bool{}
	var ups []smt.Update
	for len(ups) < n && len(seen) < universe {
		k := rng.IntN(universe)
		if seen[k] {
			continue
		}
		seen[k] = true
		key := []byte(fmt.Sprint("key-", k))
		cur, present := model[string(key)]
		switch r := rng.IntN(10); {
		case r < 6:
			v := make([]byte, rng.IntN(40))
			for i := range v {
				v[i] = byte(rng.Uint32())
			}
			ups = append(ups, smt.Update{Key: key, Value: v})
		case r < 7 && present:
			ups = append(ups, smt.Update{Key: key, Value: bytes.Clone(cur)})
		default:
			ups = append(ups, smt.Update{Key: key, Delete: true, Value: []byte("ignored")})
		}
	}
	return ups
}

func cloneMap(m map[string][]byte) map[string][]byte {
	c := make(map[string][]byte, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func buildTree(t testing.TB, n int) (smt.MemStore, block.Hash, map[string][]byte) {
	st := smt.MemStore{}
	model := map[string][]byte{}
	ups := make([]smt.Update, n)
	for i := range ups {
		k, v := fmt.Sprint("key-", i), fmt.Sprint("value-", i)
		ups[i] = smt.Update{Key: []byte(k), Value: []byte(v)}
		model[k] = []byte(v)
	}
	return st, apply(t, st, smt.Empty, ups), model
}

func TestNoOpBatch(t *testing.T) {
	st, root, model := buildTree(t, 300)
	var ups []smt.Update
	for k, v := range model {
		ups = append(ups, smt.Update{Key: []byte(k), Value: v})
	}
	for i := 0; i < 50; i++ {
		ups = append(ups, smt.Update{Key: []byte(fmt.Sprint("absent-", i)), Delete: true})
	}
	r, nodes, err := smt.Apply(st, root, ups)
	if err != nil || r != root || len(nodes) != 0 {
		t.Fatalf("no-op batch = %s, %d nodes, %v; want %s, 0 nodes", r, len(nodes), err, root)
	}
}

func TestDeleteAll(t *testing.T) {
	st, root, model := buildTree(t, 300)
	// Delete down to one key, then none: the root collapses onto the leaf.
	var ups []smt.Update
	for k := range model {
		if k != "key-7" {
			ups = append(ups, smt.Update{Key: []byte(k), Delete: true})
		}
	}
	root = apply(t, st, root, ups)
	if want := smt.LeafHash(smt.KeyHash([]byte("key-7")), sha256.Sum256([]byte("value-7"))); root != want {
		t.Fatalf("root with one key left = %s, want its leaf %s", root, want)
	}
	checkKey(t, st, root, "key-7", []byte("value-7"), true)
	root = apply(t, st, root, []smt.Update{{Key: []byte("key-7"), Delete: true}})
	if root != smt.Empty {
		t.Fatalf("root after deleting all = %s, want Empty", root)
	}
}

type countingReader struct {
	smt.MemStore
	reads int
}

func (c *countingReader) Node(h block.Hash) ([]byte, error) {
	c.reads++
	return c.MemStore.Node(h)
}

func TestApplyReadsOnlyPaths(t *testing.T) {
	st, root, _ := buildTree(t, 2000)
	tests := []struct {
		name     string
		ups      []smt.Update
		maxReads int
	}{
		{"update one", []smt.Update{{Key: []byte("key-5"), Value: []byte("x")}}, 40},
		{"delete one", []smt.Update{{Key: []byte("key-5"), Delete: true}}, 41},
		{"insert one", []smt.Update{{Key: []byte("new"), Value: []byte("x")}}, 40},
		{"delete absent", []smt.Update{{Key: []byte("new"), Delete: true}}, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := &countingReader{MemStore: st}
			if _, _, err := smt.Apply(cr, root, tt.ups); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if cr.reads > tt.maxReads {
				t.Fatalf("Apply read %d nodes, want at most %d", cr.reads, tt.maxReads)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	st, root, _ := buildTree(t, 50)
	corrupt := smt.MemStore{}
	for h, rec := range st {
		corrupt[h] = rec
	}
	rec := bytes.Clone(corrupt[root])
	rec[5] ^= 1
	corrupt[root] = rec
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"duplicate key", func() error {
			_, _, err := smt.Apply(st, root, []smt.Update{{Key: []byte("a")}, {Key: []byte("b")}, {Key: []byte("a"), Delete: true}})
			return err
		}, smt.ErrDuplicateKey},
		{"missing root on Apply", func() error {
			_, _, err := smt.Apply(smt.MemStore{}, root, []smt.Update{{Key: []byte("a")}})
			return err
		}, smt.ErrMissingNode},
		{"missing root on Get", func() error {
			_, _, err := smt.Get(smt.MemStore{}, root, []byte("a"))
			return err
		}, smt.ErrMissingNode},
		{"missing root on Prove", func() error {
			_, _, _, err := smt.Prove(smt.MemStore{}, root, []byte("a"))
			return err
		}, smt.ErrMissingNode},
		{"corrupt record on Get", func() error {
			_, _, err := smt.Get(corrupt, root, []byte("key-1"))
			return err
		}, smt.ErrBadNode},
		{"corrupt record on Apply", func() error {
			_, _, err := smt.Apply(corrupt, root, []smt.Update{{Key: []byte("a")}})
			return err
		}, smt.ErrBadNode},
		{"bad tag", func() error {
			_, _, err := smt.Get(smt.MemStore{root: {7}}, root, []byte("a"))
			return err
		}, smt.ErrBadNode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}
