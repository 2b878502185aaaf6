package proof

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
)

// testNet is a 4-validator genesis with deterministic keys.
type testNet struct {
	g    *genesis.Genesis
	keys []ed25519.PrivateKey
}

func newTestNet(seed byte) *testNet {
	tn := &testNet{g: &genesis.Genesis{ChainID: "proof-test"}}
	for i := 0; i < 4; i++ {
		k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed, byte(i)}, 16))
		tn.keys = append(tn.keys, k)
		tn.g.Validators = append(tn.g.Validators, genesis.Validator{ID: uint64(i + 1), Name: fmt.Sprint("node", i), Key: genesis.Key(k.Public().(ed25519.PublicKey))})
	}
	return tn
}

// certify makes a checkpoint of h signed by the validators with ids.
func (tn *testNet) certify(h block.Header, ids ...uint64) *Checkpoint {
	h.ValidatorsHash = tn.g.ValidatorsHash()
	cp := &Checkpoint{Header: h, Metadata: []byte("view 0 seq 7"), VerSeq: 2}
	for _, id := range ids {
		v := block.Vote{ChainID: tn.g.ChainID, Height: h.Height, BlockHash: h.Hash(), MetadataHash: block.Sum(cp.Metadata), VerSeq: cp.VerSeq}
		msg := v.Encode()
		cp.Cert.Sigs = append(cp.Cert.Sigs, block.CommitSig{Validator: id, Msg: msg, Sig: ed25519.Sign(tn.keys[id-1], msg)})
	}
	return cp
}

func sampleHeader() block.Header {
	return block.Header{ChainID: "proof-test", Height: 42, PrevHash: block.Sum([]byte("41")), Proposer: 2,
		TimeUnixMilli: 1_760_000_000_000, TxCount: 3, TxRoot: block.Sum([]byte("txs")),
		StateRoot: block.Sum([]byte("state")), LogSize: 1234, LogRoot: block.Sum([]byte("log"))}
}

func TestCheckpointRoundTripAndVerify(t *testing.T) {
	tn := newTestNet(1)
	cp := tn.certify(sampleHeader(), 1, 2, 4)
	if err := cp.Verify(tn.g); err != nil {
		t.Fatal(err)
	}
	b := cp.Encode()
	back, err := DecodeCheckpoint(b)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, b)
	}
	if !bytes.Equal(back.Encode(), b) || back.Hash() != cp.Hash() {
		t.Fatal("round trip changed the checkpoint")
	}
	if err := back.Verify(tn.g); err != nil {
		t.Fatal(err)
	}
	if back.Header.LogSize != 1234 || back.Header.StateRoot != block.Sum([]byte("state")) {
		t.Fatalf("header fields: %+v", back.Header)
	}
	var viaJSON Checkpoint
	if err := json.Unmarshal(b, &viaJSON); err != nil || viaJSON.Hash() != cp.Hash() {
		t.Fatalf("json.Unmarshal: %v", err)
	}
}

