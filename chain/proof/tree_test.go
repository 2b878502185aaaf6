package proof

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"github.com/trialchain/trialchain/chain/block"
)

// memTree is an in-memory NodeReader filled the way chain/store fills
// Pebble: from Frontier.Append's visit callback.
type memTree struct {
	f     Frontier
	nodes map[[2]uint64]block.Hash
}

func newMemTree() *memTree { return &memTree{nodes: map[[2]uint64]block.Hash{}} }

func (m *memTree) append(t testing.TB, leaves ...block.Hash) {
	t.Helper()
	f, err := m.f.Append(leaves, func(level uint, index uint64, h block.Hash) { m.nodes[[2]uint64{uint64(level), index}] = h })
	if err != nil {
		t.Fatal(err)
	}
	m.f = f
}

var errNoNode = errors.New("no such node")

func (m *memTree) LogNode(level uint, index uint64) (block.Hash, error) {
	h, ok := m.nodes[[2]uint64{uint64(level), index}]
	if !ok {
		return h, errNoNode
	}
	return h, nil
}

func hd(s string) block.Hash {
	var h block.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		panic(s)
	}
	copy(h[:], b)
	return h
}

func hashes(ss ...string) []block.Hash {
	out := []block.Hash{}
	for _, s := range ss {
		out = append(out, hd(s))
	}
	return out
}

// rfcTree is the 8-leaf tree of RFC 6962/9162 test vectors (the leaf
// inputs of transparency-dev/merkle's testonly package).
func rfcTree(t testing.TB) *memTree {
	m := newMemTree()
	for _, in := range testonly.LeafInputs() {
		m.append(t, LeafHash(in))
	}
	return m
}

