package client

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
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
//
// The upload is signed with key (a member entitled to the payload) and
// bound to this node (NodeKey), so the node checks who sends it before it
// reads the body.
func (c *Client) PutPayload(ctx context.Context, key ed25519.PrivateKey, chainID string, data []byte) (*view.PayloadStored, error) {
	var out view.PayloadStored
	h := block.Sum(data)
	path := "/v1/payloads/" + h.String()
	hdr, err := c.signRequest(key, chainID, http.MethodPut, path)
	if err != nil {
		return nil, err
	}
	b, err := c.raw(ctx, http.MethodPut, path, data, hdr)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("client: decode answer: %w", err)
	}
	return &out, nil
}

// signRequest signs one request to this node (see view.RequestMessage):
// a fresh nonce and the current time, bound to the node's key.
func (c *Client) signRequest(key ed25519.PrivateKey, chainID, method, path string) (http.Header, error) {
	if len(c.NodeKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("client: signing a request to %s needs the node's key from the genesis (use client.ForGenesis or client.Pinned)", c.Label())
	}
	nonce := make([]byte, view.RequestNonceBytes)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("client: nonce: %w", err)
	}
	hdr := http.Header{}
	hdr.Set(view.PayloadAuthHeader, view.RequestAuth(key, chainID, c.NodeKey, method, path, time.Now().UnixMilli(), nonce))
	return hdr, nil
}

// Payload reads an off-chain payload, signing the read with key (an active
// member entitled to it). The bytes are checked against h. A redacted
// payload fails with ErrGone.
func (c *Client) Payload(ctx context.Context, key ed25519.PrivateKey, chainID string, h block.Hash) ([]byte, error) {
	path := "/v1/payloads/" + h.String()
	hdr, err := c.signRequest(key, chainID, http.MethodGet, path)
	if err != nil {
		return nil, err
	}
	b, err := c.raw(ctx, http.MethodGet, path, nil, hdr)
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
//
// Each upload is signed by key; give only clients of genesis validators
// (ForGenesis) so the data goes to no one else.
func Replicate(ctx context.Context, nodes []*Client, key ed25519.PrivateKey, chainID string, data []byte) (int, error) {
	var errs []error
	ok := 0
	deadline := time.Now().Add(ReplicateWait)
	for _, n := range nodes {
		err := putWhenAnchored(ctx, n, key, chainID, data, deadline)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.Base, err))
			continue
		}
		ok++
	}
	return ok, errors.Join(errs...)
}

func putWhenAnchored(ctx context.Context, n *Client, key ed25519.PrivateKey, chainID string, data []byte, deadline time.Time) error {
	for {
		_, err := n.PutPayload(ctx, key, chainID, data)
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
