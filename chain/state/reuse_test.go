package state

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

// scriptContracts runs call transactions by their method: "put K" writes
// K, "put-fail K" writes K and fails, "see K" records whether K is set.
// It also checks it is handed the member record of the sender.
type scriptContracts struct{ seen []string }

func (s *scriptContracts) Execute(bc BlockContext, ov *Overlay, tx *block.Tx, txHash block.Hash, sender *Member, gasLeft uint64) ([]byte, []block.Event, uint64, error) {
	if sender == nil || !bytes.Equal(sender.Key, tx.Sender) || sender.Name == "" {
		return nil, nil, 0, fmt.Errorf("sender record %+v", sender)
	}
	p, err := block.DecodeCall(tx.Payload)
	if err != nil {
		return nil, nil, 0, err
	}
	var verb, k string
	fmt.Sscan(p.Method, &verb, &k)
	key := []byte("s" + k)
	switch verb {
	case "put":
		ov.Set(key, []byte("v-"+k))
	case "put-fail":
		ov.Set(key, []byte("v-"+k))
		return nil, nil, 10, errors.New("failed after writing")
	case "see":
		v, ok, err := ov.Get(key)
		if err != nil {
			return nil, nil, 0, err
		}
		s.seen = append(s.seen, fmt.Sprintf("%s=%v:%s", k, ok, v))
	}
	return nil, nil, 10, nil
}

func callTx(nonce uint64, method string) *block.Tx {
	tx := &block.Tx{ChainID: "c1", Nonce: nonce, Kind: block.KindCall, GasLimit: 100_000,
		Payload: (&block.CallPayload{Method: method}).Encode()}
	return tx
}

// TestApplyReusedTxOverlay: Apply runs every transaction of a block in
// one child overlay, reset before each. What a failed transaction wrote
// must be gone for the next one and from the result; what a successful
// one wrote must stay visible after the child is reused.
func TestApplyReusedTxOverlay(t *testing.T) {
	sc := &scriptContracts{}
	ex := &Executor{Params: params, Contracts: sc}
	var txs []*block.Tx
	for i, m := range []string{"put-fail x", "see x", "put y", "see y", "put-fail y2", "see y2", "see y"} {
		tx := callTx(uint64(i+1), m)
		tx.Sign(siteKey)
		txs = append(txs, tx)
	}
	g := genesisState(t)
	res, err := ex.Apply(g, g.Root, mkBlock(txs...))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(sc.seen), "[x=false: y=true:v-y y2=false: y=true:v-y]"; got != want {
		t.Fatalf("seen %s, want %s", got, want)
	}
	var keys []string
	for _, w := range res.Writes {
		if w.Key[0] == 's' {
			keys = append(keys, string(w.Key))
		}
	}
	if got := fmt.Sprint(keys); got != "[sy]" {
		t.Fatalf("contract writes %s, want [sy]", got)
	}
	for i, rc := range res.Receipts {
		if want := i != 0 && i != 4; (rc.Status == block.StatusOK) != want {
			t.Errorf("receipt %d: %s %s", i, rc.Status, rc.Error)
		}
	}
}

// TestOverlaySetCopies: Set keeps its own copies of key and value (one
// buffer holds both), so the caller may reuse its buffers, and appending
// to a returned value cannot reach another write.
func TestOverlaySetCopies(t *testing.T) {
	ov := NewOverlay(MemKV{})
	k, v := []byte("k1"), []byte("value-1")
	ov.Set(k, v)
	k[1], v[0] = '2', 'X'
	ov.Set([]byte("k0"), []byte("zero"))
	got, ok, _ := ov.Get([]byte("k1"))
	if !ok || string(got) != "value-1" {
		t.Fatalf("k1 = %q %v after the caller changed its buffers", got, ok)
	}
	ws := ov.Writes()
	if len(ws) != 2 || string(ws[0].Key) != "k0" || string(ws[1].Key) != "k1" {
		t.Fatalf("writes %v", ws)
	}
	_ = append(ws[1].Key, "zzzz"...) // capped: must not overwrite the value
	if string(ws[1].Value) != "value-1" || cap(ws[1].Key) != len(ws[1].Key) {
		t.Fatalf("value %q, key cap %d", ws[1].Value, cap(ws[1].Key))
	}
}