// TestRFCVectors checks proofs served from stored nodes against the
// published RFC 6962 test vectors (as carried by transparency-dev/merkle's
// proof/verify_test.go), and that they verify.
func TestRFCVectors(t *testing.T) {
	m := rfcTree(t)
	roots := testonly.RootHashes()
	for size := uint64(0); size <= 8; size++ {
		got, err := RootAt(m, size)
		if err != nil || !bytes.Equal(got[:], roots[size]) {
			t.Fatalf("root at %d: %s %v, want %x", size, got, err, roots[size])
		}
	}
	inclusion := []struct {
		leaf, size uint64 // leaf is 0-based here
		want       []block.Hash
	}{
		{0, 1, hashes()},
		{0, 8, hashes("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")},
		{5, 8, hashes("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
			"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")},
		{2, 3, hashes("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")},
		{1, 5, hashes("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")},
	}
	leaves := testonly.LeafInputs()
	for _, v := range inclusion {
		got, err := Inclusion(m, v.leaf, v.size)
		if err != nil {
			t.Fatalf("inclusion %d/%d: %v", v.leaf, v.size, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(v.want) {
			t.Errorf("inclusion %d/%d:\n got %v\nwant %v", v.leaf, v.size, got, v.want)
		}
		var root block.Hash
		copy(root[:], roots[v.size])
		if err := VerifyInclusion(v.leaf, v.size, LeafHash(leaves[v.leaf]), got, root); err != nil {
			t.Errorf("verify inclusion %d/%d: %v", v.leaf, v.size, err)
		}
	}
	consistency := []struct {
		size1, size2 uint64
		want         []block.Hash
	}{
		{1, 1, hashes()},
		{1, 8, hashes("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")},
		{6, 8, hashes("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
			"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")},
		{2, 5, hashes("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")},
		{6, 7, hashes("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
			"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")},
	}
	for _, v := range consistency {
		got, err := Consistency(m, v.size1, v.size2)
		if err != nil {
			t.Fatalf("consistency %d→%d: %v", v.size1, v.size2, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(v.want) {
			t.Errorf("consistency %d→%d:\n got %v\nwant %v", v.size1, v.size2, got, v.want)
		}
		var r1, r2 block.Hash
		copy(r1[:], roots[v.size1])
		copy(r2[:], roots[v.size2])
		if err := VerifyConsistency(v.size1, v.size2, got, r1, r2); err != nil {
			t.Errorf("verify consistency %d→%d: %v", v.size1, v.size2, err)
		}
	}
}

// The literal RFC 9162 section 2.1 definitions, over leaf hashes: the
// reference the stored-node proofs are checked against.
func refNode(l, r block.Hash) block.Hash {
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func refMTH(d []block.Hash) block.Hash {
	if len(d) == 1 {
		return d[0]
	}
	k := splitPoint(len(d))
	return refNode(refMTH(d[:k]), refMTH(d[k:]))
}

func splitPoint(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

// refPath is PATH(m, D[n]) (section 2.1.3.1).
func refPath(m int, d []block.Hash) []block.Hash {
	if len(d) == 1 {
		return nil
	}
	k := splitPoint(len(d))
	if m < k {
		return append(refPath(m, d[:k]), refMTH(d[k:]))
	}
	return append(refPath(m-k, d[k:]), refMTH(d[:k]))
}

// refProof is PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (section 2.1.4.1).
func refProof(m int, d []block.Hash) []block.Hash { return refSubproof(m, d, true) }

func refSubproof(m int, d []block.Hash, b bool) []block.Hash {
	n := len(d)
	if m == n {
		if b {
			return nil
		}
		return []block.Hash{refMTH(d)}
	}
	k := splitPoint(n)
	if m <= k {
		return append(refSubproof(m, d[:k], b), refMTH(d[k:]))
	}
	return append(refSubproof(m-k, d[k:], false), refMTH(d[:k]))
}

// TestProofsMatchRFCDefinitions checks every inclusion and consistency
// proof of every log size up to 70 (and a sample up to 300), served from
// nodes stored while appending in uneven chunks, against the RFC's
// recursive definitions and the library's reference tree, and verifies
// them.
func TestProofsMatchRFCDefinitions(t *testing.T) {
	m := newMemTree()
	ref := testonly.New(rfc6962.DefaultHasher)
	var leaves []block.Hash
	for step := 1; len(leaves) < 300; step = step%11 + 1 {
		var add []block.Hash
		for i := 0; i < step; i++ {
			l := LeafHash([]byte(fmt.Sprint("record ", len(leaves)+i)))
			add = append(add, l)
			ref.Append(l[:])
		}
		leaves = append(leaves, add...)
		m.append(t, add...)
	}
	for n := 1; n <= len(leaves); n++ {
		if n > 70 && n%23 != 0 && n != len(leaves) {
			continue
		}
		d := leaves[:n]
		root := refMTH(d)
		if got, err := RootAt(m, uint64(n)); err != nil || got != root {
			t.Fatalf("size %d: root %s %v, want %s", n, got, err, root)
		}
		for i := 0; i < n; i++ {
			got, err := Inclusion(m, uint64(i), uint64(n))
			if err != nil {
				t.Fatalf("inclusion %d/%d: %v", i, n, err)
			}
			if want := refPath(i, d); fmt.Sprint(got) != fmt.Sprint(nilEmpty(want)) {
				t.Fatalf("inclusion %d/%d:\n got %v\nwant %v", i, n, got, want)
			}
			lib, err := ref.InclusionProof(uint64(i), uint64(n))
			if err != nil || !sameRaw(got, lib) {
				t.Fatalf("inclusion %d/%d differs from the library's reference tree (%v)", i, n, err)
			}
			if err := VerifyInclusion(uint64(i), uint64(n), d[i], got, root); err != nil {
				t.Fatalf("verify inclusion %d/%d: %v", i, n, err)
			}
		}
		for m1 := 1; m1 <= n; m1++ {
			got, err := Consistency(m, uint64(m1), uint64(n))
			if err != nil {
				t.Fatalf("consistency %d→%d: %v", m1, n, err)
			}
			if want := refProof(m1, d); fmt.Sprint(got) != fmt.Sprint(nilEmpty(want)) {
				t.Fatalf("consistency %d→%d:\n got %v\nwant %v", m1, n, got, want)
			}
			lib, err := ref.ConsistencyProof(uint64(m1), uint64(n))
			if err != nil || !sameRaw(got, lib) {
				t.Fatalf("consistency %d→%d differs from the library's reference tree (%v)", m1, n, err)
			}
			if err := VerifyConsistency(uint64(m1), uint64(n), got, refMTH(d[:m1]), root); err != nil {
				t.Fatalf("verify consistency %d→%d: %v", m1, n, err)
			}
		}
	}
}

func nilEmpty(h []block.Hash) []block.Hash {
	if h == nil {
		return []block.Hash{}
	}
	return h
}

func sameRaw(a []block.Hash, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i][:], b[i]) {
			return false
		}
	}
	return true
}

func TestProofErrors(t *testing.T) {
	m := rfcTree(t)
	if _, err := Inclusion(m, 8, 8); err == nil {
		t.Error("inclusion of leaf 8 in size 8 accepted")
	}
	if _, err := Inclusion(m, 3, 9); !errors.Is(err, errNoNode) {
		t.Errorf("inclusion beyond the stored log: %v, want the reader's error", err)
	}
	if _, err := Consistency(m, 5, 4); err == nil {
		t.Error("consistency 5→4 accepted")
	}
	if p, err := Consistency(m, 0, 8); err != nil || len(p) != 0 {
		t.Errorf("consistency from the empty log: %v %v", p, err)
	}
}

// TestInclusionTamper flips every bit position class of an inclusion proof
// and its inputs and expects a precise refusal.
func TestInclusionTamper(t *testing.T) {
	m := newMemTree()
	for i := 0; i < 1000; i++ {
		m.append(t, LeafHash([]byte(fmt.Sprint(i))))
	}
	const idx, size = 357, 1000
	p, err := Inclusion(m, idx, size)
	if err != nil {
		t.Fatal(err)
	}
	root := m.f.Root()
	leaf := LeafHash([]byte(fmt.Sprint(idx)))
	if err := VerifyInclusion(idx, size, leaf, p, root); err != nil {
		t.Fatal(err)
	}
	flip := func(h block.Hash, bit int) block.Hash { h[bit/8] ^= 1 << (bit % 8); return h }
	cases := []struct {
		name  string
		index uint64
		size  uint64
		leaf  block.Hash
		proof func() []block.Hash
		root  block.Hash
		want  string
	}{
		{"leaf", idx, size, flip(leaf, 3), nil, root, "calculated root"},
		{"root", idx, size, leaf, nil, flip(root, 255), "calculated root"},
		{"index", idx + 1, size, leaf, nil, root, "calculated root"},
		{"size", idx, 2 * size, leaf, nil, root, "wrong proof size"},
		{"truncated", idx, size, leaf, func() []block.Hash { return p[:len(p)-1] }, root, "wrong proof size"},
		{"extended", idx, size, leaf, func() []block.Hash { return append(append([]block.Hash{}, p...), root) }, root, "wrong proof size"},
		{"index beyond size", size, size, leaf, nil, root, "beyond size"},
	}
	for i := range p {
		i := i
		cases = append(cases, struct {
			name  string
			index uint64
			size  uint64
			leaf  block.Hash
			proof func() []block.Hash
			root  block.Hash
			want  string
		}{fmt.Sprintf("proof hash %d", i), idx, size, leaf, func() []block.Hash {
			q := append([]block.Hash{}, p...)
			q[i] = flip(q[i], 8*i+1)
			return q
		}, root, "calculated root"})
	}
	for _, c := range cases {
		q := p
		if c.proof != nil {
			q = c.proof()
		}
		err := VerifyInclusion(c.index, c.size, c.leaf, q, c.root)
		if !errors.Is(err, ErrInclusion) || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%s: got %v, want ErrInclusion mentioning %q", c.name, err, c.want)
			continue
		}
		var rm *RootMismatchError
		if c.want == "calculated root" && (!errors.As(err, &rm) || rm.Expected != c.root) {
			t.Errorf("%s: %v is not a RootMismatchError naming the committed root", c.name, err)
		}
	}
}

// TestForkedLogFailsConsistency: two logs agree on their first 600 records
// and then differ in one record; no consistency proof from either fork's
// later checkpoint verifies against the other, while each log's own
// proofs do — and proofs from before the fork verify against both.
func TestForkedLogFailsConsistency(t *testing.T) {
	a, b := newMemTree(), newMemTree()
	for i := 0; i < 1000; i++ {
		la := LeafHash([]byte(fmt.Sprint(i)))
		lb := la
		if i == 600 {
			lb = LeafHash([]byte("rewritten 600"))
		}
		a.append(t, la)
		b.append(t, lb)
	}
	rootA := func(n uint64) block.Hash { r, _ := RootAt(a, n); return r }
	rootB := func(n uint64) block.Hash { r, _ := RootAt(b, n); return r }
	for _, sizes := range [][2]uint64{{601, 1000}, {700, 1000}, {999, 1000}, {1000, 1000}, {640, 777}} {
		s1, s2 := sizes[0], sizes[1]
		pa, _ := Consistency(a, s1, s2)
		if err := VerifyConsistency(s1, s2, pa, rootA(s1), rootA(s2)); err != nil {
			t.Fatalf("log A %d→%d: %v", s1, s2, err)
		}
		// The forked checkpoint (B at s1) against A's later checkpoint,
		// with A's proof or with B's own.
		for name, p := range map[string][]block.Hash{"A's proof": pa, "B's proof": must(Consistency(b, s1, s2))} {
			err := VerifyConsistency(s1, s2, p, rootB(s1), rootA(s2))
			var rm *RootMismatchError
			if !errors.Is(err, ErrConsistency) || !errors.As(err, &rm) {
				t.Errorf("fork B@%d → A@%d with %s: %v, want a root mismatch", s1, s2, name, err)
			}
		}
	}
	for _, s1 := range []uint64{1, 300, 599, 600} {
		pa, _ := Consistency(a, s1, 1000)
		if err := VerifyConsistency(s1, 1000, pa, rootB(s1), rootA(1000)); err != nil {
			t.Errorf("before the fork (%d): %v", s1, err)
		}
	}
}

func must(p []block.Hash, err error) []block.Hash {
	if err != nil {
		panic(err)
	}
	return p
}

func TestConsistencyTamper(t *testing.T) {
	m := newMemTree()
	for i := 0; i < 500; i++ {
		m.append(t, LeafHash([]byte(fmt.Sprint(i))))
	}
	r1, _ := RootAt(m, 123)
	r2 := m.f.Root()
	p, err := Consistency(m, 123, 500)
	if err != nil {
		t.Fatal(err)
	}
	cp := &ConsistencyProof{From: 123, To: 500, Hashes: p}
	if err := cp.Verify(123, r1, 500, r2); err != nil {
		t.Fatal(err)
	}
	for i := range p {
		q := *cp
		q.Hashes = append([]block.Hash{}, p...)
		q.Hashes[i][31] ^= 0x80
		if err := q.Verify(123, r1, 500, r2); !errors.Is(err, ErrConsistency) {
			t.Errorf("flipped hash %d: %v", i, err)
		}
	}
	if err := cp.Verify(124, r1, 500, r2); !errors.Is(err, ErrConsistency) {
		t.Errorf("other size: %v", err)
	}
	bad := r1
	bad[0] ^= 1
	var rm *RootMismatchError
	if err := cp.Verify(123, bad, 500, r2); !errors.As(err, &rm) || rm.Which != "first root" {
		t.Errorf("altered first root: %v", err)
	}
	bad = r2
	bad[0] ^= 1
	if err := cp.Verify(123, r1, 500, bad); !errors.As(err, &rm) || rm.Which != "second root" {
		t.Errorf("altered second root: %v", err)
	}
}

func TestInclusionProofRecord(t *testing.T) {
	m := newMemTree()
	var rcs []*block.Receipt
	for i := 0; i < 20; i++ {
		rc := &block.Receipt{TxHash: block.Sum([]byte{byte(i)}), Height: uint64(1 + i/5), Index: uint64(i % 5), GasUsed: 1000}
		rcs = append(rcs, rc)
		m.append(t, RecordLeaf(rc))
	}
	p, err := Inclusion(m, 7, 20)
	if err != nil {
		t.Fatal(err)
	}
	ip := &InclusionProof{LeafIndex: 7, Size: 20, Leaf: RecordLeaf(rcs[7]), Record: rcs[7].Encode(), Hashes: p}
	root := m.f.Root()
	if err := ip.Verify(20, root); err != nil {
		t.Fatal(err)
	}
	if rc, err := ip.Receipt(); err != nil || rc.TxHash != rcs[7].TxHash {
		t.Fatalf("receipt: %v", err)
	}
	// A changed record (gas used) no longer matches the named leaf; with
	// the leaf renamed too, the path fails.
	alt := *rcs[7]
	alt.GasUsed++
	bad := *ip
	bad.Record = alt.Encode()
	if err := bad.Verify(20, root); !errors.Is(err, ErrInclusion) || !bytes.Contains([]byte(err.Error()), []byte("record hashes to")) {
		t.Errorf("altered record: %v", err)
	}
	bad.Leaf = RecordLeaf(&alt)
	if err := bad.Verify(20, root); !errors.Is(err, ErrInclusion) {
		t.Errorf("altered record and leaf: %v", err)
	}
	if err := ip.Verify(21, root); !errors.Is(err, ErrInclusion) {
		t.Errorf("other checkpoint size: %v", err)
	}
}
