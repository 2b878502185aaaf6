package consensus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/transport"
)

// txsOf returns n distinct fake transactions of size bytes each (the
// forwarder and the frame codec never decode them).
func txsOf(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		b := bytes.Repeat([]byte{byte(i)}, size)
		binary.BigEndian.PutUint32(b, uint32(i))
		out[i] = b
	}
	return out
}

// body builds a frameRequests body by hand: a count, then each element's
// length and bytes.
func body(count uint64, elems ...[]byte) []byte {
	b := binary.AppendUvarint(nil, count)
	for _, e := range elems {
		b = binary.AppendUvarint(b, uint64(len(e)))
		b = append(b, e...)
	}
	return b
}

func TestRequestsFrameRoundTrip(t *testing.T) {
	for _, txs := range [][][]byte{txsOf(1, 4), txsOf(2, 100), txsOf(maxForwardBatch, 8), txsOf(3, 300)} {
		f := encodeRequests(txs)
		if f[0] != frameRequests {
			t.Fatalf("frame type %d, want %d", f[0], frameRequests)
		}
		got, err := decodeRequests(f[1:], 1000)
		if err != nil {
			t.Fatalf("%d transactions: %v", len(txs), err)
		}
		if !slices.EqualFunc(got, txs, bytes.Equal) {
			t.Fatalf("%d transactions: round trip differs", len(txs))
		}
	}
}

func TestDecodeRequestsRefuses(t *testing.T) {
	const maxTx = 1000
	tx := []byte("a transaction")
	nonMinimal := append([]byte{0x81, 0x00}, body(0, tx)...) // count 1 in two bytes
	cases := []struct {
		name string
		b    []byte
		max  int
	}{
		{"empty", nil, maxTx},
		{"no transaction", body(0), maxTx},
		{"count over the cap", body(maxForwardBatch+1, txsOf(maxForwardBatch+1, 4)...), maxTx},
		{"count says more than follow", body(3, tx, tx), maxTx},
		{"count says fewer than follow", body(1, tx, tx), maxTx},
		{"non-minimal count", nonMinimal, maxTx},
		{"empty transaction", body(2, tx, nil), maxTx},
		{"transaction over the cap", body(1, make([]byte, maxTx+1)), maxTx},
		{"truncated length", append(body(2, tx), 0x80), maxTx},
		{"truncated transaction", body(1, tx)[:len(body(1, tx))-1], maxTx},
		{"length overflows", append(body(1), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), maxTx},
		{"trailing byte", append(body(1, tx), 0), maxTx},
		{"more bytes than a frame", body(2, make([]byte, forwardFrameBytes/2+1), make([]byte, forwardFrameBytes/2)), forwardFrameBytes},
		{"more bytes than a transaction alone", body(2, make([]byte, 2*forwardFrameBytes), []byte{1}), 2 * forwardFrameBytes},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			txs, err := decodeRequests(tc.b, tc.max)
			if !errors.Is(err, errMalformedRequests) {
				t.Fatalf("decodeRequests = %d transactions, %v; want errMalformedRequests", len(txs), err)
			}
		})
	}
	// At the caps, accepted.
	for _, b := range [][]byte{
		body(2, make([]byte, forwardFrameBytes/2), make([]byte, forwardFrameBytes/2)),
		body(1, make([]byte, 2*forwardFrameBytes)),
	} {
		if _, err := decodeRequests(b, 2*forwardFrameBytes); err != nil {
			t.Fatalf("a frame at the caps: %v", err)
		}
	}
}

// FuzzDecodeRequests: decoding never panics, what it accepts is within
// the caps and is the one encoding of what it returns.
func FuzzDecodeRequests(f *testing.F) {
	f.Add(encodeRequests(txsOf(3, 5))[1:], 16)
	f.Add(body(1, []byte("x")), 1)
	f.Add(body(2, []byte("x")), 8)
	f.Add([]byte{0x81, 0x00, 0x01, 0x41}, 8)
	f.Fuzz(func(t *testing.T, b []byte, maxTx int) {
		maxTx = 1 + abs(maxTx)%(2*forwardFrameBytes)
		txs, err := decodeRequests(b, maxTx)
		if err != nil {
			if !errors.Is(err, errMalformedRequests) {
				t.Fatalf("error %v is not errMalformedRequests", err)
			}
			return
		}
		total := 0
		for _, tx := range txs {
			if len(tx) == 0 || len(tx) > maxTx {
				t.Fatalf("accepted a transaction of %d bytes (cap %d)", len(tx), maxTx)
			}
			total += len(tx)
		}
		if len(txs) == 0 || len(txs) > maxForwardBatch || total > max(forwardFrameBytes, maxTx) {
			t.Fatalf("accepted %d transactions of %d bytes", len(txs), total)
		}
		if again := encodeRequests(txs)[1:]; !bytes.Equal(again, b) {
			t.Fatalf("accepted a non-canonical encoding: %x re-encodes as %x", b, again)
		}
	})
}

