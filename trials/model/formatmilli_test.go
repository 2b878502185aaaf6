package model

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestFormatMilli checks the hand-written formatting against time.Format
// at the edges of its range, every day boundary of leap years and
// centuries, and random instants.
func TestFormatMilli(t *testing.T) {
	ref := func(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z") }
	check := func(ms int64) {
		if got, want := FormatMilli(ms), ref(ms); got != want {
			t.Fatalf("FormatMilli(%d) = %s, want %s", ms, got, want)
		}
	}
	for _, ms := range []int64{0, 1, 999, 1000, 86399999, 86400000, -1, -86400001, maxHandMilli - 1, maxHandMilli, maxHandMilli + 1, 1 << 62, -1 << 62} {
		check(ms)
	}
	for day := int64(0); day < 2932897; day += 1 { // every day to 9999-12-31
		check(day*86400000 - 1)
		check(day * 86400000)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		check(r.Int64N(maxHandMilli + 1e12))
	}
}
