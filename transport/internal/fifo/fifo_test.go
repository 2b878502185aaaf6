package fifo

import (
	"fmt"
	"sync"
	"testing"
)

func TestBounds(t *testing.T) {
	tests := []struct {
		name               string
		maxItems, maxBytes int
		size               int
		wantPushed         int
	}{
		{"by count", 3, 100, 1, 3},
		{"by bytes", 100, 10, 4, 2},
		{"empty items count", 2, 10, 0, 2},
		{"item larger than bound", 5, 3, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := New(tt.maxItems, tt.maxBytes)
			pushed := 0
			for range 10 {
				if q.Push(make([]byte, tt.size)) {
					pushed++
				}
			}
			if pushed != tt.wantPushed {
				t.Fatalf("pushed %d, want %d", pushed, tt.wantPushed)
			}
			if n, b := q.Len(); n != pushed || b != pushed*tt.size {
				t.Fatalf("Len = %d, %d", n, b)
			}
			if pushed > 0 {
				if _, ok := q.Pop(); !ok || !q.Push(make([]byte, tt.size)) {
					t.Fatal("a Pop must make room for one more")
				}
			}
			q.Clear()
			if n, b := q.Len(); n != 0 || b != 0 {
				t.Fatalf("after Clear: Len = %d, %d", n, b)
			}
		})
	}
}

func TestOrderAndCopy(t *testing.T) {
	q := New(10, 100)
	buf := []byte("a")
	q.Push(buf)
	buf[0] = 'X'
	q.Push([]byte("b"))
	for _, want := range []string{"a", "b"} {
		got, ok := q.Pop()
		if !ok || string(got) != want {
			t.Fatalf("Pop = %q, %v; want %q", got, ok, want)
		}
	}
	if _, ok := q.Pop(); ok {
		t.Fatal("Pop from empty queue")
	}
}

// TestHammer: concurrent producers, one consumer; every accepted item
// comes out exactly once and in each producer's order.
func TestHammer(t *testing.T) {
	q := New(64, 1<<20)
	const producers, each = 8, 2000
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := 0; i < each; {
				if q.Push([]byte(fmt.Sprintf("%d %d", p, i))) {
					i++
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	last := make([]int, producers)
	for i := range last {
		last[i] = -1
	}
	got := 0
	for got < producers*each {
		select {
		case <-q.Ready():
		case <-done:
		}
		for {
			b, ok := q.Pop()
			if !ok {
				break
			}
			var p, i int
			if _, err := fmt.Sscanf(string(b), "%d %d", &p, &i); err != nil {
				t.Fatal(err)
			}
			if i != last[p]+1 {
				t.Fatalf("producer %d: got %d after %d", p, i, last[p])
			}
			last[p] = i
			got++
		}
	}
}