func abs(x int) int {
	if x < 0 {
		return -(x + 1)
	}
	return x
}

func TestCutFrame(t *testing.T) {
	cases := []struct {
		name string
		txs  [][]byte
		want int
	}{
		{"one", txsOf(1, 10), 1},
		{"a few", txsOf(5, 10), 5},
		{"a batch", txsOf(forwardBatch, 10), forwardBatch},
		{"more than a batch", txsOf(forwardBatch+1, 10), forwardBatch},
		{"bytes", txsOf(5, forwardFrameBytes/3), 3},
		{"a large one alone", txsOf(2, forwardFrameBytes+1), 1},
		{"a large one after small ones", append(txsOf(2, 10), make([]byte, forwardFrameBytes)), 2},
	}
	for _, tc := range cases {
		if got := cutFrame(tc.txs); got != tc.want {
			t.Errorf("%s: cutFrame = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// sentFrame is a frame a fake transport took.
type sentFrame struct {
	to    uint64
	frame []byte
}

// fakeSend records frames; fail, if set, decides the error of each send
// by its index.
type fakeSend struct {
	mu     sync.Mutex
	frames []sentFrame
	calls  int
	fail   func(i int) error
}

func (s *fakeSend) send(to uint64, frame []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.calls
	s.calls++
	if s.fail != nil {
		if err := s.fail(i); err != nil {
			return err
		}
	}
	s.frames = append(s.frames, sentFrame{to, slices.Clone(frame)})
	return nil
}

// txsIn decodes the transactions of the recorded frames, in order, and
// checks each went to leader.
func (s *fakeSend) txsIn(t *testing.T, leader uint64) (txs [][]byte, sizes []int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.frames {
		if f.to != leader {
			t.Fatalf("a frame went to %d, want the leader %d", f.to, leader)
		}
		switch f.frame[0] {
		case frameRequest:
			txs, sizes = append(txs, f.frame[1:]), append(sizes, 1)
		case frameRequests:
			got, err := decodeRequests(f.frame[1:], forwardFrameBytes)
			if err != nil {
				t.Fatalf("a batch frame does not decode: %v", err)
			}
			if len(got) < 2 {
				t.Fatalf("a batch frame of %d transaction(s): a lone one goes as frameRequest", len(got))
			}
			txs, sizes = append(txs, got...), append(sizes, len(got))
		default:
			t.Fatalf("frame of type %d", f.frame[0])
		}
	}
	return txs, sizes
}

func TestForwarderFlush(t *testing.T) {
	full := fmt.Errorf("%w: peer 2", transport.ErrQueueFull)
	unknown := fmt.Errorf("%w: 2", transport.ErrUnknownPeer)
	cases := []struct {
		name      string
		txs       [][]byte
		self      uint64
		leader    uint64
		fail      func(i int) error
		sizes     []int // transactions per frame sent
		held      bool
		saturated bool // push refused afterwards
		dropped   int
	}{
		{name: "one goes as frameRequest", txs: txsOf(1, 50), self: 1, leader: 2, sizes: []int{1}},
		{name: "a few in one frame", txs: txsOf(3, 50), self: 1, leader: 2, sizes: []int{3}},
		{name: "cut by count", txs: txsOf(2*forwardBatch+1, 50), self: 1, leader: 3, sizes: []int{forwardBatch, forwardBatch, 1}},
		{name: "cut by bytes", txs: txsOf(3, forwardFrameBytes/2), self: 1, leader: 2, sizes: []int{2, 1}},
		{name: "self leads: dropped, its pool holds them", txs: txsOf(5, 50), self: 2, leader: 2},
		{name: "no leader: held", txs: txsOf(5, 50), self: 1, leader: 0, held: true},
		{name: "link full: held from that frame on", txs: txsOf(forwardBatch+5, 50), self: 1, leader: 2,
			fail:  func(i int) error { return map[bool]error{true: full}[i == 1] },
			sizes: []int{forwardBatch}, held: true, saturated: true},
		{name: "refused otherwise: dropped", txs: txsOf(forwardBatch+5, 50), self: 1, leader: 2,
			fail:  func(i int) error { return map[bool]error{true: unknown}[i == 0] },
			sizes: []int{5}, dropped: forwardBatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newForwarder()
			for _, tx := range tc.txs {
				if err := f.push(tx); err != nil {
					t.Fatal(err)
				}
			}
			s := &fakeSend{fail: tc.fail}
			held, dropped, err := f.flush(tc.self, tc.leader, s.send)
			if held != tc.held || dropped != tc.dropped {
				t.Fatalf("flush = held %v, dropped %d (%v); want %v, %d", held, dropped, err, tc.held, tc.dropped)
			}
			if (dropped > 0) != (err != nil) || (err != nil && !errors.Is(err, transport.ErrUnknownPeer)) {
				t.Fatalf("flush error %v with %d dropped", err, dropped)
			}
			sent, sizes := s.txsIn(t, tc.leader)
			if !slices.Equal(sizes, tc.sizes) {
				t.Fatalf("frames of %v transactions, want %v", sizes, tc.sizes)
			}
			// Sent in order, then (held) the rest still queued in order.
			want := tc.txs
			if tc.dropped > 0 {
				want = tc.txs[tc.dropped:]
			}
			if tc.self == tc.leader {
				want = nil
			}
			if !slices.EqualFunc(append(sent, f.takeAllPeek()...), want, bytes.Equal) {
				t.Fatalf("sent and still queued: %d transactions, not the %d pushed in order", len(sent)+f.pending(), len(want))
			}
			if (f.pending() > 0) != tc.held {
				t.Fatalf("%d still queued, held %v", f.pending(), held)
			}
			err = f.push([]byte("another"))
			if tc.saturated != (err != nil) || (err != nil && !errors.Is(err, errForwardBusy)) {
				t.Fatalf("push after the flush: %v (saturated: %v)", err, tc.saturated)
			}
			if !tc.held {
				return
			}
			// The next flush, to a leader that takes them (a new one
			// after a view change), sends what was held, in order, and
			// push takes forwards again.
			s2 := &fakeSend{}
			if held, dropped, err := f.flush(1, 4, s2.send); held || dropped != 0 || err != nil {
				t.Fatalf("second flush = %v, %d, %v", held, dropped, err)
			}
			rest, _ := s2.txsIn(t, 4)
			if n := len(sent) + len(rest); n < len(tc.txs) {
				t.Fatalf("%d of %d forwards sent after the retry", n, len(tc.txs))
			}
			if err := f.push([]byte("more")); err != nil {
				t.Fatalf("push after the link drained: %v", err)
			}
		})
	}
}

// takeAllPeek returns the queue without emptying it.
func (f *forwarder) takeAllPeek() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.queue)
}

func TestForwarderPushBounds(t *testing.T) {
	f := newForwarder()
	if err := f.push(make([]byte, forwardQueueBytes+1)); err != nil {
		t.Fatalf("an empty queue refused a transaction over its byte bound: %v", err)
	}
	if err := f.push([]byte{1}); !errors.Is(err, errForwardBusy) {
		t.Fatalf("push past the byte bound = %v, want errForwardBusy", err)
	}
	f.takeAll()
	for i := range forwardQueueMax {
		if err := f.push([]byte{byte(i), 1}); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
	}
	if err := f.push([]byte{2}); !errors.Is(err, errForwardBusy) {
		t.Fatalf("push past the count bound = %v, want errForwardBusy", err)
	}
}

// TestForwarderRun drives the send loop on a virtual clock that moves
// only when the test says: a frame's worth goes at once, fewer after
// forwardDelay of the clock, held forwards after forwardRetry, and the
// loop ends when stopped.
func TestForwarderRun(t *testing.T) {
	cases := []struct {
		name     string
		n, size  int
		advances []time.Duration // clock moves before the flush is expected
		heldOnce bool            // the first flush finds no leader
	}{
		{name: "by count", n: forwardBatch},
		{name: "by bytes", n: 2, size: forwardFrameBytes / 2},
		{name: "by time", n: 3, advances: []time.Duration{forwardDelay / 2, forwardDelay / 2}},
		{name: "held, then retried", n: 3, advances: []time.Duration{forwardDelay, forwardRetry / 2, forwardRetry / 2}, heldOnce: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newVirtualClock(time.Unix(1700000000, 0))
			f := newForwarder()
			s := &fakeSend{}
			flushes := make(chan int, 16)
			leader := uint64(0)
			if !tc.heldOnce {
				leader = 2
			}
			flush := func() bool {
				held, _, _ := f.flush(1, leader, s.send)
				flushes <- f.pending()
				leader = 2
				return held
			}
			stopped, done := make(chan struct{}), make(chan struct{})
			go func() { defer close(done); f.run(stopped, clock, flush) }()
			defer func() {
				close(stopped)
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("run did not return after stop")
				}
			}()
			size := max(tc.size, 8)
			for _, tx := range txsOf(tc.n, size) {
				if err := f.push(tx); err != nil {
					t.Fatal(err)
				}
			}
			for i, d := range tc.advances {
				waitTickers(t, clock, 1)
				expectNoFlush(t, flushes)
				clock.Advance(d)
				if tc.heldOnce && i == 0 {
					if left := <-flushes; left != tc.n {
						t.Fatalf("the flush without a leader left %d queued, want %d", left, tc.n)
					}
				}
			}
			select {
			case left := <-flushes:
				if left != 0 {
					t.Fatalf("%d left queued after the flush", left)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no flush")
			}
			if got, _ := s.txsIn(t, 2); len(got) != tc.n {
				t.Fatalf("%d forwards sent, want %d", len(got), tc.n)
			}
			expectNoFlush(t, flushes)
		})
	}
}

