package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/witness"
)

// Talking to witnesses (package witness; served by chain/witness/witnessd):
//
//	wc := client.NewWitness("http://127.0.0.1:26900")
//	c, err := client.Cosign(ctx, node, wc, cp)   // cp: a verified checkpoint; node serves the proof
//	b.Witnesses = append(b.Witnesses, c)

// WitnessClient talks to one witness's HTTP API.
type WitnessClient struct {
	Base string
	HTTP *http.Client
}

// NewWitness returns a client for the witness at base (e.g.
// "http://127.0.0.1:26900"; "http://" is added when missing).
func NewWitness(base string) *WitnessClient {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &WitnessClient{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: time.Minute}}
}

// ErrNoCosignature is a witness that has cosigned nothing yet.
var ErrNoCosignature = errors.New("client: the witness has cosigned no checkpoint yet")

func (w *WitnessClient) call(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, w.Base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := w.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: cannot reach witness at %s: %w", w.Base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("client: witness %s: read answer: %w", w.Base, err)
	}
	if resp.StatusCode >= 300 {
		var e witness.APIError
		if json.Unmarshal(b, &e) == nil && e.Code != "" {
			if e.Code == "none" {
				return nil, ErrNoCosignature
			}
			return nil, fmt.Errorf("witness %s refused (%s): %w", w.Base, resp.Status, e.Err())
		}
		return nil, fmt.Errorf("client: witness %s answered %s", w.Base, resp.Status)
	}
	return b, nil
}

// Latest is the witness's latest cosignature (ErrNoCosignature before its
// first). Its signature is checked against the key it names; whether that
// key is trusted is the caller's decision.
func (w *WitnessClient) Latest(ctx context.Context) (*witness.Cosignature, error) {
	b, err := w.call(ctx, http.MethodGet, "/witness/v1/latest", nil)
	if err != nil {
		return nil, err
	}
	c, err := witness.ParseCosignatureJSON(b)
	if err != nil {
		return nil, fmt.Errorf("witness %s: latest: %w", w.Base, err)
	}
	if err := c.Verify(); err != nil {
		return nil, fmt.Errorf("witness %s: latest: %w", w.Base, err)
	}
	return c, nil
}

// Key is the witness's public-key file as it serves it (for people; a
// verifier should get the key from the witness's operator, not the wire).
func (w *WitnessClient) Key(ctx context.Context) (witness.PublicKey, error) {
	b, err := w.call(ctx, http.MethodGet, "/witness/v1/key", nil)
	if err != nil {
		return witness.PublicKey{}, err
	}
	return witness.ParsePublicKey(b)
}

// Add sends an add-checkpoint request. Refusals match the witness
// package's sentinels (witness.ErrFork, witness.ErrNotCertified...); a
// stale old size is a *witness.ConflictError carrying the witness's size.
func (w *WitnessClient) Add(ctx context.Context, req *witness.Request) (*witness.Cosignature, error) {
	b, err := w.call(ctx, http.MethodPost, "/witness/v1/add-checkpoint", req.Encode())
	if err != nil {
		return nil, err
	}
	c, err := witness.ParseCosignatureJSON(b)
	if err != nil {
		return nil, fmt.Errorf("witness %s: %w", w.Base, err)
	}
	return c, nil
}

// Cosign asks the witness wc to cosign checkpoint cp: it reads the
// witness's latest size, fetches from node the consistency proof between
// that size and cp's (either way round: a witness that is ahead cosigns
// cp as a prefix), and submits; when another client moved the witness on
// meanwhile (409 old_size), it fetches a new proof and tries again, up to
// three times. The cosignature returned is checked: signed by the key it
// names, of exactly cp.
//
// # Errors
//
// The witness's refusal (errors.Is witness.ErrFork for a split view);
// ErrNotFound-like errors of the node; witness.ErrBadSignature or
// witness.ErrMismatch when the witness's answer is not a cosignature of cp.
func Cosign(ctx context.Context, node *Client, wc *WitnessClient, cp *proof.Checkpoint) (*witness.Cosignature, error) {
	var size uint64
	last, err := wc.Latest(ctx)
	switch {
	case errors.Is(err, ErrNoCosignature):
	case err != nil:
		return nil, err
	default:
		size = last.LogSize
	}
	for try := 0; ; try++ {
		req := &witness.Request{OldSize: size, Checkpoint: cp}
		if size > 0 && size != cp.Header.LogSize {
			from, to := size, cp.Header.LogSize
			if to < from {
				from, to = to, from
			}
			p, err := node.ConsistencyProof(ctx, from, to)
			if err != nil {
				return nil, fmt.Errorf("consistency proof %d → %d for witness %s: %w", from, to, wc.Base, err)
			}
			req.Proof = p.Hashes
		}
		c, err := wc.Add(ctx, req)
		var ce *witness.ConflictError
		if errors.As(err, &ce) && try < 2 {
			size = ce.Size
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := c.Verify(); err != nil {
			return nil, fmt.Errorf("witness %s: %w", wc.Base, err)
		}
		if err := c.Matches(cp); err != nil {
			return nil, fmt.Errorf("witness %s: %w", wc.Base, err)
		}
		return c, nil
	}
}
