package progress

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock advanced by hand; its tickers fire on Advance.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	tickers []*fakeTicker
}

type fakeTicker struct {
	c       chan time.Time
	every   time.Duration
	next    time.Time
	stopped bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) NewTicker(d time.Duration) (<-chan time.Time, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTicker{c: make(chan time.Time, 1), every: d, next: f.now.Add(d)}
	f.tickers = append(f.tickers, t)
	return t.c, func() { f.mu.Lock(); t.stopped = true; f.mu.Unlock() }
}

// Advance moves the clock and fires each due ticker once (a real ticker
// drops ticks a slow reader misses, too).
func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	for _, t := range f.tickers {
		if t.stopped || f.now.Before(t.next) {
			continue
		}
		for !f.now.Before(t.next) {
			t.next = t.next.Add(t.every)
		}
		select {
		case t.c <- f.now:
		default:
		}
	}
}

// lines is a writer that hands each line written to a channel.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
	c   chan string
}

func newLines() *lines { return &lines{c: make(chan string, 64)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.c <- strings.TrimSuffix(string(p), "\n")
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func TestCounter(t *testing.T) {
	clk := newFakeClock()
	w := newLines()
	r := NewWith(w, true, clk, 2*time.Second).Eager(true)
	c := r.Count("export: proofs", "records")
	steps := []struct {
		advance time.Duration
		done    uint64
		want    string // "" = no line
	}{
		{0, 0, "export: proofs: 0/100,000 records (0%)… 0 s"},
		{500 * time.Millisecond, 10_000, ""},
		{1400 * time.Millisecond, 30_000, ""},
		{100 * time.Millisecond, 40_000, "export: proofs: 40,000/100,000 records (40%)… 2 s"},
		{time.Second, 50_000, ""},
		{3 * time.Second, 99_000, "export: proofs: 99,000/100,000 records (99%)… 6 s"},
		{200 * time.Second, 100_000, "export: proofs: 100,000/100,000 records (100%)… 3 min 26 s"},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		c.Set(s.done, 100_000)
		select {
		case got := <-w.c:
			if got != s.want {
				t.Fatalf("step %d: printed %q, want %q", i, got, s.want)
			}
		default:
			if s.want != "" {
				t.Fatalf("step %d: printed nothing, want %q", i, s.want)
			}
		}
	}
	c.Done()
	if got := <-w.c; got != "export: proofs: 100,000 records, done in 3 min 26 s" {
		t.Fatalf("done: %q", got)
	}
	// Unknown total.
	u := r.Count("scan", "blocks")
	u.Set(7, 0)
	if got := <-w.c; got != "scan: 7 blocks… 0 s" {
		t.Fatalf("unknown total: %q", got)
	}
}

// TestPatient: a reporter that is not Eager prints nothing for work that
// ends within an interval, and the first line once it has run that long.
func TestPatient(t *testing.T) {
	clk := newFakeClock()
	w := newLines()
	r := NewWith(w, true, clk, 2*time.Second)
	quick := r.Count("verify: records", "records")
	quick.Set(10, 20)
	clk.Advance(time.Second)
	quick.Set(20, 20)
	quick.Done()
	long := r.Count("verify: records", "records")
	long.Set(1, 100)
	clk.Advance(2 * time.Second)
	long.Set(50, 100)
	long.Done()
	if got, want := w.String(), "verify: records: 50/100 records (50%)… 2 s\nverify: records: 50 records, done in 2 s\n"; got != want {
		t.Fatalf("printed %q, want %q", got, want)
	}
}

// TestOff: an off reporter (and its nil counters) print nothing and
// start no goroutine.
func TestOff(t *testing.T) {
	w := newLines()
	r := NewWith(w, false, newFakeClock(), time.Second)
	c := r.Count("x", "y")
	c.Set(1, 2)
	c.Done()
	r.Every(context.Background(), "waiting", nil)()
	var nilR *Reporter
	nilR.Count("x", "y").Set(1, 1)
	nilR.Every(context.Background(), "x", nil)()
	if w.String() != "" {
		t.Fatalf("an off reporter printed %q", w.String())
	}
}

func TestEvery(t *testing.T) {
	clk := newFakeClock()
	w := newLines()
	r := NewWith(w, true, clk, 2*time.Second)
	height := 40
	stop := r.Every(context.Background(), "waiting for commit of tx ab12", func(context.Context) string {
		height++
		return "height " + strconvI(height)
	})
	for i, want := range []string{
		"waiting for commit of tx ab12… 2 s (height 41)",
		"waiting for commit of tx ab12… 4 s (height 42)",
	} {
		clk.Advance(2 * time.Second)
		if got := <-w.c; got != want {
			t.Fatalf("tick %d: %q, want %q", i, got, want)
		}
	}
	clk.Advance(time.Second) // not due
	stop()
	stop() // twice is fine
	clk.Advance(10 * time.Second)
	select {
	case got := <-w.c:
		t.Fatalf("printed %q after stop", got)
	default:
	}
	// Without a status; the context ends it too.
	ctx, cancel := context.WithCancel(context.Background())
	stop = r.Every(ctx, "generating safe primes", nil)
	clk.Advance(2 * time.Second)
	if got := <-w.c; got != "generating safe primes… 2 s" {
		t.Fatalf("%q", got)
	}
	cancel()
	stop()
}

func TestFormat(t *testing.T) {
	for n, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "0 s", 1999 * time.Millisecond: "1 s", 119 * time.Second: "119 s", 125 * time.Second: "2 min 05 s"} {
		if got := Seconds(d); got != want {
			t.Errorf("Seconds(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestEnabled(t *testing.T) {
	var b bytes.Buffer
	if Enabled(&b, false) || !Enabled(&b, true) {
		t.Fatal("a buffer is not a terminal; --progress forces it")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if Enabled(f, false) {
		t.Fatal("a regular file is not a terminal")
	}
}

func strconvI(i int) string { return Thousands(uint64(i)) }
