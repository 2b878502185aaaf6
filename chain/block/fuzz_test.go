package block

import (
	"bytes"
	"testing"
)

// Each fuzz target checks that decoders never panic and that whatever they
// accept re-encodes to the very same bytes (one encoding per value).

func FuzzDecodeTx(f *testing.F) {
	f.Add(sampleTx().Encode())
	f.Add(sampleBoundedTx().Encode())
	f.Add([]byte{1, 0})
	f.Add([]byte{2, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := DecodeTx(b)
		if err != nil {
			return
		}
		if !bytes.Equal(tx.Encode(), b) {
			t.Fatalf("accepted a non-canonical encoding")
		}
		// The version byte says whether a bound is there, and only a
		// bound that is set is encoded.
		if (b[0] == TxVersionBounded) != (tx.ValidUntil != 0) {
			t.Fatalf("version %d decoded with valid-until %d", b[0], tx.ValidUntil)
		}
	})
}

func FuzzDecodeCommitted(f *testing.F) {
	f.Add(sampleCommitted().Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommitted(b)
		// The shared decoder accepts and refuses exactly the same bytes.
		cs, errShared := DecodeCommittedShared(b)
		if (err == nil) != (errShared == nil) {
			t.Fatalf("DecodeCommitted: %v, DecodeCommittedShared: %v", err, errShared)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(c.Encode(), b) {
			t.Fatalf("accepted a non-canonical encoding")
		}
		if !bytes.Equal(cs.Encode(), b) {
			t.Fatalf("the shared decoding re-encodes differently")
		}
		// One transaction read alone is the one the full decoding has.
		for i, want := range c.Block.Txs {
			got, err := CommittedTx(b, uint64(i))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("CommittedTx(%d) = %x, %v; the block holds %x", i, got, err, want)
			}
		}
		if _, err := CommittedTx(b, uint64(len(c.Block.Txs))); err == nil {
			t.Fatalf("CommittedTx beyond the block's %d transactions: no error", len(c.Block.Txs))
		}
	})
}

// FuzzCommittedTx feeds arbitrary bytes and indexes to CommittedTx: it
// returns an error or a transaction within MaxTxBytes, and never panics.
func FuzzCommittedTx(f *testing.F) {
	f.Add(sampleCommitted().Encode(), uint64(0))
	f.Add(sampleCommitted().Encode(), uint64(1))
	f.Fuzz(func(t *testing.T, b []byte, index uint64) {
		tx, err := CommittedTx(b, index)
		if err != nil {
			return
		}
		if len(tx) > MaxTxBytes {
			t.Fatalf("returned %d bytes, over MaxTxBytes", len(tx))
		}
	})
}

func FuzzDecodeReceipt(f *testing.F) {
	f.Add((&Receipt{Events: []Event{{Type: "x"}}}).Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		rc, err := DecodeReceipt(b)
		if err != nil {
			return
		}
		if !bytes.Equal(rc.Encode(), b) {
			t.Fatalf("accepted a non-canonical encoding")
		}
	})
}

func FuzzDecodePayloads(f *testing.F) {
	f.Add(byte(0), (&RegisterPayload{Role: RoleSite}).Encode())
	f.Add(byte(1), (&AnchorPayload{Label: "x"}).Encode())
	f.Add(byte(2), (&DeployPayload{Policy: PolicyOwner}).Encode())
	f.Add(byte(3), (&CallPayload{Method: "m"}).Encode())
	f.Add(byte(4), (&UpgradePayload{}).Encode())
	f.Add(byte(6), (&RedactPayload{Targets: []Hash{{1}, {2}}, Basis: BasisMistakenPHI, Reason: "r", Meaning: "m"}).Encode())
	f.Add(byte(7), (&PinPayload{Name: "trial-protocol", Contract: Hash{1}, Reason: "r"}).Encode())
	f.Add(byte(8), (&ValidatorPayload{Change: []byte{1}, Consent: []byte{2}}).Encode())
	f.Fuzz(func(t *testing.T, which byte, b []byte) {
		var v interface{ Encode() []byte }
		var err error
		switch which % 9 {
		case 0:
			v, err = DecodeRegister(b)
		case 1:
			v, err = DecodeAnchor(b)
		case 2:
			v, err = DecodeDeploy(b)
		case 3:
			v, err = DecodeCall(b)
		case 4:
			v, err = DecodeUpgrade(b)
		case 5:
			v, err = DecodeHeader(b)
		case 6:
			v, err = DecodeRedact(b)
		case 7:
			v, err = DecodePin(b)
		case 8:
			v, err = DecodeValidator(b)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(v.Encode(), b) {
			t.Fatalf("accepted a non-canonical encoding")
		}
	})
}
