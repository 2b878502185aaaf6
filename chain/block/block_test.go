package block

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func sampleTx() *Tx {
	tx := &Tx{ChainID: "test-chain", Nonce: 7, Kind: KindAnchor, GasLimit: 1000,
		Payload: (&AnchorPayload{Hash: Sum([]byte("doc")), Label: "protocol v1"}).Encode()}
	tx.Sign(testKey(1))
	return tx
}

// sampleBoundedTx is sampleTx with a validity bound (version 2).
func sampleBoundedTx() *Tx {
	tx := sampleTx()
	tx.ValidUntil = 1_800_000_000_000
	tx.Sign(testKey(1))
	return tx
}

func TestTxRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name    string
		tx      *Tx
		version byte
	}{
		{"no bound (v1)", sampleTx(), TxVersion},
		{"bounded (v2)", sampleBoundedTx(), TxVersionBounded},
		{"bound of 1 ms (v2)", func() *Tx { tx := sampleTx(); tx.ValidUntil = 1; tx.Sign(testKey(1)); return tx }(), TxVersionBounded},
		{"largest bound (v2)", func() *Tx { tx := sampleTx(); tx.ValidUntil = ^uint64(0); tx.Sign(testKey(1)); return tx }(), TxVersionBounded},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := c.tx.Encode()
			if raw[0] != c.version {
				t.Fatalf("encoded as version %d, want %d", raw[0], c.version)
			}
			got, err := DecodeTx(raw)
			if err != nil {
				t.Fatalf("DecodeTx: %v", err)
			}
			if err := got.VerifySignature(); err != nil {
				t.Fatalf("VerifySignature: %v", err)
			}
			if got.ValidUntil != c.tx.ValidUntil {
				t.Fatalf("ValidUntil %d, want %d", got.ValidUntil, c.tx.ValidUntil)
			}
			if !bytes.Equal(got.Encode(), raw) {
				t.Fatalf("re-encoding differs")
			}
			if got.Hash() != c.tx.Hash() {
				t.Fatalf("hash differs")
			}
		})
	}
}

// TestTxBoundedGolden pins the version 2 layout: version 2, the version 1
// fields, the bound big-endian, the signature.
func TestTxBoundedGolden(t *testing.T) {
	v1, v2 := sampleTx().Encode(), sampleBoundedTx().Encode()
	if len(v2) != len(v1)+8 {
		t.Fatalf("version 2 is %d bytes, version 1 %d: want 8 more", len(v2), len(v1))
	}
	body := len(v1) - 64
	if v2[0] != 2 || !bytes.Equal(v2[1:body], v1[1:body]) {
		t.Fatalf("version 2 does not carry the version 1 fields after its version byte")
	}
	if got, want := hex.EncodeToString(v2[body:body+8]), "000001a3185c5000"; got != want {
		t.Fatalf("bound encoded as %s, want %s", got, want)
	}
}

func TestTxAdmissible(t *testing.T) {
	for _, c := range []struct {
		bound uint64
		time  int64
		want  bool
	}{
		{0, 0, true}, {0, 1 << 62, true}, // no bound
		{1000, 999, true}, {1000, 1000, true}, {1000, 1001, false},
		{1000, -1, false}, // a time before 1970 is not within any bound
		{^uint64(0), 1 << 62, true},
	} {
		tx := &Tx{ValidUntil: c.bound}
		if got := tx.Admissible(c.time); got != c.want {
			t.Errorf("bound %d, block time %d: admissible %v, want %v", c.bound, c.time, got, c.want)
		}
		if tx.Expired(c.time) == c.want {
			t.Errorf("bound %d, head time %d: Expired is not the negation of Admissible", c.bound, c.time)
		}
	}
}

// TestTxGolden pins the byte layout: a change here is a wire-format change.
func TestTxGolden(t *testing.T) {
	tx := sampleTx()
	const want = "010a746573742d636861696e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c00000000000000070200000000000003e82c"
	got := hex.EncodeToString(tx.Encode())
	if !strings.HasPrefix(got, want) {
		t.Fatalf("encoding prefix changed:\n got %s\nwant %s…", got[:len(want)], want)
	}
	if len(tx.Encode()) != 1+1+10+32+8+1+8+1+44+64 {
		t.Fatalf("encoded length %d", len(tx.Encode()))
	}
}

