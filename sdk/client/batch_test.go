package client

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/view"
)

// batchNode answers POST /v1/txs: bodies over limit bytes 413 too_large,
// others with answer's results for the transactions it carries (200).
type batchNode struct {
	limit  int
	answer func(raws [][]byte) []view.BatchResult
	mu     sync.Mutex
	bodies []int // the transactions of each batch answered 200
}

func (f *batchNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	if len(body) > f.limit {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_ = json.NewEncoder(w).Encode(view.Error{Error: "too large", Code: "too_large"})
		return
	}
	if r.URL.Path == "/v1/tx" {
		_ = json.NewEncoder(w).Encode(view.Submitted{Hash: block.Sum(body)})
		return
	}
	raws, err := view.SplitTxBatch(body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(view.Error{Error: err.Error(), Code: "malformed"})
		return
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, len(raws))
	f.mu.Unlock()
	_ = json.NewEncoder(w).Encode(view.SubmittedBatch{Results: f.answer(raws)})
}

func honest(raws [][]byte) []view.BatchResult {
	out := make([]view.BatchResult, len(raws))
	for i, raw := range raws {
		out[i] = view.BatchResult{Status: http.StatusOK, Hash: block.Sum(raw)}
	}
	return out
}

func testAnchors(n int) []*block.Tx {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	txs := make([]*block.Tx, n)
	for i := range txs {
		p := &block.AnchorPayload{Hash: block.Sum([]byte{byte(i), byte(i >> 8)}), Label: "doc"}
		txs[i] = SignUntil(key, "c", block.KindAnchor, p.Encode(), 1000, 0)
	}
	return txs
}

// TestSubmitBatchLyingNode: an answer that does not account for every
// transaction, in order, with a status, is an error, never a result.
func TestSubmitBatchLyingNode(t *testing.T) {
	txs := testAnchors(3)
	for _, tc := range []struct {
		name  string
		lie   func(rs []view.BatchResult) []view.BatchResult
		valid bool
	}{
		{"honest", func(rs []view.BatchResult) []view.BatchResult { return rs }, true},
		{"one result short", func(rs []view.BatchResult) []view.BatchResult { return rs[:2] }, false},
		{"one result more", func(rs []view.BatchResult) []view.BatchResult { return append(rs, rs[0]) }, false},
		{"swapped", func(rs []view.BatchResult) []view.BatchResult { rs[0], rs[1] = rs[1], rs[0]; return rs }, false},
		{"no status", func(rs []view.BatchResult) []view.BatchResult { rs[1].Status = 0; return rs }, false},
		{"status out of range", func(rs []view.BatchResult) []view.BatchResult { rs[2].Status = 999; return rs }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &batchNode{limit: block.MaxTxBytes, answer: func(raws [][]byte) []view.BatchResult { return tc.lie(honest(raws)) }}
			srv := httptest.NewServer(f)
			defer srv.Close()
			res, err := New(srv.URL).SubmitBatch(context.Background(), txs, false)
			if tc.valid != (err == nil) {
				t.Fatalf("err %v, results %+v", err, res)
			}
			if err == nil && len(res) != len(txs) {
				t.Fatalf("%d results", len(res))
			}
		})
	}
}

// TestSubmitAllSplits: SubmitAll sends at most view.MaxBatchTxs a batch,
// halves a batch the node refuses as too large, and sends a transaction
// too large for any batch alone; every transaction gets its result in
// order.
func TestSubmitAllSplits(t *testing.T) {
	txs := testAnchors(view.MaxBatchTxs + 40)
	one := 4 + len(txs[0].Encode())
	for _, tc := range []struct {
		name       string
		limit      int
		maxBatch   int // the largest batch answered
		minBatches int
	}{
		{"default limit", block.MaxTxBytes, view.MaxBatchTxs, 2},
		{"40 a body", 40 * one, 40, 8},
		{"under one transaction", one - 5, 0, 0}, // every one alone, each answered 413
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &batchNode{limit: tc.limit, answer: honest}
			srv := httptest.NewServer(f)
			defer srv.Close()
			res, err := New(srv.URL).SubmitAll(context.Background(), txs, false)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if r.Hash != txs[i].Hash() {
					t.Fatalf("result %d is for %s", i, r.Hash)
				}
				want := http.StatusOK
				if tc.maxBatch == 0 {
					want = http.StatusRequestEntityTooLarge
				}
				if r.Status != want {
					t.Fatalf("result %d: %+v", i, r)
				}
			}
			largest := 0
			for _, n := range f.bodies {
				largest = max(largest, n)
			}
			if largest != tc.maxBatch || len(f.bodies) < tc.minBatches {
				t.Fatalf("batches answered %v: want at most %d each, at least %d of them", f.bodies, tc.maxBatch, tc.minBatches)
			}
		})
	}
}
