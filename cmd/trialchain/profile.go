package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
)

// startCPUProfile writes a CPU profile to path until the returned stop is
// called. At stop it also writes the allocation profile of the whole run
// (go tool pprof -sample_index=alloc_space) next to it: path with
// ".allocs" before the extension (v1.pprof → v1.allocs.pprof).
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		if err := writeAllocsProfile(allocsPath(path)); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}, nil
}

// allocsPath is path with ".allocs" before its extension.
func allocsPath(path string) string { return suffixPath(path, ".allocs") }

// suffixPath is path with suffix before its extension (a.pprof, -x → a-x.pprof).
func suffixPath(path, suffix string) string {
	if i := strings.LastIndexByte(path, '.'); i > strings.LastIndexByte(path, '/') {
		return path[:i] + suffix + path[i:]
	}
	return path + suffix
}

func writeAllocsProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("allocation profile: %w", err)
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("allocation profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("allocation profile: %w", err)
	}
	return nil
}
