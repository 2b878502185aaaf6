package contracts_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"testing"

	"fmt"
	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/vm"
	"slices"
	"strings"
	"time"
)

// localChain executes one transaction per block with state.Executor over
// a MemKV: the deterministic core without consensus or storage.
type localChain struct {
	id       string
	ex       *state.Executor
	rt       *contracts.Runtime
	kv       *state.MemState
	height   uint64
	keys     map[string]ed25519.PrivateKey
	receipts []*block.Receipt
	roots    []block.Hash
}

var localRoles = []block.Role{block.RoleAdmin, block.RoleSponsor, block.RoleSite, block.RoleRegulator, block.RoleCommittee}

func newLocalChain(t testing.TB, e *vm.Engine) *localChain {
	c := &localChain{id: "trialchain-contracts-test", keys: map[string]ed25519.PrivateKey{}}
	c.rt = contracts.New(e, c.id)
	c.ex = &state.Executor{Params: state.Params{ChainID: c.id, MaxTxBytes: block.MaxTxBytes, MaxTxGas: 1_000_000_000}, Contracts: c.rt}
	var members []state.Member
	for _, r := range localRoles {
		seed := sha256.Sum256([]byte("trialchain contracts test member " + r.String()))
		k := ed25519.NewKeyFromSeed(seed[:])
		c.keys[r.String()] = k
		members = append(members, state.Member{Key: k.Public().(ed25519.PublicKey), Org: "Org " + r.String(), Name: r.String(), Role: r})
	}
	kv, err := state.NewMemState(state.Genesis(members))
	if err != nil {
		t.Fatal(err)
	}
	c.kv = kv
	return c
}

func (c *localChain) ChainID() string                    { return c.id }
func (c *localChain) Key(role string) ed25519.PrivateKey { return c.keys[role] }
func (c *localChain) State() state.Reader                { return c.kv }
func (c *localChain) Exec(t testing.TB, tx *block.Tx) *block.Receipt {
	t.Helper()
	c.height++
	b := &block.Block{Header: block.Header{ChainID: c.id, Height: c.height, TimeUnixMilli: c.time(c.height)}, Txs: [][]byte{tx.Encode()}}
	res, err := c.ex.Apply(c.kv, c.kv.Root, b)
	if err != nil {
		t.Fatalf("apply block %d: %v", c.height, err)
	}
	c.kv.Commit(res)
	c.receipts = append(c.receipts, res.Receipts[0])
	c.roots = append(c.roots, res.StateRoot)
	if rc := res.Receipts[0]; rc.Status != block.StatusOK {
		// A failed transaction writes its nonce and nothing else.
		if len(res.Writes) != 1 || res.Writes[0].Key[0] != 'n' {
			t.Fatalf("failed %s wrote %d keys", tx.Kind, len(res.Writes))
		}
	}
	return res.Receipts[0]
}

// ExecBlock commits txs in one block and returns their receipts.
func (c *localChain) ExecBlock(t testing.TB, txs ...*block.Tx) []*block.Receipt {
	t.Helper()
	c.height++
	b := &block.Block{Header: block.Header{ChainID: c.id, Height: c.height, TimeUnixMilli: c.time(c.height)}}
	for _, tx := range txs {
		b.Txs = append(b.Txs, tx.Encode())
	}
	res, err := c.ex.Apply(c.kv, c.kv.Root, b)
	if err != nil {
		t.Fatalf("apply block %d: %v", c.height, err)
	}
	c.kv.Commit(res)
	c.receipts = append(c.receipts, res.Receipts...)
	c.roots = append(c.roots, res.StateRoot)
	return res.Receipts
}

// time is the block time at height h: one block a second.
func (c *localChain) time(h uint64) int64 { return 1_790_000_000_000 + int64(h)*1000 }

func (c *localChain) Query(t testing.TB, addr block.Hash, method string, args []byte) ([]byte, string) {
	t.Helper()
	res, err := c.rt.Query(context.Background(), c.kv, state.BlockContext{Height: c.height, TimeUnixMilli: c.time(c.height)}, contracts.Query{Contract: addr, Method: method, Args: args})
	if err != nil {
		t.Fatalf("query %s: %v", method, err)
	}
	if res.Err != nil {
		return nil, res.Err.Error()
	}
	return res.Output, ""
}

func (c *localChain) Methods(t testing.TB, addr block.Hash) []string {
	t.Helper()
	info, err := c.rt.Info(context.Background(), c.kv, addr)
	if err != nil {
		t.Fatal(err)
	}
	return info.Methods
}

