package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestParseMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{in: "128MiB", want: 128 << 20},
		{in: " 1GiB ", want: 1 << 30},
		{in: "512KiB", want: 512 << 10},
		{in: "2TiB", want: 2 << 40},
		{in: "4096B", want: 4096},
		{in: "134217728", want: 134217728},
		{in: "off", want: math.MaxInt64},
		{in: "", err: true},
		{in: "0", err: true},
		{in: "-1MiB", err: true},
		{in: "128MB", err: true},
		{in: "1.5GiB", err: true},
		{in: "9000000TiB", err: true},
	} {
		got, err := parseMemoryLimit(tc.in)
		if (err != nil) != tc.err || got != tc.want && !tc.err {
			t.Errorf("parseMemoryLimit(%q) = %d, %v; want %d (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestSetMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	for _, tc := range []struct {
		name, flag string
		changed    bool
		env        string
		want       int64
		from       string
		err        bool
	}{
		{name: "default", want: defaultMemoryLimit, from: "default"},
		{name: "flag", flag: "1GiB", changed: true, want: 1 << 30, from: "--memory-limit"},
		{name: "flag off", flag: "off", changed: true, want: math.MaxInt64, from: "--memory-limit"},
		{name: "flag over env", flag: "64MiB", changed: true, env: "1GiB", want: 64 << 20, from: "--memory-limit"},
		{name: "env", env: "96MiB", want: 96 << 20, from: "GOMEMLIMIT"},
		{name: "bad flag", flag: "lots", changed: true, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", tc.env)
			if tc.env != "" {
				// The runtime reads GOMEMLIMIT at start; stand in for it.
				n, err := parseMemoryLimit(tc.env)
				if err != nil {
					t.Fatal(err)
				}
				debug.SetMemoryLimit(n)
			}
			got, from, err := setMemoryLimit(tc.flag, tc.changed)
			if (err != nil) != tc.err {
				t.Fatalf("setMemoryLimit: %v, want error %v", err, tc.err)
			}
			if tc.err {
				return
			}
			if got != tc.want || from != tc.from || debug.SetMemoryLimit(-1) != tc.want {
				t.Fatalf("setMemoryLimit = %d (%s), runtime %d; want %d (%s)", got, from, debug.SetMemoryLimit(-1), tc.want, tc.from)
			}
		})
	}
}

func TestFormatMemoryLimit(t *testing.T) {
	for in, want := range map[int64]string{math.MaxInt64: "off", 128 << 20: "128MiB", 2 << 30: "2GiB", 1000: "1000B"} {
		if got := formatMemoryLimit(in); got != want {
			t.Errorf("formatMemoryLimit(%d) = %q, want %q", in, got, want)
		}
	}
}
