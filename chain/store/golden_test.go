package store

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/state"
)

// goldenChain writes a fixed chain into s: genesis with one admin, three
// blocks of executed anchors (some in a record set, one replayed and so
// failed), and blocks of raw state writes that update and delete keys.
func goldenChain(t testing.TB, s *Store) {
	t.Helper()
	admin := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	const chainID = "golden"
	writes := state.Genesis([]state.Member{{Key: admin.Public().(ed25519.PublicKey), Org: "Net", Name: "admin", Role: block.RoleAdmin}})
	root, nodes, err := state.GenesisRoot(writes)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(block.Sum([]byte(chainID)), writes, root, nodes); err != nil {
		t.Fatal(err)
	}
	ex := &state.Executor{Params: state.Params{ChainID: chainID, MaxTxBytes: 1 << 20, MaxTxGas: 1 << 30}}
	nonce := uint64(0)
	for height := uint64(1); height <= 3; height++ {
		var txs [][]byte
		for i := range 60 {
			nonce++
			p := &block.AnchorPayload{Hash: block.Sum(fmt.Appendf(nil, "doc-%d", nonce)), Label: "doc"}
			if i%10 == 0 {
				p.Scope = "trial:golden"
			}
			tx := &block.Tx{ChainID: chainID, Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000, Payload: p.Encode()}
			tx.Sign(admin)
			txs = append(txs, tx.Encode())
		}
		txs = append(txs, txs[7]) // a replay: a failed receipt
		head := s.Head()
		c := &block.Committed{Block: block.Block{Header: block.Header{ChainID: chainID, Height: height, PrevHash: head.Hash,
			TimeUnixMilli: 1_790_000_000_000 + int64(height), TxCount: uint64(len(txs)), TxRoot: block.TxRoot(txs)}, Txs: txs}}
		res, err := ex.Apply(s, head.StateRoot, &c.Block)
		if err != nil {
			t.Fatal(err)
		}
		if rc := res.Receipts[len(txs)-1]; rc.Status != block.StatusFailed {
			t.Fatalf("block %d: the replay did not fail: %+v", height, rc)
		}
		leaves := make([]block.Hash, len(res.Receipts))
		for i, rc := range res.Receipts {
			leaves[i] = proof.LeafHash(rc.Encode())
		}
		log, err := head.Log.Append(leaves, nil)
		if err != nil {
			t.Fatal(err)
		}
		nh := Head{GenesisHash: head.GenesisHash, Height: height, Hash: c.Block.Hash(), TimeUnixMilli: c.Block.Header.TimeUnixMilli,
			StateRoot: res.StateRoot, Log: log}
		if err := s.Commit(c, res, nh, leaves); err != nil {
			t.Fatal(err)
		}
	}
	var ws []state.Write
	for i := range 100 {
		ws = append(ws, state.Write{Key: fmt.Appendf(nil, "k%03d", i), Value: fmt.Appendf(nil, "v%d", i)})
	}
	commitWrites(t, s, 4, ws)
	ws = ws[:0]
	for i := 0; i < 100; i += 2 {
		ws = append(ws, state.Write{Key: fmt.Appendf(nil, "k%03d", i), Delete: true}, state.Write{Key: fmt.Appendf(nil, "k%03d", i+1), Value: []byte{}})
	}
	commitWrites(t, s, 5, ws)
}

// TestGoldenStore pins every byte Commit stores for a fixed chain (keys
// and values of the whole database, in key order): what a node wrote
// before a change must be what it writes after, or existing stores and
// their replays diverge.
func TestGoldenStore(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	goldenChain(t, s)
	it, err := s.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.New()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		for _, b := range [][]byte{it.Key(), it.Value()} {
			d.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
			d.Write(b)
		}
		n++
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%d:%x", n, d.Sum(nil))
	const want = "3159:71385781d9c3ec36fc3e4e6c5253e0be7a06135f880109871bbca89ac3ee62e8"
	if got != want {
		t.Fatalf("database %s, want %s", got, want)
	}
}
