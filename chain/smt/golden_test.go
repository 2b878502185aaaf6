package smt_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
)

// goldenBatches is a fixed sequence of batches over one tree: inserts,
// updates (some to the value a key already has), deletions (some of absent
// keys, some collapsing subtrees), key hashes sharing long prefixes, empty
// values, empty batches, a large batch, and the deletion of every key.
func goldenBatches() [][]smt.Update {
	rng := rand.New(rand.NewPCG(7, 11))
	val := func(i int) []byte { return fmt.Appendf(nil, "value-%d-%x", i, rng.Uint64()) }
	key := func(i int) []byte { return fmt.Appendf(nil, "key-%d", i) }
	var bs [][]smt.Update
	bs = append(bs, nil) // empty batch on the empty tree
	bs = append(bs, []smt.Update{{Key: key(0), Value: val(0)}})
	bs = append(bs, []smt.Update{{Key: key(1), Value: val(1)}, {Key: key(2)}, {Key: []byte("absent"), Delete: true}})
	var ins []smt.Update
	for i := 3; i < 300; i++ {
		u := smt.Update{Key: key(i), Value: val(i)}
		if i%17 == 0 {
			u.Value = []byte{}
		}
		ins = append(ins, u)
	}
	bs = append(bs, ins)
	// Key hashes sharing their first 24 bits or more: pairs found among
	// the hashes of "p-0" … "p-19999" by their first three bytes.
	seen := map[[3]byte][]byte{}
	var shared []smt.Update
	for i := 0; i < 20_000; i++ {
		k := fmt.Appendf(nil, "p-%d", i)
		kh := smt.KeyHash(k)
		p := [3]byte(kh[:3])
		if other, ok := seen[p]; ok {
			shared = append(shared, smt.Update{Key: other, Value: val(i)}, smt.Update{Key: k, Value: val(i + 1)})
			delete(seen, p)
			continue
		}
		seen[p] = k
	}
	if len(shared) < 8 {
		panic(fmt.Sprintf("only %d keys with shared 24-bit prefixes", len(shared)))
	}
	bs = append(bs, shared)
	var mixed []smt.Update
	for i := 0; i < 300; i += 3 {
		mixed = append(mixed, smt.Update{Key: key(i), Value: val(i)})        // update
		mixed = append(mixed, smt.Update{Key: key(i + 1), Delete: true})     // delete
		mixed = append(mixed, smt.Update{Key: key(1000 + i), Value: val(i)}) // insert
		mixed = append(mixed, smt.Update{Key: key(5000 + i), Delete: true})  // absent
	}
	bs = append(bs, mixed)
	// The same values again: changes nothing.
	bs = append(bs, slices.Clone(mixed))
	bs = append(bs, nil) // empty batch on a full tree
	// Delete one key of each shared pair: the other moves up.
	var half []smt.Update
	for i := 0; i < len(shared); i += 2 {
		half = append(half, smt.Update{Key: shared[i].Key, Delete: true})
	}
	bs = append(bs, half)
	var big []smt.Update
	for i := 0; i < 5000; i++ {
		big = append(big, smt.Update{Key: key(10_000 + i), Value: val(i)})
	}
	for i := 2; i < 300; i += 3 {
		big = append(big, smt.Update{Key: key(i), Value: val(i)})
	}
	bs = append(bs, big)
	return bs
}

type applyFunc func(nr smt.NodeReader, root block.Hash, ups []smt.Update) (block.Hash, []smt.Node, error)

