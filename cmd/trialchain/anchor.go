package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
)

func init() { register(newAnchorCmd) }

// hashFile streams FILE through SHA-256.
func hashFile(path string) (block.Hash, error) {
	f, err := os.Open(path)
	if err != nil {
		return block.Hash{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return block.Hash{}, fmt.Errorf("read %s: %w", path, err)
	}
	var out block.Hash
	copy(out[:], h.Sum(nil))
	return out, nil
}

func newAnchorCmd() *cobra.Command {
	var label, from, trial string
	var wait bool
	var gas uint64
	c := &cobra.Command{
		Use:   "anchor FILE [--trial ID]",
		Short: "Timestamp a document on chain: record its SHA-256, a label and you as sender",
		Long: `Record the SHA-256 of FILE on chain with a label and the sender, e.g. a
protocol or statistical analysis plan before the first enrolment, so that any
later change to it is evident. Only the hash leaves this machine.

  trialchain anchor sap-v1.pdf --label "SAP v1" --trial NCT05503693 --from sponsor --keyring net/keys --home net/node0 --wait
  trialchain anchor verify sap-v1.pdf --home net/node3

With --trial the anchor joins the trial's record set: the trial's export
carries it, and proves it carries every document anchored for the trial.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(label) > block.MaxLabelBytes {
				return fmt.Errorf("--label is %d bytes; at most %d", len(label), block.MaxLabelBytes)
			}
			h, err := hashFile(args[0])
			if err != nil {
				return err
			}
			p := &block.AnchorPayload{Hash: h, Label: label}
			if trial != "" {
				p.Scope = state.TrialScope(trial)
				if err := state.ValidScopeName(p.Scope); err != nil {
					return fmt.Errorf("--trial: %w", err)
				}
			}
			res, err := submitTx(cmd, from, wait, func(k ed25519.PrivateKey, chainID string) *block.Tx {
				return client.Sign(k, chainID, block.KindAnchor, p.Encode(), gas)
			})
			if err != nil {
				return err
			}
			if err := emit(cmd, res, func(w io.Writer) {
				fmt.Fprintf(w, "document %s\nsha256   %s\ntx       %s\n", args[0], h, res.Hash)
				if res.Receipt != nil {
					printReceipt(w, res.Receipt)
				} else {
					fmt.Fprintln(w, "submitted (--wait=false); trialchain tx get TXHASH shows its receipt")
				}
			}); err != nil {
				return err
			}
			if res.Receipt != nil && res.Receipt.Status != "ok" {
				return &exitError{code: 1, msg: "anchoring failed: " + res.Receipt.Error}
			}
			return nil
		},
	}
	c.Flags().StringVar(&label, "label", "", "what the document is, e.g. \"protocol v2\" (≤256 bytes)")
	c.Flags().StringVar(&trial, "trial", "", "the trial the document belongs to (it joins the trial's record set)")
	c.Flags().StringVar(&from, "from", "", "member key in the keyring that signs (required)")
	c.Flags().BoolVar(&wait, "wait", true, "wait until the transaction is committed and print its receipt (--wait=false: only submit)")
	c.Flags().Uint64Var(&gas, "gas", 100_000, "gas limit")
	_ = c.MarkFlagRequired("from")
	c.AddCommand(&cobra.Command{
		Use:   "verify FILE",
		Short: "Show every anchoring of FILE's SHA-256, verified against the genesis (exit 1 if not anchored)",
		Long: `Show every anchoring of FILE's SHA-256. With the genesis (--genesis,
$TRIALCHAIN_GENESIS, --home, or the client.toml beside the keyring) each
anchoring the node lists is checked: its transaction must be in a block
certified by the validators in force at its height (walked from the
genesis) and anchor exactly this hash, with this label and sender; its receipt is proven under a certified checkpoint (once
a later block exists) and the sender's name, organisation and role are
proven from the latest certified state. A listing that does not verify is
refused (exit 1). A node can still withhold an anchoring: "not anchored" is
the node's word. Without a genesis the list is printed UNVERIFIED.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := hashFile(args[0])
			if err != nil {
				return err
			}
			c, err := clientFor(cmd)
			if err != nil {
				return err
			}
			g, err := optionalGenesis(cmd)
			if err != nil {
				return err
			}
			var as []anchorView
			verified := g != nil
			if verified {
				vals, err := validatorSets(cmd, c, g)
				if err != nil {
					return err
				}
				vas, err := c.VerifiedAnchors(cmd.Context(), vals, h)
				if err != nil {
					if errors.Is(err, client.ErrBlock) || errors.Is(err, client.ErrTxNotInBlock) || errors.Is(err, proof.ErrInclusion) ||
						errors.Is(err, proof.ErrCheckpoint) || errors.Is(err, smt.ErrProof) {
						return &exitError{code: 1, msg: "REFUSED: the node's answer does not verify: " + err.Error()}
					}
					return err
				}
				for _, va := range vas {
					a := anchorView{Anchor: view.Anchor{Document: va.Doc, Label: va.Label, Sender: hex.EncodeToString(va.Sender), Height: va.Height, Index: va.Index,
						Time: view.FormatMilli(va.TimeUnixMilli), TimeUnixMilli: va.TimeUnixMilli, TxHash: va.TxHash}, Verified: true, ReceiptVerified: va.ReceiptProven}
					if m := va.Member; m != nil {
						a.SenderName, a.SenderOrg, a.SenderRole = m.Name, m.Org, m.Role.String()
					}
					as = append(as, a)
				}
			} else {
				warnUnverified(cmd, "the anchor list")
				nas, err := c.Anchors(cmd.Context(), h)
				if err != nil {
					return err
				}
				for _, a := range nas {
					as = append(as, anchorView{Anchor: a})
				}
			}
			if as == nil {
				as = []anchorView{}
			}
			if err := emit(cmd, as, func(w io.Writer) {
				if len(as) == 0 {
					return
				}
				fmt.Fprintf(w, "%s (sha256 %s) is anchored %d time(s):\n", args[0], h, len(as))
				for _, a := range as {
					who := a.Sender
					if a.SenderName != "" {
						who = fmt.Sprintf("%s (%s, %s) %s", a.SenderName, a.SenderOrg, a.SenderRole, a.Sender)
					}
					fmt.Fprintf(w, "  height %d  %s  label %q  by %s\n    tx %s\n", a.Height, a.Time, a.Label, who, a.TxHash)
				}
				switch {
				case verified:
					fmt.Fprintln(w, "verified: each anchor transaction is in a block certified by the validators in force at its height (height and time are that block's), its receipt proven under a certified checkpoint unless it is in the newest block, and the sender's member record proven in the latest certified state")
				default:
					fmt.Fprintln(w, "UNVERIFIED: no genesis file given")
				}
			}); err != nil {
				return err
			}
			if len(as) == 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("%s (sha256 %s): not anchored, says the node (a node can withhold an anchoring: ask another node to be sure)", args[0], h)}
			}
			return nil
		},
	})
	return c
}

// anchorView is one anchoring as anchor verify prints it.
type anchorView struct {
	view.Anchor
	Verified        bool `json:"verified"`
	ReceiptVerified bool `json:"receipt_verified"`
}
