package node

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/view"
)

var errFake = errors.New("fake: refused")

// fakeChecks is a sigBatcher check that answers a transaction {id, ok}
// with a Tx of nonce id, or errFake if ok is 0, and records its batches.
type fakeChecks struct {
	mu    sync.Mutex
	sizes []int
}

func (f *fakeChecks) check(raws [][]byte, hashes []block.Hash) ([]*block.Tx, []error) {
	f.mu.Lock()
	f.sizes = append(f.sizes, len(raws))
	f.mu.Unlock()
	txs, errs := make([]*block.Tx, len(raws)), make([]error, len(raws))
	for i, raw := range raws {
		if hashes[i] != block.Sum(raw) {
			panic("hash of another transaction")
		}
		if raw[2] == 0 {
			errs[i] = fmt.Errorf("%w: %d", errFake, raw[0])
			continue
		}
		txs[i] = &block.Tx{Nonce: uint64(raw[0]) | uint64(raw[1])<<8}
	}
	return txs, errs
}

func fakeRaw(id int, ok bool) []byte {
	b := byte(0)
	if ok {
		b = 1
	}
	return []byte{byte(id), byte(id >> 8), b}
}

func TestSigBatcher(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int   // requests
		coming  int   // of them counted (arrive) before any queues
		giveUp  int   // more that arrive and leave without queuing
		bad     []int // the ids refused
		batches []int // the batch sizes wanted (nil: any, each ≤ maxAdmitBatch)
		quiet   time.Duration
	}{
		// A wait would last an hour: the test would time out.
		{name: "lone request does not wait", n: 1, batches: []int{1}, quiet: time.Hour},
		{name: "lone bad request", n: 1, bad: []int{0}, batches: []int{1}, quiet: time.Hour},
		{name: "coming requests join one batch", n: 10, coming: 10, batches: []int{10}},
		{name: "one bad signature among good ones", n: 20, coming: 20, bad: []int{7}, batches: []int{20}},
		{name: "a coming request that gives up", n: 2, coming: 2, giveUp: 1, batches: []int{2}},
		{name: "more than a batch", n: maxAdmitBatch + 10, coming: maxAdmitBatch + 10},
		{name: "uncounted concurrent requests", n: 300, bad: []int{0, 150, 299}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeChecks{}
			b := newSigBatcher(f.check)
			b.window = time.Hour // only the coming requests or quiet end a wait
			if tc.quiet > 0 {
				b.quiet = tc.quiet
			}
			leaves := make([]func(), tc.n)
			for i := range tc.coming {
				leaves[i] = b.arrive()
			}
			var giveUps []func()
			for range tc.giveUp {
				giveUps = append(giveUps, b.arrive())
			}
			isBad := map[int]bool{}
			for _, i := range tc.bad {
				isBad[i] = true
			}
			var wg sync.WaitGroup
			var refused atomic.Int64
			for i := range tc.n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tx, err := b.checkTx(fakeRaw(i, !isBad[i]), block.Sum(fakeRaw(i, !isBad[i])), leaves[i])
					switch {
					case isBad[i]:
						refused.Add(1)
						if tx != nil || !errors.Is(err, errFake) || err.Error() != fmt.Sprintf("%v: %d", errFake, byte(i)) {
							t.Errorf("request %d: %v, %v; want its own refusal", i, tx, err)
						}
					case err != nil || tx == nil || tx.Nonce != uint64(i):
						t.Errorf("request %d: %v, %v; want its own transaction", i, tx, err)
					}
				}()
			}
			if len(giveUps) > 0 { // the batch waits for them until they leave
				for queued := 0; queued < tc.n; time.Sleep(time.Millisecond) {
					b.mu.Lock()
					queued = len(b.queue)
					b.mu.Unlock()
				}
				for _, l := range giveUps {
					l()
					l() // a second call does nothing
				}
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("requests not answered")
			}
			if int(refused.Load()) != len(tc.bad) {
				t.Fatalf("%d refusals, want %d", refused.Load(), len(tc.bad))
			}
			sum := 0
			for _, s := range f.sizes {
				sum += s
				if s > maxAdmitBatch || s < 1 {
					t.Fatalf("batch of %d", s)
				}
			}
			if sum != tc.n || tc.batches != nil && fmt.Sprint(f.sizes) != fmt.Sprint(tc.batches) {
				t.Fatalf("batches %v, want %v (%d requests)", f.sizes, tc.batches, tc.n)
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.busy || len(b.queue) != 0 || b.coming.Load() != 0 {
				t.Fatalf("idle batcher: busy %v, %d queued, %d coming", b.busy, len(b.queue), b.coming.Load())
			}
		})
	}
}

