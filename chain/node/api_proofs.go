package node

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/store"
)

// The record-log endpoints (registered by Handler):
//
//	GET /v1/checkpoint[?height=H]                      → proof.Checkpoint (cp.json): header H + its certificate;
//	                                                     default: the head block, the latest checkpoint
//	GET /v1/proof/inclusion?tx=HASH|leaf=I[&size=N]    → proof.InclusionProof; default size: the latest checkpoint's log size
//	GET /v1/proof/consistency?from=N[&to=M]            → proof.ConsistencyProof; default to: the latest checkpoint's log size
//
// A checkpoint at height H commits to the record log after block H-1, so a
// record of the head block is not yet covered: asking for it at the
// default size answers 409 with code "not_checkpointed" (retry after the
// next block). Proofs are served from the stored tree nodes (O(log n) reads)
// and are verified by the client against a checkpoint it verified itself.

func (n *Node) handleCheckpoint(w http.ResponseWriter, r *http.Request) {
	head := n.store.Head()
	height := head.Height
	if s := r.URL.Query().Get("height"); s != "" {
		var err error
		if height, err = strconv.ParseUint(s, 10, 64); err != nil {
			writeErr(w, http.StatusBadRequest, "bad_height", fmt.Errorf("height %q: want a number", s))
			return
		}
	}
	if height == 0 {
		writeErr(w, http.StatusNotFound, "not_found", errors.New("no checkpoint: no block is committed yet (height 0 is the genesis state)"))
		return
	}
	c, err := n.store.Block(height)
	if errors.Is(err, store.ErrNotFound) {
		writeErr(w, http.StatusNotFound, "not_found", fmt.Errorf("block %d not found (head is %d)", height, head.Height))
		return
	}
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	writeJSON(w, http.StatusOK, proof.CheckpointOf(c))
}

// checkpointSize is the record-log size committed by the latest checkpoint
// (the head block's header).
func (n *Node) checkpointSize() (uint64, error) {
	head := n.store.Head()
	if head.Height == 0 {
		return 0, nil
	}
	return n.store.LogStart(head.Height)
}

// sizeParam reads an optional size parameter, defaulting to the latest
// checkpoint's; it must not exceed the stored log.
func (n *Node) sizeParam(w http.ResponseWriter, r *http.Request, name string) (size uint64, given, ok bool) {
	logSize := n.store.Head().Log.Size
	if s := r.URL.Query().Get(name); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "bad_size", fmt.Errorf("%s %q: want a number", name, s))
			return 0, true, false
		}
		if v > logSize {
			writeErr(w, http.StatusNotFound, "beyond_log", fmt.Errorf("%s %d: this node's record log has %d records", name, v, logSize))
			return 0, true, false
		}
		return v, true, true
	}
	v, err := n.checkpointSize()
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return 0, false, false
	}
	return v, false, true
}

func (n *Node) handleInclusion(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var (
		rc    *block.Receipt
		index uint64
		err   error
	)
	switch {
	case q.Get("tx") != "" && q.Get("leaf") != "":
		writeErr(w, http.StatusBadRequest, "bad_request", errors.New("give tx or leaf, not both"))
		return
	case q.Get("tx") != "":
		h, perr := block.ParseHash(q.Get("tx"))
		if perr != nil {
			writeErr(w, http.StatusBadRequest, "bad_hash", perr)
			return
		}
		rc, err = n.store.Receipt(h)
		if errors.Is(err, store.ErrNotFound) {
			writeErr(w, http.StatusNotFound, "not_found", fmt.Errorf("transaction %s is not committed on this node", h))
			return
		}
		if err == nil {
			var start uint64
			start, err = n.store.LogStart(rc.Height)
			index = start + rc.Index
		}
	case q.Get("leaf") != "":
		if index, err = strconv.ParseUint(q.Get("leaf"), 10, 64); err != nil {
			writeErr(w, http.StatusBadRequest, "bad_leaf", fmt.Errorf("leaf %q: want a number", q.Get("leaf")))
			return
		}
		rc, err = n.store.Record(index)
		if errors.Is(err, store.ErrNotFound) {
			writeErr(w, http.StatusNotFound, "not_found", fmt.Errorf("leaf %d: this node's record log has %d records", index, n.store.Head().Log.Size))
			return
		}
	default:
		writeErr(w, http.StatusBadRequest, "bad_request", errors.New("give tx=HASH or leaf=INDEX"))
		return
	}
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	size, given, ok := n.sizeParam(w, r, "size")
	if !ok {
		return
	}
	if index >= size {
		if given {
			writeErr(w, http.StatusBadRequest, "beyond_size", fmt.Errorf("record %d (block %d) is not in a log of size %d", index, rc.Height, size))
		} else {
			writeErr(w, http.StatusConflict, "not_checkpointed", fmt.Errorf("record %d is in block %d, which the latest checkpoint (log size %d) does not cover yet; it is covered once block %d is committed", index, rc.Height, size, rc.Height+1))
		}
		return
	}
	record := rc.Encode()
	leaf, err := n.store.LeafHash(index)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	if leaf != proof.LeafHash(record) {
		writeErr(w, http.StatusInternalServerError, "store", fmt.Errorf("store: leaf %d does not match the receipt of transaction %s", index, rc.TxHash))
		return
	}
	hashes, err := proof.Inclusion(n.store, index, size)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	writeJSON(w, http.StatusOK, &proof.InclusionProof{LeafIndex: index, Size: size, Leaf: leaf, Record: record, Hashes: hashes})
}

func (n *Node) handleConsistency(w http.ResponseWriter, r *http.Request) {
	fs := r.URL.Query().Get("from")
	from, err := strconv.ParseUint(fs, 10, 64)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_size", fmt.Errorf("from %q: want the earlier log size", fs))
		return
	}
	to, _, ok := n.sizeParam(w, r, "to")
	if !ok {
		return
	}
	if from > to {
		writeErr(w, http.StatusBadRequest, "bad_size", fmt.Errorf("from %d is beyond to %d", from, to))
		return
	}
	hashes, err := proof.Consistency(n.store, from, to)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	writeJSON(w, http.StatusOK, &proof.ConsistencyProof{From: from, To: to, Hashes: hashes})
}
