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
//
// One pair of compiled modules also measures where wazero happened to
// place heavy's loop in each: shifting it by a few bytes changes its
// time by up to ~30% on the benchmark machine, metered or not, and any
// change to the SDK or the instrumenter moves it (the crf merge moved
// the plain module's loop to a slow spot: 2.5 -> 3.5 ms, ratio 0.89).
// So the benchmark builds meteringLayouts pairs, pair k from counter's
// code shifted by shiftCode(k) (the metered module instrumented from the
// same shifted code), iteration i runs pair i%meteringLayouts, and ratio
// is the metered CPU time averaged over the placements divided by the
// plain one's; ratio-min and ratio-max are the extremes of the pairs'
// own ratios, the spread that placement alone causes. Every pair does
// the same work: the same gas, checked.
func BenchmarkMeteringRatio(b *testing.B) {
	type pair struct {
		metered, plain func()
		gas            func() uint64
		tm, tp         int64
	}
	pairs := make([]*pair, meteringLayouts)
	for k := range pairs {
		code := shiftCode(b, wasmCode["counter"], k)
		p := &pair{plain: unmeteredHeavy(b, code)}
		p.metered, p.gas = meteredHeavy(b, code)
		p.metered()
		p.plain()
		if k > 0 && p.gas() != pairs[0].gas() {
			b.Fatalf("layout %d: heavy used %d gas, layout 0 %d: not the same work", k, p.gas(), pairs[0].gas())
		}
		pairs[k] = p
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := pairs[i%len(pairs)]
		t0 := threadCPU(b)
		p.metered()
		t1 := threadCPU(b)
		p.plain()
		t2 := threadCPU(b)
		p.tm += t1 - t0
		p.tp += t2 - t1
	}
	b.StopTimer()
	// Per pair, the mean CPU time of each side and their ratio; over the
	// pairs, the mean of each side's means (every placement weighs the
	// same, whatever b.N) and the extremes of the pairs' ratios.
	var mm, mp, lo, hi float64
	n := 0
	for i, p := range pairs {
		calls := float64((b.N - i + len(pairs) - 1) / len(pairs))
		if calls == 0 {
			continue // b.N below the number of pairs
		}
		m, q := float64(p.tm)/calls, float64(p.tp)/calls
		r := m / q
		if n == 0 || r < lo {
			lo = r
		}
		if n == 0 || r > hi {
			hi = r
		}
		mm += m
		mp += q
		n++
	}
	mm /= float64(n)
	mp /= float64(n)
	b.ReportMetric(mm/mp, "ratio")
	b.ReportMetric(lo, "ratio-min")
	b.ReportMetric(hi, "ratio-max")
	b.ReportMetric(mm, "metered-cpu-ns/op")
	b.ReportMetric(mp, "plain-cpu-ns/op")
	b.ReportMetric(float64(pairs[0].gas()), "gas/op")
}

// meteringLayouts is the number of placements BenchmarkMeteringRatio
// averages over (shifts of 0 to 7 pairs: in the measurements they put
// the plain loop on both fast and slow spots; compiling the 16 modules
// takes ~40 s of CPU once per test binary).
const meteringLayouts = 8