// TestSubmitBatchedAnswers: concurrent POST /v1/tx checked in one batch
// answer as they would one by one: the one bad signature among them is
// refused (401, its own message), the others accepted.
func TestSubmitBatchedAnswers(t *testing.T) {
	c := newCluster(t, 1)
	n := c.nodes[0]
	var sizes []int
	var mu sync.Mutex
	check := n.sigs.check
	n.sigs.check = func(raws [][]byte, hashes []block.Hash) ([]*block.Tx, []error) {
		mu.Lock()
		sizes = append(sizes, len(raws))
		mu.Unlock()
		return check(raws, hashes)
	}
	n.sigs.window = time.Hour
	h := n.Handler()

	wrongChain := &block.Tx{ChainID: "other", Nonce: 1000, Kind: block.KindAnchor, GasLimit: 100_000, Payload: (&block.AnchorPayload{Label: "x"}).Encode()}
	wrongChain.Sign(c.site)
	_, stranger, _ := ed25519.GenerateKey(nil)
	unknown := &block.Tx{ChainID: c.tn.Genesis.ChainID, Nonce: 1, Kind: block.KindAnchor, GasLimit: 100_000, Payload: (&block.AnchorPayload{Label: "x"}).Encode()}
	unknown.Sign(stranger)
	for _, tc := range []struct {
		name string
		from uint64
		n    int
		bad  map[int][]byte
	}{
		{"all good", 0, 16, nil},
		{"one bad signature", 100, 32, map[int][]byte{11: badSignature(c.anchorTx(111))}},
		{"bad signature, wrong chain, unknown sender, malformed", 200, 24, map[int][]byte{
			0: badSignature(c.anchorTx(200)), 5: wrongChain.Encode(), 9: unknown.Encode(), 17: {1, 2, 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raws := make([][]byte, tc.n)
			for i := range raws {
				if b, ok := tc.bad[i]; ok {
					raws[i] = b
				} else {
					raws[i] = c.anchorTx(tc.from + uint64(i))
				}
			}
			want := make([]view.Error, tc.n) // the answers admitted one by one would get
			wantStatus := make([]int, tc.n)
			for i, raw := range raws {
				if _, ok := tc.bad[i]; !ok {
					continue
				}
				_, err := state.CheckTx(n.exec.Params, raw)
				if err == nil {
					err = state.CheckSender(n.store, mustDecode(t, raw))
				}
				status, code := admissionCode(err)
				want[i], wantStatus[i] = view.Error{Error: err.Error(), Code: code}, status
			}
			mu.Lock()
			sizes = nil
			mu.Unlock()
			hold := n.sigs.arrive() // the batch waits for this one: all queue first
			var wg sync.WaitGroup
			got := make([]*httptest.ResponseRecorder, tc.n)
			for i, raw := range raws {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got[i] = httptest.NewRecorder()
					h.ServeHTTP(got[i], httptest.NewRequest(http.MethodPost, "/v1/tx", bytes.NewReader(raw)))
				}()
			}
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(time.Millisecond) {
				n.sigs.mu.Lock()
				queued := len(n.sigs.queue)
				n.sigs.mu.Unlock()
				if queued == tc.n {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d queued", queued, tc.n)
				}
			}
			hold()
			wg.Wait()
			for i, w := range got {
				if want[i].Code == "" {
					if w.Code != http.StatusOK {
						t.Errorf("request %d: %d %s", i, w.Code, w.Body)
					}
					continue
				}
				var e view.Error
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
					t.Fatal(err)
				}
				if e != want[i] || w.Code != wantStatus[i] {
					t.Errorf("request %d: %d %+v, want %+v", i, w.Code, e, want[i])
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if fmt.Sprint(sizes) != fmt.Sprint([]int{tc.n}) {
				t.Fatalf("batches %v, want one of %d", sizes, tc.n)
			}
		})
	}
}

// TestSubmitBatchedStop: a node stopped while submissions are in flight
// (some waiting in a batch) answers each and leaves its batcher idle.
func TestSubmitBatchedStop(t *testing.T) {
	c := newCluster(t, 1)
	n := c.nodes[0]
	url := n.APIURL() + "/v1/tx"
	client := &http.Client{Timeout: 20 * time.Second}
	var wg sync.WaitGroup
	var answered, sent atomic.Int64
	stop := make(chan struct{})
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := uint64(0); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				resp, err := client.Post(url, "application/octet-stream", bytes.NewReader(c.anchorTx(uint64(g)<<20|i)))
				if err != nil {
					return // the server closed
				}
				resp.Body.Close()
				answered.Add(1)
			}
		}()
	}
	for answered.Load() < 64 {
		time.Sleep(5 * time.Millisecond)
	}
	stopped := make(chan struct{})
	go func() { c.stop(0); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("node did not stop")
	}
	close(stop)
	wg.Wait()
	n.sigs.mu.Lock()
	defer n.sigs.mu.Unlock()
	if n.sigs.busy || len(n.sigs.queue) != 0 || n.sigs.coming.Load() != 0 {
		t.Fatalf("batcher not idle after stop: busy %v, %d queued, %d coming", n.sigs.busy, len(n.sigs.queue), n.sigs.coming.Load())
	}
	t.Logf("%d sent, %d answered", sent.Load(), answered.Load())
}

