package procnet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Sample is one reading of a validator process's resources.
type Sample struct {
	At      time.Duration
	Node    int
	RSS     int64         // bytes resident now (VmRSS)
	PeakRSS int64         // bytes, the most ever resident (VmHWM)
	CPU     time.Duration // user + system time used since the process started
	Threads int           // OS threads (goroutines are not exposed by the node)
	Files   int           // open file descriptors
}

// clockTick is the unit of /proc/PID/stat's utime and stime: USER_HZ,
// 100 on every Linux architecture Go supports (sysconf(_SC_CLK_TCK)).
const clockTick = 10 * time.Millisecond

// Sample reads node i's memory, CPU time, threads and open files from
// /proc; false if it is not running.
func (n *Network) Sample(i int) (Sample, bool) {
	pid := n.PID(i)
	if pid == 0 {
		return Sample{}, false
	}
	s, err := ReadProc(pid)
	if err != nil {
		return Sample{}, false
	}
	s.Node = i
	return s, true
}

// ReadProc reads process pid's resources from /proc (Linux).
func ReadProc(pid int) (Sample, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	st, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return Sample{}, fmt.Errorf("procnet: %w", err)
	}
	s, err := parseStatus(st)
	if err != nil {
		return Sample{}, fmt.Errorf("procnet: /proc/%d/status: %w", pid, err)
	}
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return Sample{}, fmt.Errorf("procnet: %w", err)
	}
	if s.CPU, err = parseStatCPU(stat); err != nil {
		return Sample{}, fmt.Errorf("procnet: /proc/%d/stat: %w", pid, err)
	}
	if fds, err := os.ReadDir(filepath.Join(dir, "fd")); err == nil {
		s.Files = len(fds)
	}
	return s, nil
}

// parseStatus reads VmRSS, VmHWM (kB) and Threads from /proc/PID/status.
func parseStatus(b []byte) (Sample, error) {
	var s Sample
	seen := 0
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || v < 0 || v > 1<<50 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			s.RSS, seen = v<<10, seen|1
		case "VmHWM:":
			s.PeakRSS, seen = v<<10, seen|2
		case "Threads:":
			s.Threads, seen = int(v), seen|4
		}
	}
	if seen != 7 {
		return Sample{}, errors.New("no VmRSS, VmHWM or Threads line")
	}
	return s, nil
}

// parseStatCPU returns utime+stime from /proc/PID/stat. The command name
// (field 2) is in parentheses and may hold spaces or parentheses: the
// fields are counted from the last ')'. utime and stime are fields 14
// and 15.
func parseStatCPU(b []byte) (time.Duration, error) {
	k := bytes.LastIndexByte(b, ')')
	if k < 0 {
		return 0, errors.New("no command name")
	}
	f := strings.Fields(string(b[k+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want at least 13", len(f))
	}
	var ticks int64
	for _, x := range f[11:13] {
		v, err := strconv.ParseInt(x, 10, 64)
		if err != nil || v < 0 || v > 1<<40 {
			return 0, fmt.Errorf("cpu time %q", x)
		}
		ticks += v
	}
	return time.Duration(ticks) * clockTick, nil
}
