package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consensus"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/store"
	"github.com/trialchain/trialchain/chain/view"
)

// MaxWait bounds how long POST /v1/tx?wait=1 waits for a receipt.
const MaxWait = 2 * time.Minute

// Handler returns the client API:
//
//	POST /v1/tx[?wait=1&timeout=30s]  body: canonical transaction bytes → view.Submitted
//	POST /v1/txs[?wait=1&timeout=30s] body: up to 256 of them, view.AppendTxBatch → view.SubmittedBatch
//	GET  /v1/tx/{hash}                → view.TxWithReceipt
//	GET  /v1/block/{height|latest}[?raw=1] → view.Block
//	GET  /v1/status                   → view.Status
//	GET  /v1/anchors/{sha256}         → []view.Anchor
//	GET  /v1/members/{key}            → view.Member
//	POST /v1/query                    body: view.QueryRequest → view.QueryResult (read-only, no consensus)
//	GET  /v1/contracts/{address}      → view.Contract
//	GET  /v1/consent-groups/{id}      → view.ConsentGroup
//	GET  /v1/checkpoint[?height=H]    → proof.Checkpoint (cp.json)          (api_proofs.go)
//	GET  /v1/proof/inclusion?tx=HASH|leaf=I[&size=N] → proof.InclusionProof
//	GET  /v1/proof/consistency?from=N[&to=M]         → proof.ConsistencyProof
//	GET  /healthz                     → 200 "ok"
//
// Errors answer with a view.Error body and a 4xx/5xx status.
//
// Accepted means answered. A transaction may carry a ValidUntil bound
// (block.Tx; the SDK sets one by default): no block later than it may
// carry the transaction. POST /v1/tx refuses one already past its bound
// at the head's time (400, code "expired"). For a transaction this node
// accepted (200) and that is not committed while the head's time is past
// its bound, GET /v1/tx/{hash} answers 410 Gone with a view.TxExpired
// body (status and code "expired", the reason, the bound and the head):
// final, no block will ever carry it. POST /v1/tx?wait=1 answers the same
// 410 as soon as the head passes the bound. A committed receipt always
// wins. The node remembers what it accepted in memory only: after a
// restart it answers 404, and a client compares the bound it signed with
// the head time of GET /v1/status (last_block_time_unix_ms), as the SDK's
// waits do (client.ErrExpired).
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/tx", n.handleSubmit)
	mux.HandleFunc("POST /v1/txs", n.handleSubmitBatch) // body: view.AppendTxBatch → view.SubmittedBatch (api_batch.go)
	mux.HandleFunc("GET /v1/tx/{hash}", n.handleTx)
	mux.HandleFunc("GET /v1/block/{height}", n.handleBlock)
	mux.HandleFunc("GET /v1/status", n.handleStatus)
	mux.HandleFunc("GET /v1/anchors/{doc}", n.handleAnchors)
	mux.HandleFunc("GET /v1/members/{key}", n.handleMember)
	mux.HandleFunc("POST /v1/query", n.handleQuery)
	mux.HandleFunc("GET /v1/contracts/{addr}", n.handleContract)
	mux.HandleFunc("GET /v1/contracts", n.handleContractsByLabel) // ?label=NAME → []view.Contract, newest first (api_labels.go)
	mux.HandleFunc("GET /v1/pins", n.handlePins)                  // the contract registry: []view.Pin (api_pins.go)
	mux.HandleFunc("GET /v1/pins/{name}", n.handlePin)            // → view.PinHistory
	mux.HandleFunc("GET /v1/consent-groups/{id}", n.handleConsentGroup)
	mux.HandleFunc("GET /v1/checkpoint", n.handleCheckpoint)
	mux.HandleFunc("GET /v1/proof/inclusion", n.handleInclusion)
	mux.HandleFunc("GET /v1/proof/consistency", n.handleConsistency)
	mux.HandleFunc("GET /v1/proof/state", n.handleStateProof) // ?key=HEX[&height=H] (api_state.go)
	mux.HandleFunc("GET /v1/scope", n.handleScope)            // ?name=NAME[&from=N][&limit=M] → view.Scope (api_scope.go)
	mux.HandleFunc("PUT /v1/payloads/{hash}", n.handlePutPayload)
	mux.HandleFunc("GET /v1/payloads/{hash}", n.handleGetPayload)
	mux.HandleFunc("GET /v1/redactions/{hash}", n.handleRedaction)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeErr(w http.ResponseWriter, code int, errCode string, err error) {
	writeJSON(w, code, view.Error{Error: err.Error(), Code: errCode})
}

