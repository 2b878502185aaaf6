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
	l, st, g := newWaitLedger(t)
	raw, h := anchorTx(t, g, 1)

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
	commitTx(t, l, g, raw)
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

// TestWatch: a Watch gets the receipt of a commit after it (the one
// stored), not of one before it; Stop and a cancelled Wait leave no
// registration behind.
func TestWatch(t *testing.T) {
	l, st, g := newWaitLedger(t)
	raw1, h1 := anchorTx(t, g, 1)
	raw2, h2 := anchorTx(t, g, 2)

	w1 := l.Watch(h1)
	stopped := l.Watch(h1)
	stopped.Stop()
	commitTx(t, l, g, raw1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := w1.Wait(ctx)
	if err != nil {
		t.Fatalf("watch before the commit: %v", err)
	}
	stored, err := st.Receipt(h1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rc.Encode(), stored.Encode(); !bytes.Equal(got, want) {
		t.Fatalf("watch's receipt %x, stored %x", got, want)
	}
	w1.Stop() // after the commit consumed it: nothing to remove

	late := l.Watch(h1) // committed before the watch: never handed over
	short, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	if _, err := late.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("watch after the commit: %v", err)
	}
	w2 := l.Watch(h2)
	w2.Stop()
	commitTx(t, l, g, raw2)
	select {
	case <-w2.ch:
		t.Fatal("a stopped watch was handed a receipt")
	default:
	}
	l.notifMu.Lock()
	defer l.notifMu.Unlock()
	if len(l.waiters) != 0 {
		t.Fatalf("%d registrations left behind", len(l.waiters))
	}
}

// newWaitLedger is a ledger on a fresh store whose genesis has one
// member (the admin of anchorTx).
func newWaitLedger(t *testing.T) (*Ledger, *store.Store, *genesis.Genesis) {
	t.Helper()
	return newTestLedger(t, nil)
}

// newTestLedger is a ledger on a fresh store whose genesis has one
// validator and one member, the admin (testAdmin), executing with
// contracts (nil: none).
func newTestLedger(t *testing.T, contracts state.Contracts) (*Ledger, *store.Store, *genesis.Genesis) {
	t.Helper()
	val := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	g := &genesis.Genesis{ChainID: "ledger-test", Time: time.UnixMilli(1_790_000_000_000).UTC(), Params: genesis.DefaultParams(),
		Validators: []genesis.Validator{{ID: 1, Name: "node0", Key: genesis.Key(val.Public().(ed25519.PublicKey)), Addr: "mem"}},
		Members:    []genesis.Member{{Name: "admin", Org: "Net", Role: block.RoleAdmin, Key: genesis.Key(testAdmin().Public().(ed25519.PublicKey))}}}
	st, err := store.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	l, err := New(g, st, &state.Executor{Params: Params(g), Contracts: contracts})
	if err != nil {
		t.Fatal(err)
	}
	return l, st, g
}

// testAdmin is the key of newTestLedger's admin.
func testAdmin() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)) }

// anchorTx is an anchor signed by newWaitLedger's admin, and its hash.
func anchorTx(t *testing.T, g *genesis.Genesis, nonce uint64) ([]byte, block.Hash) {
	t.Helper()
	admin := testAdmin()
	tx := &block.Tx{ChainID: g.ChainID, Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Label: "doc"}).Encode()}
	tx.Sign(admin)
	raw := tx.Encode()
	return raw, block.Sum(raw)
}

// commitTx commits the next block, carrying raw alone, at header time 0.
func commitTx(t *testing.T, l *Ledger, g *genesis.Genesis, raw []byte) {
	t.Helper()
	commitTxsAt(t, l, g, 0, raw)
}