// waitTickers waits until clock has n tickers (the loop is asleep on it).
func waitTickers(t *testing.T, clock *virtualClock, n int) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		clock.mu.Lock()
		k := len(clock.tickers)
		clock.mu.Unlock()
		if k == n {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%d tickers on the clock, want %d", k, n)
		}
	}
}

func expectNoFlush(t *testing.T, flushes <-chan int) {
	t.Helper()
	select {
	case left := <-flushes:
		t.Fatalf("an early flush (%d left queued)", left)
	case <-time.After(20 * time.Millisecond):
	}
}

// TestClusterForwardsInBatches: transactions submitted to a follower in a
// burst reach the leader in batch frames (fewer frames than
// transactions), and every one commits.
func TestClusterForwardsInBatches(t *testing.T) {
	s := seedOf(t, 11)
	c := newCluster(t, 4, s, nil)
	c.waitCommitted([]block.Hash{c.submit(1)}, time.Minute)
	leader, _ := c.nodes[0].rep.Leader()
	follower := leader%4 + 1
	var mu sync.Mutex
	frames, batched, inBatches := 0, 0, 0
	c.net.SetMutate(func(from, to uint64, frame []byte) []byte {
		if from != follower || to != leader || len(frame) == 0 {
			return frame
		}
		mu.Lock()
		defer mu.Unlock()
		switch frame[0] {
		case frameRequest:
			frames++
		case frameRequests:
			frames++
			batched++
			if txs, err := decodeRequests(frame[1:], forwardFrameBytes); err == nil {
				inBatches += len(txs)
			}
		}
		return frame
	})
	const n = 40
	txs := make([]block.Hash, n)
	for i := range txs {
		txs[i] = c.submit(follower)
	}
	c.waitCommitted(txs, time.Minute)
	c.net.SetMutate(nil)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("leader %d: %d transactions from follower %d came in %d frames, %d of them batches carrying %d", leader, n, follower, frames, batched, inBatches)
	// The request pool's own forwards (100 ms of wall clock here) come
	// as single frames, so only the batches are certain.
	if batched == 0 || inBatches < 2*batched {
		t.Fatalf("%d transactions came in %d frames, %d of them batches carrying %d: not batched", n, frames, batched, inBatches)
	}
	c.checkSafety()
}

