package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consensus"
	"github.com/trialchain/trialchain/chain/ledger"
	"github.com/trialchain/trialchain/chain/view"
)

// handleSubmitBatch is POST /v1/txs[?wait=1&timeout=30s]: up to
// view.MaxBatchTxs transactions in one request (view.AppendTxBatch's
// framing), each admitted as POST /v1/tx admits it alone and answered in
// its own view.BatchResult, in the batch's order. What a batch saves is
// the per-request work on both sides (a site's bulk import, a bench):
// one request slot, one body read, one signature batch, one answer.
//
// The answer is 200 once the body is a batch (400 malformed, 413 over
// block.MaxTxBytes in all); a result's Status is that transaction's. Once
// the node's request pool is full, the transactions after it are not
// taken (429 busy, the answer carries Retry-After). With wait, the
// answer comes when every accepted transaction is committed (200), past
// its bound (410) or the timeout ran out (202, Pending).
func (n *Node) handleSubmitBatch(w http.ResponseWriter, r *http.Request) {
	limit := int64(n.exec.Params.MaxTxBytes)
	body, err := readBody(r, limit)
	if err != nil {
		readErr(w, "the batch", err)
		return
	}
	raws, err := view.SplitTxBatch(body)
	if err != nil {
		n.metrics.Refused("malformed")
		writeErr(w, http.StatusBadRequest, "malformed", err)
		return
	}
	q := r.URL.Query()
	wait, _ := strconv.ParseBool(q.Get("wait"))
	d, err := waitTimeout(q)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "timeout", err)
		return
	}
	hashes := make([]block.Hash, len(raws))
	for i := range raws {
		// Each its own copy: what the pool and the verified-transaction
		// cache keep of one transaction must not hold the whole body.
		raws[i] = bytes.Clone(raws[i])
		hashes[i] = block.Sum(raws[i])
	}
	out := view.SubmittedBatch{Results: make([]view.BatchResult, len(raws))}
	var watches []*ledger.Watch
	if wait {
		// Watched before admission, as POST /v1/tx does.
		watches = make([]*ledger.Watch, len(raws))
		for i, h := range hashes {
			watches[i] = n.ledger.Watch(h)
		}
		defer func() {
			for _, wt := range watches {
				wt.Stop()
			}
		}()
	}
	txs, errs := n.sigs.check(raws, hashes)
	busyFrom := len(raws)
	accepted := make([]bool, len(raws))
	for i, raw := range raws {
		res := &out.Results[i]
		res.Hash = hashes[i]
		if i >= busyFrom {
			res.Status, res.Code, res.Error = http.StatusTooManyRequests, "busy", "not taken: the node's request pool filled up with this batch's earlier transactions"
			n.metrics.Refused("busy")
			continue
		}
		err := errs[i]
		if err == nil {
			err = n.admitChecked(txs[i])
		}
		if err != nil {
			code, c := admissionCode(err)
			n.metrics.Refused(c)
			res.Status, res.Code, res.Error = code, c, err.Error()
			continue
		}
		if err := n.replica.Submit(raw); err != nil {
			if errors.Is(err, consensus.ErrBusy) {
				busyFrom = i
				n.metrics.Refused("busy")
				res.Status, res.Code, res.Error = http.StatusTooManyRequests, "busy", err.Error()
				continue
			}
			n.metrics.Refused("unavailable")
			res.Status, res.Code, res.Error = http.StatusServiceUnavailable, "unavailable", err.Error()
			continue
		}
		n.admitted(hashes[i], len(raw))
		if txs[i].ValidUntil != 0 {
			n.bounds.add(hashes[i], txs[i].ValidUntil, n.ledger.Head().TimeUnixMilli)
		}
		accepted[i] = true
		res.Status = http.StatusOK
	}
	if wait {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		for i, ok := range accepted {
			if !ok {
				continue
			}
			res := &out.Results[i]
			rc, expired, err := n.waitReceipt(ctx, txs[i], hashes[i], watches[i])
			switch {
			case expired != nil:
				res.Status, res.Code, res.Error, res.Expired = http.StatusGone, expired.Code, expired.Error, expired
			case err != nil:
				res.Status = http.StatusAccepted
				res.Pending = fmt.Sprintf("submitted but not committed within %s: %v; ask again with GET /v1/tx/%s", d, err, hashes[i])
			default:
				res.Receipt = view.FromReceipt(rc)
			}
		}
	}
	if busyFrom < len(raws) {
		w.Header().Set("Retry-After", "1")
	}
	writeSubmittedBatch(w, &out)
}
