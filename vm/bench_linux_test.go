package vm

import (
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// threadCPU returns the calling thread's CPU time in nanoseconds.
func threadCPU(b *testing.B) int64 {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		b.Fatal(e)
	}
	return ts.Nano()
}

// BenchmarkMeteringRatio calls counter's heavy method instrumented and
// uninstrumented in turn on one locked thread and reports the ratio of
// their thread CPU times (metering overhead; issue 13's goal is < 1.3).
func BenchmarkMeteringRatio(b *testing.B) {
	metered, gas := meteredHeavy(b)
	plain := unmeteredHeavy(b)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var tm, tp int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := threadCPU(b)
		metered()
		t1 := threadCPU(b)
		plain()
		t2 := threadCPU(b)
		tm += t1 - t0
		tp += t2 - t1
	}
	b.StopTimer()
	b.ReportMetric(float64(tm)/float64(tp), "ratio")
	b.ReportMetric(float64(tm)/float64(b.N), "metered-cpu-ns/op")
	b.ReportMetric(float64(tp)/float64(b.N), "plain-cpu-ns/op")
	b.ReportMetric(float64(gas()), "gas/op")
}
