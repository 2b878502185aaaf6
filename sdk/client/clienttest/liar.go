// Package clienttest holds test doubles for the node client API: a lying
// node, a reverse proxy in front of a real node that alters what it
// serves. Tests only.
//
//	l := clienttest.NewLiar(t, realNodeURL)
//	l.Set(clienttest.OmitTx(g, 3))       // block 3 without its first transaction, header recomputed
//	c := client.New(l.URL())
package clienttest

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/view"
)

// Lie rewrites one answer of the real node: r is the request, body the
// real answer's body. It returns the body to serve (body itself to pass it
// through), or an error, which the proxy answers with 500.
type Lie func(r *http.Request, upstream *Upstream, body []byte) ([]byte, error)

// Upstream lets a lie ask the real node for something else (e.g. an older
// checkpoint).
type Upstream struct {
	Base string
	HTTP *http.Client
}

// Get fetches path from the real node.
func (u *Upstream) Get(path string) ([]byte, error) {
	resp, err := u.HTTP.Get(u.Base + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("upstream %s: %s", path, resp.Status)
	}
	return b, nil
}

// Liar is a lying node: an HTTP proxy in front of a real node's client API.
type Liar struct {
	srv *httptest.Server
	up  *Upstream
	mu  sync.Mutex
	lie Lie
}

// NewLiar starts a proxy in front of the node at base; the test's cleanup
// stops it. It passes everything through until Set.
func NewLiar(t testing.TB, base string) *Liar {
	l := &Liar{up: &Upstream{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{}}}
	l.srv = httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(l.srv.Close)
	return l
}

// URL is the proxy's base URL.
func (l *Liar) URL() string { return l.srv.URL }

// Set makes the proxy tell lie (nil: tell the truth).
func (l *Liar) Set(lie Lie) {
	l.mu.Lock()
	l.lie = lie
	l.mu.Unlock()
}

func (l *Liar) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req, err := http.NewRequestWithContext(r.Context(), r.Method, l.up.Base+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := l.up.HTTP.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	l.mu.Lock()
	lie := l.lie
	l.mu.Unlock()
	if lie != nil && resp.StatusCode == http.StatusOK {
		if out, err = lie(r, l.up, out); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	for k, v := range resp.Header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

// blockPath reports the height of a GET /v1/block/{height} request (0 for
// latest), and whether r is one.
func blockPath(r *http.Request) (uint64, bool) {
	p, ok := strings.CutPrefix(r.URL.Path, "/v1/block/")
	if !ok {
		return 0, false
	}
	if p == "latest" {
		return 0, true
	}
	h, err := strconv.ParseUint(p, 10, 64)
	return h, err == nil
}

// AlterBlock serves the block at height (0: every block) changed by
// alter, re-encoded, with the JSON view rebuilt from it.
func AlterBlock(height uint64, alter func(c *block.Committed)) Lie {
	return func(r *http.Request, _ *Upstream, body []byte) ([]byte, error) {
		if _, ok := blockPath(r); !ok {
			return body, nil
		}
		var v view.Block
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, err
		}
		if height != 0 && v.Header.Height != height {
			return body, nil
		}
		raw, err := hex.DecodeString(v.Raw)
		if err != nil {
			return nil, err
		}
		c, err := block.DecodeCommitted(raw)
		if err != nil {
			return nil, err
		}
		alter(c)
		nv := view.FromCommitted(c)
		if v.Raw != "" {
			nv.Raw = hex.EncodeToString(c.Encode())
		}
		return json.Marshal(nv)
	}
}

// OmitTx serves block height without its first transaction, its header's
// count and root recomputed (the certificate no longer matches it).
func OmitTx(height uint64) Lie {
	return AlterBlock(height, func(c *block.Committed) {
		c.Block.Txs = c.Block.Txs[1:]
		c.Block.Header.TxCount, c.Block.Header.TxRoot = uint64(len(c.Block.Txs)), block.TxRoot(c.Block.Txs)
	})
}

// isLatestCheckpoint reports whether r asks for the latest checkpoint.
func isLatestCheckpoint(r *http.Request) bool {
	return r.URL.Path == "/v1/checkpoint" && r.URL.Query().Get("height") == ""
}

// OldCheckpoint answers "the latest checkpoint" with the genuine
// checkpoint at height: an old but certified view.
func OldCheckpoint(height uint64) Lie {
	return func(r *http.Request, up *Upstream, body []byte) ([]byte, error) {
		if !isLatestCheckpoint(r) {
			return body, nil
		}
		return up.Get("/v1/checkpoint?height=" + strconv.FormatUint(height, 10))
	}
}

// AlterCheckpoint serves every checkpoint (latest, or at height when
// height > 0) changed by alter, re-encoded.
func AlterCheckpoint(height uint64, alter func(cp *proof.Checkpoint)) Lie {
	return func(r *http.Request, up *Upstream, body []byte) ([]byte, error) {
		if height > 0 {
			if !isLatestCheckpoint(r) {
				return body, nil
			}
			var err error
			if body, err = up.Get("/v1/checkpoint?height=" + strconv.FormatUint(height, 10)); err != nil {
				return nil, err
			}
		} else if r.URL.Path != "/v1/checkpoint" {
			return body, nil
		}
		cp, err := proof.DecodeCheckpoint(body)
		if err != nil {
			return nil, err
		}
		alter(cp)
		return cp.Encode(), nil
	}
}

// ForgeHeader changes a checkpoint's log size without re-signing: a
// forged header its certificate does not cover.
func ForgeHeader(cp *proof.Checkpoint) { cp.Header.LogSize++ }

// Resign returns an alteration that rewrites a checkpoint's log root (a
// different history) and certifies it anew with the keys (keys[id-1]) of
// the validators ids: what a Byzantine quorum could sign.
func Resign(keys []ed25519.PrivateKey, ids ...uint64) func(cp *proof.Checkpoint) {
	return func(cp *proof.Checkpoint) {
		cp.Header.LogRoot = block.Sum(append([]byte("another history"), cp.Header.LogRoot[:]...))
		cp.Cert.Sigs = nil
		for _, id := range ids {
			v := block.Vote{ChainID: cp.Header.ChainID, Height: cp.Height(), BlockHash: cp.Hash(), MetadataHash: block.Sum(cp.Metadata), VerSeq: cp.VerSeq}
			msg := v.Encode()
			cp.Cert.Sigs = append(cp.Cert.Sigs, block.CommitSig{Validator: id, Msg: msg, Sig: ed25519.Sign(keys[id-1], msg)})
		}
	}
}

// AlterJSON decodes the answer to a GET of a path starting with prefix
// into a value of type T, changes it and re-encodes it.
func AlterJSON[T any](prefix string, alter func(v *T)) Lie {
	return func(r *http.Request, _ *Upstream, body []byte) ([]byte, error) {
		if !strings.HasPrefix(r.URL.Path, prefix) {
			return body, nil
		}
		var v T
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, err
		}
		alter(&v)
		return json.Marshal(v)
	}
}