func TestTxSignatureBindsEveryField(t *testing.T) {
	mutate := []struct {
		name    string
		f       func(*Tx)
		bounded bool // mutate sampleBoundedTx
	}{
		{"chain id", func(tx *Tx) { tx.ChainID = "other" }, false},
		{"nonce", func(tx *Tx) { tx.Nonce++ }, false},
		{"kind", func(tx *Tx) { tx.Kind = KindCall }, false},
		{"gas", func(tx *Tx) { tx.GasLimit++ }, false},
		{"payload", func(tx *Tx) { tx.Payload = append([]byte{}, tx.Payload...); tx.Payload[0] ^= 1 }, false},
		{"sender", func(tx *Tx) { tx.Sender = testKey(2).Public().(ed25519.PublicKey) }, false},
		{"valid until added", func(tx *Tx) { tx.ValidUntil = 1 }, false},
		{"valid until changed", func(tx *Tx) { tx.ValidUntil++ }, true},
		{"valid until stripped", func(tx *Tx) { tx.ValidUntil = 0 }, true},
	}
	for _, m := range mutate {
		t.Run(m.name, func(t *testing.T) {
			tx := sampleTx()
			if m.bounded {
				tx = sampleBoundedTx()
			}
			m.f(tx)
			if err := tx.VerifySignature(); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("got %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestDecodeTxRejects(t *testing.T) {
	good := sampleTx().Encode()
	// Offsets: version 0, chain id len 1, chain id 2..11, sender 12..43, nonce 44..51, kind 52.
	set := func(i int, v byte) []byte { b := append([]byte(nil), good...); b[i] = v; return b }
	nonMinimal := append([]byte{1, 0x8a, 0x00}, good[2:]...) // length 10 written in two bytes
	boundedGood := sampleBoundedTx().Encode()
	// The bound sits just before the 64-byte signature.
	zeroBound := append([]byte(nil), boundedGood...)
	copy(zeroBound[len(zeroBound)-64-8:], make([]byte, 8))
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"truncated", good[:len(good)-1], ErrTruncated},
		{"trailing", append(append([]byte(nil), good...), 0), ErrTrailing},
		{"bad version", set(0, 3), ErrBadVersion},
		{"version 0", set(0, 0), ErrBadVersion},
		// Version 1 bytes relabelled 2: the signature's first 8 bytes are
		// read as the bound and the signature comes up short.
		{"version 1 read as 2", set(0, 2), ErrTruncated},
		{"version 2 with a bound of 0", zeroBound, ErrBadVersion},
		{"version 2 truncated bound", boundedGood[:len(boundedGood)-64-1], ErrTruncated},
		{"unknown kind", set(52, 99), ErrUnknownKind},
		{"zero kind", set(52, 0), ErrUnknownKind},
		{"non-minimal length", nonMinimal, ErrNonMinimal},
		{"chain id too long", append([]byte{1, 65}, bytes.Repeat([]byte{'a'}, 65)...), ErrTooLarge},
		{"oversized", make([]byte, MaxTxBytes+1), ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeTx(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestPayloadRoundTrips(t *testing.T) {
	key := testKey(3).Public().(ed25519.PublicKey)
	cases := []struct {
		name   string
		enc    []byte
		decode func([]byte) (any, error)
	}{
		{"register", (&RegisterPayload{Key: key, Org: "Site A", Name: "Dr A", Role: RoleSite}).Encode(),
			func(b []byte) (any, error) { return DecodeRegister(b) }},
		{"register rotate", (&RegisterPayload{Key: key, Org: "Site A", Name: "Dr A", Role: RoleSite, Replaces: testKey(4).Public().(ed25519.PublicKey)}).Encode(),
			func(b []byte) (any, error) { return DecodeRegister(b) }},
		{"anchor", (&AnchorPayload{Hash: Sum([]byte("x")), Label: "sap"}).Encode(),
			func(b []byte) (any, error) { return DecodeAnchor(b) }},
		{"anchor scoped", (&AnchorPayload{Hash: Sum([]byte("x")), Label: "sap", Scope: "trial:T1"}).Encode(),
			func(b []byte) (any, error) { return DecodeAnchor(b) }},
		{"deploy", (&DeployPayload{Code: []byte("\x00asm"), Policy: PolicyOwner, Label: "c"}).Encode(),
			func(b []byte) (any, error) { return DecodeDeploy(b) }},
		{"call", (&CallPayload{Contract: Sum([]byte("c")), Method: "enroll", Args: []byte(`{}`)}).Encode(),
			func(b []byte) (any, error) { return DecodeCall(b) }},
		{"upgrade", (&UpgradePayload{Contract: Sum([]byte("c")), Code: []byte("x"), Consent: []byte("s")}).Encode(),
			func(b []byte) (any, error) { return DecodeUpgrade(b) }},
		{"redact", (&RedactPayload{Targets: []Hash{Sum([]byte("b")), Sum([]byte("a"))}, Basis: BasisWithdrawalErasure, Reason: "subject withdrew", Meaning: "approval"}).Encode(),
			func(b []byte) (any, error) { return DecodeRedact(b) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := c.decode(c.enc)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			re := v.(interface{ Encode() []byte }).Encode()
			if !bytes.Equal(re, c.enc) {
				t.Fatalf("re-encoding differs")
			}
			// A payload with an optional tail (anchor scope, rotated key)
			// reads one more byte as the start of that tail: refused as
			// truncated rather than as trailing; either way refused.
			if _, err := c.decode(append(append([]byte(nil), c.enc...), 1)); !errors.Is(err, ErrTrailing) && !errors.Is(err, ErrTruncated) {
				t.Fatalf("trailing byte: got %v", err)
			}
			if _, err := c.decode(c.enc[:len(c.enc)-1]); err == nil {
				t.Fatalf("truncated payload accepted")
			}
		})
	}
}

func TestRegisterRejectsUnknownRole(t *testing.T) {
	enc := (&RegisterPayload{Key: testKey(3).Public().(ed25519.PublicKey), Role: RoleSite}).Encode()
	enc[len(enc)-2] = 42
	if _, err := DecodeRegister(enc); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("got %v", err)
	}
}

func TestDecodeRedactRejects(t *testing.T) {
	a, b := Sum([]byte("a")), Sum([]byte("b"))
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	ok := RedactPayload{Targets: []Hash{a, b}, Basis: BasisMistakenPHI, Reason: "PHI in free text", Meaning: "approval"}
	cases := []struct {
		name string
		p    RedactPayload
		want string
	}{
		{"no targets", RedactPayload{Basis: BasisMistakenPHI, Reason: "r", Meaning: "m"}, "no targets"},
		{"descending targets", RedactPayload{Targets: []Hash{b, a}, Basis: BasisMistakenPHI, Reason: "r", Meaning: "m"}, "ascending"},
		{"duplicate target", RedactPayload{Targets: []Hash{a, a}, Basis: BasisMistakenPHI, Reason: "r", Meaning: "m"}, "ascending"},
		{"unknown basis", RedactPayload{Targets: []Hash{a}, Basis: 9, Reason: "r", Meaning: "m"}, "basis 9"},
		{"no reason", RedactPayload{Targets: []Hash{a}, Basis: BasisMistakenPHI, Reason: " ", Meaning: "m"}, "reason and meaning"},
		{"no meaning", RedactPayload{Targets: []Hash{a}, Basis: BasisMistakenPHI, Reason: "r"}, "reason and meaning"},
		{"too many targets", RedactPayload{Targets: make([]Hash, MaxRedactTargets+1), Basis: BasisMistakenPHI, Reason: "r", Meaning: "m"}, "limit"},
	}
	if _, err := DecodeRedact(ok.Encode()); err != nil {
		t.Fatalf("valid payload refused: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeRedact(c.p.Encode())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}

func sampleCommitted() *Committed {
	txs := [][]byte{sampleTx().Encode(), sampleTx().Encode()}
	h := Header{ChainID: "test-chain", Height: 3, PrevHash: Sum([]byte("p")), Proposer: 1, TimeUnixMilli: 1700000000000,
		TxCount: 2, TxRoot: TxRoot(txs), StateRoot: Sum([]byte("s")), LogSize: 9, LogRoot: Sum([]byte("l"))}
	v := Vote{ChainID: "test-chain", Height: 3, BlockHash: h.Hash()}
	key := testKey(4)
	return &Committed{Block: Block{Header: h, Txs: txs}, Metadata: []byte{1, 2},
		Cert: Certificate{Sigs: []CommitSig{{Validator: 1, Msg: v.Encode(), Sig: ed25519.Sign(key, v.Encode())}}}}
}

func TestCommittedRoundTrip(t *testing.T) {
	c := sampleCommitted()
	raw := c.Encode()
	got, err := DecodeCommitted(raw)
	if err != nil {
		t.Fatalf("DecodeCommitted: %v", err)
	}
	if !bytes.Equal(got.Encode(), raw) || got.Block.Hash() != c.Block.Hash() {
		t.Fatalf("round trip differs")
	}
	v, err := DecodeVote(got.Cert.Sigs[0].Msg)
	if err != nil || v.BlockHash != c.Block.Hash() {
		t.Fatalf("vote: %v", err)
	}
}

// TestDecodeCommittedShared: the same block as DecodeCommitted, its
// transactions slices of the input (no copy), DecodeCommitted's copies.
func TestDecodeCommittedShared(t *testing.T) {
	raw := sampleCommitted().Encode()
	shared, err := DecodeCommittedShared(raw)
	if err != nil {
		t.Fatal(err)
	}
	copied, err := DecodeCommitted(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shared.Encode(), raw) || shared.Block.Hash() != copied.Block.Hash() {
		t.Fatal("shared decoding differs")
	}
	within := func(b []byte) bool {
		return len(b) > 0 && uintptr(unsafe.Pointer(&b[0])) >= uintptr(unsafe.Pointer(&raw[0])) &&
			uintptr(unsafe.Pointer(&b[0])) < uintptr(unsafe.Pointer(&raw[0]))+uintptr(len(raw))
	}
	if !within(shared.Block.Txs[1]) || !within(shared.Cert.Sigs[0].Sig) {
		t.Error("DecodeCommittedShared copied the transactions or signatures")
	}
	if within(copied.Block.Txs[1]) || within(copied.Cert.Sigs[0].Sig) {
		t.Error("DecodeCommitted aliases its input")
	}
	if _, err := DecodeCommittedShared(raw[:len(raw)-1]); err == nil {
		t.Error("a truncated block decoded")
	}
}

func TestCommittedRejectsBodyMismatch(t *testing.T) {
	c := sampleCommitted()
	c.Block.Txs = c.Block.Txs[:1]
	if _, err := DecodeCommitted(c.Encode()); err == nil || !strings.Contains(err.Error(), "transactions") {
		t.Fatalf("got %v", err)
	}
	c = sampleCommitted()
	c.Block.Txs[1] = append([]byte(nil), c.Block.Txs[1]...)
	c.Block.Txs[1][60] ^= 1
	if _, err := DecodeCommitted(c.Encode()); err == nil || !strings.Contains(err.Error(), "root") {
		t.Fatalf("got %v", err)
	}
}

func TestReceiptRoundTrip(t *testing.T) {
	rc := &Receipt{TxHash: Sum([]byte("t")), Height: 5, Index: 2, Status: StatusFailed, GasUsed: 77,
		Result: []byte("r"), Error: "out of gas", Events: []Event{{Type: "anchored", Data: []byte("d")}}}
	got, err := DecodeReceipt(rc.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != rc.Hash() {
		t.Fatal("hash differs")
	}
}

// TestMerkleRootVectors checks RFC 9162 tree hashing on small trees built by hand.
func TestMerkleRootVectors(t *testing.T) {
	leaf := func(h Hash) Hash { return Sum(append([]byte{0}, h[:]...)) }
	node := func(l, r Hash) Hash { return Sum(append(append([]byte{1}, l[:]...), r[:]...)) }
	a, b, c := Sum([]byte("a")), Sum([]byte("b")), Sum([]byte("c"))
	cases := []struct {
		in   []Hash
		want Hash
	}{
		{nil, Sum(nil)},
		{[]Hash{a}, leaf(a)},
		{[]Hash{a, b}, node(leaf(a), leaf(b))},
		{[]Hash{a, b, c}, node(node(leaf(a), leaf(b)), leaf(c))},
	}
	for i, c := range cases {
		if got := MerkleRoot(c.in); got != c.want {
			t.Errorf("case %d: got %s want %s", i, got, c.want)
		}
	}
}

func TestContractAddressDistinct(t *testing.T) {
	k := testKey(1).Public().(ed25519.PublicKey)
	if ContractAddress(k, 1) == ContractAddress(k, 2) {
		t.Fatal("same address for different nonces")
	}
}

func ExampleTx() {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	doc := Sum([]byte("statistical analysis plan v1"))
	tx := &Tx{ChainID: "demo", Nonce: 1, Kind: KindAnchor, GasLimit: 10_000,
		Payload: (&AnchorPayload{Hash: doc, Label: "SAP v1"}).Encode()}
	tx.Sign(key)
	back, err := DecodeTx(tx.Encode())
	fmt.Println(err, back.VerifySignature(), back.Kind)
	// Output: <nil> <nil> anchor
}

func TestDecodePin(t *testing.T) {
	good := PinPayload{Name: "trial-protocol", Contract: Hash{7}, Reason: "the sponsor's audited build"}
	back, err := DecodePin(good.Encode())
	if err != nil || *back != good {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	for _, tc := range []struct {
		name string
		p    PinPayload
	}{
		{"empty name", PinPayload{Contract: Hash{1}, Reason: "r"}},
		{"upper case", PinPayload{Name: "Trial-Protocol", Contract: Hash{1}, Reason: "r"}},
		{"look-alike unicode", PinPayload{Name: "trial-prоtocol", Contract: Hash{1}, Reason: "r"}}, // Cyrillic о
		{"space", PinPayload{Name: "trial protocol", Contract: Hash{1}, Reason: "r"}},
		{"leading dash", PinPayload{Name: "-x", Contract: Hash{1}, Reason: "r"}},
		{"too long", PinPayload{Name: strings.Repeat("a", MaxPinNameBytes+1), Contract: Hash{1}, Reason: "r"}},
		{"zero address", PinPayload{Name: "x", Reason: "r"}},
		{"no reason", PinPayload{Name: "x", Contract: Hash{1}, Reason: "  "}},
	} {
		if _, err := DecodePin(tc.p.Encode()); err == nil {
			t.Errorf("%s: accepted %+v", tc.name, tc.p)
		}
	}
	if _, err := DecodePin(append(good.Encode(), 0)); err == nil {
		t.Error("accepted trailing bytes")
	}
}

func TestCommittedTx(t *testing.T) {
	c := sampleCommitted()
	c.Block.Txs[1] = append([]byte("second "), c.Block.Txs[1]...)
	raw := c.Encode()
	badVersion := append([]byte{2}, raw[1:]...)
	cases := []struct {
		name    string
		raw     []byte
		index   uint64
		want    []byte
		wantErr string
	}{
		{"first", raw, 0, c.Block.Txs[0], ""},
		{"second", raw, 1, c.Block.Txs[1], ""},
		{"beyond the block", raw, 2, nil, "no transaction 2 (it holds 2)"},
		{"huge index", raw, 1 << 62, nil, "no transaction"},
		{"truncated in the transaction", raw[:len(raw)-len(c.Block.Txs[1])-200], 1, nil, "truncated"},
		{"empty", nil, 0, nil, "truncated"},
		{"other version", badVersion, 0, nil, "version 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CommittedTx(tc.raw, tc.index)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("CommittedTx = %x, %v; want %x", got, err, tc.want)
			}
			got[0] ^= 1 // a copy: the block's bytes stay as they were
			if !bytes.Equal(raw, c.Encode()) {
				t.Fatal("CommittedTx returned a slice of the block's buffer")
			}
		})
	}
}
