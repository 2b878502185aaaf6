package node

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/vm"
)

// maxQueryBody bounds a POST /v1/query body: the arguments (hex doubles
// them) plus the envelope.
const maxQueryBody = 2*block.MaxArgsBytes + 4096

// Contracts returns the node's contract runtime (nil if the node was given
// another state.Contracts).
func (n *Node) Contracts() *contracts.Runtime { return n.contracts }

// ErrTooManyQueries refuses a query while Limits.MaxQueries are running.
var ErrTooManyQueries = errors.New("node: too many queries running; try again shortly")

// querySlots holds the running queries (Limits.MaxQueries), made on first
// use from the node's configuration.
type querySlots struct {
	once sync.Once
	lim  Limits
	sem  chan struct{}
}

func (n *Node) queryLimits() *querySlots {
	n.queries.once.Do(func() {
		n.queries.lim = n.cfg.Limits.withDefaults()
		n.queries.sem = make(chan struct{}, n.queries.lim.MaxQueries)
		reserveProcs(n.queries.lim.MaxQueries)
	})
	return &n.queries
}

// reserveProcs makes sure a Go scheduler slot (P) stays free while
// maxQueries queries and a block run wasm at once. A goroutine running
// compiled wasm cannot be preempted between its returns to Go (the VM's
// gas refills, every 100,000 gas: tens of microseconds), so this only
// spares the node's own goroutines those waits; stopping a query no
// longer depends on it (the VM checks the query's context at each
// refill). It only ever raises GOMAXPROCS.
func reserveProcs(maxQueries int) {
	want := runtime.NumCPU() + maxQueries + 1
	if runtime.GOMAXPROCS(0) < want {
		runtime.GOMAXPROCS(want)
	}
}

// Query runs a read-only contract call against the latest committed state
// (see contracts.Runtime.Query) under the node's query limits: at most
// Limits.QueryGas, stopped at Limits.QueryTimeout or when ctx ends (the
// client went away), and refused with ErrTooManyQueries while
// Limits.MaxQueries others run.
func (n *Node) Query(ctx context.Context, q contracts.Query) (*contracts.QueryResult, uint64, error) {
	if n.contracts == nil {
		return nil, 0, errors.New("node: contracts are not enabled on this node")
	}
	qs := n.queryLimits()
	select {
	case qs.sem <- struct{}{}:
		defer func() { <-qs.sem }()
	default:
		return nil, 0, ErrTooManyQueries
	}
	q.MaxGas = qs.lim.QueryGas
	ctx, cancel := context.WithTimeoutCause(ctx, qs.lim.QueryTimeout,
		fmt.Errorf("query deadline of %v passed: %w", qs.lim.QueryTimeout, context.DeadlineExceeded))
	defer cancel()
	head := n.ledger.Head()
	res, err := n.contracts.Query(ctx, n.store, state.BlockContext{Height: head.Height, TimeUnixMilli: head.TimeUnixMilli}, q)
	return res, head.Height, err
}

