package consensus

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
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

func TestPoolBytesOldest(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	type step struct {
		op   string // reserve, track, release, oldest
		id   string
		at   time.Duration
		want time.Duration // oldest's answer
	}
	const ignore = 17 * time.Second
	tests := []struct {
		name  string
		steps []step
	}{
		{"empty", []step{{op: "oldest", at: time.Second, want: 0}}},
		{"the first arrival", []step{
			{op: "reserve", id: "a", at: 0},
			{op: "track", id: "p", at: time.Second},
			{op: "oldest", at: 3 * time.Second, want: 3 * time.Second},
		}},
		{"released ones are skipped", []step{
			{op: "reserve", id: "a", at: 0},
			{op: "reserve", id: "b", at: time.Second},
			{op: "release", id: "a"},
			{op: "oldest", at: 3 * time.Second, want: 2 * time.Second},
			{op: "release", id: "b"},
			{op: "oldest", at: 3 * time.Second, want: 0},
		}},
		{"a released id arriving again counts from its new arrival", []step{
			{op: "reserve", id: "a", at: 0},
			{op: "release", id: "a"},
			{op: "reserve", id: "b", at: time.Second},
			{op: "reserve", id: "a", at: 2 * time.Second},
			{op: "release", id: "b"},
			{op: "oldest", at: 5 * time.Second, want: 3 * time.Second},
		}},
		{"past ignoreAfter is left out", []step{
			{op: "reserve", id: "a", at: 0},
			{op: "reserve", id: "b", at: 15 * time.Second},
			{op: "oldest", at: 20 * time.Second, want: 5 * time.Second},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &poolBytes{max: 1 << 20, maxAge: time.Hour}
			for i, s := range tc.steps {
				switch s.op {
				case "reserve":
					if _, err := p.reserve(s.id, 10, t0.Add(s.at)); err != nil {
						t.Fatal(err)
					}
				case "track":
					p.track(s.id, 10, t0.Add(s.at))
				case "release":
					p.release(s.id)
				case "oldest":
					if got := p.oldest(t0.Add(s.at), ignore); got != s.want {
						t.Fatalf("step %d: oldest %v, want %v", i, got, s.want)
					}
				}
			}
		})
	}
}

