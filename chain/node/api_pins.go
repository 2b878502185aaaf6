package node

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/view"
)

// handlePins answers GET /v1/pins with the current binding of every name
// in the contract registry, by name ([]view.Pin, empty if none).
func (n *Node) handlePins(w http.ResponseWriter, r *http.Request) {
	pins, err := state.Pins(n.store)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	sort.Slice(pins, func(i, j int) bool { return pins[i].Name < pins[j].Name })
	out := make([]view.Pin, 0, len(pins))
	for _, p := range pins {
		out = append(out, n.pinView(p))
	}
	writeJSON(w, http.StatusOK, out)
}

// handlePin answers GET /v1/pins/{name} with the name's current binding
// and its history (view.PinHistory), or 404 not_pinned.
func (n *Node) handlePin(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := block.ValidPinName(name); err != nil {
		writeErr(w, http.StatusBadRequest, "bad_name", err)
		return
	}
	cur, ok, err := state.LookupPin(n.store, name)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	if !ok {
		writeErr(w, http.StatusNotFound, "not_pinned", fmt.Errorf("no contract is pinned as %q in the contract registry", name))
		return
	}
	hist, err := state.PinHistory(n.store, name)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	out := view.PinHistory{Current: n.pinView(cur), History: make([]view.Pin, 0, len(hist))}
	for _, p := range hist {
		v := n.pinView(p)
		v.StateKey = hex.EncodeToString(state.PinHistoryKey(name, p.Version-1))
		out.History = append(out.History, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) pinView(p *state.Pin) view.Pin {
	v := view.Pin{Name: p.Name, Contract: p.Contract, Reason: p.Reason, Sender: hex.EncodeToString(p.Sender),
		Height: p.Height, Index: p.Index, Time: view.FormatMilli(p.TimeUnixMilli), TimeUnixMilli: p.TimeUnixMilli,
		TxHash: p.TxHash, Version: p.Version, StateKey: hex.EncodeToString(state.PinKey(p.Name))}
	if !p.Previous.IsZero() {
		v.Previous = p.Previous.String()
	}
	if m, ok, err := state.LookupMember(n.store, p.Sender); err == nil && ok {
		v.SenderName = m.Name
	}
	return v
}
