package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/sdk/client"
)

func init() { register(newScopeCmd) }

// scopeRecord is one transaction of a record set, as an auditor reads it.
type scopeRecord struct {
	Height uint64     `json:"height"`
	Index  uint64     `json:"index"`
	Tx     block.Hash `json:"tx"`
	Sender string     `json:"sender"`
	Kind   string     `json:"kind"`
	Method string     `json:"method,omitempty"`
	Status string     `json:"status"`
	Error  string     `json:"error,omitempty"` // a refusal: the contract's code and reason
}

// listScope reads every record of the record set name and its receipt.
// Unverified: the node's word (export and verify prove a trial's set).
func listScope(ctx context.Context, cl *client.Client, name string, max int) ([]scopeRecord, uint64, error) {
	var out []scopeRecord
	var count uint64
	for from := uint64(0); len(out) < max; {
		page, err := cl.Scope(ctx, name, from)
		if err != nil {
			return nil, 0, err
		}
		count = page.Count
		if len(page.Entries) == 0 {
			break
		}
		for _, e := range page.Entries {
			if len(out) == max {
				break
			}
			t, err := cl.Tx(ctx, e.TxHash)
			if err != nil {
				return nil, 0, fmt.Errorf("record %s of %s: %w", e.TxHash, name, err)
			}
			r := scopeRecord{Height: e.Height, Index: e.Index, Tx: e.TxHash, Kind: e.Kind}
			if t.Tx != nil {
				r.Sender, r.Kind = t.Tx.Sender, t.Tx.Kind
				if b, err := hex.DecodeString(t.Tx.Payload); err == nil && t.Tx.Kind == block.KindCall.String() {
					if p, err := block.DecodeCall(b); err == nil {
						r.Method = p.Method
					}
				}
			}
			if t.Receipt != nil {
				r.Status, r.Error = t.Receipt.Status, t.Receipt.Error
			}
			out = append(out, r)
		}
		from += uint64(len(page.Entries))
	}
	return out, count, nil
}

func newScopeCmd() *cobra.Command {
	var max int
	c := &cobra.Command{
		Use:   "scope NAME",
		Short: "List a record set: every transaction that joined it, refused ones with the contract's reason",
		Long: `A contract puts each transaction about a patient, a claim plan, a lot or a
trial in that subject's record set (contract.RecordScope), before it checks
anything: a refused call writes nothing to state, but its failed receipt —
with the refusal's code and reason — is a record of the set, kept by the
chain and committed in the state. This lists a set's records in order with
each receipt's status: where an auditor looks for every access decision,
permitted or refused.

Unverified: the node's answer. A trial's set is proven complete by
'trialchain export --trial ID' and 'trialchain verify'.`,
		Example: `  trialchain scope patient:p-7f3a9c --home net/node0
  trialchain scope lot:09506000134352/L1 --output json --home net/node2
  trialchain scope claims:plan-2026 --home net/node1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			recs, count, err := listScope(cmd.Context(), cl, args[0], max)
			if err != nil {
				return err
			}
			return emit(cmd, recs, func(w io.Writer) { printScope(w, args[0], recs, count) })
		},
	}
	c.Flags().IntVar(&max, "max", 1000, "list at most this many records")
	return c
}

func printScope(w io.Writer, name string, recs []scopeRecord, count uint64) {
	refused := 0
	for _, r := range recs {
		if r.Status != "ok" {
			refused++
		}
	}
	fmt.Fprintf(w, "record set %s: %d records (%d refused); the node's word, unverified\n", name, count, refused)
	for _, r := range recs {
		what := r.Kind
		if r.Method != "" {
			what = r.Method
		}
		line := fmt.Sprintf("  block %-5d %-10s by %s…  %s", r.Height, what, shortID(r.Sender), r.Status)
		if r.Error != "" {
			if m, ok := abortMessage(r.Error); ok {
				line = strings.TrimSuffix(line, r.Status) + "refused: " + m
			} else {
				line += ": " + r.Error
			}
		}
		fmt.Fprintln(w, line)
	}
}
