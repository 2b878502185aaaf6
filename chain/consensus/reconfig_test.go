package consensus

import (
	"crypto/ed25519"
	"sync"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
)

// changeBook stands in for the ledger's validator transactions (which
// execute a consent-checked change): an anchor whose document hash is a
// registered change's hash carries that change. Every replica reads the
// same book, so SetChanges is the same function of the block everywhere.
type changeBook struct {
	mu      sync.Mutex
	changes map[block.Hash]genesis.Change
}

func (b *changeBook) add(ch genesis.Change) block.Hash {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := ch.Hash()
	b.changes[h] = ch
	return h
}

func (b *changeBook) setChanges(c *block.Committed) []genesis.Change {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []genesis.Change
	for _, raw := range c.Block.Txs {
		tx, err := block.DecodeTx(raw)
		if err != nil || tx.Kind != block.KindAnchor {
			continue
		}
		p, err := block.DecodeAnchor(tx.Payload)
		if err != nil {
			continue
		}
		if ch, ok := b.changes[p.Hash]; ok {
			out = append(out, ch)
		}
	}
	return out
}

// submitChange submits an anchor carrying ch to node id.
func (c *cluster) submitChange(book *changeBook, id uint64, ch genesis.Change) block.Hash {
	c.t.Helper()
	c.nonce++
	tx := &block.Tx{ChainID: c.g.ChainID, Nonce: c.nonce, Kind: block.KindAnchor, GasLimit: 100_000,
		Payload: (&block.AnchorPayload{Hash: book.add(ch), Label: "validator-change"}).Encode()}
	tx.Sign(c.site)
	raw := tx.Encode()
	if err := c.node(id).rep.Submit(raw); err != nil {
		c.t.Fatalf("submit to node %d: %v", id, err)
	}
	return block.Sum(raw)
}

// commitRounds submits rounds of anchors spread over the running
// validators, each round committed everywhere before the next (so each
// phase spans several blocks).
func (c *cluster) commitRounds(rounds, perRound int) {
	c.t.Helper()
	for range rounds {
		txs := make([]block.Hash, perRound)
		for i := range txs {
			txs[i] = c.submit(c.nodes[i%len(c.nodes)].id)
		}
		c.waitCommitted(txs, time.Minute)
	}
}

// TestReconfiguration: a 4-validator network commits; a fifth validator
// is added by a committed change, starts from an empty store, catches up
// through the change and joins SmartBFT's reconfigured set; the network
// commits with five (quorum 4); validator 1 is removed, its SmartBFT
// instance shuts down, and the other four commit on. Every block on every
// node is checked against the set in force at its height, walked from the
// genesis (checkSafety). Last, validator 3 restarts from its store, walks
// the changes again and commits on.
func TestReconfiguration(t *testing.T) {
	book := &changeBook{changes: map[block.Hash]genesis.Change{}}
	c := newClusterOf(t, 4, 5, 1, nil, book.setChanges)

	c.commitRounds(3, 8)
	t.Logf("4 validators: heights %v", c.heights())

	five := genesis.Validator{ID: 5, Name: "node4", Key: genesis.Key(c.keys[4].Public().(ed25519.PublicKey)), Addr: "mem"}
	add := c.submitChange(book, 2, genesis.Change{Op: genesis.ChangeAdd, Validator: five})
	c.waitCommitted([]block.Hash{add}, time.Minute)
	c.commitRounds(2, 8) // the four commit on while node 5 is not up
	addedAt := c.heights()[0]
	if got := c.nodes[0].rep.Nodes(); len(got) != 5 {
		t.Fatalf("after the add, node 1's set is %v", got)
	}

	n5 := c.open(5, t.TempDir(), "")
	if err := n5.rep.Start(); err != nil {
		t.Fatalf("node 5 start: %v", err)
	}
	c.nodes = append(c.nodes, n5)
	t.Logf("node 5 joined at height %d (added in a block at or before %d)", n5.led.Head().Height, addedAt)

	c.commitRounds(4, 10)
	t.Logf("5 validators: heights %v", c.heights())
	c.checkSafety()

	rm := c.submitChange(book, 5, genesis.Change{Op: genesis.ChangeRemove, Validator: genesis.Validator{ID: 1}})
	c.waitCommitted([]block.Hash{rm}, time.Minute)
	c.gone = append(c.gone, c.nodes[0])
	c.nodes = c.nodes[1:]
	if got := c.node(5).rep.Nodes(); len(got) != 4 || got[0] != 2 {
		t.Fatalf("after the removal, node 5's set is %v", got)
	}

	c.commitRounds(4, 8)
	t.Logf("validators 2..5: heights %v", c.heights())
	c.checkSafety()

	// A validator restarted from its store walks the set changes again
	// (Start) and commits on with the set in force.
	n3 := c.node(3)
	n3.shutdown()
	r3 := c.open(3, n3.dir, "")
	if err := r3.rep.Start(); err != nil {
		t.Fatalf("node 3 restart: %v", err)
	}
	for i, n := range c.nodes {
		if n == n3 {
			c.nodes[i] = r3
		}
	}
	if got := r3.rep.Nodes(); len(got) != 4 || got[0] != 2 || got[3] != 5 {
		t.Fatalf("restarted node 3's set is %v", got)
	}
	c.commitRounds(2, 8)
	t.Logf("after node 3's restart: heights %v", c.heights())
	c.checkSafety()

	// Node 5 took part: it signed certificates (the leader keeps the
	// first quorum of votes it gets, so not every one).
	signed := 0
	for x := addedAt + 1; x <= c.heights()[0]; x++ {
		b, err := c.node(5).st.Block(x)
		if err != nil {
			t.Fatal(err)
		}
		for _, sg := range b.Cert.Sigs {
			if sg.Validator == 5 {
				signed++
			}
		}
	}
	t.Logf("node 5 signed %d of the %d certificates after its joining", signed, c.heights()[0]-addedAt)
	if signed == 0 {
		t.Fatal("node 5 signed no certificate after joining")
	}

	// The removed validator's chain stops at (or soon after) the removal.
	gone := c.gone[0].led.Head().Height
	if gone >= c.heights()[0] {
		t.Fatalf("removed validator 1 is at height %d, the set in force at %d", gone, c.heights()[0])
	}
}
