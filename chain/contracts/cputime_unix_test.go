//go:build unix

package contracts_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) this process has used: the
// hostile-module bounds are on the work a compile does, which other
// processes sharing the machine do not inflate as they do wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