// TestScenarioLocal runs the scenario on the executor alone (every
// refused module included). Compiler and interpreter agree is vm's
// TestDifferential; validators agree is TestNetwork.
func TestScenarioLocal(t *testing.T) {
	runScenario(t, newLocalChain(t, newEngine(t, false)), true)
}

// TestNodeFault: a storage failure during a call fails the block, never
// records a receipt that other validators would not.
func TestNodeFault(t *testing.T) {
	c := newLocalChain(t, newEngine(t, false))
	s := &scenario{c: c}
	addr := s.deploy(t, "sponsor", "counter", block.PolicyImmutable, nil)
	tx := s.callTx("site", addr, "get", nil)
	b := &block.Block{Header: block.Header{Height: c.height + 1, TimeUnixMilli: c.time(c.height + 1)}, Txs: [][]byte{tx.Encode()}}
	_, err := c.ex.Apply(failingReader{c.kv, state.StoragePrefix(addr)}, c.kv.Root, b)
	if err == nil || !errors.Is(err, state.ErrNodeFault) {
		t.Fatalf("apply over a failing store: %v", err)
	}
}

type failingReader struct {
	*state.MemState
	prefix []byte
}

func (f failingReader) Get(k []byte) ([]byte, bool, error) {
	if len(k) >= len(f.prefix) && string(k[:len(f.prefix)]) == string(f.prefix) {
		return nil, false, errDisk
	}
	return f.MemState.Get(k)
}

var errDisk = errors.New("disk on fire")

// sortedReader is a state.Reader and state.Seeker over a sorted slice: it
// counts the keys its iterations visit.
type sortedReader struct {
	keys    []string
	m       map[string][]byte
	visited int
}

func newSortedReader(m map[string][]byte) *sortedReader {
	r := &sortedReader{m: m}
	for k := range m {
		r.keys = append(r.keys, k)
	}
	slices.Sort(r.keys)
	return r
}

func (r *sortedReader) Get(k []byte) ([]byte, bool, error) {
	v, ok := r.m[string(k)]
	return v, ok, nil
}

func (r *sortedReader) Iterate(prefix []byte, fn func(k, v []byte) bool) error {
	return r.IterateFrom(prefix, nil, fn)
}

func (r *sortedReader) IterateFrom(prefix, start []byte, fn func(k, v []byte) bool) error {
	from := string(prefix)
	if string(start) > from {
		from = string(start)
	}
	i, _ := slices.BinarySearch(r.keys, from)
	for ; i < len(r.keys) && strings.HasPrefix(r.keys[i], string(prefix)); i++ {
		r.visited++
		if !fn([]byte(r.keys[i]), r.m[r.keys[i]]) {
			return nil
		}
	}
	return nil
}

// TestScanSeeks: a contract scanning 4,000 entries page by page (256 a
// page) visits each stored entry about once — every page seeks to where
// the last ended (before: every page walked from the prefix start, about
// 33,000 visits) — and its gas grows linearly with the entries. (4,000:
// the result stays under the 64 KiB output limit.)
func TestScanSeeks(t *testing.T) {
	c := newLocalChain(t, newEngine(t, false))
	s := &scenario{c: c}
	addr := s.deploy(t, "sponsor", "counter", block.PolicyImmutable, nil)
	c.height++ // the code is active from the next block on
	scan := func(n int) (uint64, int, time.Duration) {
		m := map[string][]byte{}
		for k, v := range c.kv.MemKV {
			m[k] = v
		}
		prefix := state.StoragePrefix(addr)
		for i := range n {
			m[string(prefix)+fmt.Sprintf("p/%06d", i)] = []byte("v")
		}
		r := newSortedReader(m)
		start := time.Now()
		res, err := c.rt.Query(context.Background(), r, state.BlockContext{Height: c.height + 100, TimeUnixMilli: c.time(c.height + 100)},
			contracts.Query{Contract: addr, Method: "scan", Args: []byte(`{"key":"p/"}`), MaxGas: 1 << 40})
		took := time.Since(start)
		if err != nil || res.Err != nil {
			t.Fatalf("scan of %d: %v / %v", n, err, res.Err)
		}
		return res.GasUsed, r.visited, took
	}
	g1, v1, d1 := scan(400)
	g2, v2, d2 := scan(4_000)
	t.Logf("400 entries: %d gas, %d visits, %v; 4,000: %d gas, %d visits, %v", g1, v1, d1, g2, v2, d2)
	if v2 > 4_000+4_000/256+16 {
		t.Errorf("4,000 entries: %d visits, want about 4,000", v2)
	}
	if g2 > 12*g1 {
		t.Errorf("gas not linear: %d for 400, %d for 4,000", g1, g2)
	}
	if d2 > 5*time.Second {
		t.Errorf("4,000 entries took %v", d2)
	}
}