// admissionCode maps an admission error to an HTTP status and a stable code.
func admissionCode(err error) (int, string) {
	switch {
	case errors.Is(err, state.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, state.ErrMalformed):
		return http.StatusBadRequest, "malformed"
	case errors.Is(err, state.ErrBadSignature):
		return http.StatusUnauthorized, "bad_signature"
	case errors.Is(err, state.ErrWrongChain):
		return http.StatusBadRequest, "wrong_chain"
	case errors.Is(err, state.ErrGasLimit):
		return http.StatusBadRequest, "gas_limit"
	case errors.Is(err, state.ErrUnknownSender):
		return http.StatusForbidden, "unknown_sender"
	case errors.Is(err, state.ErrRevoked):
		return http.StatusForbidden, "revoked"
	case errors.Is(err, state.ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, state.ErrNonceUsed):
		return http.StatusConflict, "nonce_used"
	case errors.Is(err, state.ErrExpired):
		return http.StatusBadRequest, view.StatusExpired
	}
	return http.StatusServiceUnavailable, "unavailable"
}

// Admit runs the admission checks a transaction must pass before it is
// handed to consensus; nothing is recorded for a refused transaction.
func (n *Node) Admit(raw []byte) (*block.Tx, error) {
	return n.admit(raw, block.Sum(raw), nil)
}

// admit is Admit for a caller that computed h = block.Sum(raw). Its
// stateless checks are batched with concurrent requests' (admitbatch.go);
// leave, if not nil, is the request's sigBatcher.arrive result.
func (n *Node) admit(raw []byte, h block.Hash, leave func()) (*block.Tx, error) {
	tx, err := n.sigs.checkTx(raw, h, leave)
	if err != nil {
		return nil, err
	}
	if err := n.admitChecked(tx); err != nil {
		return nil, err
	}
	return tx, nil
}

// admitChecked runs the admission checks after CheckTx's on tx.
func (n *Node) admitChecked(tx *block.Tx) error {
	if err := n.checkNotExpired(tx); err != nil {
		return err
	}
	if err := state.CheckSender(n.store, tx); err != nil {
		return err
	}
	// The shape of payload kinds the state package leaves opaque.
	if tx.Kind == block.KindConsentGroup {
		if _, err := consent.ParseGroup(tx.Payload); err != nil {
			return fmt.Errorf("%w: consent group: %w", state.ErrMalformed, err)
		}
	}
	return nil
}

