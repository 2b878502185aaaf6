package state

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

func redactTx(k ed25519.PrivateKey, nonce uint64, targets ...block.Hash) *block.Tx {
	tx := &block.Tx{ChainID: "c1", Nonce: nonce, Kind: block.KindRedact, GasLimit: 100_000,
		Payload: (&block.RedactPayload{Targets: targets, Basis: block.BasisMistakenPHI, Reason: "name typed in free text", Meaning: "approval of redaction"}).Encode()}
	tx.Sign(k)
	return tx
}

func TestRedaction(t *testing.T) {
	siteA, siteA2, siteB, reg := key(20), key(21), key(22), key(23)
	kv, err := NewMemState(Genesis([]Member{
		{Key: pub(adminKey), Org: "Operator", Name: "admin", Role: block.RoleAdmin},
		{Key: pub(siteA), Org: "Site A", Name: "a1", Role: block.RoleSite},
		{Key: pub(siteA2), Org: "Site A", Name: "a2", Role: block.RoleSite},
		{Key: pub(siteB), Org: "Site B", Name: "b1", Role: block.RoleSite},
		{Key: pub(reg), Org: "Agency", Name: "r", Role: block.RoleRegulator},
	}))
	if err != nil {
		t.Fatal(err)
	}
	docA, docB, never := block.Sum([]byte("a")), block.Sum([]byte("b")), block.Sum([]byte("never"))
	ex := &Executor{Params: params}
	setup := mkBlock(anchorTx(siteA, 1, "a"), anchorTx(siteB, 1, "b"))
	res, err := ex.Apply(kv, kv.Root, setup)
	if err != nil {
		t.Fatal(err)
	}
	kv.Commit(res)

	b := mkBlock(
		redactTx(siteB, 2, docA),    // another organisation's payload
		redactTx(siteA, 2, never),   // never anchored
		redactTx(siteA2, 1, docA),   // same organisation, other member: allowed
		redactTx(siteA, 3, docA),    // already redacted
		redactTx(adminKey, 1, docB), // admin may redact anything
	)
	b.Header.Height = 2
	res, err = ex.Apply(kv, kv.Root, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		ok    bool
		error string
	}{{false, "anchored by another organisation"}, {false, "not anchored"}, {true, ""}, {false, "already redacted"}, {true, ""}}
	for i, rc := range res.Receipts {
		if (rc.Status == block.StatusOK) != want[i].ok || !strings.Contains(rc.Error, want[i].error) {
			t.Errorf("tx %d: status %s %q, want ok=%v error with %q", i, rc.Status, rc.Error, want[i].ok, want[i].error)
		}
	}
	kv.Commit(res)
	x, ok, err := LookupRedaction(kv, docA)
	if err != nil || !ok {
		t.Fatalf("redaction of docA: %v %v", ok, err)
	}
	if x.Basis != block.BasisMistakenPHI || x.Reason != "name typed in free text" || !x.Sender.Equal(pub(siteA2)) || x.Height != 2 || x.Index != 2 {
		t.Fatalf("redaction record: %+v", x)
	}
	if ev := res.Receipts[2].Events; len(ev) != 1 || ev[0].Type != "payload.redacted" || block.Hash(ev[0].Data) != docA {
		t.Fatalf("events: %+v", ev)
	}
	if anchors, _ := Anchors(kv, docA); len(anchors) != 1 {
		t.Fatal("redaction removed the anchoring: the hash must stay")
	}
	if h, ok := RedactedPayload(RedactionKey(docB)); !ok || h != docB {
		t.Fatal("RedactedPayload does not invert RedactionKey")
	}
	if _, err := NewBatch(params, kv, 0).Add(redactTx(reg, 1, docA).Encode()); err == nil || !strings.Contains(err.Error(), "may not send") {
		t.Fatalf("a regulator may not redact: got %v", err)
	}
}
