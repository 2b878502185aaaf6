// Package witnessd serves a witness (package witness) over HTTP and,
// optionally, follows the chain by itself by polling the client APIs of
// the validators in force (walking the validator-set changes from the
// genesis, see Follower).
//
// # HTTP API
//
//	POST /witness/v1/add-checkpoint  witness.Request JSON → 200 witness.Cosignature JSON
//	GET  /witness/v1/latest          → 200 the latest cosignature, 404 (code "none") before the first
//	GET  /witness/v1/key             → the witness.pub file
//
// Refusals are a witness.APIError JSON body with the C2SP tlog-witness
// status codes: 400 bad_request, 403 not_certified, 404 wrong_chain, 409
// old_size (with the witness's size), block_conflict, root_conflict or
// rollback, 422 inconsistent, 413 too large.
//
// # Usage
//
//	h := witnessd.Handler(w, logf)
//	go witnessd.Follow(ctx, w, 5*time.Second, "https", logf)   // optional; walks set changes
//	err := witnessd.Serve(ctx, ln, h)                   // returns after ctx is done and requests drained
package witnessd

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/witness"
	"github.com/trialchain/trialchain/sdk/client"
)

// Paths of the API.
const (
	PathAdd    = "/witness/v1/add-checkpoint"
	PathLatest = "/witness/v1/latest"
	PathKey    = "/witness/v1/key"
)

// Handler serves the witness API. logf (may be nil) is told of every
// cosignature and refusal.
func Handler(w *witness.Witness, logf func(format string, args ...any)) http.Handler {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathAdd, func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, witness.MaxRequestBytes+1))
		if err != nil {
			writeErr(rw, http.StatusBadRequest, &witness.APIError{Error: fmt.Sprintf("reading the request: %v", err), Code: "bad_request"})
			return
		}
		if len(body) > witness.MaxRequestBytes {
			writeErr(rw, http.StatusRequestEntityTooLarge, &witness.APIError{Error: fmt.Sprintf("request over %d bytes", witness.MaxRequestBytes), Code: "too_large"})
			return
		}
		req, err := witness.DecodeRequest(body)
		if err == nil {
			var c *witness.Cosignature
			if c, err = w.Add(req); err == nil {
				logf("cosigned block %d (%s), log of %d records, as %s, for %s", c.Height, c.BlockHash, c.LogSize, c.Statement, r.RemoteAddr)
				writeJSON(rw, http.StatusOK, c)
				return
			}
		}
		status, body2 := refusal(err)
		if errors.Is(err, witness.ErrFork) {
			logf("FORK refused from %s: %v", r.RemoteAddr, err)
		} else {
			logf("refused from %s: %v", r.RemoteAddr, err)
		}
		writeErr(rw, status, body2)
	})
	mux.HandleFunc("GET "+PathLatest, func(rw http.ResponseWriter, r *http.Request) {
		c := w.Latest()
		if c == nil {
			writeErr(rw, http.StatusNotFound, &witness.APIError{Error: "this witness has cosigned no checkpoint yet", Code: "none"})
			return
		}
		writeJSON(rw, http.StatusOK, c)
	})
	mux.HandleFunc("GET "+PathKey, func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write(w.PublicKey().Encode())
	})
	return mux
}

// refusal maps a witness error to its HTTP status and body.
func refusal(err error) (int, *witness.APIError) {
	code := witness.RefusalCode(err)
	body := &witness.APIError{Error: err.Error(), Code: code}
	switch code {
	case "bad_request":
		return http.StatusBadRequest, body
	case "not_certified":
		return http.StatusForbidden, body
	case "wrong_chain":
		return http.StatusNotFound, body
	case "old_size":
		var ce *witness.ConflictError
		if errors.As(err, &ce) {
			body.Size = &ce.Size
		}
		return http.StatusConflict, body
	case "block_conflict", "root_conflict", "rollback":
		return http.StatusConflict, body
	case "inconsistent":
		return http.StatusUnprocessableEntity, body
	}
	return http.StatusInternalServerError, body
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	enc := json.NewEncoder(rw)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeErr(rw http.ResponseWriter, status int, e *witness.APIError) { writeJSON(rw, status, e) }

// Serve serves h on ln until ctx is done, then shuts down gracefully
// (requests in flight finish, for at most 10 s).
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("witnessd: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("witnessd: shutdown: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("witnessd: %w", err)
	}
	return nil
}

