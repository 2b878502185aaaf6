package consensus

import (
	"testing"
	"time"

	protos "github.com/hyperledger-labs/SmartBFT/smartbftprotos"

	"github.com/trialchain/trialchain/chain/genesis"
)

func prepareMsg(view, seq uint64) *protos.Message {
	return &protos.Message{Content: &protos.Message_Prepare{Prepare: &protos.Prepare{View: view, Seq: seq}}}
}

func heartbeatMsg(view uint64) *protos.Message {
	return &protos.Message{Content: &protos.Message_HeartBeat{HeartBeat: &protos.HeartBeat{View: view}}}
}

// TestResenderStuck: a proposal this replica voted on that stays
// undecided longer than the bound is reported once (the replica then
// complains about the leader); a decided one, a young one, or one of a
// view the replica has left is not.
func TestResenderStuck(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	after := 5 * time.Second
	tests := []struct {
		name   string
		sends  []*protos.Message
		height uint64
		at     time.Duration
		want   bool
	}{
		{"undecided past the bound", []*protos.Message{prepareMsg(3, 828)}, 827, 6 * time.Second, true},
		{"undecided, young", []*protos.Message{prepareMsg(3, 828)}, 827, 4 * time.Second, false},
		{"decided here", []*protos.Message{prepareMsg(3, 828)}, 828, 6 * time.Second, false},
		{"a later view was entered", []*protos.Message{prepareMsg(3, 828), heartbeatMsg(4)}, 827, 6 * time.Second, false},
		{"nothing sent", nil, 827, 6 * time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s resender
			for _, m := range tc.sends {
				s.sent(t0, 2, m, []byte("frame"))
			}
			view, seq, ok := s.stuck(t0.Add(tc.at), tc.height, after, 3*after)
			if ok != tc.want {
				t.Fatalf("stuck = %v, want %v", ok, tc.want)
			}
			if !ok {
				return
			}
			if view != 3 || seq != 828 {
				t.Errorf("stuck names view %d seq %d, want view 3 seq 828", view, seq)
			}
			if _, _, again := s.stuck(t0.Add(2*tc.at), tc.height, after, 3*after); again {
				t.Error("the same proposal was reported twice")
			}
		})
	}
}

// TestResenderStuckBound: the stuck bound is the base while decisions
// here are fast, follows twice the longest of the recent ones when they
// are slow (so a flood of large proposals is not complained away), doubles
// with each complaint that brought no decision, and never passes the
// ceiling; a proposal SmartBFT has delivered here is not stuck, however
// long its execution takes.
func TestResenderStuckBound(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	base, ceiling := 5*time.Second, 15*time.Second
	var s resender
	if got := s.stuckBound(base, ceiling); got != base {
		t.Fatalf("no decision yet: bound %v, want %v", got, base)
	}
	decide := func(seq uint64, took time.Duration) {
		s.sent(t0, 2, prepareMsg(1, seq), []byte("frame"))
		s.decided(t0.Add(took), seq)
	}
	decide(10, 20*time.Millisecond)
	if got := s.stuckBound(base, ceiling); got != base {
		t.Errorf("fast decisions: bound %v, want %v", got, base)
	}
	decide(11, 4*time.Second)
	if got := s.stuckBound(base, ceiling); got != 8*time.Second {
		t.Errorf("a 4 s decision: bound %v, want 8s", got)
	}
	decide(12, 10*time.Second)
	if got := s.stuckBound(base, ceiling); got != ceiling {
		t.Errorf("a 10 s decision: bound %v, want the ceiling %v", got, ceiling)
	}
	for seq := uint64(13); seq < 13+uint64(len(s.took)); seq++ {
		decide(seq, 20*time.Millisecond)
	}
	if got := s.stuckBound(base, ceiling); got != base {
		t.Errorf("the slow decisions left the window: bound %v, want %v", got, base)
	}

	// Complaints without a decision double the bound.
	s.sent(t0, 2, prepareMsg(1, 30), []byte("frame"))
	if _, _, ok := s.stuck(t0.Add(base+time.Second), 29, base, ceiling); !ok {
		t.Fatal("a proposal undecided past the base bound was not reported")
	}
	s.sent(t0, 2, prepareMsg(2, 30), []byte("frame")) // the next view
	if _, _, ok := s.stuck(t0.Add(base+time.Second), 29, base, ceiling); ok {
		t.Error("after a fruitless complaint the bound did not grow")
	}
	if got := s.stuckBound(base, ceiling); got != 2*base {
		t.Errorf("one fruitless complaint: bound %v, want %v", got, 2*base)
	}
	if _, _, ok := s.stuck(t0.Add(2*base+time.Second), 29, base, ceiling); !ok {
		t.Fatal("a proposal undecided past the doubled bound was not reported")
	}
	if got := s.stuckBound(base, ceiling); got != ceiling {
		t.Errorf("two fruitless complaints: bound %v, want the ceiling %v", got, ceiling)
	}
	s.decided(t0.Add(time.Second), 30)
	if got := s.stuckBound(base, ceiling); got != base {
		t.Errorf("a decision did not reset the complaints: bound %v, want %v", got, base)
	}

	// Delivered here: not stuck while it executes.
	s.sent(t0, 2, prepareMsg(2, 31), []byte("frame"))
	s.decided(t0.Add(10*time.Millisecond), 31)
	if _, _, ok := s.stuck(t0.Add(time.Minute), 30, base, ceiling); ok {
		t.Error("a delivered proposal whose block is not stored yet was reported stuck")
	}
}