// TestPoolBytesOrderBounded: arrivals that leave without oldest being
// asked (a leader with no clients of its own) do not pile up.
func TestPoolBytesOrderBounded(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	p := &poolBytes{max: 1 << 30, maxAge: time.Hour}
	for i := range 100_000 {
		id := fmt.Sprint(i)
		p.track(id, 10, t0.Add(time.Duration(i)*time.Millisecond))
		if i%2 == 0 {
			p.release(id)
		}
	}
	if n, _ := p.pending(); n != 50_000 {
		t.Fatalf("%d pending, want 50000", n)
	}
	if len(p.order) > 2*50_000+1024 {
		t.Fatalf("order holds %d arrivals for 50000 pending", len(p.order))
	}
	if got, want := p.oldest(t0.Add(100*time.Second), time.Hour), 100*time.Second-time.Millisecond; got != want {
		t.Fatalf("oldest %v, want %v", got, want)
	}
}
func TestCheckBacklog(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	g := &genesis.Genesis{Params: genesis.DefaultParams()}
	g.Params.BatchMaxCount, g.Params.BatchMaxBytes = 3, 1000
	half := time.Duration(g.Params.RequestComplainTimeout) / 2 // 7.5 s: the default age bound
	type tx struct {
		id   string
		size int
		at   time.Duration
		peer bool // forwarded by a peer (track), not a client's (reserve)
	}
	tests := []struct {
		name    string
		maxAge  time.Duration // Config.MaxPendingAge
		pending []tx
		now     time.Duration
		size    int
		busy    bool
	}{
		{"empty pool takes a maximal transaction", 0, nil, 0, 1000, false},
		{"under both bounds", 0, []tx{{"a", 100, 0, false}, {"b", 100, 0, true}}, half, 800, false},
		{"a block's worth of bytes with this one", 0, []tx{{"a", 600, 0, false}}, 0, 401, true},
		{"a block's worth by count", 0, []tx{{"a", 1, 0, false}, {"b", 1, 0, false}, {"c", 1, 0, false}}, 0, 1, true},
		{"peers' transactions count (the leader)", 0, []tx{{"p", 1, 0, true}, {"q", 1, 0, true}, {"r", 1, 0, true}}, 0, 1, true},
		{"oldest just under half the complain timeout", 0, []tx{{"a", 1, 0, false}}, half - time.Millisecond, 1, false},
		{"oldest past half the complain timeout", 0, []tx{{"a", 1, 0, false}}, half + time.Millisecond, 1, true},
		{"a peer's oldest counts too", 0, []tx{{"p", 1, 0, true}}, half + time.Millisecond, 1, true},
		{"oldest past forward and complain: a view change's business", 0, []tx{{"a", 1, 0, false}}, 18 * time.Second, 1, false},
		{"MaxPendingAge set", time.Second, []tx{{"a", 1, 0, false}}, 1100 * time.Millisecond, 1, true},
		{"no age bound", -1, []tx{{"a", 1, 0, false}}, 10 * time.Second, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Replica{cfg: Config{Genesis: g, MaxPendingAge: tc.maxAge, Clock: fixedClock{t0.Add(tc.now)}},
				pool: poolBytes{max: 1 << 20, maxAge: time.Hour}}
			for _, p := range tc.pending {
				if p.peer {
					r.pool.track(p.id, p.size, t0.Add(p.at))
				} else if _, err := r.pool.reserve(p.id, p.size, t0.Add(p.at)); err != nil {
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

func TestRecentIDs(t *testing.T) {
	id := func(s string) block.Hash { return block.Sum([]byte(s)) }
	r := recentIDs{max: 3}
	for _, s := range []string{"a", "b", "c", "a"} {
		r.add(id(s))
	}
	for _, tc := range []struct {
		id   string
		want bool
	}{{"a", true}, {"b", true}, {"c", true}, {"d", false}} {
		if got := r.has(id(tc.id)); got != tc.want {
			t.Fatalf("has(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
	r.add(id("d")) // evicts the oldest, "a"
	if r.has(id("a")) || !r.has(id("d")) || len(r.ids) != 3 {
		t.Fatalf("after eviction: a %v, d %v, %d ids", r.has(id("a")), r.has(id("d")), len(r.ids))
	}
	// The zero hash is an id like any other, not an empty ring slot.
	r.add(block.Hash{})
	r.add(id("e"))
	r.add(id("f")) // evicts c, d, then the zero hash with the next
	if !r.has(block.Hash{}) || r.has(id("c")) || len(r.ids) != 3 {
		t.Fatalf("zero hash: has %v, c %v, %d ids", r.has(block.Hash{}), r.has(id("c")), len(r.ids))
	}
	r.add(id("g"))
	if r.has(block.Hash{}) || len(r.ids) != 3 {
		t.Fatalf("zero hash not evicted in turn: %d ids", len(r.ids))
	}
	// Ids are kept by their first 8 bytes: two that share them are one
	// entry, there while it is, gone with it.
	x, y := id("x"), id("x")
	y[31] ^= 1
	r.add(x)
	if !r.has(y) || len(r.ring) != 3 {
		t.Fatalf("an id sharing a kept id's prefix: has %v, ring %d", r.has(y), len(r.ring))
	}
	r.add(y) // no second entry
	r.add(id("h"))
	r.add(id("i"))
	if !r.has(x) || !r.has(y) {
		t.Fatal("prefix evicted early: a second add of it took a ring slot")
	}
	r.add(id("j"))
	if r.has(x) || r.has(y) || len(r.ids) != 3 {
		t.Fatalf("prefix not evicted in turn: %v %v, %d ids", r.has(x), r.has(y), len(r.ids))
	}
}