// Follow polls the client API of every validator in force every
// interval until ctx is done, and submits each newer certified checkpoint
// with a consistency proof from the same node (a Follower). Each outcome
// goes to logf; a fork is logged with "FORK". One node's answer is never
// trusted: Witness.Add checks the certificate and the proof.
//
// scheme is how the validators are reached (see sdk/client): "https" (TLS
// on TCP) or "h3" (HTTP/3), each node's key pinned from the genesis or
// from the set change that added it — a witness usually runs in another
// organisation — or "http" (plain, nodes on this machine only).
func Follow(ctx context.Context, w *witness.Witness, interval time.Duration, scheme string, logf func(format string, args ...any)) {
	f := NewFollower(w, interval, scheme, logf)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		f.Once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// FollowOnce is one round of a new Follower (which walks the validator
// sets from the genesis again: a loop should keep one Follower).
func FollowOnce(ctx context.Context, w *witness.Witness, timeout time.Duration, scheme string, logf func(format string, args ...any)) {
	NewFollower(w, timeout, scheme, logf).Once(ctx)
}

// Follower follows the chain for a witness. On a chain whose validator
// set can change (the genesis names params.validator_group) it walks the
// set changes from the genesis through the validators' certified blocks
// (client.SetWalk: each block's certificate checked against the set in
// force at its height, each change's consent re-verified) up to each checkpoint before submitting it, hands
// the witness the sets walked (Witness.SetValidators), and asks the
// validators in force — one added by a set change at the API address its
// add recorded, a removed one no longer. Not safe for concurrent use: one
// goroutine calls Once.
type Follower struct {
	w       *witness.Witness
	timeout time.Duration
	scheme  string
	logf    func(format string, args ...any)
	walk    *client.SetWalk // nil: the set cannot change
}

// NewFollower makes a follower for w; each call to a node is bounded by
// timeout.
func NewFollower(w *witness.Witness, timeout time.Duration, scheme string, logf func(format string, args ...any)) *Follower {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	f := &Follower{w: w, timeout: timeout, scheme: scheme, logf: logf}
	if g := w.Genesis(); g.Params.ValidatorGroup != "" {
		f.walk = client.NewSetWalk(g)
	}
	return f
}

// Witness is the witness the follower cosigns with.
func (f *Follower) Witness() *witness.Witness { return f.w }

// Validators returns the validators the follower asks: the genesis's, or
// those in force at the last block walked.
func (f *Follower) Validators() []genesis.Validator {
	if f.walk == nil {
		return f.w.Genesis().Validators
	}
	return f.walk.Hist.Latest().Validators
}

// Once asks every validator in force once for its latest checkpoint.
func (f *Follower) Once(ctx context.Context) {
	for _, v := range f.Validators() {
		if v.API == "" || ctx.Err() != nil {
			continue
		}
		c := client.Pinned(f.scheme+"://"+v.API, ed25519.PublicKey(v.Key))
		c.HTTP.Timeout = f.timeout
		err := f.followNode(ctx, c, v.Name)
		_ = c.Close()
		switch {
		case err == nil, errors.Is(err, client.ErrNotFound): // not found: no block committed yet
		case errors.Is(err, witness.ErrFork):
			f.logf("FORK: validator %s (%s) serves a certified history this witness refuses: %v", v.Name, v.API, err)
		default:
			f.logf("validator %s (%s): %v", v.Name, v.API, err)
		}
	}
}

// walkTo walks the set changes through block height-1 (those in force at
// height) from c's blocks, and gives the witness the sets walked. A walk
// that fails is dropped whole (it is retried from the same block).
func (f *Follower) walkTo(ctx context.Context, c *client.Client, height uint64) error {
	if f.walk == nil || height <= f.walk.Next {
		return nil
	}
	work := f.walk.Clone()
	if err := work.Walk(ctx, c, height-1); err != nil {
		return fmt.Errorf("walking the validator sets through block %d: %w", height-1, err)
	}
	before := len(f.walk.Hist.Sets())
	f.walk = work
	f.w.SetValidators(work.Hist.Clone())
	if n := len(work.Hist.Sets()); n > before {
		s := work.Hist.Latest()
		f.logf("validator set changed: %d validators %v from block %d", len(s.Validators), s.IDs(), s.From)
	}
	return nil
}

func (f *Follower) followNode(ctx context.Context, c *client.Client, name string) error {
	w, logf := f.w, f.logf
	cp, err := c.Checkpoint(ctx, 0)
	if err != nil {
		return err
	}
	last := w.Latest()
	req := &witness.Request{Checkpoint: cp}
	if last != nil {
		if cp.Height() < last.Height || cp.Hash() == last.BlockHash {
			return nil // behind, or nothing new (another block at the same height is submitted: a fork)
		}
		req.OldSize = last.LogSize
		if cp.Header.LogSize >= last.LogSize {
			p, err := c.ConsistencyProof(ctx, last.LogSize, cp.Header.LogSize)
			if err != nil {
				return err
			}
			req.Proof = p.Hashes
		}
	}
	if err := f.walkTo(ctx, c, cp.Height()); err != nil {
		return err
	}
	cs, err := w.Add(req)
	if err != nil {
		return err
	}
	logf("cosigned block %d (%s), log of %d records, from validator %s", cs.Height, cs.BlockHash, cs.LogSize, name)
	return nil
}
