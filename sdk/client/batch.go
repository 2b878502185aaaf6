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
	path := "/v1/txs"
	if wait {
		path += "?wait=1"
	}
	raws := make([][]byte, len(txs))
	size := 0
	for i, tx := range txs {
		raws[i] = tx.Encode()
		size += 4 + len(raws[i])
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
