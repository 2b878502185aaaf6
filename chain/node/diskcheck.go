package node

import (
	"fmt"
	"net/http"
	"time"

	"github.com/trialchain/trialchain/chain/doctor"
)

// A node checks its own disk (chain/doctor): the whole store — blocks,
// receipts, record log and state — when it is opened, before anything is
// served or executed on it, and its blocks, receipts and record log again
// every Config.DiskCheckInterval while it runs, paced by diskCheckPause. A store found damaged is
// never served: the API answers 503 store_damaged to everything but
// /v1/status, which lists the damage; the node takes no part in consensus
// (a node executing blocks on altered state would diverge). It cannot
// repair the store from its peers yet: the operator restores the data
// directory (or removes it and lets the node catch up) after reading
// `trialchain doctor --home DIR`.

// Damage returns the problems found in the node's store (nil: none).
func (n *Node) Damage() []doctor.Problem {
	if p := n.damage.Load(); p != nil {
		return *p
	}
	return nil
}

func (n *Node) markDamaged(rep *doctor.Report, when string) {
	ps := append([]doctor.Problem(nil), rep.Problems...)
	n.damage.Store(&ps)
	for _, p := range ps {
		n.log.Error("store damaged: "+p.String(), "found", when)
	}
	n.log.Error("the store does not match the certified chain: refusing to serve it and to take part in consensus; run `trialchain doctor --home DIR` and restore the data directory",
		"found", when, "problems", len(ps))
}

// refuseDamaged wraps the API: while the store is damaged, every request
// but GET /v1/status is answered 503 store_damaged.
func (n *Node) refuseDamaged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ps := n.Damage(); len(ps) > 0 && r.URL.Path != "/v1/status" {
			writeErr(w, http.StatusServiceUnavailable, "store_damaged",
				fmt.Errorf("this node's store does not match the certified chain (%d problems, first: %s): it serves nothing until repaired; ask another node", len(ps), ps[0]))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// diskCheckPause is the pause after each block in the background check:
// at most about 1000 blocks a second, so the check never competes with
// consensus for the disk (a 100 000-block chain takes about 100 s).
const diskCheckPause = time.Millisecond

// diskCheckLoop re-checks the immutable part of the store every interval
// until the node stops; on damage it stops consensus and the API refuses.
func (n *Node) diskCheckLoop(every time.Duration) {
	defer n.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-n.quit:
			return
		case <-t.C:
		}
		start := time.Now()
		rep := doctor.CheckChainPaced(n.gen, n.store, func() bool {
			select {
			case <-n.quit:
				return false
			case <-time.After(diskCheckPause):
				return true
			}
		})
		if rep.Abandoned {
			return
		}
		if rep.OK() {
			n.log.Debug("disk check passed", "blocks", rep.Blocks, "receipts", rep.Receipts, "took", time.Since(start))
			continue
		}
		n.markDamaged(rep, "background check")
		n.replica.Stop()
		return
	}
}
