package state

import (
	"errors"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

func scopedAnchorTx(t *testing.T, k ed25519Key, nonce uint64, label, scope string) *block.Tx {
	t.Helper()
	tx := &block.Tx{ChainID: "c1", Nonce: nonce, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Hash: block.Sum([]byte(label)), Label: label, Scope: scope}).Encode()}
	tx.Sign(k)
	return tx
}

type ed25519Key = []byte

func rotateTx(signer ed25519Key, nonce uint64, old, nw ed25519Key, org string, role block.Role) *block.Tx {
	tx := &block.Tx{ChainID: "c1", Nonce: nonce, Kind: block.KindRegister, GasLimit: 100_000,
		Payload: (&block.RegisterPayload{Key: pub(nw), Org: org, Name: "site", Role: role, Replaces: pub(old)}).Encode()}
	tx.Sign(signer)
	return tx
}

func applyBlock(t *testing.T, st *MemState, height uint64, txs ...*block.Tx) *Result {
	t.Helper()
	b := mkBlock(txs...)
	b.Header.Height = height
	res, err := (&Executor{Params: params}).Apply(st, st.Root, b)
	if err != nil {
		t.Fatal(err)
	}
	st.Commit(res)
	return res
}

// TestRecordSets: the chain appends each record to its sets in commit
// order; the head is the hash chain of the entries; a failed transaction
// joins nothing it did not declare; a receipt names its sets.
func TestRecordSets(t *testing.T) {
	st := genesisState(t)
	r := applyBlock(t, st, 1,
		scopedAnchorTx(t, siteKey, 1, "sap", "trial:T1"),
		scopedAnchorTx(t, siteKey, 2, "other", "trial:T2"),
		scopedAnchorTx(t, siteKey, 3, "plain", ""),
		scopedAnchorTx(t, siteKey, 4, "bad name", "trial:with space"),
		scopedAnchorTx(t, siteKey, 5, "reserved", "code:abc"),
	)
	for i, want := range []string{"trial:T1", "trial:T2", "", "", ""} {
		rc := r.Receipts[i]
		var got []string
		for _, e := range rc.Events {
			if e.Type == EventScope && e.Source.IsZero() {
				got = append(got, string(e.Data))
			}
		}
		if strings.Join(got, ",") != want {
			t.Errorf("receipt %d names sets %v, want %q", i, got, want)
		}
	}
	if r.Receipts[3].Status != block.StatusFailed || !strings.Contains(r.Receipts[3].Error, "printable ASCII") ||
		r.Receipts[4].Status != block.StatusFailed || !strings.Contains(r.Receipts[4].Error, "kept by the chain") {
		t.Fatalf("bad set names accepted: %+v %+v", r.Receipts[3], r.Receipts[4])
	}
	applyBlock(t, st, 2, scopedAnchorTx(t, siteKey, 6, "sap v2", "trial:T1"))
	h, err := ReadScopeHead(st, "trial:T1")
	if err != nil || h.Count != 2 {
		t.Fatalf("head %+v %v", h, err)
	}
	es, err := ScopeEntries(st, "trial:T1", 0, h.Count)
	if err != nil {
		t.Fatal(err)
	}
	if HeadOf(es) != h || es[0].Height != 1 || es[0].Index != 0 || es[1].Height != 2 || es[0].Kind != "anchor" {
		t.Fatalf("entries %+v do not hash to the head %+v", es, h)
	}
	if _, err := ScopeEntries(st, "trial:T1", 0, 3); err == nil {
		t.Fatal("a third entry was read")
	}
	if h2, _ := ReadScopeHead(st, "trial:none"); h2.Count != 0 {
		t.Fatal("an unknown set has entries")
	}
}

// TestKeyRotation: a member rotates its own key; the new key inherits the
// organisation and role, the old one is refused from the next transaction
// on; both keys' histories hold the rotation. Rotations that change the
// role, reuse a key or come from a third party are refused.
func TestKeyRotation(t *testing.T) {
	st := genesisState(t)
	newKey := key(9)
	r := applyBlock(t, st, 1,
		rotateTx(siteKey, 1, siteKey, newKey, "", block.RoleSite),
		anchorTx(newKey, 1, "after rotation"),
		anchorTx(siteKey, 2, "old key after rotation"),
	)
	want := []block.Status{block.StatusOK, block.StatusOK, block.StatusFailed}
	for i, rc := range r.Receipts {
		if rc.Status != want[i] {
			t.Fatalf("tx %d: %s %s, want %s", i, rc.Status, rc.Error, want[i])
		}
	}
	if !strings.Contains(r.Receipts[2].Error, "revoked") {
		t.Fatalf("old key refused with %q", r.Receipts[2].Error)
	}
	m, ok, _ := LookupMember(st, pub(newKey))
	old, _, _ := LookupMember(st, pub(siteKey))
	if !ok || m.Role != block.RoleSite || m.Revoked || !old.Revoked {
		t.Fatalf("after rotation: new %+v old %+v", m, old)
	}
	for _, k := range []ed25519Key{siteKey, newKey} {
		if h, _ := ReadScopeHead(st, MemberScope(pub(k))); h.Count != 1 {
			t.Fatalf("membership history of %x has %d entries", pub(k)[:4], h.Count)
		}
	}
	// Refusals, each at admission (the batch a leader assembles) and in execution.
	cases := []struct {
		name string
		tx   *block.Tx
		want error
	}{
		{"role change", rotateTx(adminKey, 2, newKey, key(10), "", block.RoleAdmin), ErrForbidden},
		{"new key already a member", rotateTx(adminKey, 3, newKey, opKey, "", block.RoleSite), ErrForbidden},
		{"third party", rotateTx(opKey, 1, newKey, key(11), "", block.RoleSite), ErrForbidden},
		{"revoked old key", rotateTx(adminKey, 4, siteKey, key(12), "", block.RoleSite), ErrForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewBatch(params, st, 0).Add(c.tx.Encode()); !errors.Is(err, c.want) {
				t.Fatalf("admission: %v, want %v", err, c.want)
			}
		})
	}
}
