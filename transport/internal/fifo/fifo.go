// Package fifo is a bounded, non-blocking FIFO of byte slices shared by the
// transport implementations. It is bounded both by the number of items and
// by the sum of their lengths, so a slow or absent consumer can never make
// a producer grow memory without limit or block.
package fifo

import "sync"

// Queue is a bounded FIFO of byte slices. It is safe for concurrent use by
// any number of producers and one consumer.
type Queue struct {
	maxItems, maxBytes int
	ready              chan struct{}

	mu    sync.Mutex
	items [][]byte
	bytes int
}

// New returns an empty queue holding at most maxItems items and maxBytes
// bytes of payload (both must be positive).
func New(maxItems, maxBytes int) *Queue {
	return &Queue{maxItems: maxItems, maxBytes: maxBytes, ready: make(chan struct{}, 1)}
}

// Push appends a copy of b and reports whether it fit; if not, nothing is
// allocated. It never blocks.
func (q *Queue) Push(b []byte) bool {
	q.mu.Lock()
	if len(q.items)+1 > q.maxItems || q.bytes+len(b) > q.maxBytes {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, append(make([]byte, 0, len(b)), b...))
	q.bytes += len(b)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// Pop removes and returns the oldest item, or false if the queue is empty.
func (q *Queue) Pop() ([]byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return nil, false
	}
	b := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil // let the backing array go
	}
	q.bytes -= len(b)
	return b, true
}

// Ready is signalled (capacity one, coalescing) after a Push. A consumer
// waits on it, then Pops until the queue is empty.
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// Len reports the number of queued items and their total length.
func (q *Queue) Len() (items, bytes int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items), q.bytes
}

// Clear drops every queued item.
func (q *Queue) Clear() {
	q.mu.Lock()
	q.items, q.bytes = nil, 0
	q.mu.Unlock()
}
