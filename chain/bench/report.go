package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the report: one row per workload and mode, then each
// validator's CPU per transaction and memory.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "%d validator processes on loopback QUIC, %d CPUs; load average %s\n", r.Validators, r.CPUs, r.LoadAvg)
	fmt.Fprintf(w, "ed25519 bound: %.0f verifications/s on %d goroutines ÷ %d validators = %.0f tx/s\n\n",
		r.VerifyPerSec, r.GOMAXPROCS, r.Validators, r.BoundTxPerSec)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tmode\tload\tcommitted\tfailed\trefused\terrors\tseconds\ttx/s\tof bound\tp50 ms\tp99 ms\tblocks\tCPU µs/tx/val\tRSS MiB/val\tpeak MiB/val\t")
	for _, x := range r.Results {
		load := fmt.Sprintf("%d in flight", x.Concurrency)
		if x.Mode == Open {
			load = fmt.Sprintf("%.0f tx/s", x.OfferedRate)
		}
		if x.Batch > 1 {
			load += fmt.Sprintf(", %d/req", x.Batch)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.1f\t%.0f\t%.1f%%\t%.1f\t%.1f\t%d\t%.0f\t%.0f\t%.0f\t\n",
			x.Workload, x.Mode, load, x.Committed, x.Failed, x.Refused, x.Errors+x.Skipped, x.Seconds, x.TxPerSec, 100*x.BoundRatio,
			x.P50Ms, x.P99Ms, x.Blocks, mean(x.CPUPerTxUs), maxOf(x.RSSMiB), maxOf(x.PeakRSSMiB))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nper validator (CPU µs per committed tx; RSS at the end / peak MiB):")
	tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	head := []string{"workload", "mode"}
	for i := range r.Validators {
		head = append(head, fmt.Sprintf("validator %d", i+1))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, x := range r.Results {
		row := []string{x.Workload, string(x.Mode)}
		for i := range x.CPUPerTxUs {
			row = append(row, fmt.Sprintf("%.0f µs, %.0f/%.0f MiB", x.CPUPerTxUs[i], x.RSSMiB[i], x.PeakRSSMiB[i]))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
	fmt.Fprintln(w, "\nvalidator 1's metrics during each phase (height, commit-latency count, largest request pool):")
	for _, x := range r.Results {
		m := x.Metrics
		fmt.Fprintf(w, "  %s %s: height %.0f→%.0f, commits %.0f→%.0f, pool up to %.0f txs / %.0f bytes (%d scrapes)%s\n",
			x.Workload, x.Mode, m.HeightFrom, m.HeightTo, m.CommitsFrom, m.CommitsTo, m.PoolTxsMax, m.PoolBytesMax, m.Scrapes, errNote(x.MetricsError))
	}
	for _, x := range r.Results {
		if x.FirstError != "" {
			fmt.Fprintf(w, "%s %s: first error: %s\n", x.Workload, x.Mode, x.FirstError)
		}
	}
}

func errNote(s string) string {
	if s == "" {
		return ""
	}
	return "; " + s
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func maxOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return slices.Max(xs)
}