func (n *Node) handleSubmit(w http.ResponseWriter, r *http.Request) {
	leave := n.sigs.arrive() // a batch being formed may wait for this request
	defer leave()
	limit := int64(n.exec.Params.MaxTxBytes)
	raw, err := readBody(r, limit)
	if err != nil && !isTooLarge(err) {
		readErr(w, "the transaction", err)
		return
	}
	if int64(len(raw)) > limit || isTooLarge(err) {
		n.metrics.Refused("too_large")
		writeErr(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Errorf("%w: over %d bytes", state.ErrTooLarge, limit))
		return
	}
	var q url.Values // parsed once, if there is a query
	if r.URL.RawQuery != "" {
		q = r.URL.Query()
	}
	wait, _ := strconv.ParseBool(q.Get("wait"))
	h := block.Sum(raw) // tx.Hash() would encode it again
	var watch *ledger.Watch
	if wait {
		// Watched before admission, so no store read is needed for a
		// transaction committed before the wait: a block that carried h
		// before this point consumed its nonce (every committed receipt
		// does, but a block only a Byzantine quorum would certify) and
		// admission refuses it; a block after it hands its receipt over.
		watch = n.ledger.Watch(h)
		defer watch.Stop()
	}
	tx, err := n.admit(raw, h, leave)
	if err != nil {
		code, c := admissionCode(err)
		n.metrics.Refused(c)
		writeErr(w, code, c, err)
		return
	}
	if err := n.replica.Submit(raw); err != nil {
		if errors.Is(err, consensus.ErrBusy) {
			n.metrics.Refused("busy")
			w.Header().Set("Retry-After", "1")
			writeErr(w, http.StatusTooManyRequests, "busy", err)
			return
		}
		n.metrics.Refused("unavailable")
		writeErr(w, http.StatusServiceUnavailable, "unavailable", err)
		return
	}
	n.admitted(h, len(raw))
	if tx.ValidUntil != 0 {
		n.bounds.add(h, tx.ValidUntil, n.ledger.Head().TimeUnixMilli)
	}
	out := view.Submitted{Hash: h}
	if wait {
		d, err := waitTimeout(q)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "timeout", err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		rc, expired, err := n.waitReceipt(ctx, tx, h, watch)
		if expired != nil {
			writeJSON(w, http.StatusGone, expired)
			return
		}
		if err != nil {
			out.Pending = fmt.Sprintf("submitted but not committed within %s: %v; ask again with GET /v1/tx/%s", d, err, h)
			writeSubmitted(w, http.StatusAccepted, &out)
			return
		}
		out.Receipt = view.FromReceipt(rc)
	}
	writeSubmitted(w, http.StatusOK, &out)
}

