package node

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/view"
)

// maxScopePage bounds the entries of one GET /v1/scope answer.
const maxScopePage = 10_000

// handleScope answers GET /v1/scope?name=NAME[&from=N][&limit=M] with a
// view.Scope: entries [from, from+limit) of the record set name in the
// node's latest state. Entries never change once written, so a client
// takes the first Count of a head it proved at a checkpoint.
func (n *Node) handleScope(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("name")
	if name == "" || len(name) > block.MaxScopeBytes {
		writeErr(w, http.StatusBadRequest, "bad_name", fmt.Errorf("want ?name=NAME, a record set name of 1..%d bytes (e.g. trial:ID)", block.MaxScopeBytes))
		return
	}
	num := func(key string, def uint64) (uint64, bool) {
		s := q.Get(key)
		if s == "" {
			return def, true
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "bad_"+key, fmt.Errorf("%s %q: want a number", key, s))
			return 0, false
		}
		return v, true
	}
	from, ok := num("from", 0)
	if !ok {
		return
	}
	limit, ok := num("limit", maxScopePage)
	if !ok {
		return
	}
	limit = min(max(limit, 1), maxScopePage)
	head, err := state.ReadScopeHead(n.store, name)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	out := view.Scope{Name: name, ID: state.ScopeID(name), Count: head.Count, From: from, Entries: []view.ScopeEntry{}}
	if from < head.Count {
		es, err := state.ScopeEntries(n.store, name, from, min(head.Count, from+limit))
		if err != nil {
			writeErr(w, http.StatusInternalServerError, "store", errors.Join(errors.New("record set entries"), err))
			return
		}
		for _, e := range es {
			out.Entries = append(out.Entries, view.ScopeEntry{TxHash: e.TxHash, Height: e.Height, Index: e.Index, Kind: e.Kind})
		}
	}
	writeJSON(w, http.StatusOK, out)
}
