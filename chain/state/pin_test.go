package state

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
)

func pinTx(k ed25519.PrivateKey, nonce uint64, name string, addr block.Hash, reason string) *block.Tx {
	tx := &block.Tx{ChainID: "c1", Nonce: nonce, Kind: block.KindPin, GasLimit: 100_000,
		Payload: (&block.PinPayload{Name: name, Contract: addr, Reason: reason}).Encode()}
	tx.Sign(k)
	return tx
}

// TestPinRegistry binds, refuses and rebinds names in the contract
// registry and proves a binding (and an unbound name's absence) against
// the state root.
func TestPinRegistry(t *testing.T) {
	sponsor := key(30)
	real, lookalike, missing := block.Hash{0xaa}, block.Hash{0xbb}, block.Hash{0xcc}
	ws := Genesis(append(append([]Member(nil), testMembers...), Member{Key: pub(sponsor), Org: "Pharma", Name: "sponsor", Role: block.RoleSponsor}))
	// Two contracts exist (their records' content does not matter here).
	ov := NewOverlay(MemKV{})
	for _, w := range ws {
		ov.Set(w.Key, w.Value)
	}
	ov.Set(ContractKey(real), []byte("real"))
	ov.Set(ContractKey(lookalike), []byte("look-alike"))
	kv, err := NewMemState(ov.Writes())
	if err != nil {
		t.Fatal(err)
	}
	// A sponsor may not pin: refused at admission.
	if _, err := NewBatch(params, kv, 0).Add(pinTx(sponsor, 1, "trial-protocol", lookalike, "mine").Encode()); !errors.Is(err, ErrForbidden) {
		t.Fatalf("sponsor pin admitted: %v", err)
	}
	ex := &Executor{Params: params}
	b := mkBlock(
		pinTx(sponsor, 1, "trial-protocol", lookalike, "mine"),           // not an admin
		pinTx(adminKey, 1, "trial-protocol", missing, "typo"),            // no such contract
		pinTx(adminKey, 2, "trial-protocol", real, "audited build v1"),   // ok
		pinTx(adminKey, 3, "trial-protocol", real, "again"),              // already bound to it
		pinTx(adminKey, 4, "trial-protocol", lookalike, "fixes bug #12"), // rebinding: ok, recorded
		pinTx(adminKey, 5, "genome-access", real, "shared deployment"),   // another name
	)
	b.Header.Height, b.Header.TimeUnixMilli = 2, 5000
	res, err := ex.Apply(kv, kv.Root, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		ok    bool
		error string
	}{{false, "may not send"}, {false, "no contract"}, {true, ""}, {false, "already pinned"}, {true, ""}, {true, ""}}
	for i, rc := range res.Receipts {
		if (rc.Status == block.StatusOK) != want[i].ok || !strings.Contains(rc.Error, want[i].error) {
			t.Errorf("tx %d: status %s %q, want ok=%v error with %q", i, rc.Status, rc.Error, want[i].ok, want[i].error)
		}
	}
	kv.Commit(res)

	cur, ok, err := LookupPin(kv, "trial-protocol")
	if err != nil || !ok || cur.Contract != lookalike || cur.Version != 2 || cur.Previous != real || cur.Reason != "fixes bug #12" ||
		!cur.Sender.Equal(pub(adminKey)) || cur.Height != 2 || cur.Index != 4 || cur.TimeUnixMilli != 5000 {
		t.Fatalf("current pin: %+v %v %v", cur, ok, err)
	}
	hist, err := PinHistory(kv, "trial-protocol")
	if err != nil || len(hist) != 2 || hist[0].Contract != real || hist[0].Version != 1 || hist[1].Contract != lookalike {
		t.Fatalf("history: %+v %v", hist, err)
	}
	all, err := Pins(kv)
	if err != nil || len(all) != 2 {
		t.Fatalf("pins: %+v %v", all, err)
	}
	if _, ok, _ := LookupPin(kv, "surgical-records"); ok {
		t.Fatal("an unbound name resolves")
	}
	if h, err := ReadScopeHead(kv, PinScope("trial-protocol")); err != nil || h.Count != 2 {
		t.Fatalf("record set pin:trial-protocol: %+v %v", h, err)
	}

	// The binding and an unbound name's absence are provable.
	p, v, found, err := smt.Prove(kv, kv.Root, PinKey("trial-protocol"))
	if err != nil || !found {
		t.Fatalf("prove: %v %v", found, err)
	}
	if err := p.VerifyValue(kv.Root, PinKey("trial-protocol"), v); err != nil {
		t.Fatal(err)
	}
	if got, err := DecodePin(v); err != nil || got.Contract != lookalike {
		t.Fatalf("proved value: %+v %v", got, err)
	}
	forged := (&Pin{Name: "trial-protocol", Contract: real, Reason: "x", Sender: pub(adminKey), Version: 1}).Encode()
	if err := p.VerifyValue(kv.Root, PinKey("trial-protocol"), forged); err == nil {
		t.Fatal("a forged binding verified")
	}
	p, _, found, err = smt.Prove(kv, kv.Root, PinKey("surgical-records"))
	if err != nil || found || p.VerifyAbsent(kv.Root, PinKey("surgical-records")) != nil {
		t.Fatalf("absence: %v %v", found, err)
	}
}
