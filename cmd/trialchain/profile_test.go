package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAllocsPath(t *testing.T) {
	for in, want := range map[string]string{
		"bench-v1.pprof":   "bench-v1.allocs.pprof",
		"/tmp/x.y/profile": "/tmp/x.y/profile.allocs",
		"cpu":              "cpu.allocs",
	} {
		if got := allocsPath(in); got != want {
			t.Errorf("allocsPath(%q) = %q, want %q", in, got, want)
		}
	}
	if got := suffixPath("/tmp/bench.pprof", "-client"); got != "/tmp/bench-client.pprof" {
		t.Errorf("suffixPath = %q", got)
	}
}

// The stop of a CPU profile leaves both profiles, each readable.
func TestCPUProfileWritesAllocs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v1.pprof")
	stop, err := startCPUProfile(p)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	for _, f := range []string{p, allocsPath(p)} {
		st, err := os.Stat(f)
		if err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v (empty: %v)", f, err, err == nil)
		}
	}
}
