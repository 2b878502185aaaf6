package state

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

func key(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
}

var (
	adminKey   = key(1)
	siteKey    = key(2)
	opKey      = key(3)
	revokedKey = key(4)
	strangerK  = key(5)
	params     = Params{ChainID: "c1", MaxTxBytes: block.MaxTxBytes, MaxTxGas: 1_000_000}
)

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

var testMembers = []Member{
	{Key: pub(adminKey), Name: "admin", Role: block.RoleAdmin},
	{Key: pub(siteKey), Name: "site", Role: block.RoleSite},
	{Key: pub(opKey), Name: "op", Role: block.RoleOperator},
	{Key: pub(revokedKey), Name: "gone", Role: block.RoleSite, Revoked: true},
}

func genesisKV() MemKV {
	kv := MemKV{}
	kv.Apply(Genesis(testMembers))
	return kv
}

func genesisState(t testing.TB) *MemState {
	t.Helper()
	m, err := NewMemState(Genesis(testMembers))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func anchorTx(k ed25519.PrivateKey, nonce uint64, label string) *block.Tx {
	tx := &block.Tx{ChainID: "c1", Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Hash: block.Sum([]byte(label)), Label: label}).Encode()}
	tx.Sign(k)
	return tx
}

func TestAdmissionRefusals(t *testing.T) {
	kv := genesisKV()
	used := anchorTx(siteKey, 9, "x")
	kv[string(NonceKey(pub(siteKey), 9))] = nil
	badSig := anchorTx(siteKey, 1, "x")
	badSig.Signature[0] ^= 1
	wrongChain := anchorTx(siteKey, 1, "x")
	wrongChain.ChainID = "other"
	wrongChain.Sign(siteKey)
	lowGas := anchorTx(siteKey, 1, "x")
	lowGas.GasLimit = 10
	lowGas.Sign(siteKey)
	cases := []struct {
		name string
		raw  []byte
		want error
	}{
		{"oversized", make([]byte, block.MaxTxBytes+1), ErrTooLarge},
		{"malformed", []byte{1, 2, 3}, ErrMalformed},
		{"bad signature", badSig.Encode(), ErrBadSignature},
		{"wrong chain", wrongChain.Encode(), ErrWrongChain},
		{"gas below intrinsic", lowGas.Encode(), ErrGasLimit},
		{"unknown sender", anchorTx(strangerK, 1, "x").Encode(), ErrUnknownSender},
		{"revoked sender", anchorTx(revokedKey, 1, "x").Encode(), ErrRevoked},
		{"role not allowed", anchorTx(opKey, 1, "x").Encode(), ErrForbidden},
		{"nonce replayed", used.Encode(), ErrNonceUsed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewBatch(params, kv, 0).Add(c.raw)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestBatchSeesEarlierTransactions(t *testing.T) {
	kv := genesisKV()
	b := NewBatch(params, kv, 0)
	if _, err := b.Add(anchorTx(siteKey, 1, "a").Encode()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add(anchorTx(siteKey, 1, "b").Encode()); !errors.Is(err, ErrNonceUsed) {
		t.Fatalf("second use of nonce in one batch: %v", err)
	}
	// A member registered earlier in the batch may send later in it.
	reg := &block.Tx{ChainID: "c1", Nonce: 1, Kind: block.KindRegister, GasLimit: 100_000,
		Payload: (&block.RegisterPayload{Key: pub(strangerK), Org: "o", Name: "new", Role: block.RoleSponsor}).Encode()}
	reg.Sign(adminKey)
	if _, err := b.Add(reg.Encode()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add(anchorTx(strangerK, 1, "c").Encode()); err != nil {
		t.Fatalf("newly registered member: %v", err)
	}
}

func mkBlock(txs ...*block.Tx) *block.Block {
	raws := make([][]byte, len(txs))
	for i, tx := range txs {
		raws[i] = tx.Encode()
	}
	return &block.Block{Header: block.Header{ChainID: "c1", Height: 1, TimeUnixMilli: 1000, TxCount: uint64(len(raws)), TxRoot: block.TxRoot(raws)}, Txs: raws}
}

func TestApplyDeterministicAndFailedTxLeavesNothing(t *testing.T) {
	ex := &Executor{Params: params}
	b := mkBlock(anchorTx(siteKey, 1, "a"), anchorTx(siteKey, 1, "dup"), anchorTx(opKey, 2, "forbidden"), anchorTx(siteKey, 2, "b"))
	g := genesisState(t)
	r1, err := ex.Apply(g, g.Root, b)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := ex.Apply(genesisState(t), g.Root, b)
	if r1.StateRoot != r2.StateRoot {
		t.Fatal("state roots differ for the same block")
	}
	for i, rc := range r1.Receipts {
		if rc.Hash() != r2.Receipts[i].Hash() {
			t.Fatalf("receipt %d differs", i)
		}
	}
	wantStatus := []block.Status{block.StatusOK, block.StatusFailed, block.StatusFailed, block.StatusOK}
	for i, rc := range r1.Receipts {
		if rc.Status != wantStatus[i] {
			t.Errorf("tx %d: status %s (%s), want %s", i, rc.Status, rc.Error, wantStatus[i])
		}
	}
	kv := genesisKV()
	kv.Apply(r1.Writes)
	anchors, err := Anchors(kv, block.Sum([]byte("dup")))
	if err != nil || len(anchors) != 0 {
		t.Fatalf("failed tx left an anchor: %v %v", anchors, err)
	}
	anchors, _ = Anchors(kv, block.Sum([]byte("a")))
	if len(anchors) != 1 || anchors[0].Label != "a" || anchors[0].Height != 1 {
		t.Fatalf("anchors: %+v", anchors)
	}
}

func TestOverlayIterateMergesInOrder(t *testing.T) {
	base := MemKV{"p1": []byte("b1"), "p3": []byte("b3"), "p5": []byte("b5"), "q": []byte("x")}
	ov := NewOverlay(base)
	ov.Set([]byte("p2"), []byte("o2"))
	ov.Set([]byte("p3"), []byte("o3"))
	ov.Delete([]byte("p5"))
	ov.Set([]byte("p6"), []byte("o6"))
	child := ov.Child()
	child.Set([]byte("p0"), []byte("c0"))
	var got []string
	if err := child.Iterate([]byte("p"), func(k, v []byte) bool { got = append(got, string(k)+"="+string(v)); return true }); err != nil {
		t.Fatal(err)
	}
	want := "p0=c0 p1=b1 p2=o2 p3=o3 p6=o6"
	if s := join(got); s != want {
		t.Fatalf("got %s\nwant %s", s, want)
	}
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

// TestBatchBlockGasLimit: a batch admits transactions while the sum of
// their gas limits fits Params.BlockGasLimit; the next one is ErrBlockFull
// (it waits for the next block), and exactly at the limit is accepted.
func TestBatchBlockGasLimit(t *testing.T) {
	p := Params{ChainID: "c1", MaxTxBytes: block.MaxTxBytes, MaxTxGas: 100_000, BlockGasLimit: 250_000}
	b := NewBatch(p, genesisKV(), 0)
	for n := uint64(1); n <= 2; n++ {
		if _, err := b.Add(anchorTx(siteKey, n, "a").Encode()); err != nil {
			t.Fatalf("tx %d: %v", n, err)
		}
	}
	if _, err := b.Add(anchorTx(siteKey, 3, "a").Encode()); !errors.Is(err, ErrBlockFull) {
		t.Fatalf("third 100,000-gas tx under a 250,000 block limit: %v", err)
	}
	small := &block.Tx{ChainID: "c1", Nonce: 4, Kind: block.KindAnchor, GasLimit: 50_000,
		Payload: (&block.AnchorPayload{Hash: block.Sum([]byte("s")), Label: "s"}).Encode()}
	small.Sign(siteKey)
	if _, err := b.Add(small.Encode()); err != nil { // exactly at the limit
		t.Fatalf("tx filling the block exactly: %v", err)
	}
}

// TestBatchRefusesBlockOfLoops is issue 13's "1,000 transactions × 1e9
// gas in one block": with the default genesis limits (max_tx_gas 1e9,
// block_gas_limit 4e9) a batch admits 4 of them and the rest wait
// (ErrBlockFull). The proposer assembles with a Batch and every follower
// checks a proposal with one (chain/consensus), so no block asks more
// than 4e9 gas: about 4 s of a looping contract (vm TestHostileCalls).
func TestBatchRefusesBlockOfLoops(t *testing.T) {
	p := Params{ChainID: "c1", MaxTxBytes: block.MaxTxBytes, MaxTxGas: 1_000_000_000, BlockGasLimit: 4_000_000_000}
	b := NewBatch(p, genesisKV(), 0)
	admitted, full := 0, 0
	for n := uint64(1); n <= 1000; n++ {
		tx := anchorTx(siteKey, n, "loop")
		tx.GasLimit = 1_000_000_000
		tx.Sign(siteKey)
		switch _, err := b.Add(tx.Encode()); {
		case err == nil:
			admitted++
		case errors.Is(err, ErrBlockFull):
			full++
		default:
			t.Fatalf("tx %d: %v", n, err)
		}
	}
	if admitted != 4 || full != 996 {
		t.Fatalf("admitted %d, block full for %d; want 4 and 996", admitted, full)
	}
}

// countingReader counts the keys its Iterate visits (no seek).
type countingReader struct {
	MemKV
	visited int
}

func (c *countingReader) Iterate(prefix []byte, fn func(k, v []byte) bool) error {
	return c.MemKV.Iterate(prefix, func(k, v []byte) bool { c.visited++; return fn(k, v) })
}

// seekingReader counts the keys its IterateFrom visits.
type seekingReader struct{ countingReader }

func (c *seekingReader) IterateFrom(prefix, start []byte, fn func(k, v []byte) bool) error {
	return c.MemKV.IterateFrom(prefix, start, func(k, v []byte) bool { c.visited++; return fn(k, v) })
}

// TestOverlayIterateFromSeeks: nested overlays over a Seeker visit only
// the base keys >= start (over a plain Reader every key is walked), and
// give the same merge as Iterate filtered at start.
func TestOverlayIterateFromSeeks(t *testing.T) {
	base := MemKV{}
	for i := range 1000 {
		base[fmt.Sprintf("p%04d", i)] = []byte("b")
	}
	base["q"] = []byte("x")
	for _, c := range []struct {
		name     string
		maxVisit int
	}{
		{"seeker", 3},
		{"plain reader", 1001},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r Reader
			var visited *int
			if c.name == "seeker" {
				s := &seekingReader{countingReader{MemKV: base}}
				r, visited = s, &s.visited
			} else {
				p := &countingReader{MemKV: base}
				r, visited = p, &p.visited
			}
			ov := NewOverlay(r)
			ov.Set([]byte("p0998a"), []byte("o"))
			ov.Delete([]byte("p0999"))
			ov.Set([]byte("p0001"), []byte("o")) // below start: not merged
			child := ov.Child()
			child.Set([]byte("p1000"), []byte("c"))
			var got []string
			err := child.IterateFrom([]byte("p"), []byte("p0998"), func(k, v []byte) bool {
				got = append(got, string(k)+"="+string(v))
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			if s, want := join(got), "p0998=b p0998a=o p1000=c"; s != want {
				t.Fatalf("got %s\nwant %s", s, want)
			}
			if *visited > c.maxVisit {
				t.Fatalf("visited %d base keys, want at most %d", *visited, c.maxVisit)
			}
			t.Logf("visited %d base keys", *visited)
		})
	}
}
