package consensus

import (
	"sync"
	"time"

	protos "github.com/hyperledger-labs/SmartBFT/smartbftprotos"
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
}

// sentRecord is what a replica sent for one (view, sequence).
type sentRecord struct {
	view, seq uint64
	last      time.Time // when a message was last added or the record resent
	msgs      []sentMsg
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
		s.rec = &sentRecord{view: view, seq: seq}
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

// resendLoop sends the replica's undecided proposal messages again (see
// resender), checking at every tick of the replica's clock.
func (r *Replica) resendLoop(ticks <-chan time.Time) {
	defer r.wg.Done()
	interval := time.Duration(r.cfg.Genesis.Params.ViewChangeResendInterval)
	for {
		select {
		case <-r.stopped:
			return
		case now := <-ticks:
			view, seq, msgs := r.resend.due(now, r.cfg.Ledger.Head().Height, interval)
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

// currentView returns the highest view this replica has sent a message of.
func (s *resender) currentView() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.view
}
