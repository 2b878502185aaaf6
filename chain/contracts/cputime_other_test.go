//go:build !unix

package contracts_test

import "time"

var cpuStart = time.Now()

// processCPU falls back to wall time where getrusage does not exist.
func processCPU() time.Duration { return time.Since(cpuStart) }