// TestCheckpointTamper is a table of mutations of cp.json (or of the
// verifier's genesis), each refused with a precise message.
func TestCheckpointTamper(t *testing.T) {
	tn := newTestNet(1)
	cp := tn.certify(sampleHeader(), 1, 2, 3)
	good := cp.Encode()
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	sig := func(i int) map[string]any {
		var m map[string]any
		json.Unmarshal(good, &m)
		return m["certificate"].([]any)[i].(map[string]any)
	}
	flipHex := func(s string, at int) string {
		b := []byte(s)
		if b[at] == '0' {
			b[at] = '1'
		} else {
			b[at] = '0'
		}
		return string(b)
	}
	hdr := func(f func(h *block.Header)) string {
		h := cp.Header
		f(&h)
		return fmt.Sprintf("%x", h.Encode())
	}
	cases := []struct {
		name    string
		json    []byte
		vals    Validators
		decode  string // error from DecodeCheckpoint, or "" if it decodes
		verify  string // error from Verify
		certErr bool   // wraps genesis.ErrCertificate
	}{
		{name: "signature byte", json: edit(func(m map[string]any) {
			s := sig(1)
			s["sig"] = flipHex(s["sig"].(string), 10)
			m["certificate"].([]any)[1] = s
		}), verify: "bad signature of validator 2", certErr: true},
		{name: "signed message", json: edit(func(m map[string]any) {
			s := sig(0)
			s["msg"] = flipHex(s["msg"].(string), len(s["msg"].(string))-20)
			m["certificate"].([]any)[0] = s
		}), verify: "validator 1", certErr: true},
		{name: "signature dropped below quorum", json: edit(func(m map[string]any) {
			m["certificate"] = m["certificate"].([]any)[:2]
		}), verify: "has 2 validator signatures, quorum is 3", certErr: true},
		{name: "signature duplicated", json: edit(func(m map[string]any) {
			c := m["certificate"].([]any)
			m["certificate"] = []any{c[0], c[1], c[1]}
		}), verify: "validator 2 signed twice", certErr: true},
		{name: "signer renamed", json: edit(func(m map[string]any) {
			s := sig(2)
			s["validator"] = 4
			m["certificate"].([]any)[2] = s
		}), verify: "bad signature of validator 4", certErr: true},
		{name: "stranger signer", json: edit(func(m map[string]any) {
			s := sig(2)
			s["validator"] = 9
			m["certificate"].([]any)[2] = s
		}), verify: "signer 9 is not a validator", certErr: true},
		{name: "metadata", json: edit(func(m map[string]any) { m["metadata"] = "00" }), verify: "signed another block", certErr: true},
		{name: "ver_seq", json: edit(func(m map[string]any) { m["ver_seq"] = 3 }), verify: "signed another block", certErr: true},
		{name: "header log root, summary and hash kept", json: edit(func(m map[string]any) {
			m["header"] = hdr(func(h *block.Header) { h.LogRoot[0] ^= 1 })
		}), decode: "log_root"},
		{name: "header log root, summary and hash updated", json: edit(func(m map[string]any) {
			h := cp.Header
			h.LogRoot[0] ^= 1
			m["header"] = hdr(func(x *block.Header) { *x = h })
			m["log_root"] = h.LogRoot.String()
			m["block_hash"] = h.Hash().String()
		}), verify: "signed another block", certErr: true},
		{name: "summary log_size", json: edit(func(m map[string]any) { m["log_size"] = 1235 }), decode: "log_size 1235, header says 1234"},
		{name: "summary state_root", json: edit(func(m map[string]any) { m["state_root"] = block.Hash{}.String() }), decode: "state_root"},
		{name: "summary block_hash", json: edit(func(m map[string]any) { m["block_hash"] = block.Hash{}.String() }), decode: "block_hash"},
		{name: "unknown field", json: edit(func(m map[string]any) { m["trusted"] = true }), decode: "unknown field"},
		{name: "version", json: edit(func(m map[string]any) { m["version"] = 2 }), decode: "version 2"},
		{name: "short signature", json: edit(func(m map[string]any) {
			s := sig(0)
			s["sig"] = s["sig"].(string)[:126]
			m["certificate"].([]any)[0] = s
		}), decode: "63 bytes, want 64"},
		{name: "trailing data", json: append(append([]byte{}, good...), []byte("{}")...), decode: "trailing data"},
		{name: "other genesis", json: good, vals: newTestNet(2).g, verify: "certified by validator set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeCheckpoint(c.json)
			if c.decode != "" {
				if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), c.decode) {
					t.Fatalf("decode: got %v, want ErrCheckpoint mentioning %q", err, c.decode)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			vals := c.vals
			if vals == nil {
				vals = tn.g
			}
			err = got.Verify(vals)
			if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), c.verify) {
				t.Fatalf("verify: got %v, want ErrCheckpoint mentioning %q", err, c.verify)
			}
			if c.certErr != errors.Is(err, genesis.ErrCertificate) {
				t.Fatalf("verify: %v: wraps genesis.ErrCertificate = %v, want %v", err, !c.certErr, c.certErr)
			}
		})
	}
}

func FuzzDecodeCheckpoint(f *testing.F) {
	tn := newTestNet(1)
	f.Add(tn.certify(sampleHeader(), 1, 2, 3).Encode())
	f.Add(tn.certify(block.Header{ChainID: "x", Height: 1}).Encode())
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cp, err := DecodeCheckpoint(b)
		if err != nil {
			if !errors.Is(err, ErrCheckpoint) {
				t.Fatalf("error does not wrap ErrCheckpoint: %v", err)
			}
			return
		}
		// Whatever decodes re-encodes to a checkpoint that decodes to the
		// same value, and verifying it never panics.
		enc := cp.Encode()
		back, err := DecodeCheckpoint(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(back.Encode(), enc) {
			t.Fatal("encoding is not stable")
		}
		_ = cp.Verify(tn.g)
	})
}

// TestCheckpointAcrossSetChange: after validator 5 joins (block 10), a
// checkpoint certified by the new set verifies against the history walked
// from the genesis, not against the genesis set alone.
func TestCheckpointAcrossSetChange(t *testing.T) {
	tn := newTestNet(3)
	k5 := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3, 5}, 16))
	hist := genesis.NewHistory(tn.g)
	add := genesis.Change{Op: genesis.ChangeAdd, Validator: genesis.Validator{ID: 5, Key: genesis.Key(k5.Public().(ed25519.PublicKey)), Addr: "mem"}}
	if err := hist.Apply(add, 10); err != nil {
		t.Fatal(err)
	}
	five := &testNet{g: &genesis.Genesis{ChainID: tn.g.ChainID, Validators: hist.Latest().Validators}, keys: append(tn.keys, k5)}
	h := sampleHeader() // height 42
	cp := five.certify(h, 2, 3, 4, 5)
	if err := cp.Verify(hist); err != nil {
		t.Fatalf("verify against the history: %v", err)
	}
	if err := cp.Verify(tn.g); !errors.Is(err, ErrCheckpoint) {
		t.Fatalf("verify against the genesis set: %v, want ErrCheckpoint", err)
	}
	if err := five.certify(h, 2, 3, 5).Verify(hist); err == nil {
		t.Fatal("3 signatures of a 5-validator set verified")
	}
	h.Height = 9 // before the join: the genesis set is in force
	if err := tn.certify(h, 1, 2, 3).Verify(hist); err != nil {
		t.Fatalf("a checkpoint before the join: %v", err)
	}
}
