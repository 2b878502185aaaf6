//go:build unix

package block

import (
	"fmt"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/internal/cputime"
)

// reportPer reports the wall and CPU time per unit of the n done since
// CPU time cpu0.
func reportPer(b *testing.B, cpu0 time.Duration, n int, unit string) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/"+unit)
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(n), "cpu-ns/"+unit)
}

// The old rule's cost per signature (crypto/ed25519, what Tx.VerifySignature
// was) and the new one's, alone and in batches; each includes building
// the signing bytes. cpu-ns/sig (the process's user and system CPU time)
// is the figure to compare on a shared machine; ns/sig is wall time.
func BenchmarkVerifySignatures(b *testing.B) {
	txs := make([]*Tx, 256)
	for i := range txs {
		txs[i] = sampleTx()
		txs[i].Nonce = uint64(i)
		txs[i].Sign(testKey(byte(i)))
	}
	b.Run("stdlib-single", func(b *testing.B) {
		cpu0, i := cputime.Process(), 0
		for b.Loop() {
			if !stdlib(txs[i%len(txs)]) {
				b.Fatal("invalid")
			}
			i++
		}
		reportPer(b, cpu0, b.N, "sig")
	})
	b.Run("zip215-single", func(b *testing.B) {
		cpu0, i := cputime.Process(), 0
		for b.Loop() {
			if err := txs[i%len(txs)].VerifySignature(); err != nil {
				b.Fatal(err)
			}
			i++
		}
		reportPer(b, cpu0, b.N, "sig")
	})
	for _, n := range []int{1, 2, 4, 16, 64, 256} {
		b.Run(fmt.Sprintf("batch-%d", n), func(b *testing.B) {
			cpu0 := cputime.Process()
			for b.Loop() {
				if errs := VerifySignatures(txs[:n]); errs != nil {
					b.Fatal(errs)
				}
			}
			reportPer(b, cpu0, b.N*n, "sig")
		})
	}
}
