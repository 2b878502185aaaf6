// Package cputime owns the one measure of work the chain's benchmarks
// report beside wall time: the CPU time (user and system) the process has
// used, which other processes sharing the machine inflate less than wall
// time.
package cputime

import "time"

// Process returns the CPU time the process has used so far (wall time
// since the package was loaded where the system does not report it).
func Process() time.Duration { return process() }
