package smt_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
)

func cloneProof(p *smt.Proof) *smt.Proof {
	q := &smt.Proof{Siblings: append([]block.Hash{}, p.Siblings...)}
	if p.Leaf != nil {
		l := *p.Leaf
		q.Leaf = &l
	}
	return q
}

// flip returns h with one bit changed.
func flip(h block.Hash) block.Hash { h[31] ^= 1; return h }

// proofs of one tree: a present key, an absent key ending at another key's
// leaf, and an absent key ending at an Empty subtree.
type fixture struct {
	st                                smt.MemStore
	root                              block.Hash
	present, absentLeaf, absentEmpty  string
	value                             []byte
	pValue, pAbsentLeaf, pAbsentEmpty *smt.Proof
}

func newFixture(t testing.TB) *fixture {
	st, root, _ := buildTree(t, 200)
	f := &fixture{st: st, root: root, present: "key-42", value: []byte("value-42")}
	var err error
	if f.pValue, _, _, err = smt.Prove(st, root, []byte(f.present)); err != nil {
		t.Fatal(err)
	}
	for i := 0; f.absentLeaf == "" || f.absentEmpty == ""; i++ {
		k := fmt.Sprint("absent-", i)
		p, _, found, err := smt.Prove(st, root, []byte(k))
		if err != nil || found {
			t.Fatalf("Prove(%q) = %v, %v", k, found, err)
		}
		switch {
		case p.Leaf != nil && f.absentLeaf == "" && len(p.Siblings) > 2:
			f.absentLeaf, f.pAbsentLeaf = k, p
		case p.Leaf == nil && f.absentEmpty == "" && len(p.Siblings) > 2:
			f.absentEmpty, f.pAbsentEmpty = k, p
		}
	}
	return f
}

