package consensus

import (
	"errors"
	"testing"
	"time"
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