// TestMemberFlags: memberFlags accepts exactly the records DecodeMember
// accepts, with the same role and revocation, over random mutations of
// valid records.
func TestMemberFlags(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := [][]byte{
		(&Member{Org: "org", Name: "name", Role: block.RoleSite, Since: 7}).Encode(),
		(&Member{Role: block.RoleAdmin, Revoked: true}).Encode(),
		(&Member{Org: string(bytes.Repeat([]byte{'o'}, block.MaxNameBytes)), Name: "n", Role: block.RoleSponsor}).Encode(),
	}
	for i := range 20000 {
		b := bytes.Clone(base[i%len(base)])
		switch rng.IntN(4) {
		case 1:
			b[rng.IntN(len(b))] = byte(rng.Uint32())
		case 2:
			b = b[:rng.IntN(len(b)+1)]
		case 3:
			b = append(b, byte(rng.Uint32()))
		}
		m, err := DecodeMember(nil, b)
		role, revoked, ok := memberFlags(b)
		if ok != (err == nil) {
			t.Fatalf("%x: memberFlags ok %v, DecodeMember %v", b, ok, err)
		}
		if ok && (role != m.Role || revoked != m.Revoked) {
			t.Fatalf("%x: memberFlags %v %v, DecodeMember %v %v", b, role, revoked, m.Role, m.Revoked)
		}
	}
}

// TestTxCacheFIFO: entries are forgotten oldest first however many were
// added (the order's slice is compacted as it goes), and IDs formats the
// hex forms of a remembered transaction's hash and sender.
func TestTxCacheFIFO(t *testing.T) {
	const bound = 50
	c := NewTxCache(params, bound, 1<<30)
	var hashes []block.Hash
	for i := range 1000 {
		tx := anchorTx(siteKey, uint64(i+1), "x")
		_, h, err := c.CheckTx(params, tx.Encode())
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
		for j, old := range hashes {
			_, ok := c.Lookup(old)
			if want := j > i-bound; ok != want {
				t.Fatalf("after %d adds: entry %d remembered %v, want %v", i+1, j, ok, want)
			}
		}
		if len(c.order)-c.head != len(c.entries) || len(c.order) > 2*bound+64 {
			t.Fatalf("after %d adds: order %d (head %d) for %d entries", i+1, len(c.order), c.head, len(c.entries))
		}
	}
	last := hashes[len(hashes)-1]
	id, sender, ok := c.IDs(last)
	if !ok || id != hex.EncodeToString(last[:]) || sender != hex.EncodeToString(pub(siteKey)) {
		t.Fatalf("IDs = %s %s %v", id, sender, ok)
	}
	if id2, _, _ := c.IDs(last); id2 != id {
		t.Fatal("IDs changed")
	}
	_, sender0, _ := c.IDs(hashes[len(hashes)-2])
	if sender0 != sender {
		t.Fatal("one sender, two hex forms")
	}
	if _, _, ok := c.IDs(hashes[0]); ok {
		t.Fatal("IDs of an evicted entry")
	}
	var nilCache *TxCache
	if _, _, ok := nilCache.IDs(last); ok {
		t.Fatal("nil cache has IDs")
	}
}

// TestSenderKeys: the keys checkSender cuts from one buffer are MemberKey
// and NonceKey, and neither can grow into the other.
func TestSenderKeys(t *testing.T) {
	for _, nonce := range []uint64{0, 1, 1 << 40, ^uint64(0)} {
		m, n := senderKeys(pub(siteKey), nonce)
		if !bytes.Equal(m, MemberKey(pub(siteKey))) || !bytes.Equal(n, NonceKey(pub(siteKey), nonce)) {
			t.Fatalf("nonce %d: %x %x", nonce, m, n)
		}
		if cap(m) != len(m) || cap(n) != len(n) {
			t.Fatalf("caps %d/%d, %d/%d", cap(m), len(m), cap(n), len(n))
		}
	}
}

// TestTxCacheForgetThenAddAgain: a forgotten transaction leaves a stale
// slot in the order; added again it gets a new one, and the stale slot's
// eviction must not take the new entry. Order stays bounded however many
// entries are forgotten (the ledger forgets every committed one).
func TestTxCacheForgetThenAddAgain(t *testing.T) {
	c := NewTxCache(params, 4, 1<<30)
	raw := func(n uint64) []byte { return anchorTx(siteKey, n, "f").Encode() }
	_, h1, _ := c.CheckTx(params, raw(1))
	c.Forget([]block.Hash{h1})
	if _, _, err := c.CheckTx(params, raw(1)); err != nil { // h1 again, a new slot
		t.Fatal(err)
	}
	for n := uint64(2); n <= 4; n++ {
		c.CheckTx(params, raw(n))
	}
	c.CheckTx(params, raw(5)) // over the bound: evicts the stale slot of h1, then h1 itself (the oldest live)
	if _, ok := c.Lookup(h1); ok {
		t.Fatal("h1 outlived the bound")
	}
	if st := c.Stats(); st.Entries != 4 || st.Bytes != 4*(int64(len(raw(2)))+entryOverhead) {
		t.Fatalf("stats %+v", st)
	}
	for n := uint64(6); n < 2000; n++ {
		_, h, _ := c.CheckTx(params, raw(n))
		c.Forget([]block.Hash{h})
	}
	if st := c.Stats(); st.Entries != 3 || len(c.order) > 64+2*4 {
		t.Fatalf("after 2000 forgets: %+v, order %d", st, len(c.order))
	}
}
