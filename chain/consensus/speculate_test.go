package consensus

import (
	"path/filepath"
	"testing"

	bft "github.com/hyperledger-labs/SmartBFT/pkg/types"

	"github.com/trialchain/trialchain/chain/block"
)

// TestVerifyProposalSpeculates: a proposal the replica assembles, or one
// that passes verification, is handed over for speculative execution (the
// newest replacing one not yet taken), a refused one is not, and a ledger
// that cannot speculate is never asked.
func TestVerifyProposalSpeculates(t *testing.T) {
	g, keys, site := testGenesis(4)
	led, dir := testLedger(t, g)
	rep := testFollower(t, g, keys[1], led, filepath.Join(dir, "wal"))
	hashOf := func(p bft.Proposal) block.Hash {
		h, err := block.DecodeHeader(p.Header)
		if err != nil {
			t.Fatal(err)
		}
		return h.Hash()
	}
	first := rep.AssembleProposal(nil, [][]byte{anchor(site, 1)})
	second := rep.AssembleProposal(nil, [][]byte{anchor(site, 1), anchor(site, 2)})
	select { // the leader's own proposal, which it never verifies
	case b := <-rep.spec:
		if b.Hash() != hashOf(second) {
			t.Fatalf("assembly handed over block %s, want the last assembled one %s", b.Hash(), hashOf(second))
		}
	default:
		t.Fatal("an assembled proposal was not handed over for speculation")
	}
	bad := second
	bad.Payload = block.EncodeTxs([][]byte{anchor(site, 2), anchor(site, 1)}) // not the header's transaction root

	for _, p := range []bft.Proposal{first, second} {
		if _, err := rep.VerifyProposal(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rep.VerifyProposal(bad); err == nil {
		t.Fatal("a proposal whose transactions do not match its header passes")
	}
	select {
	case b := <-rep.spec:
		if b.Hash() != hashOf(second) || len(b.Txs) != 2 {
			t.Fatalf("handed over block %s with %d transactions, want the last verified one %s", b.Hash(), len(b.Txs), hashOf(second))
		}
	default:
		t.Fatal("nothing handed over for speculation")
	}
	select {
	case b := <-rep.spec:
		t.Fatalf("a second block handed over: %s", b.Hash())
	default:
	}

	plain := testFollower(t, g, keys[1], ledgerOnly{led}, filepath.Join(dir, "wal2"))
	if _, err := plain.VerifyProposal(first); err != nil {
		t.Fatal(err)
	}
	if len(plain.spec) != 0 {
		t.Fatal("a block handed over for a ledger that cannot speculate")
	}
}

// ledgerOnly hides every method of a ledger but Ledger's.
type ledgerOnly struct{ Ledger }
