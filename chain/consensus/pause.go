package consensus

import (
	"time"
)

// A validator process that was stopped (SIGSTOP, a suspended VM, a very
// long stall) and resumes sees its clock jump. SmartBFT's heartbeat
// monitor then finds that the leader has been silent for the whole pause
// and, at the first tick, complains about it and leaves the view. Alone,
// the complaint changes nothing, and the replica waits out the view-change
// timeout (10 s) before it syncs. Measured in pause-follower: a follower
// resumed after 60 s started catching up only 12 s later and took 20 s to
// reach the others' height.
//
// The replica therefore feeds SmartBFT's tick channels (and its own resend
// and stuck checks) with a clock that stops while the process is not
// running: when two consecutive ticks are more than pauseGap apart, the
// excess is taken out of every later tick. The leader then looks as live
// as it is — its heartbeats arrive within a tick of the resume and, naming
// a sequence far ahead, make the replica sync at once — and no timer of
// the replica counts time it could not observe. The replica also asks the
// transport to redial its peers: its connections are stale, because the
// peers closed theirs when it stopped answering (without a stateless reset
// key, a stale QUIC connection looks alive until its own idle timeout,
// 15 s).

// pauseGap is the gap between two ticks taken to mean the process was not
// running (the ticks come every 50 ms of a running process).
const pauseGap = 2 * time.Second

// redialer is implemented by networks that can drop their connections and
// dial every peer again (transport.Mesh).
type redialer interface{ Redial() }

// fanTicks reads raw ticks and hands each, with the time the process was
// paused taken out, to every channel of outs (dropping a tick a reader is
// not ready for, like time.Ticker), until the replica stops.
func (r *Replica) fanTicks(raw <-chan time.Time, outs ...chan time.Time) {
	defer r.wg.Done()
	var last time.Time
	var paused time.Duration
	// Only the wall clock jumps when the process stops; a virtual clock
	// (in-process tests) runs at its own pace.
	_, wall := r.cfg.Clock.(WallClock)
	for {
		var t time.Time
		select {
		case <-r.stopped:
			return
		case t = <-raw:
		}
		if gap := t.Sub(last); wall && !last.IsZero() && gap > pauseGap {
			paused += gap - r.cfg.Tick
			r.log.Warn("the process was not running: its timers skip the pause; redialling peers", "paused", gap.Round(time.Millisecond))
			if n, ok := r.net.(redialer); ok {
				n.Redial()
			}
		}
		last = t
		for _, out := range outs {
			select {
			case out <- t.Add(-paused):
			default:
			}
		}
	}
}
