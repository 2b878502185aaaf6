package block

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
)

// TestDecodeTxOwnsItsBytes: DecodeTx copies its input once and slices the
// byte fields from that copy. The decoded transaction must not change when
// the input buffer is reused, and appending to one field must not reach
// the next (each is capped at its end).
func TestDecodeTxOwnsItsBytes(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	tx := &Tx{ChainID: "alias-chain", Nonce: 3, Kind: KindAnchor, GasLimit: 50_000,
		Payload: (&AnchorPayload{Hash: Sum([]byte("doc")), Label: "l"}).Encode()}
	tx.Sign(key)
	raw := tx.Encode()
	got, err := DecodeTx(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		raw[i] = 0xee
	}
	if !bytes.Equal(got.Encode(), tx.Encode()) || got.VerifySignature() != nil {
		t.Fatal("decoded transaction changed with its input buffer")
	}
	sig := bytes.Clone(got.Signature)
	_ = append(got.Payload, bytes.Repeat([]byte{1}, 200)...)
	_ = append(got.Sender, bytes.Repeat([]byte{2}, 200)...)
	if !bytes.Equal(got.Signature, sig) || !bytes.Equal(got.Payload, tx.Payload) || got.ChainID != "alias-chain" {
		t.Fatal("an append to one field reached another")
	}
	again, err := DecodeTx(tx.Encode())
	if err != nil || again.ChainID != got.ChainID {
		t.Fatalf("second decode: %v", err)
	}
	other := *tx
	other.ChainID = "other-chain"
	other.Sign(key)
	if d, err := DecodeTx(other.Encode()); err != nil || d.ChainID != "other-chain" || got.ChainID != "alias-chain" {
		t.Fatalf("chain ids after another chain's transaction: %v", err)
	}
}

// TestDecodeErrorsNameTheField: field names are formatted only for an
// error, and still name the element of a list that failed.
func TestDecodeErrorsNameTheField(t *testing.T) {
	enc := EncodeTxs([][]byte{[]byte("a"), []byte("bb"), []byte("ccc")})
	for _, c := range []struct {
		in   []byte
		want string
		is   error
	}{
		{enc[:len(enc)-1], "transaction 2: need 3 bytes, have 2", ErrTruncated},
		{enc[:4], "transaction 1: need 2 bytes, have 0", ErrTruncated},
		{enc[:3], "transaction 1 length", ErrTruncated},
		{[]byte{0x80}, "transactions count", ErrTruncated},
		{[]byte{1, 0x80, 0}, "transaction 0 length", ErrNonMinimal},
	} {
		_, err := DecodeTxs(c.in)
		if err == nil || !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("DecodeTxs(%x) = %v, want %q (%v)", c.in, err, c.want, c.is)
		}
	}
	_, err := DecodeAnchor([]byte{1, 2})
	if err == nil || !strings.Contains(err.Error(), "document hash: need 32 bytes") {
		t.Errorf("DecodeAnchor: %v", err)
	}
	p := (&AnchorPayload{Hash: Sum(nil), Label: strings.Repeat("x", 3)}).Encode()
	if _, err := DecodeAnchor(p[:len(p)-1]); err == nil || !strings.Contains(err.Error(), "label: need 3 bytes, have 2") {
		t.Errorf("DecodeAnchor: %v", err)
	}
}

// TestVerifySignaturesReusesOneBuffer: VerifySignatures builds every
// signing message in one buffer (the batch verifier keeps no reference).
// Messages of decreasing and increasing lengths must each be verified as
// their own, and a transaction changed after signing still be caught.
func TestVerifySignaturesReusesOneBuffer(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32))
	var txs []*Tx
	for _, n := range []int{300, 40, 0, 1000, 1, 64} {
		tx := &Tx{ChainID: "sig-chain", Nonce: uint64(n + 1), Kind: KindAnchor, GasLimit: 50_000, Payload: bytes.Repeat([]byte{byte(n)}, n)}
		tx.Sign(key)
		txs = append(txs, tx)
	}
	if errs := VerifySignatures(txs); errs != nil {
		t.Fatalf("valid batch: %v", errs)
	}
	for bad := range txs {
		changed := *txs[bad]
		changed.Payload = append(bytes.Clone(changed.Payload), 'x')
		batch := append([]*Tx(nil), txs...)
		batch[bad] = &changed
		errs := VerifySignatures(batch)
		for i, err := range errs {
			if (err != nil) != (i == bad) {
				t.Fatalf("tx %d changed: tx %d error %v", bad, i, err)
			}
		}
		if errs == nil {
			t.Fatalf("tx %d changed: batch passed", bad)
		}
	}
}
