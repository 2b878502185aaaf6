package procnet

import (
	"os"
	"testing"
	"time"
)

func TestParseProc(t *testing.T) {
	stat := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1234 (trialchain) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 1000 200", 3 * time.Second, true},
		{"1234 (a b) c)) R 1 1234 1234 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 12 0 100 1000 200", 100 * time.Millisecond, true},
		{"1234 trialchain S 1", 0, false},
		{"1234 (x) S 1 2 3", 0, false},
		{"1234 (x) S 1 1234 1234 0 -1 4194560 100 0 0 0 -5 3 0", 0, false},
	}
	for _, c := range stat {
		got, err := parseStatCPU([]byte(c.in))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseStatCPU(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
	s, err := parseStatus([]byte("Name:\ttrialchain\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t17\n"))
	if err != nil || s.RSS != 100<<20 || s.PeakRSS != 200<<20 || s.Threads != 17 {
		t.Errorf("parseStatus = %+v, %v", s, err)
	}
	if _, err := parseStatus([]byte("Name:\tx\nVmRSS:\t1 kB\n")); err == nil {
		t.Error("parseStatus accepted a status without VmHWM and Threads")
	}
	// This process, as a live check of the layout.
	me, err := ReadProc(os.Getpid())
	if err != nil || me.RSS <= 0 || me.PeakRSS < me.RSS || me.Threads < 1 || me.Files < 1 {
		t.Errorf("ReadProc(self) = %+v, %v", me, err)
	}
}

func FuzzParseProc(f *testing.F) {
	f.Add([]byte("1 (x) S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 1 1"))
	f.Add([]byte("VmHWM:\t2 kB\nVmRSS:\t1 kB\nThreads:\t1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := parseStatCPU(b); err == nil && d < 0 {
			t.Fatalf("negative cpu time %v", d)
		}
		if s, err := parseStatus(b); err == nil && (s.RSS < 0 || s.PeakRSS < 0 || s.Threads < 0) {
			t.Fatalf("negative figures %+v", s)
		}
	})
}