// TestProofMutations checks that every single-field change of a valid proof,
// of the key, of the value or of the root, fails with ErrProof.
func TestProofMutations(t *testing.T) {
	f := newFixture(t)
	type verify func(p *smt.Proof, root block.Hash) error
	value := func(key string, v []byte) verify {
		return func(p *smt.Proof, root block.Hash) error { return p.VerifyValue(root, []byte(key), v) }
	}
	absent := func(key string) verify {
		return func(p *smt.Proof, root block.Hash) error { return p.VerifyAbsent(root, []byte(key)) }
	}
	same := func(p *smt.Proof) {}
	tests := []struct {
		name   string
		proof  *smt.Proof
		mutate func(p *smt.Proof)
		root   block.Hash
		verify verify
		want   string // in the error message
	}{
		{"value: valid", f.pValue, same, f.root, value(f.present, f.value), ""},
		{"value: wrong value", f.pValue, same, f.root, value(f.present, []byte("value-43")), "value hash differs"},
		{"value: wrong key", f.pValue, same, f.root, value("key-43", f.value), "another key's"},
		{"value: absent key", f.pValue, same, f.root, value(f.absentLeaf, f.value), "another key's"},
		{"value: wrong root", f.pValue, same, flip(f.root), value(f.present, f.value), "root mismatch"},
		{"value: empty root", f.pValue, same, smt.Empty, value(f.present, f.value), "root mismatch"},
		{"value: flipped top sibling", f.pValue, func(p *smt.Proof) { p.Siblings[0] = flip(p.Siblings[0]) }, f.root, value(f.present, f.value), "root mismatch"},
		{"value: flipped deepest sibling", f.pValue, func(p *smt.Proof) { n := len(p.Siblings) - 1; p.Siblings[n] = flip(p.Siblings[n]) }, f.root, value(f.present, f.value), "root mismatch"},
		{"value: dropped top sibling", f.pValue, func(p *smt.Proof) { p.Siblings = p.Siblings[1:] }, f.root, value(f.present, f.value), "root mismatch"},
		{"value: dropped deepest sibling", f.pValue, func(p *smt.Proof) { p.Siblings = p.Siblings[:len(p.Siblings)-1] }, f.root, value(f.present, f.value), "root mismatch"},
		{"value: extra sibling on top", f.pValue, func(p *smt.Proof) { p.Siblings = append([]block.Hash{f.root}, p.Siblings...) }, f.root, value(f.present, f.value), "root mismatch"},
		{"value: extra deepest sibling", f.pValue, func(p *smt.Proof) { p.Siblings = append(p.Siblings, f.root) }, f.root, value(f.present, f.value), "root mismatch"},
		{"value: extra empty deepest sibling", f.pValue, func(p *smt.Proof) { p.Siblings = append(p.Siblings, smt.Empty) }, f.root, value(f.present, f.value), "deepest sibling is empty"},
		{"value: leaf key hash flipped", f.pValue, func(p *smt.Proof) { p.Leaf.KeyHash = flip(p.Leaf.KeyHash) }, f.root, value(f.present, f.value), "another key's"},
		{"value: leaf value hash flipped", f.pValue, func(p *smt.Proof) { p.Leaf.ValueHash = flip(p.Leaf.ValueHash) }, f.root, value(f.present, f.value), "value hash differs"},
		{"value: leaf dropped", f.pValue, func(p *smt.Proof) { p.Leaf = nil }, f.root, value(f.present, f.value), "key is absent"},
		{"value: too many siblings", f.pValue, func(p *smt.Proof) { p.Siblings = make([]block.Hash, 257) }, f.root, value(f.present, f.value), "limit 256"},
		{"value: proof of absence", f.pAbsentLeaf, same, f.root, value(f.absentLeaf, nil), "another key's"},
		{"value: proof of absence at empty", f.pAbsentEmpty, same, f.root, value(f.absentEmpty, nil), "key is absent"},
		{"value: nil proof", nil, nil, f.root, value(f.present, f.value), "nil proof"},

		{"absent at leaf: valid", f.pAbsentLeaf, same, f.root, absent(f.absentLeaf), ""},
		{"absent at leaf: the leaf's own key", f.pAbsentLeaf, same, f.root, absent(fmt.Sprint("key-", leafIndex(t, f, f.pAbsentLeaf))), "key is present"},
		{"absent at leaf: key off the path", f.pAbsentLeaf, same, f.root, absent(offPath(f.pAbsentLeaf)), "leaves the key's path"},
		{"absent at leaf: wrong root", f.pAbsentLeaf, same, flip(f.root), absent(f.absentLeaf), "root mismatch"},
		{"absent at leaf: flipped sibling", f.pAbsentLeaf, func(p *smt.Proof) { p.Siblings[1] = flip(p.Siblings[1]) }, f.root, absent(f.absentLeaf), "root mismatch"},
		{"absent at leaf: dropped sibling", f.pAbsentLeaf, func(p *smt.Proof) { p.Siblings = p.Siblings[:len(p.Siblings)-1] }, f.root, absent(f.absentLeaf), "root mismatch"},
		{"absent at leaf: extra sibling", f.pAbsentLeaf, func(p *smt.Proof) { p.Siblings = append(p.Siblings, f.root) }, f.root, absent(f.absentLeaf), ""},
		{"absent at leaf: leaf dropped", f.pAbsentLeaf, func(p *smt.Proof) { p.Leaf = nil }, f.root, absent(f.absentLeaf), "root mismatch"},
		{"absent at leaf: leaf key hash flipped", f.pAbsentLeaf, func(p *smt.Proof) { p.Leaf.KeyHash = flip(p.Leaf.KeyHash) }, f.root, absent(f.absentLeaf), "root mismatch"},
		{"absent at leaf: leaf value hash flipped", f.pAbsentLeaf, func(p *smt.Proof) { p.Leaf.ValueHash = flip(p.Leaf.ValueHash) }, f.root, absent(f.absentLeaf), "root mismatch"},
		{"absent at leaf: present key", f.pValue, same, f.root, absent(f.present), "key is present"},

		{"absent at empty: valid", f.pAbsentEmpty, same, f.root, absent(f.absentEmpty), ""},
		{"absent at empty: wrong key", f.pAbsentEmpty, same, f.root, absent(f.absentLeaf), "root mismatch"},
		{"absent at empty: wrong root", f.pAbsentEmpty, same, flip(f.root), absent(f.absentEmpty), "root mismatch"},
		{"absent at empty: flipped sibling", f.pAbsentEmpty, func(p *smt.Proof) { p.Siblings[0] = flip(p.Siblings[0]) }, f.root, absent(f.absentEmpty), "root mismatch"},
		{"absent at empty: dropped sibling", f.pAbsentEmpty, func(p *smt.Proof) { p.Siblings = p.Siblings[1:] }, f.root, absent(f.absentEmpty), "root mismatch"},
		{"absent at empty: extra sibling", f.pAbsentEmpty, func(p *smt.Proof) { p.Siblings = append(p.Siblings, f.root) }, f.root, absent(f.absentEmpty), "root mismatch"},
		{"absent at empty: leaf added", f.pAbsentEmpty, func(p *smt.Proof) { p.Leaf = f.pAbsentLeaf.Leaf }, f.root, absent(f.absentEmpty), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *smt.Proof
			if tt.proof != nil {
				p = cloneProof(tt.proof)
				tt.mutate(p)
			}
			err := tt.verify(p, tt.root)
			if strings.HasSuffix(tt.name, ": valid") {
				if err != nil {
					t.Fatalf("valid proof: %v", err)
				}
				return
			}
			if !errors.Is(err, smt.ErrProof) {
				t.Fatalf("got %v, want ErrProof", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %q, want it to say %q", err, tt.want)
			}
		})
	}
}

// leafIndex returns i such that the proof's leaf is key-i's.
func leafIndex(t *testing.T, f *fixture, p *smt.Proof) int {
	for i := 0; i < 200; i++ {
		if smt.KeyHash([]byte(fmt.Sprint("key-", i))) == p.Leaf.KeyHash {
			return i
		}
	}
	t.Fatal("leaf of no key")
	return 0
}

