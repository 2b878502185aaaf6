package witness_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/witness"
	"github.com/trialchain/trialchain/chain/witness/witnesstest"
)

var clock = func() time.Time { return time.Unix(1_760_000_100, 0) }

// newWitness initialises a witness home in a temp dir and opens it for c's
// genesis.
func newWitness(t *testing.T, c *witnesstest.Chain) (*witness.Witness, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "w")
	if _, err := witness.Init(dir, "regulator"); err != nil {
		t.Fatal(err)
	}
	return openWitness(t, c, dir), dir
}

func openWitness(t *testing.T, c *witnesstest.Chain, dir string) *witness.Witness {
	t.Helper()
	key, pk, err := witness.LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := witness.Open(dir, pk)
	if err != nil {
		t.Fatal(err)
	}
	w, err := witness.New(st, key, pk.Name, c.G, clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// grow commits n blocks of k records each.
func grow(t *testing.T, c *witnesstest.Chain, tag string, n, k int) {
	t.Helper()
	for i := 0; i < n; i++ {
		var recs []string
		for j := 0; j < k; j++ {
			recs = append(recs, fmt.Sprintf("%s block %d record %d", tag, c.Height()+1, j))
		}
		c.Commit(t, recs...)
	}
}

// add submits the chain's newest checkpoint with a proof from the
// witness's latest size, as a client does.
func add(t *testing.T, w *witness.Witness, c *witnesstest.Chain) (*witness.Cosignature, error) {
	t.Helper()
	cp := c.Checkpoint(t, 0)
	var old uint64
	if l := w.Latest(); l != nil {
		old = l.LogSize
	}
	var p []block.Hash
	switch {
	case old == 0:
	case cp.Header.LogSize >= old:
		p = c.Consistency(t, old, cp.Header.LogSize)
	default:
		p = c.Consistency(t, cp.Header.LogSize, old)
	}
	return w.Add(&witness.Request{OldSize: old, Proof: p, Checkpoint: cp})
}

// snapshot reads every file of the witness home.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func sameFiles(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Fatalf("files changed: %d before, %d after", len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("%s was written by a refused request", k)
		}
	}
}

// TestSplitView is issue 11's "done when": two parties are shown different
// histories, both certified by the same genesis validators. The witness
// cosigns the first and refuses the second as a fork, writing nothing;
// the first history goes on being cosigned.
func TestSplitView(t *testing.T) {
	base := witnesstest.New(t, "trial-net", 7)
	grow(t, base, "shared", 3, 2)
	a, b := base, base.Fork()
	grow(t, a, "party A", 2, 3)
	grow(t, b, "party B", 2, 3) // same heights and sizes, other records
	if a.Checkpoint(t, 0).Hash() == b.Checkpoint(t, 0).Hash() {
		t.Fatal("the histories did not diverge")
	}
	// Both are genuinely certified.
	for _, c := range []*witnesstest.Chain{a, b} {
		if err := c.Checkpoint(t, 0).Verify(c.G); err != nil {
			t.Fatal(err)
		}
	}
	w, dir := newWitness(t, a)
	ca, err := add(t, w, a)
	if err != nil {
		t.Fatal(err)
	}
	if ca.Statement != witness.Latest || ca.Height != a.Height() {
		t.Fatalf("cosigned %v at %d", ca.Statement, ca.Height)
	}
	before := snapshot(t, dir)
	// Party B's node shows its history: the same height, another block.
	_, err = add(t, w, b)
	if !errors.Is(err, witness.ErrFork) || !errors.Is(err, witness.ErrBlockConflict) {
		t.Fatalf("second history: got %v, want a fork (two blocks at one height)", err)
	}
	sameFiles(t, dir, before)
	// B grows: the log no longer matches A's at A's size.
	grow(t, b, "party B later", 1, 1)
	_, err = add(t, w, b)
	if !errors.Is(err, witness.ErrFork) || !errors.Is(err, witness.ErrInconsistent) {
		t.Fatalf("second history, later: got %v, want a fork (inconsistent log)", err)
	}
	sameFiles(t, dir, before)
	// A goes on.
	grow(t, a, "party A later", 2, 1)
	if _, err := add(t, w, a); err != nil {
		t.Fatalf("first history, later: %v", err)
	}
	// An older checkpoint of B (below A's latest height) whose log holds
	// B's records: not a prefix of A's log, whichever tree the proof is from.
	before = snapshot(t, dir)
	bOld, la := b.Checkpoint(t, 5), w.Latest()
	for _, p := range [][]block.Hash{b.Consistency(t, bOld.Header.LogSize, la.LogSize), a.Consistency(t, bOld.Header.LogSize, la.LogSize)} {
		_, err = w.Add(&witness.Request{OldSize: la.LogSize, Proof: p, Checkpoint: bOld})
		if !errors.Is(err, witness.ErrFork) || !errors.Is(err, witness.ErrInconsistent) {
			t.Fatalf("older checkpoint of the second history: got %v, want a fork", err)
		}
	}
	sameFiles(t, dir, before)
	// And an older checkpoint of A is cosigned as a prefix, the state unmoved.
	aOld := a.Checkpoint(t, 4)
	latest := w.Latest()
	c, err := w.Add(&witness.Request{OldSize: latest.LogSize, Proof: a.Consistency(t, aOld.Header.LogSize, latest.LogSize), Checkpoint: aOld})
	if err != nil || c.Statement != witness.Prefix {
		t.Fatalf("older checkpoint of the first history: %v, %v", c, err)
	}
	if w.Latest().Height != latest.Height {
		t.Fatal("a prefix statement moved the state")
	}
}

