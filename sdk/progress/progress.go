// Package progress reports long work to people: a line every few seconds
// ("export: 40,000/100,000 records, 12 s", "generating safe primes… 14 s")
// on a writer that is meant for people (stderr), never on the output
// scripts parse (stdout).
//
// A Reporter is off unless its writer is a terminal or the user asked for
// progress (--progress): then every method is a no-op, so callers report
// unconditionally. Two kinds of work:
//
//   - counted work (Counter): the caller says how far it is; a line is
//     printed once it has run for an interval (at once if Eager), then at
//     most every interval, and when it ends (if it printed anything);
//   - waiting (Every): a goroutine prints how long it has waited, with an
//     optional status ("height 41"), every interval until stopped.
//
// The clock is injectable (Clock) so tests advance time by hand.
package progress

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// DefaultInterval is the time between two progress lines.
const DefaultInterval = 2 * time.Second

// Clock is the time source of a Reporter.
type Clock interface {
	Now() time.Time
	// NewTicker returns a channel that receives every d, and a function
	// that stops it.
	NewTicker(d time.Duration) (<-chan time.Time, func())
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) NewTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Reporter writes progress lines to w. The zero value and a nil
// *Reporter are off. It is safe for concurrent use.
type Reporter struct {
	w        io.Writer
	on       bool
	clock    Clock
	interval time.Duration
	eager    bool // counted work prints its first line at once, not after an interval

	mu sync.Mutex // serialises lines
}

// Eager makes counted work print its first line at its first Set rather
// than once it has run for an interval (work shorter than that then
// prints nothing). For --progress: the user asked to see it. It returns r.
func (r *Reporter) Eager(on bool) *Reporter {
	if r != nil {
		r.eager = on
	}
	return r
}

// New returns a reporter on w with the real clock and DefaultInterval; it
// is on if on is true.
func New(w io.Writer, on bool) *Reporter {
	return NewWith(w, on, realClock{}, DefaultInterval)
}

// NewWith is New with a clock and an interval (tests).
func NewWith(w io.Writer, on bool, clock Clock, interval time.Duration) *Reporter {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Reporter{w: w, on: on && w != nil, clock: clock, interval: interval}
}

// Enabled reports whether progress should be shown on w: forced (the
// user passed --progress), or w is a terminal.
func Enabled(w io.Writer, forced bool) bool {
	if forced {
		return true
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// On reports whether r prints anything.
func (r *Reporter) On() bool { return r != nil && r.on }

func (r *Reporter) printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, format+"\n", args...)
}

// Counter is counted work: Set says how far it is.
type Counter struct {
	r       *Reporter
	stage   string
	unit    string
	start   time.Time
	last    time.Time // of the last line
	printed bool
	done    uint64
	total   uint64
	mu      sync.Mutex
}

// Count starts counted work named stage ("export: proofs"), counted in
// unit ("records"). It prints nothing until the first Set.
func (r *Reporter) Count(stage, unit string) *Counter {
	if !r.On() {
		return nil
	}
	return &Counter{r: r, stage: stage, unit: unit, start: r.clock.Now()}
}

// Set records that done of total units are done (total 0: unknown). It
// prints a line once the work has run for an interval (on the first call
// if the reporter is Eager), then at most once an interval. A
// nil *Counter (the reporter is off) does nothing.
func (c *Counter) Set(done, total uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done, c.total = done, total
	now := c.r.clock.Now()
	if c.printed && now.Sub(c.last) < c.r.interval {
		return
	}
	if !c.printed && !c.r.eager && now.Sub(c.start) < c.r.interval {
		return // short work prints nothing
	}
	c.printed, c.last = true, now
	c.r.printf("%s", c.line(now))
}

// Done prints the final line ("…: 100,000/100,000 records in 12 s") if
// the work printed a line before. A nil *Counter does nothing.
func (c *Counter) Done() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.printed {
		return
	}
	now := c.r.clock.Now()
	c.r.printf("%s: %s %s, done in %s", c.stage, Thousands(c.done), c.unit, Seconds(now.Sub(c.start)))
}

func (c *Counter) line(now time.Time) string {
	el := Seconds(now.Sub(c.start))
	if c.total == 0 {
		return fmt.Sprintf("%s: %s %s… %s", c.stage, Thousands(c.done), c.unit, el)
	}
	return fmt.Sprintf("%s: %s/%s %s (%d%%)… %s", c.stage, Thousands(c.done), Thousands(c.total), c.unit, c.done*100/c.total, el)
}

// Every prints "what… 14 s" (and ", status" when status returns one)
// every interval until stop is called or ctx ends; stop waits for the
// goroutine to end. status is called from that goroutine with a context
// that stop cancels. On an off reporter it starts nothing.
func (r *Reporter) Every(ctx context.Context, what string, status func(ctx context.Context) string) (stop func()) {
	if !r.On() {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	start := r.clock.Now()
	tick, stopTick := r.clock.NewTicker(r.interval)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer stopTick()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick:
			}
			line := what + "… " + Seconds(r.clock.Now().Sub(start))
			if status != nil {
				if s := status(ctx); s != "" {
					line += " (" + s + ")"
				}
			}
			if ctx.Err() != nil {
				return // stopped while asking for the status: the work is over
			}
			r.printf("%s", line)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}

// Seconds formats a duration for a progress line: "14 s", "2 min 05 s".
func Seconds(d time.Duration) string {
	s := int64(d / time.Second)
	if s < 120 {
		return strconv.FormatInt(s, 10) + " s"
	}
	return fmt.Sprintf("%d min %02d s", s/60, s%60)
}

// Thousands formats n with comma separators: 100000 → "100,000".
func Thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
