package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/sdk/client"
)

// TestProofAPIEndToEnd runs a 4-validator cluster, fetches proofs over the
// HTTP API from one node and verifies them with sdk/client and nothing but
// the genesis: every record's inclusion under a certified checkpoint, a
// saved cp.json extended by the later log, and refusals of a tampered
// checkpoint, a tampered proof and a forked history.
func TestProofAPIEndToEnd(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 4)
	g := c.tn.Genesis
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	c.submit(1, 31)
	c.waitTx(30, 60*time.Second)
	srv := httptest.NewServer(c.live()[0].Handler())
	defer srv.Close()
	cl := client.New(srv.URL)

	// The newest block is not covered by a checkpoint until the next one.
	last := block.Sum(c.anchorTx(30))
	if _, err := cl.ProveTx(ctx, g, last); !errors.Is(err, client.ErrNotCheckpointed) {
		t.Fatalf("tx of the newest block: %v, want ErrNotCheckpointed", err)
	}
	c.submit(31, 32)
	c.waitTx(31, 60*time.Second)

	var cp1 *proof.Checkpoint
	for nonce := uint64(1); nonce <= 30; nonce++ {
		h := block.Sum(c.anchorTx(nonce))
		rec, err := cl.ProveTx(ctx, g, h)
		if err != nil {
			t.Fatalf("tx %d: %v", nonce, err)
		}
		if rec.Receipt.TxHash != h || rec.Receipt.Status != block.StatusOK {
			t.Fatalf("tx %d: receipt %+v", nonce, rec.Receipt)
		}
		// The same record by leaf index.
		byLeaf, err := cl.LeafInclusionProof(ctx, rec.Proof.LeafIndex, rec.Checkpoint.Header.LogSize)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.VerifyRecord(rec.Checkpoint, byLeaf, h); err != nil {
			t.Fatalf("tx %d by leaf %d: %v", nonce, rec.Proof.LeafIndex, err)
		}
		cp1 = rec.Checkpoint
	}

	// A tampered proof hash is refused, naming the leaf.
	p, err := cl.InclusionProof(ctx, block.Sum(c.anchorTx(7)), cp1.Header.LogSize)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Hashes) == 0 {
		t.Fatal("empty inclusion proof in a log of 30 records")
	}
	p.Hashes[0][5] ^= 1
	if _, err := client.VerifyRecord(cp1, p, block.Sum(c.anchorTx(7))); !errors.Is(err, proof.ErrInclusion) {
		t.Fatalf("tampered inclusion proof: %v", err)
	} else {
		t.Logf("tampered proof: %v", err)
	}

	// cp.json round trip, then the log grows and still extends it.
	saved, err := proof.DecodeCheckpoint(cp1.Encode())
	if err != nil {
		t.Fatal(err)
	}
	c.submit(32, 52)
	c.waitTx(51, 60*time.Second)
	c.submit(52, 53)
	c.waitTx(52, 60*time.Second)
	cp2, err := cl.ProveExtends(ctx, g, saved)
	if err != nil {
		t.Fatalf("consistency with the saved checkpoint: %v", err)
	}
	if cp2.Height() <= saved.Height() || cp2.Header.LogSize <= saved.Header.LogSize {
		t.Fatalf("checkpoint did not advance: %d/%d → %d/%d", saved.Height(), saved.Header.LogSize, cp2.Height(), cp2.Header.LogSize)
	}

	// A flipped signature byte in the saved checkpoint.
	bad := *saved
	bad.Cert.Sigs = append([]block.CommitSig{}, saved.Cert.Sigs...)
	bad.Cert.Sigs[0].Sig = append([]byte{}, bad.Cert.Sigs[0].Sig...)
	bad.Cert.Sigs[0].Sig[0] ^= 1
	if _, err := cl.ProveExtends(ctx, g, &bad); !errors.Is(err, genesis.ErrCertificate) {
		t.Fatalf("tampered checkpoint signature: %v", err)
	} else {
		t.Logf("tampered checkpoint: %v", err)
	}

	// A forked history: a quorum (here: the validators' own keys, i.e. a
	// Byzantine quorum) certifies another log at an earlier height. The
	// node's log does not extend it.
	var vkeys []ed25519.PrivateKey
	for _, home := range c.tn.Homes {
		k, err := keys.Load(filepath.Join(home, "node.key"))
		if err != nil {
			t.Fatal(err)
		}
		vkeys = append(vkeys, k.Private)
	}
	fork := func(h block.Header) *proof.Checkpoint {
		cp := &proof.Checkpoint{Header: h, Metadata: saved.Metadata, VerSeq: saved.VerSeq}
		for i := 0; i < g.Quorum(); i++ {
			v := block.Vote{ChainID: g.ChainID, Height: h.Height, BlockHash: h.Hash(), MetadataHash: block.Sum(cp.Metadata), VerSeq: cp.VerSeq}
			msg := v.Encode()
			cp.Cert.Sigs = append(cp.Cert.Sigs, block.CommitSig{Validator: g.Validators[i].ID, Msg: msg, Sig: ed25519.Sign(vkeys[i], msg)})
		}
		if err := cp.Verify(g); err != nil {
			t.Fatalf("forged checkpoint does not verify: %v", err)
		}
		return cp
	}
	h := saved.Header
	h.LogRoot[0] ^= 1 // same size, another log
	if _, err := cl.ProveExtends(ctx, g, fork(h)); !errors.Is(err, client.ErrFork) || !errors.Is(err, proof.ErrConsistency) {
		t.Fatalf("forked log: %v, want ErrFork from a failed consistency proof", err)
	} else {
		t.Logf("forked log: %v", err)
	}
	h = cp2.Header
	h.TimeUnixMilli++ // another block at the node's latest height
	if _, err := cl.ProveExtends(ctx, g, fork(h)); !errors.Is(err, client.ErrFork) {
		t.Fatalf("two blocks at one height: %v, want ErrFork", err)
	} else {
		t.Logf("equivocation: %v", err)
	}

	// Checkpoint by height, and API refusals.
	cpAt, err := cl.VerifiedCheckpoint(ctx, g, saved.Height())
	if err != nil || cpAt.Hash() != saved.Hash() {
		t.Fatalf("checkpoint at %d: %v", saved.Height(), err)
	}
	if _, err := cl.Checkpoint(ctx, 1_000_000); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("checkpoint beyond head: %v", err)
	}
	if _, err := cl.InclusionProof(ctx, block.Sum([]byte("never submitted")), 0); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("unknown tx: %v", err)
	}
	if _, err := cl.ConsistencyProof(ctx, 0, 1_000_000); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("consistency beyond the log: %v", err)
	}
}
