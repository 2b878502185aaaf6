package consensus

import (
	"math/rand/v2"
	"sync/atomic"
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
	others := c.others(stuck.id)
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

// TestWatchdogSparesExecutingReplica: a follower whose execution of a
// block takes longer than stuckAfter (as the first call of a newly
// deployed 4.9 MB contract did, waiting for its compilation) while the
// other three go on is executing, not stuck: the watchdog must not
// restart its SmartBFT (a restart threw away the healthy instance, made
// clients wait on "consensus is restarting" and stalled the next
// sequence). Once its execution ends it keeps up without a restart.
func TestWatchdogSparesExecutingReplica(t *testing.T) {
	s := seedOf(t, 11)
	rng := rand.New(rand.NewPCG(s, 0x51e3))
	c := newCluster(t, 4, s, nil)
	txs := c.load(rng, 5)
	c.waitCommitted(txs, time.Minute)

	leader, _ := c.nodes[0].rep.Leader()
	slow := c.nodes[int(leader)%4] // a follower
	r := slow.rep
	// Its next block executes for twice stuckAfter of the clock.
	hold := 2 * r.stuckAfter()
	var once atomic.Bool
	before := func(*block.Committed) {
		if once.Swap(true) {
			return
		}
		for end := c.clock.Now().Add(hold); c.clock.Now().Before(end); time.Sleep(clusterStep) {
			select {
			case <-r.stopped:
				return
			default:
			}
		}
	}
	slow.slow.before.Store(&before)
	t.Logf("leader %d; node %d executes its block after height %d for %v", leader, slow.id, slow.led.Head().Height, hold)

	others := c.others(slow.id)
	more := make([]block.Hash, 20)
	for i := range more {
		more[i] = c.submit(others[rng.IntN(len(others))])
		c.sleep(hold / 20)
	}
	c.waitCommitted(append(txs, more...), 3*time.Minute)
	if !once.Load() {
		t.Fatalf("node %d executed no block after the delay was set (heights %v)", slow.id, c.heights())
	}
	// A restart decided meanwhile fences the instance (a new generation)
	// as soon as the held Deliver returns, before the next commit here.
	batch := make([]block.Hash, 5)
	for i := range batch {
		batch[i] = c.submit(uint64(rng.IntN(4) + 1))
	}
	c.waitCommitted(batch, time.Minute)
	if gen, n := r.wd.gen.Load(), r.Restarts(); gen != 0 || n != 0 {
		t.Fatalf("the watchdog restarted node %d's SmartBFT while it was executing a block (generation %d, %d restarts done; heights %v)",
			slow.id, gen, n, c.heights())
	}
	c.checkSafety()
}
