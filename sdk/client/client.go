// Package client talks to a node's client API: build and sign transactions
// with a member key, submit them (optionally waiting for the receipt), and
// read blocks, transactions, anchors and status.
//
// # Usage
//
//	c := client.New("http://127.0.0.1:26601")
//	st, err := c.Status(ctx)
//	tx, err := client.Sign(key, st.ChainID, block.KindAnchor, payload, 100_000)
//	res, err := c.Submit(ctx, tx, true) // wait for the receipt
//
// # Transports
//
// The node URL's scheme chooses the transport: https://HOST:PORT (TLS 1.3
// on TCP), h3://HOST:PORT (HTTP/3 on UDP, same port), both with the node's
// key pinned from the genesis (ForGenesis, Pinned; a node presenting
// another key is refused with ErrWrongNodeKey), or http://HOST:PORT (plain,
// only to a node on this machine). Close releases an h3 client's socket.
//
// # Trust
//
// A node is not trusted. The plain readers (Block, Tx, Anchors,
// Checkpoint, Query, ...) return what the node sent, unchecked. The
// verifying readers check it against the validator set in force at each
// height — the genesis set, or on a chain whose set changes the sets
// walked from it through certified blocks (ValidatorSets, SetWalk) — and
// refuse what does not chain to a quorum certificate: VerifiedBlock (the
// block's own certificate), VerifiedTx and ProveTx (certified block and
// inclusion proof), VerifiedAnchors, ProveState, VerifiedCheckpoint and
// ProveExtends. SurveyCheckpointsAgainst asks every validator in force (NodesIn) for its latest
// checkpoint, so that no single node can hide newer blocks, and reports
// lagging, invalid and forked answers; Source feeds a verified checkpoint
// to chain/proof/bundle.Export, which checks every block against its hash
// chain. Contract queries (Query) carry no proof: label them unverified.
package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/view"
)

// Client is a node API client.
type Client struct {
	Base string
	HTTP *http.Client
	Name string // optional, for reports: e.g. the validator's name in the genesis
	// NodeKey is the node's key from the genesis (Pinned, ForGenesis): over
	// https the node must present it, and signed requests are bound to it.
	NodeKey ed25519.PublicKey
}

// Label names the node for people: "node1 (http://127.0.0.1:26603)", or
// its URL.
func (c *Client) Label() string {
	if c.Name == "" {
		return c.Base
	}
	return c.Name + " (" + c.Base + ")"
}

// New returns a client for the node API at base (e.g. "http://127.0.0.1:26601"),
// without a pinned key: an https:// or h3:// node must then present a
// certificate the system roots trust. Use ForGenesis (or Pinned) to pin
// the node's key from the genesis instead.
func New(base string) *Client {
	c := &Client{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: 3 * time.Minute}}
	if isH3(c.Base) {
		c.HTTP = newH3Client(nil)
	}
	return c
}

// APIError is a refusal from the node, with its stable code.
type APIError struct {
	Status int
	Code   string
	Msg    string
}

func (e *APIError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s (%s)", e.Msg, e.Code)
	}
	return e.Msg
}

// ErrNotFound matches an APIError with status 404.
var ErrNotFound = errors.New("client: not found")

// ErrGone matches an APIError with status 410: a redacted payload.
var ErrGone = errors.New("client: gone (redacted)")

// ErrExpired: the transaction was not committed by its ValidUntil time
// and the chain's head is already later, so it never will be (final; sign
// it again to retry). It matches a node's "expired" answers (400 at
// admission, 410 for one it accepted) and the waits' own conclusion from
// the head time of GET /v1/status.
var ErrExpired = errors.New("client: transaction expired")

// Is makes errors.Is(err, ErrNotFound) work for 404 answers,
// errors.Is(err, ErrExpired) for "expired" answers and errors.Is(err,
// ErrGone) for other 410 answers.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrExpired:
		return e.Code == view.StatusExpired
	case ErrGone:
		return e.Status == http.StatusGone && e.Code != view.StatusExpired
	}
	return false
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	b, err := c.raw(ctx, method, path, body, nil)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("client: decode answer: %w", err)
	}
	return nil
}

// raw sends one request (with the extra headers hdr) and returns the
// answer's body; an answer of 300 or above becomes an *APIError.
func (c *Client) raw(ctx context.Context, method, path string, body []byte, hdr http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: cannot reach node at %s: %w", c.Base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("client: read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e view.Error
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return nil, &APIError{Status: resp.StatusCode, Code: e.Code, Msg: e.Error}
		}
		return nil, &APIError{Status: resp.StatusCode, Msg: fmt.Sprintf("node answered %s", resp.Status)}
	}
	return b, nil
}

// Status returns the node's status.
func (c *Client) Status(ctx context.Context) (*view.Status, error) {
	var s view.Status
	return &s, c.do(ctx, http.MethodGet, "/v1/status", nil, &s)
}