// offPath returns a key whose hash leaves p's leaf's path above its depth.
func offPath(p *smt.Proof) string {
	for i := 0; ; i++ {
		k := fmt.Sprint("off-", i)
		if kh := smt.KeyHash([]byte(k)); kh[0]>>7 != p.Leaf.KeyHash[0]>>7 {
			return k
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		p    *smt.Proof
	}{
		{"value", f.pValue},
		{"absent at leaf", f.pAbsentLeaf},
		{"absent at empty", f.pAbsentEmpty},
		{"empty tree", &smt.Proof{Siblings: []block.Hash{}}},
	}
	deep := &smt.Proof{Siblings: make([]block.Hash, 256), Leaf: &smt.LeafRef{}}
	deep.Siblings[255] = f.root
	tests = append(tests, struct {
		name string
		p    *smt.Proof
	}{"256 siblings", deep})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.p.Encode()
			q, err := smt.DecodeProof(b)
			if err != nil {
				t.Fatalf("DecodeProof: %v", err)
			}
			if !reflect.DeepEqual(q, tt.p) {
				t.Fatalf("got %+v, want %+v", q, tt.p)
			}
			if !bytes.Equal(q.Encode(), b) {
				t.Fatalf("re-encoding differs")
			}
			j, err := json.Marshal(tt.p)
			if err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}
			var r smt.Proof
			if err := json.Unmarshal(j, &r); err != nil {
				t.Fatalf("UnmarshalJSON(%s): %v", j, err)
			}
			if !reflect.DeepEqual(&r, tt.p) {
				t.Fatalf("JSON round trip: got %+v, want %+v", r, tt.p)
			}
		})
	}
}

func TestDecodeProofRejects(t *testing.T) {
	h := bytes.Repeat([]byte{0xab}, 32)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty input", nil, block.ErrTruncated},
		{"terminal byte 2", cat([]byte{2, 0}), block.ErrUnknownKind},
		{"leaf truncated", cat([]byte{1}, h), block.ErrTruncated},
		{"count missing", []byte{0}, block.ErrTruncated},
		{"non-minimal count", []byte{0, 0x80, 0x00}, block.ErrNonMinimal},
		{"257 siblings", cat([]byte{0, 0x81, 0x02}, bytes.Repeat(h, 257)), block.ErrTooLarge},
		{"huge count", []byte{0, 0xff, 0xff, 0xff, 0xff, 0x0f}, block.ErrTooLarge},
		{"siblings truncated", cat([]byte{0, 2}, h), block.ErrTruncated},
		{"trailing byte", cat([]byte{0, 1}, h, []byte{0}), block.ErrTrailing},
		{"deepest sibling empty", cat([]byte{0, 2}, h, make([]byte, 32)), smt.ErrProof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := smt.DecodeProof(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecodeProof = %+v, %v; want %v", p, err, tt.want)
			}
		})
	}
}

func TestProofJSON(t *testing.T) {
	a, b := block.Hash{0xaa}, block.Hash{0xbb}
	hex := func(h block.Hash) string { return h.String() }
	leafProof := &smt.Proof{Siblings: []block.Hash{a}, Leaf: &smt.LeafRef{KeyHash: a, ValueHash: b}}
	want := `{"siblings":["` + hex(a) + `"],"leaf":{"key_hash":"` + hex(a) + `","value_hash":"` + hex(b) + `"}}`
	if got, err := json.Marshal(leafProof); err != nil || string(got) != want {
		t.Fatalf("MarshalJSON = %s, %v; want %s", got, err, want)
	}
	if got, err := json.Marshal(&smt.Proof{}); err != nil || string(got) != `{"siblings":[]}` {
		t.Fatalf("MarshalJSON of empty proof = %s, %v", got, err)
	}
	bad := []struct{ name, in string }{
		{"unknown field", `{"siblings":[],"depth":3}`},
		{"leaf without value hash", `{"siblings":[],"leaf":{"key_hash":"` + hex(a) + `"}}`},
		{"short hash", `{"siblings":["abcd"]}`},
		{"not hex", `{"siblings":["` + strings.Repeat("zz", 32) + `"]}`},
		{"deepest sibling empty", `{"siblings":["` + hex(smt.Empty) + `"]}`},
		{"257 siblings", `{"siblings":[` + strings.TrimSuffix(strings.Repeat(`"`+hex(a)+`",`, 257), ",") + `]}`},
		{"not an object", `[]`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var p smt.Proof
			if err := json.Unmarshal([]byte(tt.in), &p); err == nil {
				t.Fatalf("UnmarshalJSON(%s) = %+v, want an error", tt.in, p)
			}
		})
	}
	var p smt.Proof
	if err := json.Unmarshal([]byte(`{"siblings":null,"leaf":null}`), &p); err != nil || p.Leaf != nil || len(p.Siblings) != 0 {
		t.Fatalf("UnmarshalJSON of nulls = %+v, %v", p, err)
	}
}