// goldenTree applies goldenBatches, then deletes every key but one, then
// that one, and returns each batch's root and a digest of each batch's
// returned nodes (hash ‖ length ‖ record, in the returned order), and the
// digest of every node stored at the end, sorted by hash.
func goldenTree(t testing.TB, apply applyFunc) (roots, nodeDigests []string, store string) {
	st := smt.MemStore{}
	root := smt.Empty
	live := map[string]bool{}
	bs := goldenBatches()
	step := func(ups []smt.Update) {
		r, nodes, err := apply(st, root, ups)
		if err != nil {
			t.Fatalf("batch %d: %v", len(roots), err)
		}
		st.Put(nodes)
		root = r
		for _, u := range ups {
			live[string(u.Key)] = !u.Delete
		}
		roots = append(roots, hex.EncodeToString(r[:]))
		nodeDigests = append(nodeDigests, digestNodes(nodes))
	}
	for _, ups := range bs {
		step(ups)
	}
	var keys []string
	for k, ok := range live {
		if ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var del []smt.Update
	for _, k := range keys[1:] {
		del = append(del, smt.Update{Key: []byte(k), Delete: true})
	}
	step(del)
	step([]smt.Update{{Key: []byte(keys[0]), Delete: true}})
	all := make([]smt.Node, 0, len(st))
	for h, rec := range st {
		all = append(all, smt.Node{Hash: h, Record: rec})
	}
	slices.SortFunc(all, func(a, b smt.Node) int { return bytes.Compare(a.Hash[:], b.Hash[:]) })
	return roots, nodeDigests, fmt.Sprintf("%d:%s", len(all), digestNodes(all))
}

func digestNodes(nodes []smt.Node) string {
	d := sha256.New()
	for _, n := range nodes {
		d.Write(n.Hash[:])
		d.Write(binary.BigEndian.AppendUint32(nil, uint32(len(n.Record))))
		d.Write(n.Record)
	}
	return fmt.Sprintf("%d:%x", len(nodes), d.Sum(nil)[:8])
}

// TestGolden pins the roots and node records of a fixed sequence of
// batches, computed by the first implementation: any change to them is a
// fork of every existing chain (and of the stored trees it must replay).
// The values change only with a deliberate change of the hashing rules
// or records (chain/smt/doc.go), which is a fork.
func TestGolden(t *testing.T) {
	want := []struct{ root, nodes string }{
		{"0000000000000000000000000000000000000000000000000000000000000000", "0:e3b0c44298fc1c14"}, // empty batch
		{"fbae638ccade6d1d9b2f77a511d19519b53ac4c9c66b422ec6295f8bd083abc4", "1:d53598a56dc633ba"},
		{"8f910623d90e27fdeef58bc40a4c64b535348ebd04bab5568f4e3f79b02869fc", "4:c15f66038bb7df0a"},
		{"98179024dc28f6f72a4b03c3e2e2ea1e7b8243eb37a60e9bff0f41359b683b1d", "732:5371a964533b85a4"},
		{"88efcd7f112029b807a4ccd066daa3c32cbc7a641c32ea2a0a6338aa9d03e769", "338:a69a25d1d9645fc5"},   // shared prefixes
		{"9aaa94233c644ff131d8357f5b9e78c57d6a87022c21378bf565515e4c18eb1f", "654:003020a5fff2edba"},   // mixed
		{"9aaa94233c644ff131d8357f5b9e78c57d6a87022c21378bf565515e4c18eb1f", "0:e3b0c44298fc1c14"},     // same values
		{"9aaa94233c644ff131d8357f5b9e78c57d6a87022c21378bf565515e4c18eb1f", "0:e3b0c44298fc1c14"},     // empty batch
		{"fd86bf9955a5c58be48cf83e99e415b593844fe29e340c5e54ff5d1d4420e7ef", "80:06092c2034163092"},    // collapse
		{"f253ec3af14f46bccfdbd74204f9dbe6b17a5f03c0fd6c5006fc4b7bd33509a8", "12756:d22b6ac6a9db3513"}, // big
		{"1eb4aff419b13ca00ed72da0169d59d7f62131d124e400c2cafcfb53c0da17ac", "0:e3b0c44298fc1c14"},     // all but one deleted
		{"0000000000000000000000000000000000000000000000000000000000000000", "0:e3b0c44298fc1c14"},     // all deleted
	}
	const wantStore = "14565:14565:1d4c5d6d416563fa"
	for _, tc := range []struct {
		name  string
		apply applyFunc
	}{
		{"Apply", smt.Apply},
		{"Cache.Apply 0 levels", smt.NewCache(0).Apply},
		{"Cache.Apply 4 levels", smt.NewCache(4).Apply},
		{"Cache.Apply 18 levels", smt.NewCache(18).Apply},
	} {
		t.Run(tc.name, func(t *testing.T) {
			roots, nodes, store := goldenTree(t, tc.apply)
			if len(roots) != len(want) {
				t.Fatalf("%d batches, want %d", len(roots), len(want))
			}
			for i, w := range want {
				if roots[i] != w.root || nodes[i] != w.nodes {
					t.Errorf("batch %d: root %s, nodes %s; want %s, %s", i, roots[i], nodes[i], w.root, w.nodes)
				}
			}
			if store != wantStore {
				t.Errorf("stored nodes %s, want %s", store, wantStore)
			}
		})
	}
}
