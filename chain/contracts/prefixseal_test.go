package contracts_test

import (
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

// TestPrefixSealsWithinBlock: the seal checks of a block skip the
// prefixes its contracts never sealed (loaded once per contract per
// block), and still see a prefix sealed earlier in the same block, while
// a prefix sealed by a call that failed is not sealed. The same calls in
// one block and one block each give the same statuses, errors and gas.
func TestPrefixSealsWithinBlock(t *testing.T) {
	steps := []struct {
		method, args string
		wantErr      string // "": ok
	}{
		{"seal", `{"key":"pre/","prefix":true}`, ""}, // a prefix sealed in an earlier block
		{"put", `{"key":"a/b/c","value":"1"}`, ""},
		{"seal", `{"key":"a/","prefix":true,"then":"del"}`, "vm: sealed"}, // fails: its seal is dropped
		{"put", `{"key":"a/b/c","value":"2"}`, ""},
		{"seal", `{"key":"a/b/","prefix":true}`, ""},
		{"put", `{"key":"a/b/c","value":"3"}`, `vm: sealed: state_set: key "a/b/c" is under the sealed prefix "a/b/…"`},
		{"del", `{"key":"a/b/c"}`, "vm: sealed"},
		{"put", `{"key":"a/c","value":"4"}`, ""},
		{"put", `{"key":"pre/x","value":"5"}`, `under the sealed prefix "pre/…"`},
		{"seal", `{"key":"k/1"}`, ""},
		{"put", `{"key":"k/1","value":"6"}`, `key "k/1" is sealed`},
	}
	type result struct {
		status block.Status
		err    string
		gas    uint64
	}
	var got [2][]result
	for mode, oneBlock := range []bool{false, true} {
		c := newLocalChain(t, newEngine(t, false))
		s := &scenario{c: c}
		addr := s.deploy(t, "admin", "counter", block.PolicyOwner, nil)
		s.ok(t, s.callTx("admin", addr, steps[0].method, steps[0].args))
		var txs []*block.Tx
		for _, st := range steps[1:] {
			txs = append(txs, s.callTx("admin", addr, st.method, st.args))
		}
		var rcs []*block.Receipt
		if oneBlock {
			rcs = c.ExecBlock(t, txs...)
		} else {
			for _, tx := range txs {
				rcs = append(rcs, c.Exec(t, tx))
			}
		}
		for i, rc := range rcs {
			st := steps[i+1]
			if wantOK := st.wantErr == ""; (rc.Status == block.StatusOK) != wantOK || !wantOK && !strings.Contains(rc.Error, st.wantErr) {
				t.Errorf("one block %v: %s %s: %s %q, want error %q", oneBlock, st.method, st.args, rc.Status, rc.Error, st.wantErr)
			}
			got[mode] = append(got[mode], result{rc.Status, rc.Error, rc.GasUsed})
		}
	}
	for i := range got[0] {
		if got[0][i] != got[1][i] {
			t.Errorf("%s %s: a block each %+v, one block %+v", steps[i+1].method, steps[i+1].args, got[0][i], got[1][i])
		}
	}
}
