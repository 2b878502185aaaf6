package node

import (
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/view"
)

// maxLabelMatches bounds the answer of GET /v1/contracts?label=NAME.
const maxLabelMatches = 100

// handleContractsByLabel answers GET /v1/contracts?label=NAME with the
// contracts deployed under that label, newest first (deploy height, then
// address), as []view.Contract (empty if none). It scans the contract
// records (one small record per contract), so it is for looking up a few
// well-known contracts by name, not for browsing.
func (n *Node) handleContractsByLabel(w http.ResponseWriter, r *http.Request) {
	label := r.URL.Query().Get("label")
	if label == "" || len(label) > block.MaxLabelBytes {
		writeErr(w, http.StatusBadRequest, "bad_label", fmt.Errorf("want ?label=NAME (1..%d bytes), e.g. ?label=trial-protocol", block.MaxLabelBytes))
		return
	}
	if n.contracts == nil {
		writeErr(w, http.StatusNotImplemented, "disabled", errors.New("contracts are not enabled on this node"))
		return
	}
	recs, err := contractsByLabel(n.store, label)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	out := make([]view.Contract, 0, len(recs))
	for _, rec := range recs {
		info, err := n.contracts.Info(r.Context(), n.store, rec.Address)
		if err != nil {
			writeErr(w, http.StatusInternalServerError, "store", err)
			return
		}
		out = append(out, contractView(n.store, info))
	}
	writeJSON(w, http.StatusOK, out)
}

// contractsByLabel returns the records of the contracts labelled label,
// newest first, at most maxLabelMatches.
func contractsByLabel(rd state.Reader, label string) ([]*contracts.Contract, error) {
	var zero block.Hash
	prefix := state.ContractKey(zero)[:1]
	var out []*contracts.Contract
	var derr error
	err := rd.Iterate(prefix, func(k, v []byte) bool {
		if len(k) != 1+len(zero) {
			return true
		}
		var addr block.Hash
		copy(addr[:], k[1:])
		c, err := contracts.DecodeContract(addr, v)
		if err != nil {
			derr = err
			return false
		}
		if c.Label == label {
			out = append(out, c)
		}
		return true
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return nil, fmt.Errorf("node: contracts labelled %q: %w", label, err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Height != out[j].Height {
			return out[i].Height > out[j].Height
		}
		return out[i].Address.String() < out[j].Address.String()
	})
	if len(out) > maxLabelMatches {
		out = out[:maxLabelMatches]
	}
	return out, nil
}

// contractView is the API form of a contract's record and code info.
func contractView(rd state.Reader, info *contracts.Info) view.Contract {
	v := view.Contract{Address: info.Address, CodeHash: info.CodeHash, CodeSize: info.CodeSize, Policy: info.Policy.String(),
		Owner: fmt.Sprintf("%x", info.Owner), Deployer: fmt.Sprintf("%x", []byte(info.Deployer)), Label: info.Label,
		Height: info.Height, Upgraded: info.Upgraded, Active: info.Active, Methods: info.Methods}
	if m, ok, _ := state.LookupMember(rd, info.Deployer); ok {
		v.DeployerName = m.Name
	}
	if v.Methods == nil {
		v.Methods = []string{}
	}
	return v
}
