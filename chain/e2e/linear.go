package e2e

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/trialchain/trialchain/chain/block"
)

// The client-observed history of reads and writes per key, checked for
// linearizability with porcupine after every scenario.
//
// A key is a document hash; a write anchors it with a label no other
// write uses (an anchor transaction, acknowledged when its receipt comes
// back); a read lists the document's anchors (GET /v1/anchors/DOC). The
// key's value is the set of its labels, and the model is a grow-only set:
// a write adds its label, a read must return exactly the labels written
// before it, in some order of the operations consistent with their
// call and return times.
//
// Each key is served by one node: all its writes are submitted to, and
// all its reads sent to, that node. A node answers reads from its own
// committed state, so across nodes reads are not linearizable (a lagging
// node serves an older state, by design); through one node they must be,
// across crashes, restarts and pauses: a write acknowledged by the node is
// in its durable state, so no later read of that node may miss it, and no
// read may show a label that was never written.
//
// A write whose client saw an error or no receipt has an unknown outcome.
// After the scenario the final chain decides it: a transaction not in the
// chain never took effect and is left out; one in the chain took effect
// at some time after its call, and is kept with no return time (porcupine
// may place it anywhere after its call).

// linKey is one key of the history: a document anchored through one node.
type linKey struct {
	Node int
	Doc  block.Hash
}

// linInput is an operation's input for the porcupine model.
type linInput struct {
	Key   int // index into history.keys
	Write bool
	Label string // the label a write adds
}

// linOp is one recorded operation.
type linOp struct {
	Client    int
	In        linInput
	Out       string // a read's labels, sorted, joined by "\n"
	Call, Ret time.Time
	// Unknown marks a write whose client saw no acknowledgement; Tx is its
	// transaction (the final chain decides whether it took effect).
	Unknown bool
	Tx      block.Hash
}

// history records the operations clients saw, safe for concurrent use.
type history struct {
	mu   sync.Mutex
	keys []linKey
	ops  []linOp
}

func (h *history) add(op linOp) {
	h.mu.Lock()
	h.ops = append(h.ops, op)
	h.mu.Unlock()
}

// labelSet renders a set of labels as a read's output or a model state.
func labelSet(labels []string) string {
	s := append([]string(nil), labels...)
	sort.Strings(s)
	return strings.Join(s, "\n")
}

// linModel is the grow-only set of labels per key.
var linModel = porcupine.Model{
	Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[int][]porcupine.Operation{}
		var order []int
		for _, op := range ops {
			k := op.Input.(linInput).Key
			if _, ok := byKey[k]; !ok {
				order = append(order, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		sort.Ints(order)
		out := make([][]porcupine.Operation, 0, len(order))
		for _, k := range order {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		st, in := state.(string), input.(linInput)
		if in.Write {
			var labels []string
			if st != "" {
				labels = strings.Split(st, "\n")
			}
			return true, labelSet(append(labels, in.Label))
		}
		return output.(string) == st, st
	},
	Equal: func(a, b interface{}) bool { return a.(string) == b.(string) },
	Hash: func(state interface{}) uint64 {
		f := fnv.New64a()
		f.Write([]byte(state.(string)))
		return f.Sum64()
	},
	DescribeOperation: func(input, output interface{}) string {
		in := input.(linInput)
		if in.Write {
			return fmt.Sprintf("key %d: anchor %q", in.Key, in.Label)
		}
		return fmt.Sprintf("key %d: read {%s}", in.Key, strings.ReplaceAll(output.(string), "\n", ", "))
	},
	DescribeState: func(state interface{}) string {
		return "{" + strings.ReplaceAll(state.(string), "\n", ", ") + "}"
	},
}

// linResult is the verdict of a linearizability check.
type linResult struct {
	Result  porcupine.CheckResult
	Ops     int // operations checked
	Dropped int // unacknowledged writes the chain shows never took effect
	Info    porcupine.LinearizationInfo
}

// checkLinear checks ops for linearizability per key. committed tells
// whether a transaction is in the final chain (it decides the writes whose
// outcome the client did not see). timeout bounds porcupine's search
// (Unknown when it runs out).
func checkLinear(ops []linOp, committed func(block.Hash) bool, timeout time.Duration) linResult {
	var res linResult
	var t0 time.Time
	var last int64
	for _, op := range ops {
		if t0.IsZero() || op.Call.Before(t0) {
			t0 = op.Call
		}
	}
	var pops []porcupine.Operation
	for _, op := range ops {
		if op.Unknown && !committed(op.Tx) {
			res.Dropped++
			continue
		}
		p := porcupine.Operation{ClientId: op.Client, Input: op.In, Output: op.Out,
			Call: int64(op.Call.Sub(t0)), Return: int64(op.Ret.Sub(t0))}
		last = max(last, p.Call)
		if op.Unknown {
			p.Return = math.MaxInt64 // fixed below: after every other event
		} else {
			last = max(last, p.Return)
		}
		pops = append(pops, p)
	}
	for i := range pops {
		if pops[i].Return == math.MaxInt64 {
			pops[i].Return = last + int64(time.Second)
		}
	}
	res.Ops = len(pops)
	res.Result, res.Info = porcupine.CheckOperationsVerbose(linModel, pops, timeout)
	return res
}
