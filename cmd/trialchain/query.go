package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/view"
)

func init() {
	register(newStatusCmd)
	register(newBlockCmd)
	register(newTxCmd)
}

func newStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show a node's chain id, height, last block, state root, validators and peers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := clientFor(cmd)
			if err != nil {
				return err
			}
			s, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			return emit(cmd, s, func(w io.Writer) { printStatus(w, s) })
		},
	}
}

func printStatus(w io.Writer, s *view.Status) {
	fmt.Fprintf(w, "chain:       %s (node %d)\n", s.ChainID, s.NodeID)
	fmt.Fprintf(w, "height:      %d\n", s.Height)
	fmt.Fprintf(w, "last block:  %s", s.LastBlockHash)
	if s.LastBlockTime != "" {
		fmt.Fprintf(w, " at %s", s.LastBlockTime)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "state root:  %s\n", s.StateRoot)
	fmt.Fprintf(w, "record log:  %d records, root %s\n", s.LogSize, s.LogRoot)
	fmt.Fprintf(w, "leader:      %d (view %d)\n", s.Leader, s.View)
	peers := make([]string, 0, len(s.ConnectedPeers))
	for _, p := range s.ConnectedPeers {
		peers = append(peers, strconv.FormatUint(p, 10))
	}
	fmt.Fprintf(w, "connected:   [%s]\n", strings.Join(peers, " "))
	fmt.Fprintln(w, "validators:")
	for _, v := range s.Validators {
		fmt.Fprintf(w, "  %d %-8s %s  api %s  key %s…\n", v.ID, v.Name, v.Addr, v.API, v.Key[:16])
	}
}

func newBlockCmd() *cobra.Command {
	c := &cobra.Command{Use: "block", Short: "Read committed blocks"}
	c.AddCommand(&cobra.Command{
		Use:   "get HEIGHT|latest",
		Short: "Show the block at HEIGHT (or the latest)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var h uint64
			if args[0] != "latest" {
				var err error
				if h, err = strconv.ParseUint(args[0], 10, 64); err != nil || h == 0 {
					return fmt.Errorf("height %q: want a block height ≥ 1 or latest", args[0])
				}
			}
			c, err := clientFor(cmd)
			if err != nil {
				return err
			}
			b, err := c.Block(cmd.Context(), h)
			if err != nil {
				return err
			}
			return emit(cmd, b, func(w io.Writer) {
				hd := b.Header
				fmt.Fprintf(w, "block %d  %s\n", hd.Height, hd.Hash)
				fmt.Fprintf(w, "  time:        %s\n  proposer:    %d\n  prev hash:   %s\n", hd.Time, hd.Proposer, hd.PrevHash)
				fmt.Fprintf(w, "  tx root:     %s\n  state root:  %s (after block %d)\n", hd.TxRoot, hd.StateRoot, hd.Height-1)
				fmt.Fprintf(w, "  record log:  %d records, root %s (after block %d)\n", hd.LogSize, hd.LogRoot, hd.Height-1)
				fmt.Fprintf(w, "  validators:  %s\n  signed by:   %v\n", hd.ValidatorsHash, b.Signers)
				fmt.Fprintf(w, "  %d transactions\n", len(b.Txs))
				for _, t := range b.Txs {
					fmt.Fprintf(w, "    %s\n", t)
				}
			})
		},
	})
	return c
}

func newTxCmd() *cobra.Command {
	c := &cobra.Command{Use: "tx", Short: "Read committed transactions and receipts"}
	c.AddCommand(&cobra.Command{
		Use:   "get HASH",
		Short: "Show a committed transaction and its receipt",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := block.ParseHash(args[0])
			if err != nil {
				return fmt.Errorf("transaction hash %q: %w", args[0], err)
			}
			c, err := clientFor(cmd)
			if err != nil {
				return err
			}
			t, err := c.Tx(cmd.Context(), h)
			if err != nil {
				return err
			}
			return emit(cmd, t, func(w io.Writer) {
				fmt.Fprintf(w, "transaction %s\n  kind:    %s\n  sender:  %s\n  nonce:   %d\n  gas:     limit %d\n",
					t.Tx.Hash, t.Tx.Kind, t.Tx.Sender, t.Tx.Nonce, t.Tx.GasLimit)
				printReceipt(w, t.Receipt)
			})
		},
	})
	return c
}

func printReceipt(w io.Writer, r *view.Receipt) {
	if r == nil {
		fmt.Fprintln(w, "receipt: none yet (not committed)")
		return
	}
	fmt.Fprintf(w, "receipt: %s in block %d (index %d), gas used %d\n", r.Status, r.Height, r.Index, r.GasUsed)
	if r.Error != "" {
		fmt.Fprintf(w, "  error:  %s\n", r.Error)
	}
	if r.Result != "" {
		fmt.Fprintf(w, "  result: %s\n", r.Result)
	}
	for _, e := range r.Events {
		fmt.Fprintf(w, "  event:  %s %s\n", e.Type, e.Data)
	}
}