// TestCheckRefusals: every refusal of Check, each with its own sentinel.
func TestCheckRefusals(t *testing.T) {
	c := witnesstest.New(t, "trial-net", 7)
	grow(t, c, "x", 3, 2)
	conflict := c.Fork()
	grow(t, c, "x", 1, 2)
	grow(t, conflict, "other", 1, 2) // another block 4, same validators
	last := c.Checkpoint(t, 0)       // block 4, log of 6
	other := witnesstest.New(t, "other-net", 7)
	grow(t, other, "y", 5, 2)
	// A history whose later block has a smaller log: two blocks of
	// records, then empty blocks up to height 7 (log of 4 < 6).
	small := witnesstest.New(t, "trial-net", 7)
	grow(t, small, "x", 2, 2)
	for small.Height() < 7 {
		small.Commit(t)
	}
	forged := c.Checkpoint(t, 0)
	forged.Header.StateRoot = block.Sum([]byte("another state")) // the certificate no longer names the header
	weak := c.Checkpoint(t, 0)
	weak.Cert.Sigs = weak.Cert.Sigs[:2] // below the quorum of 3
	grow(t, c, "next", 1, 1)
	lastC := mustSign(t, last)

	tests := []struct {
		name string
		req  *witness.Request
		want error
	}{
		{"another chain", &witness.Request{OldSize: lastC.LogSize, Checkpoint: other.Checkpoint(t, 0)}, witness.ErrWrongChain},
		{"header altered", &witness.Request{OldSize: lastC.LogSize, Checkpoint: forged}, witness.ErrNotCertified},
		{"too few signatures", &witness.Request{OldSize: lastC.LogSize, Checkpoint: weak}, witness.ErrNotCertified},
		{"stale old size", &witness.Request{OldSize: 1, Checkpoint: c.Checkpoint(t, 0), Proof: c.Consistency(t, 1, c.Checkpoint(t, 0).Header.LogSize)}, witness.ErrOldSize},
		{"bad proof", &witness.Request{OldSize: lastC.LogSize, Checkpoint: c.Checkpoint(t, 0), Proof: []block.Hash{{1}, {2}}}, witness.ErrInconsistent},
		{"rollback: later block, smaller log", &witness.Request{OldSize: lastC.LogSize, Checkpoint: small.Checkpoint(t, 0)}, witness.ErrRollback},
		{"same height, other block", &witness.Request{OldSize: lastC.LogSize, Checkpoint: conflict.Checkpoint(t, 4)}, witness.ErrBlockConflict},
		{"malformed: no checkpoint", &witness.Request{OldSize: lastC.LogSize}, witness.ErrBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := witness.Check(c.G, lastC, tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			for _, other := range []error{witness.ErrWrongChain, witness.ErrNotCertified, witness.ErrOldSize, witness.ErrRollback, witness.ErrInconsistent, witness.ErrRootConflict, witness.ErrBlockConflict, witness.ErrBadRequest} {
				if other != tc.want && errors.Is(err, other) {
					t.Fatalf("%v also matches %v", err, other)
				}
			}
		})
	}
	var ce *witness.ConflictError
	_, err := witness.Check(c.G, lastC, tests[3].req)
	if !errors.As(err, &ce) || ce.Size != lastC.LogSize {
		t.Fatalf("conflict error %v does not carry the witness's size %d", err, lastC.LogSize)
	}
}

// TestRootConflict: the same log size with another root, at a later
// block — a fork that the size comparison alone catches.
func TestRootConflict(t *testing.T) {
	base := witnesstest.New(t, "trial-net", 7)
	grow(t, base, "x", 2, 2)
	a, b := base, base.Fork()
	a.Commit(t, "a1", "a2") // block 3: log 4 → 6 after
	b.Commit(t, "b1", "b2")
	a.Commit(t) // block 4 certifies a's log of 6
	b.Commit(t)
	b.Commit(t) // block 5 certifies b's log of 6, other root
	ca := mustSign(t, a.Checkpoint(t, 4))
	_, err := witness.Check(a.G, ca, &witness.Request{OldSize: ca.LogSize, Checkpoint: b.Checkpoint(t, 5)})
	if !errors.Is(err, witness.ErrRootConflict) || !errors.Is(err, witness.ErrFork) {
		t.Fatalf("got %v, want a root conflict", err)
	}
}

func mustSign(t *testing.T, cp *proof.Checkpoint) *witness.Cosignature {
	t.Helper()
	_, priv, _ := edKey(1)
	c, err := witness.Sign(priv, "regulator", clock(), witness.Latest, cp)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