// TestClusterBatchRefusals: the leader drops a malformed batch frame
// whole (no crash, nothing pooled), and a bad signature inside a batch
// refuses only that transaction: the others commit.
func TestClusterBatchRefusals(t *testing.T) {
	s := seedOf(t, 12)
	c := newCluster(t, 4, s, nil)
	c.waitCommitted([]block.Hash{c.submit(1)}, time.Minute)
	leader, _ := c.nodes[0].rep.Leader()
	ln := c.node(leader)
	from := leader%4 + 1

	good := anchor(c.site, 1_000_001)
	for _, b := range [][]byte{
		{frameRequests},
		{frameRequests, 0},
		{frameRequests, 2, 1, 'x'},
		append([]byte{frameRequests, 1}, append(binary.AppendUvarint(nil, uint64(len(good))), good...)[:len(good)]...),
		append(encodeRequests([][]byte{good, good}), 0),
		append([]byte{frameRequests, 0x81, 0}, encodeRequests([][]byte{good})[2:]...),
	} {
		ln.rep.HandleFrame(from, b)
	}
	if n, _ := ln.rep.pool.pending(); n != 0 {
		t.Fatalf("the leader pools %d transactions from malformed frames", n)
	}

	var batch [][]byte
	var goods []block.Hash
	var bad block.Hash
	for i := range 6 {
		tx := &block.Tx{ChainID: "test", Nonce: uint64(2_000_000 + i), Kind: block.KindAnchor, GasLimit: 100_000,
			Payload: (&block.AnchorPayload{Hash: block.Sum([]byte(fmt.Sprint("batch", i))), Label: "doc"}).Encode()}
		tx.Sign(c.site)
		if i == 2 {
			tx.Signature[0] ^= 1
		}
		raw := tx.Encode()
		if i == 2 {
			bad = block.Sum(raw)
		} else {
			goods = append(goods, block.Sum(raw))
		}
		batch = append(batch, raw)
	}
	ln.rep.HandleFrame(from, encodeRequests(batch))
	c.waitCommitted(goods, time.Minute)
	for _, h := range goods {
		if _, ok := ln.rep.cfg.TxCache.Lookup(h); !ok {
			t.Errorf("the leader's cache lacks %s", h)
		}
	}
	if _, ok := ln.rep.cfg.TxCache.Lookup(bad); ok {
		t.Errorf("the leader's cache holds the transaction with a bad signature")
	}
	// One more block, then the bad one is nowhere.
	c.waitCommitted([]block.Hash{c.submit(from)}, time.Minute)
	for _, n := range c.nodes {
		if _, err := n.st.Receipt(bad); err == nil {
			t.Fatalf("node %d has a receipt for the transaction with a bad signature", n.id)
		}
	}
	c.checkSafety()
}

