package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
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
		Long: `Show a node's status. A node that found its own store damaged (it
re-checks it against the certified chain at start and in the background)
lists the damage; status then exits 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := clientFor(cmd)
			if err != nil {
				return err
			}
			s, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			if err := emit(cmd, s, func(w io.Writer) { printStatus(w, s) }); err != nil {
				return err
			}
			if len(s.StoreDamage) > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("node %d's store is damaged (%d problems): it serves nothing else and takes no part in consensus", s.NodeID, len(s.StoreDamage))}
			}
			return nil
		},
	}
}

func printStatus(w io.Writer, s *view.Status) {
	fmt.Fprintf(w, "chain:       %s (node %d)\n", s.ChainID, s.NodeID)
	for _, d := range s.StoreDamage {
		fmt.Fprintf(w, "STORE DAMAGED: %s\n", d)
	}
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
		Short: "Show the block at HEIGHT (or the latest), its certificate verified against the genesis",
		Long: `Show a committed block. With the genesis (--genesis, $TRIALCHAIN_GENESIS,
--home, or the client.toml beside the keyring) the block's commit
certificate is checked against the validators in force at its height (the
genesis set, walked through any set change) and its transactions
against its header; a block that does not verify is refused (exit 1).
Without a genesis the block is printed UNVERIFIED and its signers are not
called signers.`,
		Args: cobra.ExactArgs(1),
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
			g, err := optionalGenesis(cmd)
			if err != nil {
				return err
			}
			var b blockView
			if g != nil {
				vals, err := validatorSets(cmd, c, g)
				if err != nil {
					return err
				}
				cb, err := c.VerifiedBlock(cmd.Context(), vals, h)
				if err != nil {
					if errors.Is(err, client.ErrBlock) {
						return &exitError{code: 1, msg: "REFUSED: " + err.Error()}
					}
					return err
				}
				b = blockView{Block: view.FromCommitted(cb), Verified: true}
			} else {
				warnUnverified(cmd, "the block")
				v, err := c.Block(cmd.Context(), h)
				if err != nil {
					return err
				}
				v.Raw = ""
				b = blockView{Block: v}
			}
			return emit(cmd, b, func(w io.Writer) {
				hd := b.Header
				fmt.Fprintf(w, "block %d  %s\n", hd.Height, hd.Hash)
				fmt.Fprintf(w, "  time:        %s\n  proposer:    %d\n  prev hash:   %s\n", hd.Time, hd.Proposer, hd.PrevHash)
				fmt.Fprintf(w, "  tx root:     %s\n  state root:  %s (after block %d)\n", hd.TxRoot, hd.StateRoot, hd.Height-1)
				fmt.Fprintf(w, "  record log:  %d records, root %s (after block %d)\n", hd.LogSize, hd.LogRoot, hd.Height-1)
				fmt.Fprintf(w, "  validators:  %s\n", hd.ValidatorsHash)
				if b.Verified {
					fmt.Fprintf(w, "  signed by:   %v (commit certificate verified against the validators in force at its height, walked from the genesis; transactions match the header)\n", b.Signers)
				} else {
					fmt.Fprintf(w, "  signatures:  NOT CHECKED (the node names validators %v; no genesis given)\n", b.Signers)
				}
				fmt.Fprintf(w, "  %d transactions\n", len(b.Txs))
				for _, t := range b.Txs {
					fmt.Fprintf(w, "    %s\n", t)
				}
			})
		},
	})
	return c
}

// blockView is what block get prints: the block and whether its
// certificate was verified.
type blockView struct {
	*view.Block
	Verified bool `json:"verified"`
}

// txView is what tx get prints: the transaction and receipt, and what was
// verified of them.
type txView struct {
	*view.TxWithReceipt
	Verified        bool   `json:"verified"`         // the transaction is in a certified block
	ReceiptVerified bool   `json:"receipt_verified"` // its receipt is proven under a certified checkpoint
	Note            string `json:"note,omitempty"`
}

func newTxCmd() *cobra.Command {
	c := &cobra.Command{Use: "tx", Short: "Read committed transactions and receipts"}
	c.AddCommand(&cobra.Command{
		Use:   "get HASH",
		Short: "Show a committed transaction and its receipt, verified against the genesis",
		Long: `Show a committed transaction and its receipt. With the genesis (--genesis,
$TRIALCHAIN_GENESIS, --home, or the client.toml beside the keyring) the
signed transaction must be in a block certified by the validators in force
at its height (the genesis set, walked through any set change),
and its receipt is proven by an inclusion proof under a certified
checkpoint (a receipt of the newest block, which no checkpoint covers yet,
is labelled unverified); anything that does not verify is refused (exit 1).
Without a genesis it is printed UNVERIFIED.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := block.ParseHash(args[0])
			if err != nil {
				return fmt.Errorf("transaction hash %q: %w", args[0], err)
			}
			c, err := clientFor(cmd)
			if err != nil {
				return err
			}
			g, err := optionalGenesis(cmd)
			if err != nil {
				return err
			}
			var t txView
			if g != nil {
				vals, err := validatorSets(cmd, c, g)
				if err != nil {
					return err
				}
				vt, err := c.VerifiedTx(cmd.Context(), vals, h)
				if err := expiredExit(err); err != nil {
					if errors.Is(err, client.ErrBlock) || errors.Is(err, client.ErrTxNotInBlock) || errors.Is(err, proof.ErrInclusion) || errors.Is(err, proof.ErrCheckpoint) {
						return &exitError{code: 1, msg: "REFUSED: " + err.Error()}
					}
					return err
				}
				t = txView{TxWithReceipt: &view.TxWithReceipt{Tx: view.FromTx(vt.Tx)}, Verified: true}
				if vt.Receipt != nil {
					t.Receipt, t.ReceiptVerified = view.FromReceipt(vt.Receipt), true
				} else {
					// The node's receipt, shown but labelled: no checkpoint covers it yet.
					nt, err := c.Tx(cmd.Context(), h)
					if err != nil {
						return err
					}
					t.Receipt = nt.Receipt
					t.Note = fmt.Sprintf("the receipt is in the newest block (%d), which no checkpoint covers yet: it is the node's word until the next block", vt.Block.Block.Header.Height)
				}
			} else {
				warnUnverified(cmd, "the transaction and its receipt")
				nt, err := c.Tx(cmd.Context(), h)
				if err != nil {
					return expiredExit(err)
				}
				t = txView{TxWithReceipt: nt}
			}
			return emit(cmd, t, func(w io.Writer) {
				fmt.Fprintf(w, "transaction %s\n  kind:    %s\n  sender:  %s\n  nonce:   %d\n  gas:     limit %d\n",
					t.Tx.Hash, t.Tx.Kind, t.Tx.Sender, t.Tx.Nonce, t.Tx.GasLimit)
				printReceipt(w, t.Receipt)
				switch {
				case t.ReceiptVerified:
					fmt.Fprintln(w, "verified: the signed transaction is in a block certified by the validators in force at its height (walked from the genesis), and its receipt is proven in the record log under a certified checkpoint")
				case t.Verified:
					fmt.Fprintf(w, "verified: the signed transaction is in a certified block; receipt UNVERIFIED: %s\n", t.Note)
				default:
					fmt.Fprintln(w, "UNVERIFIED: no genesis file given")
				}
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
