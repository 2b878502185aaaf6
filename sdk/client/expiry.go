package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/view"
)

// Polling pace of WaitReceipt: from waitPollMin, doubling up to waitPollMax.
var (
	waitPollMin = 200 * time.Millisecond
	waitPollMax = 2 * time.Second
)

// HeadTime returns the head block's time in Unix milliseconds from a
// status (false at height 0, or from a node that gives no time).
func HeadTime(st *view.Status) (int64, bool) {
	if st.Height == 0 {
		return 0, false
	}
	if st.LastBlockTimeUnixMilli != 0 {
		return st.LastBlockTimeUnixMilli, true
	}
	t, err := time.Parse("2006-01-02T15:04:05.000Z", st.LastBlockTime) // a node without the millisecond field
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}

// WaitReceipt waits until tx is committed and returns it with its
// receipt, or, for a transaction with a ValidUntil bound, until the
// node's head is later than the bound: then the error matches ErrExpired
// and the answer is final. It asks the node's status before each look-up
// of the transaction, so a node that forgot the transaction (it
// restarted, or another node took it) still leads to that answer: a
// transaction absent at a head later than its bound is in no later block.
// Without a bound it waits until ctx ends. A node that does not answer
// (down, restarting) is asked again until ctx ends.
func (c *Client) WaitReceipt(ctx context.Context, tx *block.Tx) (*view.TxWithReceipt, error) {
	h := tx.Hash()
	pause := waitPollMin
	var last error
	for {
		st, serr := c.Status(ctx)
		t, err := c.Tx(ctx, h)
		switch {
		case err == nil:
			return t, nil
		case errors.Is(err, ErrExpired):
			return nil, err
		case errors.Is(err, ErrNotFound) && serr == nil:
			if ht, ok := HeadTime(st); ok && tx.Expired(ht) {
				return nil, fmt.Errorf("%w: transaction %s was not committed by its valid-until time %s; %s's head (height %d) is at %s, so it never will be",
					ErrExpired, h, view.FormatMilli(int64(min(tx.ValidUntil, 1<<62))), c.Label(), st.Height, view.FormatMilli(ht))
			}
			last = err
		case errors.Is(err, ErrNotFound):
			last = serr
		default:
			var ae *APIError
			if errors.As(err, &ae) && ae.Status < 500 {
				return nil, err // a refusal, not an outage
			}
			last = err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("client: waiting for transaction %s (last answer: %v): %w", h, last, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, waitPollMax)
	}
}