// TestClusterForwardsAcrossLeaderChange: transactions submitted to a
// follower while the leader is cut off are forwarded to it and lost; the
// follower's pool forwards them to the next leader after the view
// change, and they commit.
func TestClusterForwardsAcrossLeaderChange(t *testing.T) {
	s := seedOf(t, 13)
	c := newCluster(t, 4, s, nil)
	txs := []block.Hash{c.submit(1)}
	c.waitCommitted(txs, time.Minute)
	leader, view := c.nodes[0].rep.Leader()
	follower := leader%4 + 1
	c.net.Isolate(leader)
	for range 10 {
		txs = append(txs, c.submit(follower))
	}
	c.sleep(20 * time.Second)
	c.net.Rejoin(leader)
	v, r := c.waitCommitted(txs, 2*time.Minute)
	now, view2 := c.node(follower).rep.Leader()
	t.Logf("leader %d (view %d) cut off; committed %v virtual (%v real) after the rejoin under leader %d (view %d)",
		leader, view, v.Round(time.Millisecond), r.Round(time.Millisecond), now, view2)
	if view2 == view {
		t.Fatalf("no view change while leader %d was cut off", leader)
	}
	c.checkSafety()
}

// TestReplicaStopLeavesNoGoroutine: once Stop returns, none of the
// replica's goroutines (the forward loop among them) is left.
func TestReplicaStopLeavesNoGoroutine(t *testing.T) {
	s := seedOf(t, 14)
	c := newCluster(t, 4, s, nil)
	txs := make([]block.Hash, 0, 20)
	for i := range 20 {
		txs = append(txs, c.submit(uint64(i%4+1)))
	}
	c.waitCommitted(txs, time.Minute)
	// Forwards queued at the Stop.
	for i := range 5 {
		_ = c.nodes[i%4].rep.Submit(anchor(c.site, uint64(3_000_000+i)))
	}
	for _, n := range c.nodes {
		n.rep.Stop()
	}
	var stacks string
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		buf := make([]byte, 1<<22)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "consensus.(*Replica)") && !strings.Contains(stacks, "consensus.(*forwarder)") {
			return
		}
		if time.Now().After(end) {
			break
		}
	}
	t.Fatalf("replica goroutines left after Stop:\n%s", stacks)
}
