package ledger

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/internal/cputime"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
)

// anchorChain makes blocks of signed anchors for a one-member chain, and
// verifies each transaction into the cache as admission does, so that
// executing a block checks no signature (as on a validator).
type anchorChain struct {
	g     *genesis.Genesis
	admin ed25519.PrivateKey
	cache *state.TxCache
	nonce uint64
}

func newAnchorChain() *anchorChain {
	admin := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	val := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	g := &genesis.Genesis{ChainID: "ledger-bench", Time: time.UnixMilli(1_790_000_000_000).UTC(), Params: genesis.DefaultParams(),
		Validators: []genesis.Validator{{ID: 1, Name: "node0", Key: genesis.Key(val.Public().(ed25519.PublicKey)), Addr: "mem"}},
		Members:    []genesis.Member{{Name: "admin", Org: "Net", Role: block.RoleAdmin, Key: genesis.Key(admin.Public().(ed25519.PublicKey))}}}
	return &anchorChain{g: g, admin: admin, cache: state.NewTxCache(Params(g), 4096, 64<<20)}
}

// next returns the block after st's head with n anchors, each checked
// as admission checks it: its signature into the cache, its sender and
// nonce against st (whose state cache then holds the answers, as on a
// validator).
func (ac *anchorChain) next(tb testing.TB, st *store.Store, n int) *block.Committed {
	head := st.Head()
	txs := make([][]byte, n)
	for i := range txs {
		ac.nonce++
		doc := block.Sum(binary.BigEndian.AppendUint64(nil, ac.nonce))
		tx := &block.Tx{ChainID: ac.g.ChainID, Nonce: ac.nonce, Kind: block.KindAnchor, GasLimit: 100_000,
			Payload: (&block.AnchorPayload{Hash: doc, Label: "protocol v1"}).Encode()}
		tx.Sign(ac.admin)
		txs[i] = tx.Encode()
		if _, _, err := ac.cache.CheckTx(Params(ac.g), txs[i]); err != nil {
			tb.Fatal(err)
		}
		if err := state.CheckSender(st, tx); err != nil { // admission's reads
			tb.Fatal(err)
		}
	}
	h := head.Height + 1
	return &block.Committed{Block: block.Block{Header: block.Header{ChainID: ac.g.ChainID, Height: h, PrevHash: head.Hash,
		TimeUnixMilli: ac.g.Time.UnixMilli() + int64(h), TxCount: uint64(n), TxRoot: block.TxRoot(txs)}, Txs: txs}}
}

// BenchmarkCommitAnchors commits blocks of 500 anchors (each writes an
// anchor and a nonce key) into a ledger on Pebble in a temporary
// directory, after 40 such blocks (some 40,000 state keys): what a
// validator's Deliver does per block, the transactions admitted before. One op is one block; ns/anchor and allocs/anchor divide it
// by 500, and cpu-ns/anchor is the process's CPU time during the
// commits (Pebble's background work included) per anchor.
// compacted-B/anchor is what Pebble's compactions wrote during them, per
// anchor: with -benchtime=300x or more it shows the compactions' share
// as the store grows.
func BenchmarkCommitAnchors(b *testing.B) {
	const perBlock, before = 500, 40
	st, err := store.Open(filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ac := newAnchorChain()
	l, err := New(ac.g, st, &state.Executor{Params: Params(ac.g), Cache: ac.cache})
	if err != nil {
		b.Fatal(err)
	}
	commit := func(c *block.Committed) {
		if ok, err := l.Commit(c); !ok || err != nil {
			b.Fatalf("commit %d: %v, %v", c.Block.Header.Height, ok, err)
		}
	}
	for range before {
		commit(ac.next(b, st, perBlock))
	}
	b.ReportAllocs()
	var blocks, cpu int64
	compacted0 := st.Stats().CompactedBytes
	for b.Loop() {
		b.StopTimer()
		c := ac.next(b, st, perBlock)
		b.StartTimer()
		t0 := cputime.Process()
		commit(c)
		cpu += int64(cputime.Process() - t0)
		blocks++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(blocks*perBlock), "ns/anchor")
	b.ReportMetric(float64(cpu)/float64(blocks*perBlock), "cpu-ns/anchor")
	b.ReportMetric(float64(st.Stats().CompactedBytes-compacted0)/float64(blocks*perBlock), "compacted-B/anchor")
}
