package bundle

import (
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

// TestExportVerifyBoundedTxs: a bundle whose transactions carry a
// ValidUntil bound (version 2 encodings) exports and verifies like one of
// version 1 transactions.
func TestExportVerifyBoundedTxs(t *testing.T) {
	defer func(v uint64) { fixtureValidUntil = v }(fixtureValidUntil)
	fixtureValidUntil = 1_760_000_000_000 + 3_600_000 // after every block of the fixture
	f := newTrialFixture(t, 1, 0)
	b := roundTrip(t, f.export(t, true))
	v2 := 0
	for _, r := range b.Records {
		if len(r.Tx) > 0 && r.Tx[0] == block.TxVersionBounded {
			v2++
		}
	}
	if v2 == 0 {
		t.Fatal("no version 2 transaction in the bundle")
	}
	res, err := Verify(b, f.fc.g)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	want := Counts{Records: 10, Verified: 10, Transactions: 10, Calls: 6, Consents: 1, Payloads: 2, Checkpoints: 1}
	if res.Counts != want {
		t.Fatalf("counts\n got %+v\nwant %+v", res.Counts, want)
	}
	for _, r := range res.Records {
		if r.Tx != nil && r.Tx.ValidUntil != fixtureValidUntil {
			t.Fatalf("record %s: valid until %d, want %d", r.TxHash, r.Tx.ValidUntil, fixtureValidUntil)
		}
	}
}
