package consensus

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	bft "github.com/hyperledger-labs/SmartBFT/pkg/types"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
)

// TestVerifyProposalRefusals: a follower refuses (does not sign) a
// proposal with a bad parent, a bad timestamp, a bad header or any
// transaction that fails admission; the leader's own proposal passes.
func TestVerifyProposalRefusals(t *testing.T) {
	g, keys, site := testGenesis(4)
	led, dir := testLedger(t, g)
	now := time.Unix(1800000000, 0)
	rep, err := New(Config{SelfID: 2, Key: keys[1], Genesis: g, Ledger: led, WALDir: filepath.Join(dir, "wal"),
		Clock: fixedClock{now}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := [][]byte{anchor(site, 1), anchor(site, 2)}
	base := rep.AssembleProposal(nil, good)
	if _, err := rep.VerifyProposal(base); err != nil {
		t.Fatalf("a well-formed proposal is refused: %v", err)
	}
	header := func(f func(h *block.Header)) func(p *bft.Proposal) {
		return func(p *bft.Proposal) {
			h, err := block.DecodeHeader(p.Header)
			if err != nil {
				t.Fatal(err)
			}
			f(h)
			p.Header = h.Encode()
		}
	}
	withTxs := func(txs ...[]byte) func(p *bft.Proposal) {
		return func(p *bft.Proposal) {
			h, _ := block.DecodeHeader(p.Header)
			h.TxCount, h.TxRoot = uint64(len(txs)), block.TxRoot(txs)
			p.Header, p.Payload = h.Encode(), block.EncodeTxs(txs)
		}
	}
	wrongChain := &block.Tx{ChainID: "other", Nonce: 9, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Label: "x"}).Encode()}
	wrongChain.Sign(site)
	badSig := anchor(site, 3)
	badSig[len(badSig)-1] ^= 1
	stranger := ed25519.NewKeyFromSeed(make([]byte, 32))
	unknown := &block.Tx{ChainID: "test", Nonce: 4, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Label: "x"}).Encode()}
	unknown.Sign(stranger)
	unauthorised := &block.Tx{ChainID: "test", Nonce: 5, Kind: block.KindRegister, GasLimit: 100_000,
		Payload: (&block.RegisterPayload{Key: stranger.Public().(ed25519.PublicKey), Org: "x", Name: "x", Role: block.RoleAdmin}).Encode()}
	unauthorised.Sign(site)

	tests := []struct {
		name   string
		mutate func(p *bft.Proposal)
		want   error
	}{
		{"parent hash", header(func(h *block.Header) { h.PrevHash[0] ^= 1 }), ErrBadParent},
		{"height gap", header(func(h *block.Header) { h.Height = 5 }), ErrBadParent},
		{"timestamp before parent", header(func(h *block.Header) { h.TimeUnixMilli = g.Time.UnixMilli() - 1 }), ErrBadTimestamp},
		{"timestamp ahead of clock", header(func(h *block.Header) { h.TimeUnixMilli = now.Add(time.Minute).UnixMilli() }), ErrBadTimestamp},
		{"state root", header(func(h *block.Header) { h.StateRoot[3] ^= 1 }), ErrBadHeader},
		{"record log", header(func(h *block.Header) { h.LogSize = 7 }), ErrBadHeader},
		{"validator set", header(func(h *block.Header) { h.ValidatorsHash[0] ^= 1 }), ErrBadHeader},
		{"chain id", header(func(h *block.Header) { h.ChainID = "other" }), ErrBadHeader},
		{"proposer", header(func(h *block.Header) { h.Proposer = 99 }), ErrBadHeader},
		{"tx root", header(func(h *block.Header) { h.TxRoot[0] ^= 1 }), ErrBadHeader},
		{"undecodable header", func(p *bft.Proposal) { p.Header = p.Header[:10] }, ErrBadHeader},
		{"undecodable payload", func(p *bft.Proposal) { p.Payload = append(p.Payload, 0) }, ErrBadTx},
		{"bad signature", withTxs(good[0], badSig), ErrBadTx},
		{"wrong chain tx", withTxs(wrongChain.Encode()), ErrBadTx},
		{"replayed nonce in batch", withTxs(good[0], good[0]), ErrBadTx},
		{"unknown sender", withTxs(unknown.Encode()), ErrBadTx},
		{"unauthorised kind", withTxs(unauthorised.Encode()), ErrBadTx},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := bft.Proposal{Header: append([]byte(nil), base.Header...), Payload: append([]byte(nil), base.Payload...), Metadata: base.Metadata}
			tc.mutate(&p)
			if _, err := rep.VerifyProposal(p); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestVerifyConsenterSig: a vote must be by a validator, over this exact
// proposal, with a valid signature.
func TestVerifyConsenterSig(t *testing.T) {
	g, keys, site := testGenesis(4)
	led, dir := testLedger(t, g)
	reps := make([]*Replica, 2)
	for i := range reps {
		var err error
		if reps[i], err = New(Config{SelfID: uint64(i + 1), Key: keys[i], Genesis: g, Ledger: led, WALDir: filepath.Join(dir, "wal", string(rune('a'+i)))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	p := reps[0].AssembleProposal(nil, [][]byte{anchor(site, 1)})
	other := reps[0].AssembleProposal(nil, [][]byte{anchor(site, 2)})
	sig := reps[1].SignProposal(p, []byte("aux"))
	if aux, err := reps[0].VerifyConsenterSig(*sig, p); err != nil || string(aux) != "aux" {
		t.Fatalf("valid vote refused: %v", err)
	}
	forged := *sig
	forged.Value = append([]byte(nil), sig.Value...)
	forged.Value[0] ^= 1
	stranger := *sig
	stranger.ID = 42
	for name, tc := range map[string]struct {
		s bft.Signature
		p bft.Proposal
	}{"forged": {forged, p}, "not a validator": {stranger, p}, "other proposal": {*sig, other}} {
		if _, err := reps[0].VerifyConsenterSig(tc.s, tc.p); err == nil {
			t.Errorf("%s: vote accepted", name)
		}
	}
}

// TestVerifyProposalCachedTwin: the cache of verified transactions never
// makes a follower sign what it has not verified. A transaction the
// follower verified (a forwarded request) and a copy with the same
// payload, sender and nonce but a broken signature are different bytes
// with different hashes: a proposal carrying the copy is refused, the copy
// is not remembered, and the refusal names the first bad transaction
// whatever the number of workers that verify the proposal.
func TestVerifyProposalCachedTwin(t *testing.T) {
	g, keys, site := testGenesis(4)
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cache := state.NewTxCache(ledger.Params(g), 1000, 1<<20)
	led, err := ledger.New(g, st, &state.Executor{Params: ledger.Params(g), Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1800000000, 0)
	rep, err := New(Config{SelfID: 2, Key: keys[1], Genesis: g, Ledger: led, WALDir: filepath.Join(dir, "wal"),
		Clock: fixedClock{now}, TxCache: cache}, nil)
	if err != nil {
		t.Fatal(err)
	}
	twin := func(raw []byte) []byte {
		b := append([]byte(nil), raw...)
		b[len(b)-1] ^= 1
		return b
	}
	var txs [][]byte
	for i := range 24 {
		txs = append(txs, anchor(site, uint64(i+1)))
	}
	for _, raw := range txs {
		if _, err := rep.VerifyRequest(raw); err != nil { // as a forwarded request would be
			t.Fatal(err)
		}
	}
	if st := cache.Stats(); st.Entries != len(txs) {
		t.Fatalf("%d cached after %d verified requests", st.Entries, len(txs))
	}
	base := rep.AssembleProposal(nil, txs)
	withTxs := func(txs [][]byte) bft.Proposal {
		h, _ := block.DecodeHeader(base.Header)
		h.TxCount, h.TxRoot = uint64(len(txs)), block.TxRoot(txs)
		return bft.Proposal{Header: h.Encode(), Payload: block.EncodeTxs(txs), Metadata: base.Metadata}
	}
	replace := func(at map[int][]byte) [][]byte {
		out := append([][]byte(nil), txs...)
		for i, b := range at {
			out[i] = b
		}
		return out
	}
	fresh := anchor(site, 99) // never seen: verified in the proposal
	for _, tc := range []struct {
		name    string
		txs     [][]byte
		wantIdx int // -1: accepted
	}{
		{"all cached", txs, -1},
		{"twin of a cached transaction", replace(map[int][]byte{5: twin(txs[5])}), 5},
		{"twin of an uncached transaction", replace(map[int][]byte{3: twin(fresh)}), 3},
		{"two bad, the first is named", replace(map[int][]byte{20: twin(txs[20]), 11: twin(txs[11])}), 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first string
			for _, procs := range []int{1, 2, 8} {
				prev := runtime.GOMAXPROCS(procs)
				_, err := rep.VerifyProposal(withTxs(tc.txs))
				runtime.GOMAXPROCS(prev)
				if tc.wantIdx < 0 {
					if err != nil {
						t.Fatalf("GOMAXPROCS %d: refused: %v", procs, err)
					}
					continue
				}
				if !errors.Is(err, ErrBadTx) || !errors.Is(err, state.ErrBadSignature) {
					t.Fatalf("GOMAXPROCS %d: got %v, want a bad signature refusal", procs, err)
				}
				if want := fmt.Sprintf("transaction %d (%s)", tc.wantIdx, block.Sum(tc.txs[tc.wantIdx])); !strings.Contains(err.Error(), want) {
					t.Fatalf("GOMAXPROCS %d: %v does not name %s", procs, err, want)
				}
				if first == "" {
					first = err.Error()
				} else if err.Error() != first {
					t.Fatalf("GOMAXPROCS %d: error %q, with 1 worker %q", procs, err, first)
				}
				if _, ok := cache.Lookup(block.Sum(tc.txs[tc.wantIdx])); ok {
					t.Fatal("the forged transaction was cached")
				}
			}
		})
	}
	// The good transactions still execute from the cache; the twin is not
	// executed as if it were the original.
	c := &block.Committed{Block: block.Block{Header: block.Header{Height: 1}, Txs: [][]byte{twin(txs[0]), txs[0]}}}
	res, err := led.Executor.Apply(st, led.Head().StateRoot, &c.Block)
	if err != nil {
		t.Fatal(err)
	}
	if rc := res.Receipts[0]; rc.Status != block.StatusFailed || !strings.Contains(rc.Error, "bad signature") {
		t.Fatalf("twin executed: %+v", rc)
	}
	if rc := res.Receipts[1]; rc.Status != block.StatusOK {
		t.Fatalf("cached original failed: %+v", rc)
	}
}

// testLedger opens a ledger of g over a Pebble store in a temp dir (closed
// at the test's end) and returns it with the directory, for the
// replica's WAL beside it.
func testLedger(t testing.TB, g *genesis.Genesis) (*ledger.Ledger, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	led, err := ledger.New(g, st, &state.Executor{Params: ledger.Params(g)})
	if err != nil {
		t.Fatal(err)
	}
	return led, dir
}

// testFollower returns replica 2 of g (key is its key) over led, not
// started, with its WAL in walDir and a fixed clock.
func testFollower(t testing.TB, g *genesis.Genesis, key ed25519.PrivateKey, led Ledger, walDir string) *Replica {
	t.Helper()
	rep, err := New(Config{SelfID: 2, Key: key, Genesis: g, Ledger: led, WALDir: walDir,
		Clock: fixedClock{time.Unix(1800000000, 0)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// coldProposal returns a follower replica and a proposal of n anchors it
// never saw (its cache is emptied before each use), with txsAt to put
// other transactions in the proposal under the same header.
func coldProposal(t testing.TB, n int) (*Replica, [][]byte, func(txs [][]byte) bft.Proposal) {
	t.Helper()
	g, keys, site := testGenesis(4)
	led, dir := testLedger(t, g)
	rep := testFollower(t, g, keys[1], led, filepath.Join(dir, "wal"))
	txs := make([][]byte, n)
	for i := range txs {
		txs[i] = anchor(site, uint64(i+1))
	}
	base := rep.AssembleProposal(nil, txs)
	if h, _ := block.DecodeHeader(base.Header); h.TxCount != uint64(n) {
		t.Fatalf("the leader proposes %d of %d anchors", h.TxCount, n)
	}
	withTxs := func(txs [][]byte) bft.Proposal {
		h, _ := block.DecodeHeader(base.Header)
		h.TxCount, h.TxRoot = uint64(len(txs)), block.TxRoot(txs)
		return bft.Proposal{Header: h.Encode(), Payload: block.EncodeTxs(txs), Metadata: base.Metadata}
	}
	return rep, txs, withTxs
}

// TestVerifyProposalColdBatch: a proposal of transactions the follower has
// not seen is verified in signature batches; with one bad signature (or a
// bad one and a later failure) among many, it is refused with exactly the
// error a one-at-a-time check gives (ErrBadTx, the index, the hash and
// CheckTx's error), on any number of cores; only the transactions that
// passed are remembered.
func TestVerifyProposalColdBatch(t *testing.T) {
	const n = 300
	rep, txs, withTxs := coldProposal(t, n)
	badSig := func(raw []byte) []byte {
		b := append([]byte(nil), raw...)
		b[len(b)-10] ^= 1
		return b
	}
	replace := func(at map[int][]byte) [][]byte {
		out := append([][]byte(nil), txs...)
		for i, b := range at {
			out[i] = b
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		txs     [][]byte
		wantIdx int // -1: accepted
	}{
		{"all new, all good", txs, -1},
		{"one bad signature, first", replace(map[int][]byte{0: badSig(txs[0])}), 0},
		{"one bad signature among many", replace(map[int][]byte{157: badSig(txs[157])}), 157},
		{"one bad signature, last", replace(map[int][]byte{n - 1: badSig(txs[n-1])}), n - 1},
		{"a bad signature, then a replayed nonce", replace(map[int][]byte{200: badSig(txs[200]), 201: txs[3]}), 200},
		{"a replayed nonce, then a bad signature", replace(map[int][]byte{20: txs[3], 201: badSig(txs[201])}), 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := ""
			if tc.wantIdx >= 0 {
				raw := tc.txs[tc.wantIdx]
				_, cause := state.CheckTx(rep.params, raw)
				if cause == nil { // a stateful failure: the replayed nonce
					cause = fmt.Errorf("%w: %d", state.ErrNonceUsed, 4)
				}
				want = fmt.Sprintf("%v: transaction %d (%s): %v", ErrBadTx, tc.wantIdx, block.Sum(raw), cause)
			}
			pass := make([]bool, len(tc.txs))
			for i, raw := range tc.txs {
				_, err := state.CheckTx(rep.params, raw)
				pass[i] = err == nil
			}
			for _, procs := range []int{1, 2, 8} {
				cache := state.NewTxCache(rep.params, 4*n, 1<<30)
				rep.cfg.TxCache = cache
				prev := runtime.GOMAXPROCS(procs)
				_, err := rep.VerifyProposal(withTxs(tc.txs))
				runtime.GOMAXPROCS(prev)
				if got := fmt.Sprint(err); (err == nil) != (want == "") || (err != nil && got != want) {
					t.Fatalf("GOMAXPROCS %d: %v, want %q", procs, err, want)
				}
				if err != nil && !errors.Is(err, ErrBadTx) {
					t.Fatalf("GOMAXPROCS %d: %v is not ErrBadTx", procs, err)
				}
				for i, raw := range tc.txs {
					if _, ok := cache.Lookup(block.Sum(raw)); ok && !pass[i] {
						t.Fatalf("GOMAXPROCS %d: transaction %d, which fails CheckTx, cached", procs, i)
					} else if !ok && i < max(tc.wantIdx, 0) {
						t.Fatalf("GOMAXPROCS %d: transaction %d, before the failure, not cached", procs, i)
					}
				}
			}
		})
	}
}
