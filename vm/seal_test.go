package vm

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestSeal: a sealed key or prefix refuses every later write and delete
// with CodeSealed, in the same call and in later ones; sealing is
// idempotent, checked and charged; without a seal store state_seal is
// unsupported and writes are not charged for checks. The same script
// gives the same outcomes, gas included, whether the seal stores look
// every prefix up or skip those a PrefixSeals does not hold: loaded once
// for the whole script (as the chain does per block: it holds the
// prefixes of failed calls too) or before every call.
func TestSeal(t *testing.T) {
	modes := []struct {
		name     string
		prefixes func(t *testing.T, seals KV, shared **PrefixSeals) *PrefixSeals
	}{
		{"lookups", func(*testing.T, KV, **PrefixSeals) *PrefixSeals { return nil }},
		{"prefixes per block", func(t *testing.T, seals KV, shared **PrefixSeals) *PrefixSeals {
			if *shared == nil {
				*shared = loadPrefixes(t, seals)
			}
			return *shared
		}},
		{"prefixes per call", func(t *testing.T, seals KV, _ **PrefixSeals) *PrefixSeals { return loadPrefixes(t, seals) }},
	}
	var got [][]outcome
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			var shared *PrefixSeals
			got = append(got, sealScript(t, func(seals KV) *PrefixSeals { return mode.prefixes(t, seals, &shared) }))
		})
	}
	for i := 1; i < len(got); i++ {
		compareOutcomes(t, got[0], got[i])
	}
}

func loadPrefixes(t *testing.T, seals KV) *PrefixSeals {
	t.Helper()
	p, err := LoadPrefixSeals(seals, 100)
	if err != nil || p == nil {
		t.Fatalf("LoadPrefixSeals: %v, %v", p, err)
	}
	return p
}

