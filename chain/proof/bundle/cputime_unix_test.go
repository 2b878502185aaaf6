//go:build unix

package bundle

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) the test process has used:
// on a machine shared with other work, it measures what a benchmark costs
// where wall time measures the neighbours.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
