//go:build !unix

package vm

import "time"

var start = time.Now()

// processCPU falls back to wall time where getrusage does not exist.
func processCPU() time.Duration { return time.Since(start) }
