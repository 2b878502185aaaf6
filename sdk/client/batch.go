package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/view"
)

// SubmitBatch sends txs, at most view.MaxBatchTxs of them, in one
// request (POST /v1/txs) and returns one result per transaction in their
// order; BatchErr turns a result into Submit's error. The node admits
// each as POST /v1/tx would alone. Those it answered 429 busy (its request
// pool filled up) are sent again, alone in a smaller batch, as Submit
// retries (up to 8 tries, the nonce_used answer of a retried transaction
// that committed meanwhile becomes its receipt). With wait, a transaction
// with a ValidUntil bound left pending by the node's wait is waited for as
// Submit waits: its receipt, or status 410 once it expired; should ctx end
// first, it stays pending (202).
func (c *Client) SubmitBatch(ctx context.Context, txs []*block.Tx, wait bool) ([]view.BatchResult, error) {
	if len(txs) == 0 || len(txs) > view.MaxBatchTxs {
		return nil, fmt.Errorf("client: a batch holds 1 to %d transactions, not %d", view.MaxBatchTxs, len(txs))
	}
	raws := make([][]byte, len(txs))
	for i, tx := range txs {
		raws[i] = tx.Encode()
	}
	return c.submitBatch(ctx, txs, raws, wait)
}

// submitBatch is SubmitBatch of txs already encoded as raws.
func (c *Client) submitBatch(ctx context.Context, txs []*block.Tx, raws [][]byte, wait bool) ([]view.BatchResult, error) {
	path := "/v1/txs"
	if wait {
		path += "?wait=1"
	}
	size := 0
	for _, raw := range raws {
		size += 4 + len(raw)
	}
	out := make([]view.BatchResult, len(txs))
	todo := make([]int, len(txs))
	for i := range todo {
		todo[i] = i
	}
	body := make([]byte, 0, size)
	for attempt := 1; ; attempt++ {
		body = body[:0]
		for _, i := range todo {
			body = view.AppendTxBatch(body, raws[i])
		}
		var sb view.SubmittedBatch
		if err := c.do(ctx, http.MethodPost, path, body, &sb); err != nil {
			return nil, err
		}
		if len(sb.Results) != len(todo) {
			return nil, fmt.Errorf("client: the node answered %d results for a batch of %d", len(sb.Results), len(todo))
		}
		var again []int
		for k, i := range todo {
			r := sb.Results[k]
			if h := block.Sum(raws[i]); r.Hash != h {
				return nil, fmt.Errorf("client: the node's result %d is for transaction %s, not %s", k, r.Hash, h)
			}
			if r.Status < 200 || r.Status > 599 {
				return nil, fmt.Errorf("client: the node's result %d has status %d", k, r.Status)
			}
			if attempt > 1 && r.Code == "nonce_used" {
				// As Submit: an earlier try's busy answer may have come
				// after the node forwarded it, and it committed since.
				if s, ok := c.committed(ctx, r.Hash); ok {
					r = view.BatchResult{Status: http.StatusOK, Hash: r.Hash, Receipt: s.Receipt}
				}
			}
			out[i] = r
			if r.Status == http.StatusTooManyRequests {
				again = append(again, i)
			}
		}
		if len(again) == 0 || attempt == submitAttempts {
			break
		}
		select {
		case <-ctx.Done():
			return out, nil // the busy ones keep their 429
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
		todo = again
	}
	if !wait {
		return out, nil
	}
	for i := range out {
		r := &out[i]
		if r.Status != http.StatusAccepted || txs[i].ValidUntil == 0 || ctx.Err() != nil {
			continue
		}
		t, err := c.WaitReceipt(ctx, txs[i])
		switch {
		case err == nil:
			r.Status, r.Receipt, r.Pending = http.StatusOK, t.Receipt, ""
		case errors.Is(err, ErrExpired):
			r.Status, r.Code, r.Error, r.Pending = http.StatusGone, view.StatusExpired, err.Error(), ""
		case ctx.Err() == nil:
			return nil, err
		}
	}
	return out, nil
}

// BatchErr is the error Submit would have returned for the transaction of
// r (an *APIError with the node's status and code; errors.Is matches
// ErrExpired as for Submit's), or nil if it was accepted.
func BatchErr(r view.BatchResult) error {
	if r.Status < 300 {
		return nil
	}
	return &APIError{Status: r.Status, Code: r.Code, Msg: r.Error}
}

// batchBodyMax is the most bytes SubmitAll puts in one POST /v1/txs body:
// a node refuses a body larger than one maximal transaction of its chain
// (block.MaxTxBytes at the default parameters; a chain may set less, and
// SubmitAll then splits what the node refuses as too large).
const batchBodyMax = block.MaxTxBytes

// SubmitAll sends any number of transactions, in as few POST /v1/txs
// requests as their count (view.MaxBatchTxs a request) and size allow,
// one request after the other, and returns one result per transaction in
// their order, each as SubmitBatch gives it (BatchErr turns one into
// Submit's error). A body the node refuses as too large (a chain whose
// transactions are bounded below the default) is sent again in halves; a
// transaction the node refuses as too large alone is sent as POST /v1/tx,
// and its answer (413 too_large) is its result. It stops at the first request that fails
// whole otherwise (the node unreachable, the body refused), with that
// error and what was answered before it: the transactions after it were
// not sent, and their results are zero (Status 0).
func (c *Client) SubmitAll(ctx context.Context, txs []*block.Tx, wait bool) ([]view.BatchResult, error) {
	raws := make([][]byte, len(txs)) // each encoded once: sized here, sent by submitBatch
	for i, tx := range txs {
		raws[i] = tx.Encode()
	}
	out := make([]view.BatchResult, len(txs))
	for from := 0; from < len(txs); {
		to, size := from, 0
		for to < len(txs) && to-from < view.MaxBatchTxs {
			n := 4 + len(raws[to])
			if to > from && size+n > batchBodyMax {
				break
			}
			size += n
			to++
		}
		if err := c.submitRange(ctx, txs, raws, out, from, to, wait); err != nil {
			return out, fmt.Errorf("client: transactions %d to %d of %d: %w", from+1, to, len(txs), err)
		}
		from = to
	}
	return out, nil
}

// submitRange sends txs[from:to] in one batch, or in halves if the node
// finds the body too large (one transaction alone then goes through
// POST /v1/tx), and puts their results in out.
func (c *Client) submitRange(ctx context.Context, txs []*block.Tx, raws [][]byte, out []view.BatchResult, from, to int, wait bool) error {
	rs, err := c.submitBatch(ctx, txs[from:to], raws[from:to], wait)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusRequestEntityTooLarge {
		if to-from == 1 {
			r, err := c.submitAlone(ctx, txs[from], wait)
			out[from] = r
			return err
		}
		mid := from + (to-from)/2
		if err := c.submitRange(ctx, txs, raws, out, from, mid, wait); err != nil {
			return err
		}
		return c.submitRange(ctx, txs, raws, out, mid, to, wait)
	}
	if err != nil {
		return err
	}
	copy(out[from:], rs)
	return nil
}

// submitAlone is Submit with its answer as a batch result: a refusal by
// the node (an *APIError) is the result's status and code, not an error.
func (c *Client) submitAlone(ctx context.Context, tx *block.Tx, wait bool) (view.BatchResult, error) {
	s, err := c.Submit(ctx, tx, wait)
	var ae *APIError
	switch {
	case err == nil:
		r := view.BatchResult{Status: http.StatusOK, Hash: s.Hash, Receipt: s.Receipt, Pending: s.Pending}
		if wait && s.Receipt == nil {
			r.Status = http.StatusAccepted
		}
		return r, nil
	case errors.As(err, &ae):
		return view.BatchResult{Status: ae.Status, Hash: tx.Hash(), Code: ae.Code, Error: ae.Msg}, nil
	case errors.Is(err, ErrExpired):
		return view.BatchResult{Status: http.StatusGone, Hash: tx.Hash(), Code: view.StatusExpired, Error: err.Error()}, nil
	}
	return view.BatchResult{}, fmt.Errorf("client: transaction %s: %w", tx.Hash(), err)
}
