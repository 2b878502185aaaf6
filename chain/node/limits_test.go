package node

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestWeightedHammer: goroutines taking and giving back random amounts
// of a semaphore (at once when free, else waiting) never hold more than
// its size together, every wait ends (a release wakes the waiters, the
// channel being made only when one waits), and all units come back.
func TestWeightedHammer(t *testing.T) {
	const size, workers, rounds = 10, 16, 300
	s := newWeighted(size)
	var held atomic.Int64
	var wg sync.WaitGroup
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for range rounds {
				k := 1 + rng.Int64N(size)
				if err := s.acquireWithin(context.Background(), k, 10*time.Second); err != nil {
					t.Errorf("acquire %d: %v", k, err)
					return
				}
				if h := held.Add(k); h > size {
					t.Errorf("%d units held, size %d", h, size)
				}
				if rng.IntN(4) == 0 {
					time.Sleep(time.Duration(rng.IntN(50)) * time.Microsecond)
				}
				held.Add(-k)
				s.release(k)
			}
		}()
	}
	wg.Wait()
	if !s.tryAcquire(size) {
		t.Fatalf("after the hammer, %d of %d units are free", s.avail, size)
	}
}

// TestWeightedRefusals: more than the size is refused at once, a wait
// ends with its deadline, and the parent's cancellation ends it too.
func TestWeightedRefusals(t *testing.T) {
	s := newWeighted(4)
	if err := s.acquireWithin(context.Background(), 5, time.Second); err == nil {
		t.Fatal("5 units of 4: no error")
	}
	if !s.tryAcquire(3) || s.tryAcquire(2) {
		t.Fatal("tryAcquire: want 3 taken, then 2 refused")
	}
	start := time.Now()
	if err := s.acquireWithin(context.Background(), 2, 30*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait past the deadline: %v", err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("gave up after %s, before its deadline", d)
	}
	parent, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.acquireWithin(parent, 2, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled parent: %v", err)
	}
	if err := s.acquireWithin(parent, 1, time.Minute); err != nil { // free units are taken whatever the context
		t.Fatalf("1 free unit: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.acquireWithin(context.Background(), 2, time.Minute) }()
	time.Sleep(10 * time.Millisecond)
	s.release(3)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a release did not wake the waiter")
	}
}