func badSignature(raw []byte) []byte {
	out := bytes.Clone(raw)
	out[len(out)-1] ^= 1
	return out
}

func mustDecode(t *testing.T, raw []byte) *block.Tx {
	t.Helper()
	tx, err := block.DecodeTx(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// TestSigBatcherCheckPanics: a check that panics (a bug) fails its
// batch's requests, the combiner's with the panic, without leaving any
// waiting or the batcher busy.
func TestSigBatcherCheckPanics(t *testing.T) {
	f := &fakeChecks{}
	var panicked atomic.Bool
	b := newSigBatcher(func(raws [][]byte, hashes []block.Hash) ([]*block.Tx, []error) {
		if panicked.CompareAndSwap(false, true) {
			panic("check bug")
		}
		return f.check(raws, hashes)
	})
	b.window = time.Hour
	const n = 5
	leaves := make([]func(), n)
	for i := range leaves {
		leaves[i] = b.arrive()
	}
	var wg sync.WaitGroup
	var panics, failed atomic.Int64
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if recover() != nil {
					panics.Add(1)
				}
			}()
			if _, err := b.checkTx(fakeRaw(i, true), block.Sum(fakeRaw(i, true)), leaves[i]); errors.Is(err, errAdmitCheckFailed) {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if panics.Load() != 1 || failed.Load() != n-1 {
		t.Fatalf("%d panics, %d failed; want 1 and %d", panics.Load(), failed.Load(), n-1)
	}
	if tx, err := b.checkTx(fakeRaw(9, true), block.Sum(fakeRaw(9, true)), nil); err != nil || tx.Nonce != 9 {
		t.Fatalf("after the panic: %v, %v", tx, err)
	}
}
