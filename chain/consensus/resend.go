package consensus

import (
	"sync"
	"time"

	protos "github.com/hyperledger-labs/SmartBFT/smartbftprotos"

	"github.com/trialchain/trialchain/chain/genesis"
)

// SmartBFT v1.0.1 sends each protocol message of a proposal (pre-prepare,
// prepare, commit) once. A message lost on the way (a peer restarting, a
// link that was cut, a follower still in the previous view when the new
// leader's pre-prepare arrived and so dropped it) stalls that proposal
// while the leader's heartbeats keep everyone from suspecting it: only a
// request's complaint timeout (15 s) ends the stall, with a view change.
// The replica therefore keeps the messages it sent for its latest
// (view, sequence) and sends them again, every ViewChangeResendInterval of
// the replica's clock, while that sequence is not committed here.
//
// Duplicates are harmless to SmartBFT: votes are counted once per sender;
// a pre-prepare for a sequence already being processed waits in a
// one-slot channel that is drained when the sequence ends (or is dropped
// when the slot is full); messages for a past sequence get an assist
// reply or are ignored. A message of an old view from the node that leads
// the current view would make followers complain, so a record is dropped
// as soon as this replica sends anything of a later view (a heartbeat, a
// view change, a vote).
type resender struct {
	mu   sync.Mutex
	view uint64 // the highest view this replica has sent a message of
	rec  *sentRecord
	// took holds how long this replica's last decisions took, from the
	// first message it sent for a (view, sequence) to SmartBFT's Deliver
	// of it (a ring of the last len(took)); strikes counts its stuck
	// complaints since the last decision. Both size stuckBound.
	took    [8]time.Duration
	tookN   int
	strikes int
	// height is the committed height last seen by stalled, moved when it
	// last changed or a new leader took over (leader, the leader stalled
	// last saw), and complainedAt when stalled last reported.
	height       uint64
	leader       uint64
	moved        time.Time
	complainedAt time.Time
}

// sentRecord is what a replica sent for one (view, sequence).
type sentRecord struct {
	view, seq uint64
	first     time.Time // when the first message for (view, seq) was sent
	last      time.Time // when a message was last added or the record resent
	msgs      []sentMsg
	// complained is set once the replica has complained about the leader
	// because this proposal stayed undecided (see stuck); decided once
	// SmartBFT delivers it here (executing it is not being stuck).
	complained, decided bool
}

type sentMsg struct {
	to    uint64
	frame []byte
}

// viewOf returns the view a message speaks for and whether it is one of
// the proposal messages (pre-prepare, prepare, commit) with its sequence.
func viewOf(m *protos.Message) (view, seq uint64, proposal bool, ok bool) {
	switch {
	case m.GetPrePrepare() != nil:
		return m.GetPrePrepare().View, m.GetPrePrepare().Seq, true, true
	case m.GetPrepare() != nil:
		return m.GetPrepare().View, m.GetPrepare().Seq, true, true
	case m.GetCommit() != nil:
		return m.GetCommit().View, m.GetCommit().Seq, true, true
	case m.GetHeartBeat() != nil:
		return m.GetHeartBeat().View, 0, false, true
	case m.GetViewChange() != nil:
		return m.GetViewChange().NextView, 0, false, true
	}
	return 0, 0, false, false
}

// sent notes a message this replica sent to peer to (frame is its
// encoding on the mesh).
func (s *resender) sent(now time.Time, to uint64, m *protos.Message, frame []byte) {
	view, seq, proposal, ok := viewOf(m)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if view > s.view {
		s.view = view
	}
	if s.rec != nil && s.rec.view < s.view {
		s.rec = nil // a later view: never resend the old one's messages
	}
	if !proposal || view < s.view {
		return
	}
	switch {
	case s.rec == nil || seq > s.rec.seq || view > s.rec.view:
		s.rec = &sentRecord{view: view, seq: seq, first: now}
	case seq < s.rec.seq:
		return // an assist for a past sequence
	}
	for _, x := range s.rec.msgs {
		if x.to == to && string(x.frame) == string(frame) {
			return
		}
	}
	s.rec.msgs = append(s.rec.msgs, sentMsg{to: to, frame: frame})
	s.rec.last = now
}

