package vm

import (
	"runtime/debug"
	"testing"
)

// gcPercent reads GOGC without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestLowerGCPercent: a compile lowers GOGC to compileGCPercent unless it
// is lower or off, overlapping compiles restore it only when the last
// one ends, and the setting before is back after.
func TestLowerGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct {
		name         string
		before, want int // GOGC before and during the compiles
	}{
		{"default", 100, compileGCPercent},
		{"higher", 400, compileGCPercent},
		{"lower", 20, 20},
		{"off", -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(tc.before)
			first := lowerGCPercent()
			if got := gcPercent(); got != tc.want {
				t.Fatalf("during a compile: GOGC %d, want %d", got, tc.want)
			}
			second := lowerGCPercent()
			first()
			if got := gcPercent(); got != tc.want {
				t.Fatalf("after the first of two overlapping compiles: GOGC %d, want %d", got, tc.want)
			}
			second()
			if got := gcPercent(); got != tc.before {
				t.Fatalf("after both: GOGC %d, want %d restored", got, tc.before)
			}
		})
	}
}
