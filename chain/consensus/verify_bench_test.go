//go:build unix

package consensus

import (
	"fmt"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/internal/cputime"
	"github.com/trialchain/trialchain/chain/state"
)

// BenchmarkVerifyProposalCold: a follower verifying a proposal of n
// anchors none of which it verified before (a cold cache), per anchor,
// on GOMAXPROCS cores: cpu-ns/anchor is the process's user and system CPU
// time (what a validator spends, the figure to compare on a shared
// machine), ns/anchor the wall time.
func BenchmarkVerifyProposalCold(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("anchors=%d", n), func(b *testing.B) {
			rep, txs, withTxs := coldProposal(b, n)
			p := withTxs(txs)
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				rep.cfg.TxCache = state.NewTxCache(rep.params, 4*n, 1<<30)
				b.StartTimer()
				cpu0 := cputime.Process()
				if _, err := rep.VerifyProposal(p); err != nil {
					b.Fatal(err)
				}
				cpu += cputime.Process() - cpu0
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/anchor")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/anchor")
		})
	}
}