// due returns the messages to send again: those of the latest record if
// its sequence is above the committed height and nothing was sent for it
// for interval.
func (s *resender) due(now time.Time, height uint64, interval time.Duration) (view, seq uint64, msgs []sentMsg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rec
	if r == nil {
		return 0, 0, nil
	}
	if r.seq <= height {
		s.rec = nil
		return 0, 0, nil
	}
	if now.Sub(r.last) < interval {
		return 0, 0, nil
	}
	r.last = now
	return r.view, r.seq, append([]sentMsg(nil), r.msgs...)
}

// decided notes that SmartBFT delivers sequence seq here: the time it
// took since this replica first sent a message for it sizes later stuck
// bounds, and the record is no longer stuck (executing it is not).
func (s *resender) decided(now time.Time, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.strikes = 0
	r := s.rec
	if r == nil || r.seq != seq || r.decided {
		return
	}
	r.decided = true
	s.took[s.tookN%len(s.took)] = now.Sub(r.first)
	s.tookN++
}

// stuckBound is how long a proposal may stay undecided here before this
// replica complains: twice the longest of its recent decisions, at least
// base, doubled for each complaint since its last decision, at most
// ceiling. Proposals of megabytes on a loaded machine take seconds to
// decide: a fixed bound below that complains every view away (measured:
// TestClusterFloodEveryAcceptedCommits livelocked with a 2 s bound), while
// proposals of the crash loop decide in milliseconds and a stall there
// must end within seconds. The bound follows what decisions take here.
func (s *resender) stuckBound(base, ceiling time.Duration) time.Duration {
	b := base
	for i := 0; i < min(s.tookN, len(s.took)); i++ {
		b = max(b, 2*s.took[i])
	}
	for i := 0; i < s.strikes && b < ceiling; i++ {
		b *= 2
	}
	return min(b, ceiling)
}

// stuck reports, once per record, a proposal this replica voted on (or,
// as leader, proposed) that is still not decided here after stuckBound:
// the view it belongs to.
//
// Resending cannot revive such a proposal when the peers that should
// vote on it are themselves stuck in the view — measured in the 2-minute
// crash loop: two replicas restarted from their WALs sat in view 3 with a
// full pre-prepare slot ("got a pre-prepare for next sequence without
// processing previous one"), while the leader and the fourth replica
// resent their votes for 53 s; the leader's heartbeats kept everyone from
// suspecting it, and the request pools' complaint timers, reset by every
// restart, never fired on f+1 replicas. A replica whose own proposal
// stalls then complains about the leader: with f+1 such replicas the view
// changes, which also resets the stuck ones.
func (s *resender) stuck(now time.Time, height uint64, base, ceiling time.Duration) (view, seq uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rec
	if r == nil || r.complained || r.decided || r.seq <= height || now.Sub(r.first) <= s.stuckBound(base, ceiling) {
		return 0, 0, false
	}
	r.complained = true
	s.strikes++
	return r.view, r.seq, true
}

// stalled reports that the committed height has stood still for
// stuckBound — since it last moved, the leader (this replica's view of
// it) last changed, or this replica last complained — while transactions
// wait here (waiting reports whether the oldest has waited that long):
// the replica complains about the leader.
//
// stuck (above) needs a proposal record, and in the crash loop the
// replicas that hold the stalled sequence often have none: measured, an
// 11 s stall in view 3 with two replicas holding a full pre-prepare slot
// for the previous sequence ("got a pre-prepare for next sequence without
// processing previous one") and no vote of their own above their height,
// while the leader and the fourth replica, which had records, were
// restarted in turn and lost them. Every replica with waiting
// transactions sees a stalled height, so f+1 complain within the same
// bound. An idle chain has nothing waiting and never complains.
//
// leader is the leader of the view SmartBFT has installed here, 0 when
// that is not known (complaintView): the replica does not complain then,
// and a new leader gets the whole bound from when it is seen. The
// complaint may be this replica's alone (the transactions wait on it
// only, as when its clients' forwards went to a leader that was cut off),
// and SmartBFT stops the complainer's request-pool timers until the
// view changes, which a lone complaint never brings about: made before
// the pool's forward timer, restarted by the view change, has sent the
// waiting transactions to the new leader, it strands them (measured:
// TestClusterForwardsAcrossLeaderChange stalled for good in 7 of 250 runs
// under -race, with the forward batching or without; the complaint came
// 50–70 ms of real time after the view change, within the 100 ms forward
// timeout, as the bound, doubled by a complaint during a failed view
// change, and the view-change timeout that ended it were both 10 s; see
// RATIONALE.md).
func (s *resender) stalled(now time.Time, height, leader uint64, waiting func(time.Duration) bool, base, ceiling time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if height != s.height || s.moved.IsZero() {
		s.height, s.leader, s.moved, s.strikes = height, leader, now, 0
		return false
	}
	if leader != s.leader {
		s.leader, s.moved = leader, now
		return false
	}
	if leader == 0 {
		return false
	}
	b := s.stuckBound(base, ceiling)
	if now.Sub(s.moved) <= b || now.Sub(s.complainedAt) <= b || !waiting(b) {
		return false
	}
	s.complainedAt = now
	s.strikes++
	return true
}

