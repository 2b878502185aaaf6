package vm

import (
	"context"
	"testing"
)

// TestSameCostInEveryPosition: the same call gives the same gas, output,
// events, writes and memory whatever ran before it on the node: first in
// a block, after other calls to the contract, after failed calls by
// someone else (an abort, a trap, out of gas, a memory grown past the
// snapshot), in a later block on a kept instance, and on a node whose
// engine was just started with empty caches; on both engines.
func TestSameCostInEveryPosition(t *testing.T) {
	ctx := context.Background()
	const method, args = "add", `{"by":5}`
	// The measured call always sees the same state: a fresh KV holding
	// count=2.
	measured := func() *Call {
		kv := NewMemKV()
		if err := kv.Set([]byte("count"), []byte("2")); err != nil {
			t.Fatal(err)
		}
		return baseCall(addrCounter, kv, method, args)
	}
	other := func(method, args string, gas uint64) *Call {
		c := baseCall(addrCounter, NewMemKV(), method, args)
		c.Caller = nil // someone else
		if gas != 0 {
			c.GasLimit = gas
		}
		return c
	}
	before := []struct {
		name  string
		calls []*Call
	}{
		{"first in block", nil},
		{"after calls", []*Call{other("add", `{"by":1}`, 0), other("writes", `{"n":300}`, 0), other("parse", `{"a":[1,2,3]}`, 0)}},
		{"after an abort", []*Call{other("add", `{"by":1}`, 0), other("failAfterWrite", "", 0)}},
		{"after a trap", []*Call{other("parse", `{"a":`, 0)}},
		{"after out of gas", []*Call{other("heavy", `{"n":100000000}`, 3_000_000)}},
		{"after memory growth", []*Call{other("grow", `{"n":8}`, 0)}},
	}
	for _, interp := range []bool{false, true} {
		name := map[bool]string{false: "compiler", true: "interpreter"}[interp]
		t.Run(name, func(t *testing.T) {
			var want *outcome
			check := func(label string, got outcome) {
				t.Helper()
				if got.Code != CodeOK {
					t.Fatalf("%s: %v", label, got)
				}
				if want == nil {
					want = &got
					t.Logf("%s: %v", label, got)
					return
				}
				if got != *want {
					t.Errorf("%s:\n got  %v\n want %v", label, got, *want)
				}
			}
			e := sharedEngine(t, interp)
			m := compile(t, e, "counter")
			grew := false
			for _, b := range before {
				s := e.NewSession(block)
				for _, c := range b.calls {
					if _, err := s.Call(ctx, m, c); err != nil {
						t.Fatal(err)
					}
					if s.insts[addrCounter] == nil { // dropped after its reset: grown past the snapshot
						grew = true
					}
				}
				check(b.name, run(t, s, m, measured()))
				check(b.name+", again", run(t, s, m, measured()))
				if err := s.Close(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if !grew {
				t.Error("no call grew the memory past the snapshot: the replacement path is untested")
			}
			// A node just started: new engine, empty caches, cold instance.
			cfg := DefaultConfig()
			cfg.Interpreter = interp
			cfg.CacheDir = t.TempDir()
			cold, err := NewEngine(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer cold.Close(ctx)
			cm := compile(t, cold, "counter")
			if in := cm.idle.get(); in != nil { // no idle instance either
				_ = in.close(ctx)
			}
			s := cold.NewSession(block)
			check("cold node", run(t, s, cm, measured()))
			_ = s.Close(ctx)
		})
	}
}
