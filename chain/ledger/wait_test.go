package ledger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
)

// TestWaitReceipt: a waiter is woken by the commit of its transaction and
// gets the receipt stored; one already committed returns at once; one
// whose context ends leaves no registration behind.
func TestWaitReceipt(t *testing.T) {
	admin := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	val := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	g := &genesis.Genesis{ChainID: "ledger-test", Time: time.UnixMilli(1_790_000_000_000).UTC(), Params: genesis.DefaultParams(),
		Validators: []genesis.Validator{{ID: 1, Name: "node0", Key: genesis.Key(val.Public().(ed25519.PublicKey)), Addr: "mem"}},
		Members:    []genesis.Member{{Name: "admin", Org: "Net", Role: block.RoleAdmin, Key: genesis.Key(admin.Public().(ed25519.PublicKey))}}}
	st, err := store.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	l, err := New(g, st, &state.Executor{Params: Params(g)})
	if err != nil {
		t.Fatal(err)
	}
	tx := &block.Tx{ChainID: g.ChainID, Nonce: 1, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Label: "doc"}).Encode()}
	tx.Sign(admin)
	raw := tx.Encode()
	h := block.Sum(raw)

	type result struct {
		rc  *block.Receipt
		err error
	}
	woken := make(chan result, 3)
	for range 3 {
		go func() {
			rc, err := l.WaitReceipt(context.Background(), h)
			woken <- result{rc, err}
		}()
	}
	never, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.WaitReceipt(never, block.Sum([]byte("never sent"))); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for an unknown transaction: %v", err)
	}
	for { // the three waiters are registered
		l.notifMu.Lock()
		n := len(l.waiters[h])
		l.notifMu.Unlock()
		if n == 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	head := l.Head()
	c := &block.Committed{Block: block.Block{Header: block.Header{ChainID: g.ChainID, Height: 1, PrevHash: head.Hash,
		TxCount: 1, TxRoot: block.TxRoot([][]byte{raw})}, Txs: [][]byte{raw}}}
	if _, err := l.Commit(c); err != nil {
		t.Fatal(err)
	}
	stored, err := st.Receipt(h)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		r := <-woken
		if r.err != nil || r.rc.TxHash != h {
			t.Fatalf("waiter: %+v", r)
		}
		// The receipt handed over at the commit is the one stored.
		if got, want := r.rc.Encode(), stored.Encode(); !bytes.Equal(got, want) {
			t.Fatalf("waiter's receipt %x, stored %x", got, want)
		}
	}
	if rc, err := l.WaitReceipt(context.Background(), h); err != nil || rc.Height != 1 {
		t.Fatalf("committed before the wait: %v %v", rc, err)
	}
	l.notifMu.Lock()
	defer l.notifMu.Unlock()
	if len(l.waiters) != 0 {
		t.Fatalf("%d registrations left behind", len(l.waiters))
	}
}
