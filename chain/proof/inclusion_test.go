package proof

import (
	"fmt"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

// inclusionLog is a log of n leaves with every leaf's proof at size n.
type inclusionLog struct {
	root   block.Hash
	proofs []*InclusionProof
}

func newInclusionLog(t testing.TB, m *memTree, leaves []block.Hash, n int) *inclusionLog {
	t.Helper()
	root, err := RootAt(m, uint64(n))
	if err != nil {
		t.Fatal(err)
	}
	l := &inclusionLog{root: root}
	for i := 0; i < n; i++ {
		p, err := Inclusion(m, uint64(i), uint64(n))
		if err != nil {
			t.Fatal(err)
		}
		l.proofs = append(l.proofs, &InclusionProof{LeafIndex: uint64(i), Size: uint64(n), Leaf: leaves[i], Hashes: p})
	}
	return l
}

func leafLog(t testing.TB, n int) (*memTree, []block.Hash) {
	m := newMemTree()
	var leaves []block.Hash
	for i := 0; i < n; i++ {
		leaves = append(leaves, LeafHash([]byte(fmt.Sprint("record ", i))))
	}
	m.append(t, leaves...)
	return m, leaves
}

// agree checks that the verifier and InclusionProof.Verify give the same
// result for p, and returns it.
func agree(t testing.TB, what string, v *InclusionVerifier, p *InclusionProof, size uint64, root block.Hash) error {
	t.Helper()
	got, want := v.Verify(p), p.Verify(size, root)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: InclusionVerifier says %v, InclusionProof.Verify %v", what, got, want)
	}
	return got
}

// mutations of a proof: each changes one thing a verifier must notice.
func mutations(p *InclusionProof) map[string]*InclusionProof {
	out := map[string]*InclusionProof{}
	add := func(name string, f func(q *InclusionProof)) {
		q := *p
		q.Hashes = append([]block.Hash(nil), p.Hashes...)
		f(&q)
		out[name] = &q
	}
	for k := range p.Hashes {
		add(fmt.Sprint("hash ", k), func(q *InclusionProof) { q.Hashes[k][k%32] ^= 0x10 })
		add(fmt.Sprint("hash ", k, " swapped with the leaf"), func(q *InclusionProof) { q.Hashes[k], q.Leaf = q.Leaf, q.Hashes[k] })
	}
	add("leaf", func(q *InclusionProof) { q.Leaf[31] ^= 1 })
	add("index+1", func(q *InclusionProof) { q.LeafIndex++ })
	add("index-1", func(q *InclusionProof) { q.LeafIndex-- })
	add("index^1", func(q *InclusionProof) { q.LeafIndex ^= 1 })
	add("size+1", func(q *InclusionProof) { q.Size++ })
	if len(p.Hashes) > 0 {
		add("hash dropped", func(q *InclusionProof) { q.Hashes = q.Hashes[:len(q.Hashes)-1] })
	}
	add("hash added", func(q *InclusionProof) { q.Hashes = append(q.Hashes, q.Leaf) })
	add("record", func(q *InclusionProof) { q.Record = []byte("not the leaf's record") })
	return out
}

// TestInclusionVerifierAgrees: for logs of many shapes, the verifier
// accepts every leaf's proof in ascending, descending and scattered order
// and refuses, with InclusionProof.Verify's error, every mutation of
// every proof (of a sample of the leaves in logs over 64), each tried
// right after a neighbour's proof verified (when the remembered path is
// the one it would join).
func TestInclusionVerifierAgrees(t *testing.T) {
	m, leaves := leafLog(t, 300)
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 32, 33, 64, 100, 255, 256, 257, 300} {
		l := newInclusionLog(t, m, leaves, n)
		orders := map[string]func(k int) int{
			"ascending":  func(k int) int { return k },
			"descending": func(k int) int { return n - 1 - k },
			"scattered":  func(k int) int { return (k*7919 + 3) % n },
		}
		for name, at := range orders {
			v := NewInclusionVerifier(uint64(n), l.root)
			for k := 0; k < n; k++ {
				if err := agree(t, fmt.Sprintf("size %d %s leaf %d", n, name, at(k)), v, l.proofs[at(k)], uint64(n), l.root); err != nil {
					t.Fatalf("size %d: %s proof of leaf %d refused: %v", n, name, at(k), err)
				}
			}
			if name == "ascending" && n >= 3 && v.joins < n/2 {
				t.Fatalf("size %d: only %d of %d ascending proofs joined the last path", n, v.joins, n)
			}
		}
		v := NewInclusionVerifier(uint64(n), l.root)
		for i, p := range l.proofs {
			if n > 64 && i%7 != 0 && i != n-1 {
				continue // large logs: a sample of leaves, the last included
			}
			for name, q := range mutations(p) {
				for _, warm := range []int{i - 1, i, i + 1} {
					if warm >= 0 && warm < n {
						agree(t, "warm-up", v, l.proofs[warm], uint64(n), l.root)
					}
					if err := agree(t, fmt.Sprintf("size %d leaf %d %s", n, i, name), v, q, uint64(n), l.root); err == nil {
						t.Fatalf("size %d leaf %d: %s accepted", n, i, name)
					}
				}
			}
		}
	}
}

// FuzzInclusionVerifier: any sequence of proofs of a 100-leaf log, each
// possibly altered, gets the same answers from the verifier as from
// InclusionProof.Verify.
func FuzzInclusionVerifier(f *testing.F) {
	m, leaves := leafLog(f, 100)
	l := newInclusionLog(f, m, leaves, 100)
	f.Add([]byte{0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 7, 5})
	f.Add([]byte{10, 0, 0, 11, 1, 0x80, 11, 3, 0x81, 12, 200, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		v := NewInclusionVerifier(100, l.root)
		for ; len(data) >= 3; data = data[3:] {
			// leaf, what to alter (0: nothing), which bit
			p := *l.proofs[int(data[0])%100]
			p.Hashes = append([]block.Hash(nil), p.Hashes...)
			bit := data[2]
			switch k := int(data[1]) % 10; {
			case k == 1:
				p.Leaf[bit/8%32] ^= 1 << (bit % 8)
			case k == 2:
				p.LeafIndex ^= uint64(bit)
			case k == 3 && len(p.Hashes) > 0:
				p.Hashes = p.Hashes[:int(bit)%len(p.Hashes)]
			case k >= 4 && len(p.Hashes) > 0:
				h := &p.Hashes[int(data[1])%len(p.Hashes)]
				h[bit/8%32] ^= 1 << (bit % 8)
			}
			agree(t, "fuzz", v, &p, 100, l.root)
		}
	})
}
