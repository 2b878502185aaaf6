package client

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/view"
)

// fakeNode answers GET /v1/status with a head that advances 1 s of block
// time per status read, and GET /v1/tx/{hash} as answer says.
type fakeNode struct {
	mu       sync.Mutex
	height   uint64
	headTime int64
	reads    int
	answer   func(reads int) (int, any) // status code and JSON body of GET /v1/tx
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/v1/status":
		f.height++
		f.headTime += 1000
		_ = json.NewEncoder(w).Encode(view.Status{Height: f.height, LastBlockTimeUnixMilli: f.headTime,
			LastBlockTime: view.FormatMilli(f.headTime)})
	default:
		f.reads++
		code, body := f.answer(f.reads)
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}
}

func TestWaitReceiptExpiry(t *testing.T) {
	waitPollMin, waitPollMax = time.Millisecond, 5*time.Millisecond
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	const start = 1_800_000_000_000 // the fake head's time before its first status read
	tx := SignUntil(key, "c", block.KindAnchor, nil, 1000, start+3000)
	notFound := view.Error{Error: "not committed", Code: "not_found"}
	receipt := view.TxWithReceipt{Tx: view.FromTx(tx), Receipt: &view.Receipt{Status: "ok", Height: 2}}
	cases := []struct {
		name      string
		answer    func(reads int) (int, any)
		want      error // nil: the receipt
		wantReads int   // GET /v1/tx calls
	}{
		{"committed at once", func(int) (int, any) { return 200, receipt }, nil, 1},
		{"committed before the bound", func(r int) (int, any) {
			if r < 3 {
				return 404, notFound
			}
			return 200, receipt
		}, nil, 3},
		// Status reads 1..3 see head times start+1000..+3000 (≤ the bound),
		// the 4th start+4000: the node never knew it, or forgot it.
		{"absent when the head passes the bound", func(int) (int, any) { return 404, notFound }, ErrExpired, 4},
		{"the node says expired", func(r int) (int, any) {
			if r < 2 {
				return 404, notFound
			}
			return 410, view.TxExpired{Error: "expired", Code: "expired", Status: "expired"}
		}, ErrExpired, 2},
		{"a redaction is not an expiry", func(int) (int, any) { return 410, view.Error{Error: "redacted", Code: "redacted"} }, ErrGone, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeNode{headTime: start, answer: c.answer}
			srv := httptest.NewServer(f)
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := New(srv.URL).WaitReceipt(ctx, tx)
			switch {
			case c.want == nil && (err != nil || got.Receipt == nil):
				t.Fatalf("got %v, want the receipt", err)
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("got %v, want %v", err, c.want)
			case c.want != nil && c.want != ErrExpired && errors.Is(err, ErrExpired):
				t.Fatalf("%v matches ErrExpired", err)
			}
			if f.reads != c.wantReads {
				t.Fatalf("%d reads of the transaction, want %d", f.reads, c.wantReads)
			}
		})
	}

	// Without a bound a transaction never expires: the wait ends with ctx.
	f := &fakeNode{headTime: start, answer: func(int) (int, any) { return 404, notFound }}
	srv := httptest.NewServer(f)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	unbounded := SignUntil(key, "c", block.KindAnchor, nil, 1000, 0)
	if _, err := New(srv.URL).WaitReceipt(ctx, unbounded); errors.Is(err, ErrExpired) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unbounded: %v", err)
	}
}

func TestSignValidity(t *testing.T) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	defer func(d time.Duration) { DefaultValidity = d }(DefaultValidity)
	for _, c := range []struct {
		validity time.Duration
		version  byte
	}{
		{60 * time.Second, block.TxVersionBounded},
		{5 * time.Second, block.TxVersionBounded},
		{0, block.TxVersion},
		{-time.Second, block.TxVersion},
	} {
		DefaultValidity = c.validity
		before := time.Now().UnixMilli()
		tx := Sign(key, "c", block.KindAnchor, nil, 1000)
		after := time.Now().UnixMilli()
		raw := tx.Encode()
		if raw[0] != c.version {
			t.Errorf("validity %v: version %d, want %d", c.validity, raw[0], c.version)
		}
		if c.validity > 0 && (tx.ValidUntil < uint64(before+c.validity.Milliseconds()) || tx.ValidUntil > uint64(after+c.validity.Milliseconds())) {
			t.Errorf("validity %v: ValidUntil %d, signed between %d and %d", c.validity, tx.ValidUntil, before, after)
		}
		if c.validity <= 0 && tx.ValidUntil != 0 {
			t.Errorf("validity %v: ValidUntil %d, want none", c.validity, tx.ValidUntil)
		}
		if err := tx.VerifySignature(); err != nil {
			t.Errorf("validity %v: %v", c.validity, err)
		}
	}
}

