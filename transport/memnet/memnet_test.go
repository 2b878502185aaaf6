package memnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/trialchain/trialchain/transport"
)

type recorder struct {
	mu  sync.Mutex
	got map[uint64][]string
}

func (r *recorder) handle(from uint64, f []byte) {
	r.mu.Lock()
	if r.got == nil {
		r.got = map[uint64][]string{}
	}
	r.got[from] = append(r.got[from], string(f))
	r.mu.Unlock()
}

func (r *recorder) frames(from uint64) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got[from]...)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// join attaches nodes 1..n with recorders and an echo request handler.
func join(t *testing.T, n *Network, count int) ([]*Endpoint, []*recorder) {
	t.Helper()
	var eps []*Endpoint
	var recs []*recorder
	for id := uint64(1); id <= uint64(count); id++ {
		rec := &recorder{}
		e, err := n.Join(id, rec.handle, func(_ context.Context, from uint64, req []byte) ([]byte, error) {
			if string(req) == "fail" {
				return nil, errors.New("boom")
			}
			return append([]byte(fmt.Sprintf("%d→%d:", from, id)), req...), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		eps, recs = append(eps, e), append(recs, rec)
	}
	t.Cleanup(func() { _ = n.Close() })
	return eps, recs
}

func TestDeliveryInOrder(t *testing.T) {
	n := New(Config{Seed: 1})
	eps, recs := join(t, n, 3)
	var want []string
	for i := range 500 {
		f := fmt.Sprint(i)
		want = append(want, f)
		if err := eps[0].Send(2, []byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "500 frames", func() bool { return len(recs[1].frames(1)) == 500 })
	if got := recs[1].frames(1); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("out of order: %v…", got[:10])
	}
	if got := eps[0].Connected(); fmt.Sprint(got) != "[2 3]" {
		t.Fatalf("Connected() = %v", got)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name      string
		fault     func(n *Network)
		delivered bool   // does a frame 1→2 arrive?
		connected string // eps[0].Connected()
	}{
		{"none", func(*Network) {}, true, "[2 3]"},
		{"partition", func(n *Network) { n.Partition(2, 1) }, false, "[3]"},
		{"partition healed", func(n *Network) { n.Partition(1, 2); n.Heal(1, 2) }, true, "[2 3]"},
		{"isolate sender", func(n *Network) { n.Isolate(1) }, false, "[]"},
		{"isolate receiver", func(n *Network) { n.Isolate(2) }, false, "[3]"},
		{"rejoined", func(n *Network) { n.Isolate(2); n.Rejoin(2) }, true, "[2 3]"},
		{"heal all", func(n *Network) { n.Isolate(1); n.Partition(1, 2); n.HealAll() }, true, "[2 3]"},
		{"drop all", func(n *Network) { n.SetDrop(1, 2, 1) }, false, "[2 3]"},
		{"drop other direction", func(n *Network) { n.SetDrop(2, 1, 1) }, true, "[2 3]"},
		{"mutate to nil", func(n *Network) { n.SetMutate(func(uint64, uint64, []byte) []byte { return nil }) }, false, "[2 3]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(Config{Seed: 7})
			eps, recs := join(t, n, 3)
			tt.fault(n)
			if got := fmt.Sprint(eps[0].Connected()); got != tt.connected {
				t.Errorf("Connected() = %s, want %s", got, tt.connected)
			}
			if err := eps[0].Send(2, []byte("x")); err != nil {
				t.Fatal(err)
			}
			if tt.delivered {
				eventually(t, "delivery", func() bool { return len(recs[1].frames(1)) == 1 })
				return
			}
			time.Sleep(20 * time.Millisecond)
			if got := recs[1].frames(1); len(got) != 0 {
				t.Fatalf("delivered %q, want nothing", got)
			}
		})
	}
}

func TestDropProbabilityIsSeeded(t *testing.T) {
	run := func(seed uint64) string {
		n := New(Config{Seed: seed})
		eps, recs := join(t, n, 2)
		n.SetDropAll(0.3)
		for i := range 1000 {
			_ = eps[0].Send(2, []byte(fmt.Sprint(i)))
		}
		n.SetDropAll(0)
		_ = eps[0].Send(2, []byte("end"))
		eventually(t, "end marker", func() bool {
			got := recs[1].frames(1)
			return len(got) > 0 && got[len(got)-1] == "end"
		})
		_ = n.Close()
		return fmt.Sprint(recs[1].frames(1))
	}
	a, b, c := run(42), run(42), run(43)
	if a != b {
		t.Fatal("the same seed lost different frames")
	}
	if a == c {
		t.Fatal("different seeds lost the same frames")
	}
	if got := len(bytes.Fields([]byte(a))); got < 600 || got > 800 {
		t.Fatalf("delivered %d of 1001 at 30%% loss", got)
	}
}

func TestMutate(t *testing.T) {
	n := New(Config{})
	eps, recs := join(t, n, 2)
	n.SetMutate(func(from, to uint64, f []byte) []byte {
		return append([]byte(fmt.Sprintf("[%d>%d]", from, to)), f...)
	})
	buf := []byte("msg")
	if err := eps[0].Send(2, buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXX") // Send copied
	eventually(t, "mutated frame", func() bool { return len(recs[1].frames(1)) == 1 })
	if got := recs[1].frames(1)[0]; got != "[1>2]msg" {
		t.Fatalf("got %q", got)
	}
	resp, err := eps[0].Request(context.Background(), 2, []byte("q"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "[2>1]1→2:[1>2]q"; string(resp) != want {
		t.Fatalf("Request = %q, want %q", resp, want)
	}
}

func TestRequest(t *testing.T) {
	n := New(Config{MaxFrameBytes: 100})
	eps, _ := join(t, n, 3)
	ctx := context.Background()
	resp, err := eps[0].Request(ctx, 2, []byte("hi"))
	if err != nil || string(resp) != "1→2:hi" {
		t.Fatalf("Request = %q, %v", resp, err)
	}
	var re *transport.RemoteError
	if _, err := eps[0].Request(ctx, 2, []byte("fail")); !errors.As(err, &re) || re.Msg != "boom" || re.Peer != 2 {
		t.Fatalf("Request(fail) = %v", err)
	}
	tests := []struct {
		name string
		to   uint64
		req  []byte
		prep func()
		want error
	}{
		{"self", 1, nil, func() {}, transport.ErrUnknownPeer},
		{"too large", 2, make([]byte, 101), func() {}, transport.ErrFrameTooLarge},
		{"not joined", 9, nil, func() {}, transport.ErrNotConnected},
		{"partitioned", 2, nil, func() { n.Partition(1, 2) }, transport.ErrNotConnected},
		{"closed peer", 3, nil, func() { _ = eps[2].Close() }, transport.ErrNotConnected},
	}
	for _, tt := range tests {
		tt.prep()
		if _, err := eps[0].Request(ctx, tt.to, tt.req); !errors.Is(err, tt.want) {
			t.Errorf("%s: Request = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestRequestContext(t *testing.T) {
	n := New(Config{})
	t.Cleanup(func() { _ = n.Close() })
	a, _ := n.Join(1, nil, nil)
	_, _ = n.Join(2, nil, func(ctx context.Context, _ uint64, _ []byte) ([]byte, error) {
		<-ctx.Done() // cancelled when the requester gives up
		return nil, ctx.Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := a.Request(ctx, 2, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Request = %v, want DeadlineExceeded", err)
	}
}

func TestQueueBound(t *testing.T) {
	n := New(Config{MaxFrameBytes: 10, QueueMaxFrames: 5, QueueMaxBytes: 20})
	t.Cleanup(func() { _ = n.Close() })
	release := make(chan struct{})
	a, _ := n.Join(1, nil, nil)
	_, _ = n.Join(2, func(uint64, []byte) { <-release }, nil)
	// The first frame is taken by the blocked handler; then the queue
	// fills at 20 bytes (two 10-byte frames).
	_ = a.Send(2, make([]byte, 10))
	time.Sleep(10 * time.Millisecond)
	for i := range 2 {
		if err := a.Send(2, make([]byte, 10)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if err := a.Send(2, make([]byte, 10)); !errors.Is(err, transport.ErrQueueFull) {
		t.Fatalf("Send past the byte bound = %v, want ErrQueueFull", err)
	}
	if err := a.Send(2, make([]byte, 11)); !errors.Is(err, transport.ErrFrameTooLarge) {
		t.Fatalf("Send over cap = %v", err)
	}
	close(release)
}

func TestRestartAndClose(t *testing.T) {
	base := runtime.NumGoroutine()
	n := New(Config{})
	eps, _ := join(t, n, 2)
	if _, err := n.Join(1, nil, nil); err == nil {
		t.Fatal("joined node 1 twice")
	}
	_ = eps[1].Send(1, []byte("x"))
	_ = eps[0].Close()
	if err := eps[1].Send(1, []byte("lost")); err != nil {
		t.Fatalf("Send to a down node = %v, want nil (lost)", err)
	}
	if err := eps[0].Send(2, nil); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Send after Close = %v", err)
	}
	rec := &recorder{}
	again, err := n.Join(1, rec.handle, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = eps[1].Send(1, []byte("back"))
	eventually(t, "frame after restart", func() bool { return len(rec.frames(2)) == 1 })
	if !bytes.Equal([]byte(rec.frames(2)[0]), []byte("back")) {
		t.Fatal("wrong frame")
	}
	_ = again
	_ = n.Close()
	eventually(t, "goroutines to stop", func() bool { return runtime.NumGoroutine() <= base })
}
