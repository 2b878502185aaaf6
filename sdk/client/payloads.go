package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/view"
)

// PutPayload hands the node a copy of an off-chain payload whose SHA-256
// is anchored on chain. The node keeps it encrypted and refuses it if it
// was redacted (errors.Is(err, ErrGone)).
func (c *Client) PutPayload(ctx context.Context, data []byte) (*view.PayloadStored, error) {
	var out view.PayloadStored
	h := block.Sum(data)
	return &out, c.do(ctx, http.MethodPut, "/v1/payloads/"+h.String(), data, &out)
}

// Payload reads an off-chain payload, signing the read with key (an active
// member entitled to it). The bytes are checked against h. A redacted
// payload fails with ErrGone.
func (c *Client) Payload(ctx context.Context, key ed25519.PrivateKey, chainID string, h block.Hash) ([]byte, error) {
	hdr := http.Header{}
	hdr.Set(view.PayloadAuthHeader, view.PayloadAuth(key, chainID, h, time.Now().UnixMilli()))
	b, err := c.raw(ctx, http.MethodGet, "/v1/payloads/"+h.String(), nil, hdr)
	if err != nil {
		return nil, err
	}
	if got := block.Sum(b); got != h {
		return nil, fmt.Errorf("client: node %s sent a payload hashing to %s, not %s", c.Base, got, h)
	}
	return b, nil
}

// Redaction returns the redaction record of a payload (ErrNotFound if it
// is not redacted).
func (c *Client) Redaction(ctx context.Context, h block.Hash) (*view.Redaction, error) {
	var out view.Redaction
	return &out, c.do(ctx, http.MethodGet, "/v1/redactions/"+h.String(), nil, &out)
}

// ReplicateWait bounds how long Replicate waits for a node that has not
// yet committed the payload's anchoring block (validators commit the same
// block moments apart).
const ReplicateWait = 10 * time.Second

// Replicate hands a payload to every node and returns how many now hold
// it, with the errors of those that did not take it. A payload is anchored
// first and replicated after; a node that answers "not anchored" is asked
// again until it has caught up, for at most ReplicateWait. A node that
// misses the payload can be given it again later, and every node refuses
// it once it is redacted.
func Replicate(ctx context.Context, nodes []*Client, data []byte) (int, error) {
	var errs []error
	ok := 0
	deadline := time.Now().Add(ReplicateWait)
	for _, n := range nodes {
		err := putWhenAnchored(ctx, n, data, deadline)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.Base, err))
			continue
		}
		ok++
	}
	return ok, errors.Join(errs...)
}

func putWhenAnchored(ctx context.Context, n *Client, data []byte, deadline time.Time) error {
	for {
		_, err := n.PutPayload(ctx, data)
		var ae *APIError
		if err == nil || !errors.As(err, &ae) || ae.Code != "not_anchored" || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