func TestAPIErrorIs(t *testing.T) {
	for _, c := range []struct {
		err                    *APIError
		notFound, gone, expiry bool
	}{
		{&APIError{Status: 404, Code: "not_found"}, true, false, false},
		{&APIError{Status: 410, Code: "redacted"}, false, true, false},
		{&APIError{Status: 410, Code: "expired"}, false, false, true},
		{&APIError{Status: 400, Code: "expired"}, false, false, true}, // refused at admission
		{&APIError{Status: 400, Code: "malformed"}, false, false, false},
	} {
		if errors.Is(c.err, ErrNotFound) != c.notFound || errors.Is(c.err, ErrGone) != c.gone || errors.Is(c.err, ErrExpired) != c.expiry {
			t.Errorf("%d %s: not found %v, gone %v, expired %v", c.err.Status, c.err.Code,
				errors.Is(c.err, ErrNotFound), errors.Is(c.err, ErrGone), errors.Is(c.err, ErrExpired))
		}
	}
}

// TestSubmitBusyThenCommitted: a node answers 429 busy after forwarding
// the transaction to the leader (its consensus is restarting), the leader
// commits it, and the retry is refused as a used nonce. Submit answers
// the receipt when the node has that very transaction, and the refusal
// otherwise; a first try refused as a used nonce is a replay, refused.
func TestSubmitBusyThenCommitted(t *testing.T) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	tx := SignUntil(key, "c", block.KindAnchor, nil, 1000, 0)
	busy := view.Error{Error: "busy: consensus is restarting on this node", Code: "busy"}
	used := view.Error{Error: "state: nonce already used", Code: "nonce_used"}
	receipt := view.TxWithReceipt{Tx: view.FromTx(tx), Receipt: &view.Receipt{Status: "ok", Height: 7}}
	cases := []struct {
		name     string
		posts    []int // status of each POST /v1/tx: 429 busy, 409 used
		found    bool  // GET /v1/tx/{hash} finds it
		want     string
		wantGets int
	}{
		{"busy, then committed", []int{429, 409}, true, "", 1},
		{"busy twice, then committed", []int{429, 429, 409}, true, "", 1},
		{"busy, then another transaction's nonce", []int{429, 409}, false, "nonce_used", 1},
		{"a replay at the first try", []int{409}, true, "nonce_used", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			posts, gets := 0, 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if r.Method == http.MethodPost {
					code := c.posts[min(posts, len(c.posts)-1)]
					posts++
					w.WriteHeader(code)
					if code == 429 {
						_ = json.NewEncoder(w).Encode(busy)
					} else {
						_ = json.NewEncoder(w).Encode(used)
					}
					return
				}
				gets++
				if r.URL.Path != "/v1/tx/"+tx.Hash().String() || !c.found {
					w.WriteHeader(404)
					_ = json.NewEncoder(w).Encode(view.Error{Error: "not committed", Code: "not_found"})
					return
				}
				_ = json.NewEncoder(w).Encode(receipt)
			}))
			defer srv.Close()
			cl := &Client{Base: srv.URL, HTTP: srv.Client()}
			s, err := cl.Submit(context.Background(), tx, true)
			if c.want == "" {
				if err != nil || s.Receipt == nil || s.Receipt.Height != 7 || s.Hash != tx.Hash() {
					t.Fatalf("Submit = %+v, %v; want the receipt at height 7", s, err)
				}
			} else {
				var ae *APIError
				if !errors.As(err, &ae) || ae.Code != c.want {
					t.Fatalf("Submit error = %v; want code %s", err, c.want)
				}
			}
			if posts != len(c.posts) || gets != c.wantGets {
				t.Errorf("%d POSTs and %d GETs; want %d and %d", posts, gets, len(c.posts), c.wantGets)
			}
		})
	}
}
