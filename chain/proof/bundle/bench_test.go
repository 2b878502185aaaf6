package bundle

import (
	"fmt"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/internal/cputime"
)

// BenchmarkVerify verifies trial bundles of about 10^3, 10^4 and 10^5
// records (one threshold consent, two payloads, the trial's record set and
// its proofs). ns/op is the time for the whole bundle; bytes/record is the
// bundle file's size per record; cpu-s/op is the CPU time of the process
// per bundle (all cores; on a machine shared with other work wall time
// measures the neighbours too, and on an idle one it is about cpu-s/op
// divided by the cores). The README's figures come from
//
//	go test -run '^$' -bench 'Verify/(10000|100000)$' -benchtime 3x ./chain/proof/bundle
func BenchmarkVerify(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			f := newTrialFixture(b, 1, n)
			bu := f.export(b, false)
			enc := bu.Encode()
			var cpu time.Duration
			for b.Loop() {
				cpu0 := cputime.Process()
				d, err := Decode(enc)
				if err != nil {
					b.Fatal(err)
				}
				res, err := Verify(d, f.fc.g)
				if err != nil {
					b.Fatal(err)
				}
				if res.Complete == nil {
					b.Fatal("completeness not proven")
				}
				cpu += cputime.Process() - cpu0
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(len(bu.Records)), "records")
			b.ReportMetric(float64(len(enc))/float64(len(bu.Records)), "bytes/record")
		})
	}
}
