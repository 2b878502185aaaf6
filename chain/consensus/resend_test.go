package consensus

import (
	"testing"
	"time"

	protos "github.com/hyperledger-labs/SmartBFT/smartbftprotos"
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
			view, seq, ok := s.stuck(t0.Add(tc.at), tc.height, after)
			if ok != tc.want {
				t.Fatalf("stuck = %v, want %v", ok, tc.want)
			}
			if !ok {
				return
			}
			if view != 3 || seq != 828 {
				t.Errorf("stuck names view %d seq %d, want view 3 seq 828", view, seq)
			}
			if _, _, again := s.stuck(t0.Add(2*tc.at), tc.height, after); again {
				t.Error("the same proposal was reported twice")
			}
		})
	}
}
