package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// defaultMemoryLimit is the soft limit `trialchain start` sets on the Go
// runtime's memory (debug.SetMemoryLimit) unless --memory-limit or
// GOMEMLIMIT says otherwise. Outside it a validator also holds the mapped
// binary (~30 MiB, shared by every process running it), Pebble's cache
// and memtables (up to 52 MiB, malloc'd in a cgo build) and the
// contracts' compiled code and linear memories (mmapped by wazero).
//
// With GOGC=100 alone the heap grows to twice what is live before a
// collection, and the pages a burst needed are returned to the system
// only slowly; past the limit the collector runs earlier and the
// scavenger returns idle pages at once. The limit is soft: a heap that
// needs more gets more, but the collector then runs back to back (up to
// half the CPU), so it must sit well above what a validator keeps live.
// That is 40-65 MiB under 10^4-10^5 anchors, and compiling a 5 MB Go
// contract (trial-protocol) adds ~80 MiB for a few seconds: with a
// validator's ~50 MiB beside it the compile took 3.5 s of CPU without a
// limit or with 192-256 MiB, 11 s under 128 MiB (235 collections); with
// 110 MiB beside it, 9.4 s under 192 MiB and 3.2 s under 256 MiB. A
// flood of large transactions keeps even more live (request pool,
// transaction cache). Hence 256 MiB: it never slowed a measured workload
// and bounds the heap's growth; an operator who wants a validator
// smaller sets a lower one and pays in collections.
const defaultMemoryLimit = 256 << 20

// memoryLimitFlag is --memory-limit's help.
var memoryLimitFlag = "soft limit on the Go runtime's memory, e.g. 192MiB, 1GiB, or off (default: $GOMEMLIMIT if set, else " +
	formatMemoryLimit(defaultMemoryLimit) + "; Pebble's cache and the contracts' code and memories live outside it)"

// setMemoryLimit applies the soft memory limit of `trialchain start`:
// flag if given (changed), else $GOMEMLIMIT, which the runtime applied
// already, else defaultMemoryLimit. It returns the limit in force
// (math.MaxInt64: none) and where it came from.
func setMemoryLimit(flag string, changed bool) (int64, string, error) {
	switch {
	case changed:
		n, err := parseMemoryLimit(flag)
		if err != nil {
			return 0, "", fmt.Errorf("--memory-limit: %w", err)
		}
		debug.SetMemoryLimit(n)
		return n, "--memory-limit", nil
	case os.Getenv("GOMEMLIMIT") != "":
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT", nil
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	return defaultMemoryLimit, "default", nil
}

// parseMemoryLimit reads a size as GOMEMLIMIT does (a number of bytes
// with an optional unit B, KiB, MiB, GiB or TiB), or "off" for no limit
// (math.MaxInt64).
func parseMemoryLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return math.MaxInt64, nil
	}
	num, unit := s, int64(1)
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			num, unit = strings.TrimSuffix(s, u.suffix), u.n
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q: want a size such as 256MiB, 1GiB or 268435456, or off", s)
	case n <= 0:
		return 0, fmt.Errorf("%q: the limit must be positive (off: none)", s)
	case n > math.MaxInt64/unit:
		return 0, fmt.Errorf("%q: %w", s, errTooLarge)
	}
	return n * unit, nil
}

var errTooLarge = errors.New("too large")

// formatMemoryLimit prints a limit for the start-up line.
func formatMemoryLimit(n int64) string {
	switch {
	case n == math.MaxInt64:
		return "off"
	case n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	}
	return strconv.FormatInt(n, 10) + "B"
}
