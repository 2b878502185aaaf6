package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/sdk/client"
)

// TestStateProofs: a node proves, at a height, a key's value and a key's
// absence against the state root of a certified checkpoint; sdk/client
// verifies with the genesis alone, and tampered answers fail.
func TestStateProofs(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 4)
	g := c.tn.Genesis
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := httptest.NewServer(c.live()[1].Handler())
	defer srv.Close()
	cl := client.New(srv.URL)

	c.submit(1, 2)
	c.waitTx(1, 30*time.Second)
	_, rc1, err := c.live()[0].store.Tx(block.Sum(c.anchorTx(1)))
	if err != nil {
		t.Fatal(err)
	}
	c.submit(2, 3) // certifies the state after the first anchor's block
	c.waitTx(2, 30*time.Second)
	c.submit(3, 4)
	c.waitTx(3, 30*time.Second)

	doc1 := block.Sum([]byte("doc1"))
	var anchorKey []byte
	if err := c.live()[0].store.Iterate(state.AnchorPrefix(doc1), func(k, v []byte) bool { anchorKey = append([]byte(nil), k...); return false }); err != nil || anchorKey == nil {
		t.Fatalf("anchor key of doc1: %v", err)
	}
	cases := []struct {
		name   string
		key    []byte
		height int64
		found  bool
	}{
		{"member at genesis", state.MemberKey(c.site.Public().(ed25519.PublicKey)), 0, true},
		{"anchor before it was made", anchorKey, int64(rc1.Height - 1), false},
		{"anchor after its block", anchorKey, int64(rc1.Height), true},
		{"anchor, latest certified state", anchorKey, -1, true},
		{"a key never written", []byte("no such key"), -1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vs, err := cl.ProveState(ctx, g, tc.key, tc.height)
			if err != nil {
				t.Fatal(err)
			}
			if vs.Found != tc.found || (tc.height >= 0 && vs.Height != uint64(tc.height)) || vs.Checkpoint.Height() != vs.Height+1 {
				t.Fatalf("found=%v height=%d checkpoint %d", vs.Found, vs.Height, vs.Checkpoint.Height())
			}
			if tc.found {
				want, ok, err := c.live()[0].store.Get(tc.key)
				if err != nil || !ok || string(want) != string(vs.Value) {
					t.Fatalf("proved value %x, stored %x", vs.Value, want)
				}
			}
		})
	}

	// The node is not trusted: a changed value, a claimed absence of a
	// present key, and a flipped sibling are refused.
	vs, err := cl.ProveState(ctx, g, anchorKey, -1)
	if err != nil {
		t.Fatal(err)
	}
	tampered := append([]byte(nil), vs.Value...)
	tampered[0] ^= 1
	if err := client.VerifyState(vs.Checkpoint, vs.Proof, anchorKey, true, tampered); !errors.Is(err, smt.ErrProof) {
		t.Fatalf("changed value: %v", err)
	}
	if err := client.VerifyState(vs.Checkpoint, vs.Proof, anchorKey, false, nil); !errors.Is(err, smt.ErrProof) {
		t.Fatalf("absence of a present key: %v", err)
	}
	if len(vs.Proof.Siblings) > 0 {
		p := *vs.Proof
		p.Siblings = append([]block.Hash(nil), p.Siblings...)
		p.Siblings[0][0] ^= 1
		if err := client.VerifyState(vs.Checkpoint, &p, anchorKey, true, vs.Value); !errors.Is(err, smt.ErrProof) {
			t.Fatalf("flipped sibling: %v", err)
		}
	}
	other, err := cl.VerifiedCheckpoint(ctx, g, vs.Checkpoint.Height()-1)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.VerifyState(other, vs.Proof, anchorKey, true, vs.Value); other.Header.StateRoot != vs.Checkpoint.Header.StateRoot && !errors.Is(err, smt.ErrProof) {
		t.Fatalf("proof against another height's root: %v", err)
	}
	head := c.live()[1].ledger.Head().Height
	var ae *client.APIError
	if _, err := cl.StateProof(ctx, anchorKey, int64(head)); !errors.As(err, &ae) || ae.Code != "not_checkpointed" {
		t.Fatalf("head state: %v", err)
	}
	if _, err := cl.StateProof(ctx, anchorKey, int64(head+5)); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("beyond head: %v", err)
	}
}
