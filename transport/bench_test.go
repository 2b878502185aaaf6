package transport

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkMeshThroughput measures one-way message throughput between two
// meshes on loopback: frames/s and MB/s (payload bytes).
func BenchmarkMeshThroughput(b *testing.B) {
	for _, size := range []int{128, 4 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			var received atomic.Int64
			c := newCluster(b, 2, nil, nil)
			c.meshes[1].onMessage = func(uint64, []byte) { received.Add(1) }
			c.waitConnected(b)
			frame := make([]byte, size)
			b.SetBytes(int64(size))
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; {
				err := c.meshes[0].Send(2, frame)
				switch {
				case err == nil:
					i++
				case errors.Is(err, ErrQueueFull):
					runtime.Gosched()
				default:
					b.Fatal(err)
				}
			}
			for received.Load() < int64(b.N) {
				time.Sleep(100 * time.Microsecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "frames/s")
		})
	}
}

// BenchmarkRequest measures sequential request round trips (small
// request, response of the given size) on loopback.
func BenchmarkRequest(b *testing.B) {
	for _, size := range []int{128, 1 << 20} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			resp := make([]byte, size)
			c := newCluster(b, 2, func(context.Context, uint64, []byte) ([]byte, error) { return resp, nil }, nil)
			c.waitConnected(b)
			b.SetBytes(int64(size))
			b.ResetTimer()
			for range b.N {
				if _, err := c.meshes[0].Request(context.Background(), 2, []byte("get")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
