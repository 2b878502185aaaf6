package e2e

import (
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/trialchain/trialchain/chain/block"
)

// TestCheckLinear runs the checker on small histories of one or two keys:
// it must accept the linearizable ones and catch the others (a stale read
// after an acknowledged write, a read of a label never written, a read
// that loses a label an earlier read saw).
func TestCheckLinear(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	w := func(key int, label string, call, ret int) linOp {
		return linOp{Client: 0, In: linInput{Key: key, Write: true, Label: label}, Call: at(call), Ret: at(ret)}
	}
	unknown := func(key int, label string, call int, tx byte) linOp {
		op := w(key, label, call, call+1)
		op.Unknown, op.Tx = true, block.Hash{tx}
		return op
	}
	r := func(key int, call, ret int, labels ...string) linOp {
		return linOp{Client: 1, In: linInput{Key: key}, Out: labelSet(labels), Call: at(call), Ret: at(ret)}
	}
	committed := func(h block.Hash) bool { return h == block.Hash{1} } // tx 1 committed, tx 2 did not
	tests := []struct {
		name    string
		ops     []linOp
		want    porcupine.CheckResult
		dropped int
	}{
		{"sequential", []linOp{r(0, 0, 1), w(0, "a", 2, 5), r(0, 6, 7, "a"), w(0, "b", 8, 9), r(0, 10, 11, "a", "b")}, porcupine.Ok, 0},
		{"read concurrent with the write may miss it", []linOp{w(0, "a", 0, 10), r(0, 1, 2), r(0, 3, 4, "a")}, porcupine.Ok, 0},
		{"stale read after an acknowledged write", []linOp{w(0, "a", 0, 5), r(0, 6, 7)}, porcupine.Illegal, 0},
		{"stale read on one key among two", []linOp{w(0, "a", 0, 5), w(1, "x", 0, 5), r(1, 6, 7, "x"), r(0, 6, 7)}, porcupine.Illegal, 0},
		{"read of a label never written", []linOp{w(0, "a", 0, 5), r(0, 6, 7, "a", "ghost")}, porcupine.Illegal, 0},
		{"a label seen, then lost", []linOp{w(0, "a", 0, 10), r(0, 1, 2, "a"), r(0, 3, 4)}, porcupine.Illegal, 0},
		{"unacknowledged write that committed may be seen late", []linOp{unknown(0, "a", 0, 1), r(0, 5, 6), r(0, 50, 51, "a")}, porcupine.Ok, 0},
		{"unacknowledged write that never committed is left out", []linOp{unknown(0, "a", 0, 2), r(0, 5, 6)}, porcupine.Ok, 1},
		{"a write seen that the chain shows never committed", []linOp{unknown(0, "a", 0, 2), r(0, 5, 6, "a")}, porcupine.Illegal, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := checkLinear(tc.ops, committed, 10*time.Second)
			if res.Result != tc.want {
				t.Fatalf("result %v, want %v", res.Result, tc.want)
			}
			if res.Dropped != tc.dropped {
				t.Errorf("dropped %d, want %d", res.Dropped, tc.dropped)
			}
			if res.Ops != len(tc.ops)-tc.dropped {
				t.Errorf("checked %d operations, want %d", res.Ops, len(tc.ops)-tc.dropped)
			}
		})
	}
}

// TestCheckLinearVisualisation writes the porcupine visualisation of a
// history that is not linearizable (what a failed scenario leaves beside
// the report).
func TestCheckLinearVisualisation(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	ops := []linOp{
		{In: linInput{Key: 0, Write: true, Label: "a"}, Call: t0, Ret: t0.Add(5 * time.Millisecond)},
		{Client: 1, In: linInput{Key: 0}, Out: "", Call: t0.Add(6 * time.Millisecond), Ret: t0.Add(7 * time.Millisecond)},
	}
	res := checkLinear(ops, func(block.Hash) bool { return false }, 10*time.Second)
	if res.Result != porcupine.Illegal {
		t.Fatalf("result %v, want Illegal", res.Result)
	}
	p := t.TempDir() + "/v.html"
	if err := porcupine.VisualizePath(linModel, res.Info, p); err != nil {
		t.Fatal(err)
	}
}