// TestResenderStalled: a height that stands still for the bound while
// transactions wait is reported, then not again before another bound
// (doubled: the complaint brought no commit); a height that moves, or
// nothing waiting (an idle chain), is not reported.
func TestResenderStalled(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	base, ceiling := 5*time.Second, 15*time.Second
	busy := func(time.Duration) bool { return true }
	idle := func(time.Duration) bool { return false }
	var s resender
	if s.stalled(t0, 10, 1, busy, base, ceiling) {
		t.Fatal("the first look reported a stall")
	}
	if s.stalled(t0.Add(4*time.Second), 10, 1, busy, base, ceiling) {
		t.Error("reported before the bound")
	}
	if s.stalled(t0.Add(6*time.Second), 10, 1, idle, base, ceiling) {
		t.Error("reported with nothing waiting")
	}
	if !s.stalled(t0.Add(6*time.Second), 10, 1, busy, base, ceiling) {
		t.Fatal("a stall past the bound with transactions waiting was not reported")
	}
	if s.stalled(t0.Add(12*time.Second), 10, 1, busy, base, ceiling) {
		t.Error("reported again before the doubled bound")
	}
	if !s.stalled(t0.Add(17*time.Second), 10, 1, busy, base, ceiling) {
		t.Error("not reported again after the doubled bound")
	}
	if s.stalled(t0.Add(18*time.Second), 11, 1, busy, base, ceiling) {
		t.Error("a height that moved was reported")
	}
	if got := s.stuckBound(base, ceiling); got != base {
		t.Errorf("the height moved: bound %v, want %v", got, base)
	}
	if !s.stalled(t0.Add(24*time.Second), 11, 1, busy, base, ceiling) {
		t.Error("a new stall past the bound was not reported")
	}
	// A new leader gets the whole (doubled) bound from when it is seen,
	// whatever the height's standstill before it.
	if s.stalled(t0.Add(25*time.Second), 11, 2, busy, base, ceiling) {
		t.Error("reported when a new leader took over")
	}
	if s.stalled(t0.Add(35*time.Second), 11, 2, busy, base, ceiling) {
		t.Error("reported before the new leader had the bound")
	}
	if !s.stalled(t0.Add(36*time.Second), 11, 2, busy, base, ceiling) {
		t.Error("the new leader's stall past the bound was not reported")
	}
	// No leader known (complaintView): never reported.
	for _, at := range []time.Duration{37 * time.Second, time.Minute} {
		if s.stalled(t0.Add(at), 11, 0, busy, base, ceiling) {
			t.Errorf("reported at %v with no leader known", at)
		}
	}
}

func TestInstalledView(t *testing.T) {
	g, _, _ := testGenesis(4)
	set := genesis.NewHistory(g).Latest() // ids 1..4: view v is led by v%4+1
	cases := []struct {
		name             string
		from, to, leader uint64
		want             uint64
		ok               bool
	}{
		{"no view change", 0, 0, 1, 0, true},
		{"the view sent is installed", 0, 2, 3, 2, true},
		{"a view change to the view sent under way", 0, 1, 1, 0, true},
		{"two views past the decided one, the second under way", 0, 2, 2, 1, true},
		{"leaders repeat: the latest view of the leader", 1, 5, 2, 5, true},
		{"leaders repeat: an earlier round", 1, 6, 2, 5, true},
		{"not running", 0, 2, 0, 0, false},
		{"the leader's view is past the views sent", 0, 1, 3, 0, false},
		{"the leader's view is before the decided one", 2, 3, 1, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := installedView(set, tc.from, tc.to, tc.leader)
			if got != tc.want || ok != tc.ok {
				t.Errorf("installedView(%d, %d, leader %d) = %d, %v; want %d, %v", tc.from, tc.to, tc.leader, got, ok, tc.want, tc.ok)
			}
		})
	}
}
