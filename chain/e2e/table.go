package e2e

import (
	"fmt"
	"strings"
	"time"
)

// Header is the markdown header of Report.Row.
const Header = "| scenario | acked/submitted | longest gap | empty 10-s windows | stall after each step | catch-up | settle | linearizable (ops) | safety |\n|---|---|---|---|---|---|---|---|---|"

// Row renders the report as a markdown table row.
func (r *Report) Row(s *Scenario) string {
	durs := func(ds []time.Duration) string {
		if len(ds) == 0 {
			return "–"
		}
		var parts []string
		for _, d := range ds {
			if d < 0 {
				parts = append(parts, "never")
			} else {
				parts = append(parts, fmt.Sprintf("%.1f s", d.Seconds()))
			}
		}
		return strings.Join(parts, ", ")
	}
	safety := "ok"
	if len(r.Failures) > 0 {
		safety = fmt.Sprintf("%d failures", len(r.Failures))
	}
	linear := "–"
	if r.Linear != "" {
		linear = fmt.Sprintf("%s (%d)", r.Linear, r.LinearOps)
	}
	return fmt.Sprintf("| %s | %d/%d | %.1f s (target %v) | %d/%d (target %d) | %s | %s | %.1f s | %s | %s |",
		r.Scenario, r.Acked, r.Submitted, r.MaxGap.Seconds(), s.Expect.MaxGap.D(), r.EmptyWindows, r.Windows, s.Expect.EmptyWindows,
		durs(r.Resume), durs(r.CatchUp), r.Settle.Seconds(), linear, safety)
}