// resendLoop sends the replica's undecided proposal messages again (see
// resender), checking at every tick of the replica's clock.
func (r *Replica) resendLoop(ticks <-chan time.Time) {
	defer r.wg.Done()
	interval := time.Duration(r.cfg.Genesis.Params.ViewChangeResendInterval)
	// A proposal undecided for stuckBound is stuck (see there): at least
	// the heartbeat timeout, at most the request complaint timeout, which
	// is sized above the longest decision and Deliver we expect
	// (genesis.Params). A fixed heartbeat-timeout bound livelocked a flood
	// of 1 MB transactions (TestClusterFloodEveryAcceptedCommits), a fixed
	// complaint-timeout bound let the crash loop stall for 28-33 s.
	base := time.Duration(r.cfg.Genesis.Params.LeaderHeartbeatTimeout)
	ceiling := max(base, time.Duration(r.cfg.Genesis.Params.RequestComplainTimeout))
	// Transactions older than the request timeouts are SmartBFT's own
	// complaint's (or it dropped them unseen): not counted as waiting.
	p := r.cfg.Genesis.Params
	waiting := func(d time.Duration) bool {
		return r.pool.oldest(r.cfg.Clock.Now(), time.Duration(p.RequestForwardTimeout+p.RequestComplainTimeout)) > d
	}
	for {
		select {
		case <-r.stopped:
			return
		case now := <-ticks:
			height := r.cfg.Ledger.Head().Height
			if view, seq, ok := r.resend.stuck(now, height, base, ceiling); ok {
				r.log.Warn("a proposal stays undecided: complaining about the leader", "view", view, "seq", seq)
				r.cons().Complain(view, false)
			} else if view, leader := r.complaintView(); r.resend.stalled(now, height, leader, waiting, base, ceiling) {
				r.log.Warn("no commit while transactions wait: complaining about the leader", "view", view, "height", height)
				r.cons().Complain(view, false)
			}
			view, seq, msgs := r.resend.due(now, height, interval)
			if len(msgs) == 0 {
				continue
			}
			r.log.Info("sending undecided proposal messages again", "view", view, "seq", seq, "messages", len(msgs))
			for _, m := range msgs {
				_ = r.net.Send(m.to, m.frame)
			}
		}
	}
}

// complaintView returns the view a stall complaint is about, the view
// SmartBFT has installed here, and its leader (0: the replica must not
// complain; see installedView).
func (r *Replica) complaintView() (view, leader uint64) {
	leader = r.leader()
	from := r.view.Load()
	to := max(from, r.resend.currentView())
	if r.cfg.Genesis.Params.DecisionsPerLeader > 0 {
		return to, leader // the leader does not name the view
	}
	if view, ok := installedView(r.currentSet(), from, to, leader); ok {
		return view, leader
	}
	return 0, 0
}

// installedView returns the view SmartBFT has installed here given its
// leader (0: not running), the view of the last decision (from) and the
// highest view this replica has sent a message of (to), without leader
// rotation: the latest view from..to that leader leads. SmartBFT does not
// say which view it is in, and the highest view sent is not it while a
// view change is under way (the replica sent its view change for the
// next view): a complaint about that next view would start the view
// change after it, alone (measured: a complaint 29 ms into a view change
// stalled TestClusterForwardsAcrossLeaderChange; the next leader
// complained about the view it was taking over). SmartBFT ignores a
// complaint about an earlier view than its own, or joins it to the view
// change under way. ok is false when no view from..to is leader's.
func installedView(s *genesis.Set, from, to, leader uint64) (view uint64, ok bool) {
	if leader == 0 {
		return 0, false
	}
	// The leaders repeat every len(ids) views.
	for v, n := to, 0; v >= from && n < len(s.IDs()); v, n = v-1, n+1 {
		if leaderOf(s, v) == leader {
			return v, true
		}
		if v == 0 {
			break
		}
	}
	return 0, false
}

// currentView returns the highest view this replica has sent a message of.
func (s *resender) currentView() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.view
}
