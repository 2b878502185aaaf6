package node

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/store"
	"github.com/trialchain/trialchain/chain/view"
)

// maxStateKeyBytes bounds the key of a state proof request.
const maxStateKeyBytes = 4096

// handleStateProof answers GET /v1/proof/state?key=HEX[&height=H] with a
// view.StateProof: the key's value or absence in the state after block H,
// proved against the root in header H+1. The default H is the latest
// certified state (head-1); the head's own state is not certified until
// the next block (409 not_checkpointed).
func (n *Node) handleStateProof(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key, err := hex.DecodeString(q.Get("key"))
	if err != nil || len(key) == 0 || len(key) > maxStateKeyBytes {
		writeErr(w, http.StatusBadRequest, "bad_key", fmt.Errorf("want ?key=HEX, the state key in hex (1..%d bytes)", maxStateKeyBytes))
		return
	}
	head := n.store.Head()
	if head.Height == 0 {
		writeErr(w, http.StatusConflict, "not_checkpointed", errors.New("no block is committed yet: the genesis state is certified by block 1"))
		return
	}
	height := head.Height - 1
	if s := q.Get("height"); s != "" {
		if height, err = strconv.ParseUint(s, 10, 64); err != nil {
			writeErr(w, http.StatusBadRequest, "bad_height", fmt.Errorf("height %q: want a number", s))
			return
		}
	}
	switch {
	case height > head.Height:
		writeErr(w, http.StatusNotFound, "not_found", fmt.Errorf("state after block %d: the head is %d", height, head.Height))
		return
	case height == head.Height:
		writeErr(w, http.StatusConflict, "not_checkpointed", fmt.Errorf("the state after block %d (the head) is certified by the next block: ask for height %d or retry", height, height-1))
		return
	}
	root, err := n.store.StateRootAt(height)
	if errors.Is(err, store.ErrNotFound) {
		writeErr(w, http.StatusNotFound, "not_found", err)
		return
	}
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	p, value, found, err := smt.Prove(n.store, root, key)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	out := view.StateProof{Key: hex.EncodeToString(key), Height: height, CheckpointHeight: height + 1, Root: root, Found: found, Proof: p}
	if found {
		out.Value = hex.EncodeToString(value)
	}
	writeJSON(w, http.StatusOK, out)
}