// waitTimeout is a submission's ?timeout= (default a minute, at most
// MaxWait).
func waitTimeout(q url.Values) (time.Duration, error) {
	s := q.Get("timeout")
	if s == "" {
		return 60 * time.Second, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 && d <= MaxWait {
		return d, nil
	}
	return 0, fmt.Errorf("timeout %q: want a duration up to %s", s, MaxWait)
}

func (n *Node) handleTx(w http.ResponseWriter, r *http.Request) {
	h, err := block.ParseHash(r.PathValue("hash"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_hash", err)
		return
	}
	head := n.ledger.Head() // before the store: a transaction absent at this head never commits if it is past its bound
	raw, rc, err := n.store.Tx(h)
	if errors.Is(err, store.ErrNotFound) {
		n.answerUncommitted(w, h, head.Height, head.TimeUnixMilli)
		return
	}
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	tx, err := block.DecodeTx(raw)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	writeJSON(w, http.StatusOK, view.TxWithReceipt{Tx: view.FromTx(tx), Receipt: view.FromReceipt(rc)})
}

func (n *Node) handleBlock(w http.ResponseWriter, r *http.Request) {
	hs := r.PathValue("height")
	var height uint64
	if hs == "latest" {
		height = n.ledger.Head().Height
	} else {
		var err error
		if height, err = strconv.ParseUint(hs, 10, 64); err != nil {
			writeErr(w, http.StatusBadRequest, "bad_height", fmt.Errorf("height %q: want a number or 'latest'", hs))
			return
		}
	}
	if height == 0 {
		writeErr(w, http.StatusNotFound, "not_found", errors.New("no blocks yet: height 0 is the genesis state"))
		return
	}
	// A block can be block.MaxBlockBytes: loading one takes one of the few
	// heavy slots, and its raw form is streamed, not built in memory.
	if n.guard != nil {
		done, ok := n.guard.heavyAnswer(w, r)
		if !ok {
			return
		}
		defer done()
	}
	// The block is read once and not copied: decoded in place (only its
	// header, transaction hashes and signers are kept) and, with ?raw=1,
	// hex-encoded from the store's buffer straight to the client.
	wantRaw, _ := strconv.ParseBool(r.URL.Query().Get("raw"))
	var v *view.Block
	err := n.store.ReadBlockRaw(height, func(rawBlock []byte) error {
		c, err := block.DecodeCommittedShared(rawBlock)
		if err != nil {
			return fmt.Errorf("store: block %d is corrupt: %w", height, err)
		}
		v = view.FromCommitted(c)
		if wantRaw {
			writeBlockRaw(w, v, rawBlock)
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		writeErr(w, http.StatusNotFound, "not_found", fmt.Errorf("block %d not found (head is %d)", height, n.ledger.Head().Height))
		return
	}
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	if !wantRaw {
		writeJSON(w, http.StatusOK, v)
	}
}

// writeBlockRaw writes v as JSON with "raw" the hex of rawBlock, encoding
// the hex in small chunks straight to w.
func writeBlockRaw(w http.ResponseWriter, v *view.Block, rawBlock []byte) {
	v.Raw = "" // omitted; spliced in below
	head, err := json.Marshal(v)
	if err != nil || len(head) < 2 || head[len(head)-1] != '}' {
		writeErr(w, http.StatusInternalServerError, "encode", fmt.Errorf("encoding block: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(head[:len(head)-1])
	_, _ = io.WriteString(w, `,"raw":"`)
	var buf [32 << 10]byte
	for len(rawBlock) > 0 {
		k := min(len(rawBlock), len(buf)/2)
		hex.Encode(buf[:], rawBlock[:k])
		if _, err := w.Write(buf[:2*k]); err != nil {
			return
		}
		rawBlock = rawBlock[k:]
	}
	_, _ = io.WriteString(w, "\"}\n")
}

// Status returns what GET /v1/status serves.
func (n *Node) Status() view.Status {
	head := n.ledger.Head()
	leader, v := n.replica.Leader()
	s := view.Status{ChainID: n.gen.ChainID, NodeID: n.cfg.ID, Height: head.Height, LastBlockHash: head.Hash,
		StateRoot: head.StateRoot, LogSize: head.Log.Size, LogRoot: head.Log.Root(), GenesisHash: head.GenesisHash,
		ConnectedPeers: n.mesh.Connected(), Leader: leader, View: v}
	if head.Height > 0 {
		s.LastBlockTime = view.FormatMilli(head.TimeUnixMilli)
		s.LastBlockTimeUnixMilli = head.TimeUnixMilli
	}
	for _, p := range n.Damage() {
		s.StoreDamage = append(s.StoreDamage, p.String())
	}
	if s.ConnectedPeers == nil {
		s.ConnectedPeers = []uint64{}
	}
	for _, val := range n.gen.Validators {
		s.Validators = append(s.Validators, view.Peer{ID: val.ID, Name: val.Name, Key: val.Key.String(), Addr: val.Addr, API: val.API})
	}
	return s
}

func (n *Node) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, n.Status())
}

func (n *Node) handleAnchors(w http.ResponseWriter, r *http.Request) {
	doc, err := block.ParseHash(r.PathValue("doc"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_hash", err)
		return
	}
	as, err := state.Anchors(n.store, doc)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	out := []view.Anchor{}
	for _, a := range as {
		va := view.Anchor{Document: a.Doc, Label: a.Label, Sender: hex.EncodeToString(a.Sender), Height: a.Height,
			Index: a.Index, Time: view.FormatMilli(a.TimeUnixMilli), TimeUnixMilli: a.TimeUnixMilli, TxHash: a.TxHash}
		if m, ok, _ := state.LookupMember(n.store, a.Sender); ok {
			va.SenderName, va.SenderOrg, va.SenderRole = m.Name, m.Org, m.Role.String()
		}
		out = append(out, va)
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) handleMember(w http.ResponseWriter, r *http.Request) {
	kb, err := hex.DecodeString(r.PathValue("key"))
	if err != nil || len(kb) != ed25519.PublicKeySize {
		writeErr(w, http.StatusBadRequest, "bad_key", errors.New("member key: want 64 hex characters"))
		return
	}
	m, ok, err := state.LookupMember(n.store, kb)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	if !ok {
		writeErr(w, http.StatusNotFound, "not_found", errors.New("not a registered member"))
		return
	}
	writeJSON(w, http.StatusOK, view.Member{Key: hex.EncodeToString(m.Key), Name: m.Name, Org: m.Org, Role: m.Role.String(), Revoked: m.Revoked, Since: m.Since})
}