// sealScript runs TestSeal's calls, its seal stores with prefixes(seals)
// (nil: every prefix looked up), and returns their outcomes.
func sealScript(t *testing.T, prefixes func(seals KV) *PrefixSeals) []outcome {
	ctx := context.Background()
	e := sharedEngine(t, false)
	m := compile(t, e, "counter")
	s := e.NewSession(block)
	defer s.Close(ctx)
	kv := NewMemKV()
	seals := NewMemKV()
	var outcomes []outcome
	call := func(method, args string) outcome {
		t.Helper()
		c := baseCall(addrCounter, kv, method, args)
		// As the chain does: the seals of a failed call are discarded.
		ov := NewOverlay(seals)
		c.Seals = NewSealStore(ov, 7).WithPrefixes(prefixes(ov))
		o := run(t, s, m, c)
		if o.Code == CodeOK {
			if err := ov.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		outcomes = append(outcomes, o)
		return o
	}
	mustOK := func(method, args string) {
		t.Helper()
		if o := call(method, args); o.Code != CodeOK {
			t.Fatalf("%s %s: %v", method, args, o)
		}
	}
	mustSealed := func(method, args, want string) {
		t.Helper()
		before := dumpKV(t, kv)
		o := call(method, args)
		if o.Code != CodeSealed || !strings.Contains(o.Msg, want) {
			t.Fatalf("%s %s: %v, want sealed %q", method, args, o, want)
		}
		if dumpKV(t, kv) != before {
			t.Fatalf("%s %s: a refused write changed state", method, args)
		}
	}

	mustOK("put", `{"key":"entry/T1/crf-1","value":"SYSBP=180"}`)
	mustOK("seal", `{"key":"entry/T1/crf-1"}`)
	mustSealed("put", `{"key":"entry/T1/crf-1","value":"SYSBP=120"}`, `key "entry/T1/crf-1" is sealed`)
	mustSealed("del", `{"key":"entry/T1/crf-1"}`, "is sealed")
	mustOK("put", `{"key":"entry/T1/crf-2","value":"x"}`) // a neighbour is not sealed
	mustOK("seal", `{"key":"entry/T1/crf-1"}`)            // idempotent
	// Sealing an absent key keeps it absent.
	mustOK("seal", `{"key":"decided/r1"}`)
	mustSealed("put", `{"key":"decided/r1","value":"x"}`, "is sealed")
	// Seal then write in the same call.
	mustSealed("seal", `{"key":"same/call","then":"put"}`, "is sealed")
	mustSealed("seal", `{"key":"same/call2","then":"del"}`, "is sealed")
	if ok, _, _ := NewSealStore(seals, 0).Sealed([]byte("same/call")); ok {
		t.Fatal("the seal of a failed call was kept")
	}
	// Prefix: every key under it, present or future; not its siblings.
	mustSealed("seal", `{"key":"entry/T1/x/","prefix":true,"then":"del"}`, "sealed prefix") // a failed call: its seal is dropped
	mustOK("del", `{"key":"entry/T1/x/y"}`)
	mustOK("seal", `{"key":"entry/T1/","prefix":true}`)
	mustSealed("put", `{"key":"entry/T1/crf-2","value":"y"}`, `under the sealed prefix "entry/T1/…"`)
	mustSealed("put", `{"key":"entry/T1/crf-3","value":"new"}`, "sealed prefix")
	mustSealed("del", `{"key":"entry/T1/x/y"}`, "sealed prefix")
	mustSealed("put", `{"key":"entry/T1/","value":"new"}`, "sealed")
	mustOK("put", `{"key":"entry/T10/crf-1","value":"other trial"}`)
	mustOK("put", `{"key":"entry/T1","value":"no separator: not under entry/T1/"}`)
	// A prefix must end with the separator.
	if o := call("seal", `{"key":"entry/T2","prefix":true}`); o.Code != CodeBadInput || !strings.Contains(o.Msg, "must end with") {
		t.Fatalf("prefix without separator: %v", o)
	}
	if o := call("seal", `{"key":"","prefix":true}`); o.Code != CodeBadInput {
		t.Fatalf("empty prefix: %v", o)
	}
	recs, err := Seals(seals)
	if err != nil || len(recs) != 3 || string(recs[0].Key) != "decided/r1" || recs[0].Height != 7 ||
		string(recs[2].Key) != "entry/T1/" || !recs[2].Prefix {
		t.Fatalf("seal records %+v, %v", recs, err)
	}

	// Without a seal store: state_seal is unsupported; writes pay no check.
	c := baseCall(addrCounter, NewMemKV(), "seal", `{"key":"a"}`)
	if o := run(t, s, m, c); o.Code != CodeUnsupported {
		t.Fatalf("seal without a store: %v", o)
	}
	args := `{"key":"a/b/c","value":"v"}`
	run(t, s, m, baseCall(addrCounter, NewMemKV(), "put", args)) // instantiates after the failed call
	plain := run(t, s, m, baseCall(addrCounter, NewMemKV(), "put", args))
	c = baseCall(addrCounter, NewMemKV(), "put", args)
	c.Seals = NewSealStore(NewMemKV(), 1)
	checked := run(t, s, m, c)
	if want := plain.Gas + 3*e.cfg.Gas.SealCheck; checked.Gas != want {
		t.Fatalf("put with seal checks used %d gas, want %d (+3 lookups)", checked.Gas, want)
	}
	outcomes = append(outcomes, plain, checked)
	return outcomes
}

// TestGovern: the govern host function passes the group to Call.Govern,
// fails the call with CodeDenied and the reason when it refuses, and is
// unsupported without it.
func TestGovern(t *testing.T) {
	ctx := context.Background()
	e := sharedEngine(t, false)
	m := compile(t, e, "counter")
	s := e.NewSession(block)
	defer s.Close(ctx)
	c := baseCall(addrCounter, NewMemKV(), "govern", `{"group":"g1"}`)
	if o := run(t, s, m, c); o.Code != CodeUnsupported {
		t.Fatalf("govern without a governor: %v", o)
	}
	var got []string
	c.Govern = func(g string) error {
		got = append(got, g)
		if g != "g1" {
			return errors.New("not this group")
		}
		return nil
	}
	if o := run(t, s, m, c); o.Code != CodeOK || len(got) != 1 {
		t.Fatalf("govern g1: %v %v", o, got)
	}
	c.Args = []byte(`{"group":"g2"}`)
	if o := run(t, s, m, c); o.Code != CodeDenied || !strings.Contains(o.Msg, "not this group") {
		t.Fatalf("govern g2: %v", o)
	}
}

func dumpKV(t *testing.T, kv KV) string {
	t.Helper()
	var b strings.Builder
	if err := kv.Iterate(nil, nil, func(k, v []byte) bool {
		b.WriteString(string(k) + "=" + string(v) + ";")
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// countingKV counts the lookups of a KV.
type countingKV struct {
	KV
	gets int
}

func (c *countingKV) Get(k []byte) ([]byte, bool, error) {
	c.gets++
	return c.KV.Get(k)
}

// TestSealedLookups: Sealed gives the same answer with and without a
// PrefixSeals, and with one looks up the key and only the
// separator-prefixes the PrefixSeals holds; a load over its bound gives
// nil (every prefix looked up).
func TestSealedLookups(t *testing.T) {
	seals := NewMemKV()
	st := NewSealStore(seals, 1)
	for _, s := range []struct {
		key    string
		prefix bool
	}{{"entry/T1/crf-1", false}, {"absent/k", false}, {"entry/T2/", true}, {"done/T1/S1/", true}} {
		if err := st.Seal([]byte(s.key), s.prefix); err != nil {
			t.Fatal(err)
		}
	}
	loaded, err := LoadPrefixSeals(seals, 2)
	if err != nil || loaded == nil {
		t.Fatalf("LoadPrefixSeals: %v, %v", loaded, err)
	}
	if p, err := LoadPrefixSeals(seals, 1); p != nil || err != nil {
		t.Fatalf("LoadPrefixSeals over its bound: %v, %v; want nil", p, err)
	}
	// A superset: a prefix sealed by a call that failed.
	superset, _ := LoadPrefixSeals(seals, 10)
	superset.add([]byte("entry/T3/"))
	cases := []struct {
		key    string
		sealed bool
		by     string
		gets   map[string]int // lookups per PrefixSeals: none, loaded, superset
	}{
		{"entry/T1/crf-1", true, "entry/T1/crf-1", map[string]int{"none": 1, "loaded": 1, "superset": 1}},
		{"entry/T1/crf-2", false, "", map[string]int{"none": 3, "loaded": 1, "superset": 1}},
		{"entry/T2/crf-1", true, "entry/T2/…", map[string]int{"none": 3, "loaded": 2, "superset": 2}},
		{"entry/T3/crf-1", false, "", map[string]int{"none": 3, "loaded": 1, "superset": 2}},
		{"done/T1/S1/v1/f", true, "done/T1/S1/…", map[string]int{"none": 4, "loaded": 2, "superset": 2}},
		{"done/T1/S2/v1/f", false, "", map[string]int{"none": 5, "loaded": 1, "superset": 1}},
		{"absent/k", true, "absent/k", map[string]int{"none": 1, "loaded": 1, "superset": 1}},
		{"noseparator", false, "", map[string]int{"none": 1, "loaded": 1, "superset": 1}},
		{"", false, "", map[string]int{"none": 1, "loaded": 1, "superset": 1}},
	}
	for _, c := range cases {
		for _, p := range []struct {
			name string
			p    *PrefixSeals
		}{{"none", nil}, {"loaded", loaded}, {"superset", superset}} {
			kv := &countingKV{KV: seals}
			sealed, by, err := NewSealStore(kv, 1).WithPrefixes(p.p).Sealed([]byte(c.key))
			if err != nil || sealed != c.sealed || by != c.by {
				t.Errorf("%q, %s: sealed %v by %q (%v), want %v by %q", c.key, p.name, sealed, by, err, c.sealed, c.by)
			}
			if kv.gets != c.gets[p.name] {
				t.Errorf("%q, %s: %d lookups, want %d", c.key, p.name, kv.gets, c.gets[p.name])
			}
			if max := int(sealLookups([]byte(c.key))); kv.gets > max {
				t.Errorf("%q, %s: %d lookups, more than the %d charged", c.key, p.name, kv.gets, max)
			}
		}
	}
}
