package doctor

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
)

func valKey(id uint64) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, fmt.Sprintf("validator-%d", id))
	return ed25519.NewKeyFromSeed(seed)
}

var siteKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

func testGenesis() *genesis.Genesis {
	g := &genesis.Genesis{ChainID: "doctor-test", Time: time.UnixMilli(1_790_000_000_000).UTC(), Params: genesis.DefaultParams(),
		Members: []genesis.Member{{Name: "site", Org: "Site", Role: block.RoleSite, Key: genesis.Key(siteKey.Public().(ed25519.PublicKey))}}}
	for id := uint64(1); id <= 4; id++ {
		g.Validators = append(g.Validators, genesis.Validator{ID: id, Name: fmt.Sprintf("node%d", id),
			Key: genesis.Key(valKey(id).Public().(ed25519.PublicKey)), Addr: fmt.Sprintf("127.0.0.1:%d", 7000+id)})
	}
	return g
}

func anchorTx(g *genesis.Genesis, nonce uint64) []byte {
	tx := &block.Tx{ChainID: g.ChainID, Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Hash: block.Sum([]byte(fmt.Sprint("doc", nonce))), Label: "doc"}).Encode()}
	tx.Sign(siteKey)
	return tx.Encode()
}

// chain writes a certified chain of blocks (two anchors each) into a new
// store in dir and returns the store and the blocks, plus one more
// certified block that is not stored (the successor a peer has).
func chain(t *testing.T, g *genesis.Genesis, dir string, blocks int) (*store.Store, []*block.Committed) {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	led, err := ledger.New(g, s, &state.Executor{Params: ledger.Params(g)})
	if err != nil {
		t.Fatal(err)
	}
	var out []*block.Committed
	nonce := uint64(1)
	for h := uint64(1); h <= uint64(blocks)+1; h++ {
		txs := [][]byte{anchorTx(g, nonce), anchorTx(g, nonce+1)}
		nonce += 2
		head := s.Head()
		c := &block.Committed{Block: block.Block{Header: block.Header{ChainID: g.ChainID, Height: h, PrevHash: head.Hash,
			Proposer: 1, TimeUnixMilli: g.Time.UnixMilli() + int64(h)*1000, TxCount: uint64(len(txs)), TxRoot: block.TxRoot(txs),
			StateRoot: head.StateRoot, LogSize: head.Log.Size, LogRoot: head.Log.Root(), ValidatorsHash: g.Set().Hash()}, Txs: txs},
			Metadata: []byte{byte(h)}}
		v := block.Vote{ChainID: g.ChainID, Height: h, BlockHash: c.Block.Hash(), MetadataHash: block.Sum(c.Metadata)}
		msg := v.Encode()
		for id := uint64(1); id <= 3; id++ {
			c.Cert.Sigs = append(c.Cert.Sigs, block.CommitSig{Validator: id, Msg: msg, Sig: ed25519.Sign(valKey(id), msg)})
		}
		out = append(out, c)
		if h <= uint64(blocks) {
			if _, err := led.Commit(c); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s, out
}

// peers is a Source of in-memory peers: honest ones serve the certified
// blocks, a liar alters each block's header time, a dead one fails.
type peers struct {
	blocks []*block.Committed
	kind   map[uint64]string // "honest", "liar", "dead"
	order  []uint64
	asked  map[uint64]int
}

func (p *peers) Peers() []uint64 { return p.order }

func (p *peers) Blocks(_ context.Context, peer, from uint64, max int) ([]*block.Committed, error) {
	p.asked[peer]++
	if p.kind[peer] == "dead" {
		return nil, errors.New("not connected")
	}
	var out []*block.Committed
	for h := from; h <= uint64(len(p.blocks)) && len(out) < max; h++ {
		c, err := block.DecodeCommitted(p.blocks[h-1].Encode())
		if err != nil {
			return nil, err
		}
		if p.kind[peer] == "liar" {
			c.Block.Header.TimeUnixMilli += 7
		}
		out = append(out, c)
	}
	return out, nil
}

// TestRebuild alters a store the ways Check finds (a block's header, a
// receipt, a state value) and rebuilds it with honest, lying and dead
// peers: the rebuilt store passes Check, holds the certified values, and
// refuses what liars sent; with only liars and dead peers it fails with
// ErrNoVerifiableCopy and writes nothing usable.
func TestRebuild(t *testing.T) {
	g := testGenesis()
	doc3 := block.Sum([]byte("doc3"))
	tx4 := block.Sum(anchorTx(g, 4))
	cases := []struct {
		name    string
		tamper  func(s *store.Store) error
		peers   map[uint64]string
		fetched uint64
		refused int
		wantErr error
	}{
		{"state value, no peers needed", func(s *store.Store) error { return s.TamperAnchorLabel(doc3, "altered") }, nil, 0, 0, nil},
		{"receipt", func(s *store.Store) error {
			return s.TamperReceipt(tx4, func(rc *block.Receipt) { rc.GasUsed++ })
		}, map[uint64]string{2: "dead"}, 0, 0, nil},
		{"header time, liar then honest", func(s *store.Store) error {
			return s.TamperBlock(2, func(c *block.Committed) { c.Block.Header.TimeUnixMilli -= 3_600_000 })
		}, map[uint64]string{2: "liar", 3: "dead", 4: "honest"}, 1, 1, nil},
		{"head block body", func(s *store.Store) error {
			return s.TamperBlock(5, func(c *block.Committed) { c.Block.Txs = c.Block.Txs[:1] })
		}, map[uint64]string{2: "honest"}, 1, 0, nil},
		{"header time, only liars", func(s *store.Store) error {
			return s.TamperBlock(3, func(c *block.Committed) { c.Block.Header.TimeUnixMilli++ })
		}, map[uint64]string{2: "liar", 3: "dead", 4: "liar"}, 0, 2, ErrNoVerifiableCopy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, blocks := chain(t, g, filepath.Join(dir, "db"), 5)
			defer s.Close()
			before := Check(g, s)
			if !before.OK() {
				t.Fatalf("untouched: %v", before.Problems)
			}
			if err := tc.tamper(s); err != nil {
				t.Fatal(err)
			}
			if Check(g, s).OK() {
				t.Fatal("the tampering went unnoticed")
			}
			var src Source
			if tc.peers != nil {
				p := &peers{blocks: blocks, kind: tc.peers, asked: map[uint64]int{}}
				for id := uint64(2); id <= 4; id++ {
					if _, ok := tc.peers[id]; ok {
						p.order = append(p.order, id)
					}
				}
				src = p
			}
			tmp, err := store.RepairDir(filepath.Join(dir, "db"))
			if err != nil {
				t.Fatal(err)
			}
			dst, err := store.Open(tmp)
			if err != nil {
				t.Fatal(err)
			}
			defer dst.Close()
			rb := &Rebuild{Genesis: g, Damaged: s, Executor: &state.Executor{Params: ledger.Params(g)}, Source: src}
			rep, err := rb.Run(context.Background(), dst)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || len(rep.Refused) < tc.refused {
					t.Fatalf("want %v with %d refusals, got %v, %+v", tc.wantErr, tc.refused, err, rep)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			refusals := 0
			for _, r := range rep.Refused {
				if strings.Contains(r, "does not verify") {
					refusals++
				}
			}
			if rep.Head != 5 || rep.Fetched != tc.fetched || rep.Local != 5-tc.fetched || refusals != tc.refused {
				t.Fatalf("report %+v, want %d fetched, %d refusals", rep, tc.fetched, tc.refused)
			}
			if chk := Check(g, dst); !chk.OK() || chk.Receipts != 10 {
				t.Fatalf("rebuilt store: %+v", chk)
			}
			if h := dst.Head(); h.Hash != blocks[4].Block.Hash() || h.StateRoot != blocks[5].Block.Header.StateRoot {
				t.Fatalf("rebuilt head %d %s, want the certified block 5", h.Height, h.Hash)
			}
			as, err := state.Anchors(dst, doc3)
			if err != nil || len(as) != 1 || as[0].Label != "doc" {
				t.Fatalf("anchor of doc3 in the rebuilt store: %+v %v", as, err)
			}
		})
	}
}

// TestRebuildDiverged: a certified successor whose roots differ from the
// re-executed ones (here: a different executor) is ErrDiverged, not a
// peer's fault.
func TestRebuildDiverged(t *testing.T) {
	g := testGenesis()
	dir := t.TempDir()
	s, _ := chain(t, g, filepath.Join(dir, "db"), 3)
	defer s.Close()
	dst, err := store.Open(filepath.Join(dir, "db2"))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	p := ledger.Params(g)
	p.MaxTxGas = 1 // every anchor now fails: other receipts, another log
	_, err = (&Rebuild{Genesis: g, Damaged: s, Executor: &state.Executor{Params: p}}).Run(context.Background(), dst)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("want ErrDiverged, got %v", err)
	}
}

// BenchmarkRebuild rebuilds a store of 26 blocks of 200 anchors each
// (5200 transactions) from its own blocks: the cost of a repair is a
// replay of the chain.
func BenchmarkRebuild(b *testing.B) {
	g := testGenesis()
	dir := b.TempDir()
	s, err := store.Open(filepath.Join(dir, "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	led, err := ledger.New(g, s, &state.Executor{Params: ledger.Params(g)})
	if err != nil {
		b.Fatal(err)
	}
	nonce := uint64(1)
	for h := uint64(1); h <= 26; h++ {
		var txs [][]byte
		for range 200 {
			txs = append(txs, anchorTx(g, nonce))
			nonce++
		}
		head := s.Head()
		c := &block.Committed{Block: block.Block{Header: block.Header{ChainID: g.ChainID, Height: h, PrevHash: head.Hash,
			TimeUnixMilli: g.Time.UnixMilli() + int64(h)*1000, TxCount: uint64(len(txs)), TxRoot: block.TxRoot(txs),
			StateRoot: head.StateRoot, LogSize: head.Log.Size, LogRoot: head.Log.Root(), ValidatorsHash: g.Set().Hash()}, Txs: txs}}
		v := block.Vote{ChainID: g.ChainID, Height: h, BlockHash: c.Block.Hash(), MetadataHash: block.Sum(c.Metadata)}
		msg := v.Encode()
		for id := uint64(1); id <= 3; id++ {
			c.Cert.Sigs = append(c.Cert.Sigs, block.CommitSig{Validator: id, Msg: msg, Sig: ed25519.Sign(valKey(id), msg)})
		}
		if _, err := led.Commit(c); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		dst, err := store.Open(filepath.Join(dir, fmt.Sprint("r", i)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := (&Rebuild{Genesis: g, Damaged: s, Executor: &state.Executor{Params: ledger.Params(g)}}).Run(context.Background(), dst); err != nil {
			b.Fatal(err)
		}
		dst.Close()
	}
}
