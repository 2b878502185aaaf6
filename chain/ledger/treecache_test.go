package ledger

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
)

// TestCachesChangeNothing: a ledger that reads the state tree through a
// cache of its upper levels (a shallow one, so that most reads go past
// it) and a verified-transaction cache reaches the same heads and
// receipts, block by block, as one that reads every node from the store
// and checks every transaction afresh — including a block with a copy of a
// cached transaction whose signature is broken.
func TestCachesChangeNothing(t *testing.T) {
	admin := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	val := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	g := &genesis.Genesis{ChainID: "ledger-test", Time: time.UnixMilli(1_790_000_000_000).UTC(), Params: genesis.DefaultParams(),
		Validators: []genesis.Validator{{ID: 1, Name: "node0", Key: genesis.Key(val.Public().(ed25519.PublicKey)), Addr: "mem"}},
		Members:    []genesis.Member{{Name: "admin", Org: "Net", Role: block.RoleAdmin, Key: genesis.Key(admin.Public().(ed25519.PublicKey))}}}
	open := func(name string, ex *state.Executor) *Ledger {
		st, err := store.Open(filepath.Join(t.TempDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		l, err := New(g, st, ex)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	cache := state.NewTxCache(Params(g), 64, 1<<20)
	cached := open("cached", &state.Executor{Params: Params(g), Cache: cache})
	cached.tree = smt.NewCache(4)
	plain := open("plain", &state.Executor{Params: Params(g)})
	plain.tree = nil

	nonce := uint64(0)
	anchorTx := func() []byte {
		nonce++
		tx := &block.Tx{ChainID: g.ChainID, Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000,
			Payload: (&block.AnchorPayload{Hash: block.Sum([]byte(fmt.Sprint(nonce))), Label: "doc"}).Encode()}
		tx.Sign(admin)
		return tx.Encode()
	}
	for height := uint64(1); height <= 6; height++ {
		var txs [][]byte
		for range 40 {
			txs = append(txs, anchorTx())
		}
		for _, raw := range txs[:20] { // half of them verified before, as at admission
			if _, _, err := cache.CheckTx(Params(g), raw); err != nil {
				t.Fatal(err)
			}
		}
		twin := append([]byte(nil), txs[3]...)
		twin[len(twin)-1] ^= 1
		txs = append(txs, twin, txs[5]) // a forged copy, and a replay of a nonce
		head := plain.Head()
		c := &block.Committed{Block: block.Block{Header: block.Header{ChainID: g.ChainID, Height: height, PrevHash: head.Hash,
			TimeUnixMilli: g.Time.UnixMilli() + int64(height), TxCount: uint64(len(txs)), TxRoot: block.TxRoot(txs)}, Txs: txs}}
		for _, l := range []*Ledger{cached, plain} {
			if ok, err := l.Commit(c); !ok || err != nil {
				t.Fatalf("block %d: %v %v", height, ok, err)
			}
		}
		a, b := cached.Head(), plain.Head()
		if a.Hash != b.Hash || a.StateRoot != b.StateRoot || a.Log.Root() != b.Log.Root() {
			t.Fatalf("block %d: heads differ: %s/%s vs %s/%s", height, a.StateRoot, a.Log.Root(), b.StateRoot, b.Log.Root())
		}
		for i, raw := range txs[len(txs)-2:] {
			ra, err := cached.Store.Receipt(block.Sum(raw))
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 && ra.Status != block.StatusFailed {
				t.Fatalf("block %d: the forged copy executed: %+v", height, ra)
			}
		}
	}
	if st := cache.Stats(); st.Hits == 0 {
		t.Fatalf("the transaction cache was never used: %+v", st)
	}
}
