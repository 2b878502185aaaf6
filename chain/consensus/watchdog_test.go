package consensus

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
)

// TestWatchdogRestartsStuckReplica simulates SmartBFT v1.0.1's controller
// deadlock on a follower: from some point its instance's Deliver never
// returns (the controller is stuck delivering a decision), so it commits
// nothing more while the other three go on. The watchdog must notice
// (height still for stuckAfter while f+1 peers are ahead), fence and
// replace the instance, catch up, and take part again: the follower's
// signature appears in certificates of blocks decided after the restart.
// Safety: one certified chain on every node, every transaction once, and
// the fenced instance commits nothing (its blocked Deliver, released by
// the fence, is dropped).
func TestWatchdogRestartsStuckReplica(t *testing.T) {
	s := seedOf(t, 7)
	rng := rand.New(rand.NewPCG(s, 0x57c4))
	c := newCluster(t, 4, s, nil)
	txs := c.load(rng, 10)
	c.waitCommitted(txs, time.Minute)

	leader, _ := c.nodes[0].rep.Leader()
	stuck := c.nodes[int(leader)%4] // a follower: the next id after the leader
	r := stuck.rep
	hook := func(gen uint64) {
		if gen != 0 {
			return
		}
		// The deadlocked controller: wait until the watchdog fences us.
		for r.wd.gen.Load() == gen {
			select {
			case <-r.stopped:
				return
			case <-time.After(clusterStep):
			}
		}
	}
	r.wd.deliverHook.Store(&hook)
	stuckAt := stuck.led.Head().Height
	t.Logf("leader %d; node %d wedged at height %d", leader, stuck.id, stuckAt)

	// The others go on without it.
	var others []uint64
	for _, n := range c.nodes {
		if n.id != stuck.id {
			others = append(others, n.id)
		}
	}
	more := make([]block.Hash, 20)
	for i := range more {
		more[i] = c.submit(others[rng.IntN(len(others))])
	}
	v, real := c.waitCommitted(append(txs, more...), 3*time.Minute)
	// The restart catches up before it starts the new instance and counts.
	for end := c.clock.Now().Add(time.Minute); r.Restarts() == 0; time.Sleep(clusterStep) {
		if c.clock.Now().After(end) {
			t.Fatalf("node %d was not restarted (heights %v)", stuck.id, c.heights())
		}
	}
	t.Logf("node %d restarted %d time(s); all caught up %v virtual (%v real) after the wedge; heights %v",
		stuck.id, r.Restarts(), v.Round(time.Millisecond), real.Round(time.Millisecond), c.heights())

	// It takes part again: its signature in later certificates.
	restartedAt := stuck.led.Head().Height
	signed := 0
	for round := 0; round < 10 && signed == 0; round++ {
		batch := make([]block.Hash, 5)
		for i := range batch {
			batch[i] = c.submit(uint64(rng.IntN(4) + 1))
		}
		c.waitCommitted(batch, time.Minute)
		txs = append(txs, batch...)
		for h := restartedAt + 1; h <= stuck.led.Head().Height; h++ {
			b, err := stuck.st.Block(h)
			if err != nil {
				t.Fatal(err)
			}
			for _, sg := range b.Cert.Sigs {
				if sg.Validator == stuck.id {
					signed++
				}
			}
		}
	}
	if signed == 0 {
		t.Fatalf("node %d signed no certificate after its restart (heights %v)", stuck.id, c.heights())
	}
	t.Logf("node %d signed %d certificates of blocks %d..%d after its restart", stuck.id, signed, restartedAt+1, stuck.led.Head().Height)
	c.checkSafety()
}