// Submit sends a signed transaction; with wait it returns the receipt too.
// Waiting, a transaction with a ValidUntil bound is answered: its receipt,
// or an error matching ErrExpired once the node's head is past the bound
// (WaitReceipt), or, should ctx end first, the Pending note. Without a
// bound the wait is the node's (up to a minute), then Pending.
func (c *Client) Submit(ctx context.Context, tx *block.Tx, wait bool) (*view.Submitted, error) {
	s, err := c.submit(ctx, tx, wait)
	if err != nil || !wait || s.Receipt != nil || tx.ValidUntil == 0 {
		return s, err
	}
	t, err := c.WaitReceipt(ctx, tx)
	switch {
	case err == nil:
		s.Receipt, s.Pending = t.Receipt, ""
	case errors.Is(err, ErrExpired):
		return nil, err
	case ctx.Err() == nil:
		return nil, err
	}
	return s, nil
}

func (c *Client) submit(ctx context.Context, tx *block.Tx, wait bool) (*view.Submitted, error) {
	path := "/v1/tx"
	if wait {
		path += "?wait=1"
	}
	raw := tx.Encode()
	for attempt := 1; ; attempt++ {
		var s view.Submitted
		err := c.do(ctx, http.MethodPost, path, raw, &s)
		var ae *APIError
		if err != nil && attempt > 1 && errors.As(err, &ae) && ae.Code == "nonce_used" {
			// An earlier try's busy answer may have come after the
			// transaction was forwarded to the leader (a node whose
			// consensus is restarting says so), and it committed since:
			// the nonce is then used by this very transaction.
			if s, ok := c.committed(ctx, block.Sum(raw)); ok {
				return s, nil
			}
		}
		if err == nil || !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || attempt == submitAttempts {
			if err != nil {
				return nil, err
			}
			return &s, nil
		}
		// 429 busy: the node did not take the transaction, though it may
		// already have forwarded it to the leader; the same bytes may be
		// sent again (a copy the leader ordered is answered above).
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (gave up waiting: %w)", err, ctx.Err())
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
}

// committed reports the receipt of the transaction with hash h if the
// node has committed it.
func (c *Client) committed(ctx context.Context, h block.Hash) (*view.Submitted, bool) {
	t, err := c.Tx(ctx, h)
	if err != nil || t.Receipt == nil {
		return nil, false
	}
	return &view.Submitted{Hash: h, Receipt: t.Receipt}, true
}

// submitAttempts bounds Submit's tries of a transaction the node answers
// 429 busy (its request pool or its link to the leader is full).
const submitAttempts = 8

// Tx returns a committed transaction and its receipt.
func (c *Client) Tx(ctx context.Context, h block.Hash) (*view.TxWithReceipt, error) {
	var t view.TxWithReceipt
	return &t, c.do(ctx, http.MethodGet, "/v1/tx/"+h.String(), nil, &t)
}

// Block returns the block at height (0 = latest).
func (c *Client) Block(ctx context.Context, height uint64) (*view.Block, error) {
	p := "latest"
	if height > 0 {
		p = fmt.Sprint(height)
	}
	var b view.Block
	return &b, c.do(ctx, http.MethodGet, "/v1/block/"+p+"?raw=1", nil, &b)
}

// Anchors lists every anchoring of a document hash.
func (c *Client) Anchors(ctx context.Context, doc block.Hash) ([]view.Anchor, error) {
	var as []view.Anchor
	return as, c.do(ctx, http.MethodGet, "/v1/anchors/"+doc.String(), nil, &as)
}

// Nonce returns a fresh random nonce. Nonces are single-use per sender;
// 64 random bits make a collision negligible.
func Nonce() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("client: no randomness: %v", err))
	}
	return binary.BigEndian.Uint64(b[:]) >> 1
}

// DefaultValidity is how long after signing a transaction Sign (and the
// builders that use it: DeployTx, CallTx, ...) lets it commit: its
// ValidUntil is the signing time plus DefaultValidity. Past it, no block
// carries the transaction and the waits answer ErrExpired. It is well
// under SmartBFT's removal of a pooled request (forward, complain and
// auto-remove timeouts: over two minutes), so an accepted transaction is
// answered before the pool may drop it silently. 0 (or less): no bound
// (the transaction is encoded as version 1, as before bounds existed).
// Set it before signing, not concurrently with it.
var DefaultValidity = 60 * time.Second

// ValidFor is the ValidUntil of a transaction signed now that may commit
// for d: now + d in Unix milliseconds, or 0 (no bound) for d ≤ 0.
func ValidFor(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64(time.Now().Add(d).UnixMilli())
}

// Sign builds and signs a transaction with a fresh nonce, valid for
// DefaultValidity.
func Sign(key ed25519.PrivateKey, chainID string, kind block.Kind, payload []byte, gas uint64) *block.Tx {
	return SignUntil(key, chainID, kind, payload, gas, ValidFor(DefaultValidity))
}

// SignUntil is Sign with the ValidUntil bound given (Unix milliseconds of
// block time; 0: no bound).
func SignUntil(key ed25519.PrivateKey, chainID string, kind block.Kind, payload []byte, gas, validUntil uint64) *block.Tx {
	tx := &block.Tx{ChainID: chainID, Nonce: Nonce(), Kind: kind, GasLimit: gas, Payload: payload, ValidUntil: validUntil}
	tx.Sign(key)
	return tx
}
