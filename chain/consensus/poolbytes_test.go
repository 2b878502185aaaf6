package consensus

import (
	"errors"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/genesis"
)

func TestPoolBytes(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	type step struct {
		op      string // reserve, track, release
		id      string
		size    int
		at      time.Duration
		wantErr bool
		want    int64 // bytes after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"fills to the bound, then refuses", []step{
			{op: "reserve", id: "a", size: 60, want: 60},
			{op: "reserve", id: "b", size: 40, want: 100},
			{op: "reserve", id: "c", size: 1, wantErr: true, want: 100},
		}},
		{"a known id is not counted twice", []step{
			{op: "reserve", id: "a", size: 60, want: 60},
			{op: "reserve", id: "a", size: 60, want: 60},
			{op: "track", id: "a", size: 60, want: 60},
		}},
		{"release frees room", []step{
			{op: "reserve", id: "a", size: 100, want: 100},
			{op: "reserve", id: "b", size: 10, wantErr: true, want: 100},
			{op: "release", id: "a", want: 0},
			{op: "reserve", id: "b", size: 10, want: 10},
			{op: "release", id: "zz", want: 10},
		}},
		{"a peer's transaction counts past the bound", []step{
			{op: "reserve", id: "a", size: 90, want: 90},
			{op: "track", id: "p", size: 50, want: 140},
			{op: "reserve", id: "b", size: 1, wantErr: true, want: 140},
		}},
		{"entries older than maxAge expire", []step{
			{op: "reserve", id: "a", size: 100, want: 100},
			{op: "reserve", id: "b", size: 10, at: time.Minute, wantErr: true, want: 100},
			{op: "reserve", id: "b", size: 10, at: 3 * time.Minute, want: 10},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &poolBytes{max: 100, maxAge: 2 * time.Minute}
			for i, s := range tc.steps {
				var err error
				switch s.op {
				case "reserve":
					_, err = p.reserve(s.id, s.size, t0.Add(s.at))
				case "track":
					p.track(s.id, s.size, t0.Add(s.at))
				case "release":
					p.release(s.id)
				}
				if (err != nil) != s.wantErr || (err != nil && !errors.Is(err, ErrBusy)) {
					t.Fatalf("step %d %s %s: err %v, want error %v (ErrBusy)", i, s.op, s.id, err, s.wantErr)
				}
				if got := p.bytes(); got != s.want {
					t.Fatalf("step %d %s %s: %d bytes, want %d", i, s.op, s.id, got, s.want)
				}
			}
		})
	}
}

func TestCheckBacklog(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	g := &genesis.Genesis{Params: genesis.DefaultParams()}
	g.Params.BatchMaxCount, g.Params.BatchMaxBytes = 3, 1000
	type tx struct {
		id   string
		size int
		peer bool // forwarded by a peer (track), not a client's (reserve)
	}
	tests := []struct {
		name    string
		pending []tx
		size    int
		busy    bool
	}{
		{"empty pool takes a maximal transaction", nil, 1000, false},
		{"under both bounds", []tx{{"a", 100, false}, {"b", 100, true}}, 800, false},
		{"a block's worth of bytes with this one", []tx{{"a", 600, false}}, 401, true},
		{"a block's worth by count", []tx{{"a", 1, false}, {"b", 1, false}, {"c", 1, false}}, 1, true},
		{"peers' transactions count (the leader)", []tx{{"p", 1, true}, {"q", 1, true}, {"r", 1, true}}, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Replica{cfg: Config{Genesis: g}, pool: poolBytes{max: 1 << 20, maxAge: time.Hour}}
			for _, p := range tc.pending {
				if p.peer {
					r.pool.track(p.id, p.size, t0)
				} else if _, err := r.pool.reserve(p.id, p.size, t0); err != nil {
					t.Fatal(err)
				}
			}
			err := r.checkBacklog(tc.size)
			if (err != nil) != tc.busy || (err != nil && !errors.Is(err, ErrBusy)) {
				t.Fatalf("checkBacklog(%d): %v, want busy %v (ErrBusy)", tc.size, err, tc.busy)
			}
		})
	}
}