func (n *Node) handleQuery(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxQueryBody+1))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "read", fmt.Errorf("reading the query: %w", err))
		return
	}
	if len(body) > maxQueryBody {
		writeErr(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Errorf("query over %d bytes", maxQueryBody))
		return
	}
	var req view.QueryRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeErr(w, http.StatusBadRequest, "malformed", fmt.Errorf("query: want {\"contract\": hex, \"method\": name, \"args\": text}: %w", err))
		return
	}
	args := []byte(req.Args)
	if req.ArgsHex != "" {
		if req.Args != "" {
			writeErr(w, http.StatusBadRequest, "malformed", errors.New("query: give args or args_hex, not both"))
			return
		}
		if args, err = hex.DecodeString(req.ArgsHex); err != nil {
			writeErr(w, http.StatusBadRequest, "malformed", fmt.Errorf("query: args_hex: %w", err))
			return
		}
	}
	if req.Method == "" || len(req.Method) > block.MaxMethodBytes {
		writeErr(w, http.StatusBadRequest, "malformed", fmt.Errorf("query: method must be 1..%d bytes", block.MaxMethodBytes))
		return
	}
	res, height, err := n.Query(r.Context(), contracts.Query{Contract: req.Contract, Method: req.Method, Args: args, GasLimit: req.Gas})
	switch {
	case errors.Is(err, contracts.ErrNoContract):
		writeErr(w, http.StatusNotFound, "not_found", err)
		return
	case errors.Is(err, ErrTooManyQueries):
		w.Header().Set("Retry-After", "1")
		writeErr(w, http.StatusTooManyRequests, "busy", err)
		return
	case errors.Is(err, contracts.ErrQueryStopped) && errors.Is(err, context.DeadlineExceeded):
		writeErr(w, http.StatusGatewayTimeout, "deadline", err)
		return
	case errors.Is(err, contracts.ErrQueryStopped):
		writeErr(w, http.StatusServiceUnavailable, "cancelled", err) // the client is gone: nobody reads this
		return
	case err != nil:
		writeErr(w, http.StatusServiceUnavailable, "unavailable", err)
		return
	}
	out := view.QueryResult{Contract: req.Contract, Method: req.Method, Height: height, Status: "ok",
		GasUsed: res.GasUsed}
	if res.Err != nil {
		out.Status, out.Error = "failed", res.Err.Error()
		var ce *vm.CallError
		if errors.As(res.Err, &ce) {
			out.Code = ce.Code.String()
		}
	} else {
		out.Result = hex.EncodeToString(res.Output)
		if len(res.Output) > 0 && json.Valid(res.Output) {
			out.ResultJSON = json.RawMessage(res.Output)
		}
	}
	for _, e := range res.Events {
		ev := view.Event{Type: e.Type, Data: hex.EncodeToString(e.Data)}
		if !e.Source.IsZero() {
			ev.Source = e.Source.String()
		}
		out.Events = append(out.Events, ev)
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) handleContract(w http.ResponseWriter, r *http.Request) {
	addr, err := block.ParseHash(r.PathValue("addr"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_address", err)
		return
	}
	if n.contracts == nil {
		writeErr(w, http.StatusNotImplemented, "disabled", errors.New("contracts are not enabled on this node"))
		return
	}
	info, err := n.contracts.Info(r.Context(), n.store, addr)
	switch {
	case errors.Is(err, contracts.ErrNoContract):
		writeErr(w, http.StatusNotFound, "not_found", err)
		return
	case err != nil:
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	v := view.Contract{Address: addr, CodeHash: info.CodeHash, CodeSize: info.CodeSize, Policy: info.Policy.String(),
		Owner: hex.EncodeToString(info.Owner), Deployer: hex.EncodeToString(info.Deployer), Label: info.Label,
		Height: info.Height, Upgraded: info.Upgraded, Active: info.Active, Methods: info.Methods}
	if m, ok, _ := state.LookupMember(n.store, info.Deployer); ok {
		v.DeployerName = m.Name
	}
	if v.Methods == nil {
		v.Methods = []string{}
	}
	writeJSON(w, http.StatusOK, v)
}

func (n *Node) handleConsentGroup(w http.ResponseWriter, r *http.Request) {
	id, err := block.ParseHash(r.PathValue("id"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_id", err)
		return
	}
	g, err := contracts.Group(n.store, id)
	switch {
	case errors.Is(err, contracts.ErrNoGroup):
		writeErr(w, http.StatusNotFound, "not_found", err)
		return
	case err != nil:
		writeErr(w, http.StatusInternalServerError, "store", err)
		return
	}
	js, err := g.MarshalJSON()
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "encode", err)
		return
	}
	raw, err := g.MarshalBinary()
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "encode", err)
		return
	}
	writeJSON(w, http.StatusOK, view.ConsentGroup{ID: id, Group: js, Raw: hex.EncodeToString(raw)})
}
