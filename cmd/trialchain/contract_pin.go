package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
)

// The contract registry: an admin binds the well-known names the trial
// commands use (trial-protocol, genome-access, surgical-records) to
// contract addresses, and the commands resolve through it, never by a
// deploy label.

func newContractPinCmd() *cobra.Command {
	var from, reason string
	var wait bool
	c := &cobra.Command{
		Use:   "pin NAME ADDR --reason TEXT --from ADMIN",
		Short: "Bind a name (e.g. trial-protocol) to a contract address in the chain's contract registry (admin only)",
		Long: `Bind NAME to the contract at ADDR in the chain's contract registry. The
trial, genome and surgery commands find their contracts through it
(trial-protocol, genome-access, surgical-records), never by the label a
contract was deployed with: anyone with deploy rights can deploy a
look-alike under the same label.

Only an admin may pin; the contract must exist. Pinning a name again
rebinds it: the change is its own recorded transaction with its reason,
and every binding stays in the chain's state (trialchain contract pins
NAME shows them; trialchain state prove --pin NAME proves the current one).`,
		Example: `  trialchain contract pin trial-protocol 9f2c… --reason "sponsor's audited build, protocol v1" \
      --from admin --keyring net/keys --home net/node0`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := block.ValidPinName(args[0]); err != nil {
				return err
			}
			addr, err := parseAddr(args[1])
			if err != nil {
				return err
			}
			if reason == "" {
				return requireFlag("reason", `"sponsor's audited build, protocol v1"`)
			}
			p := &block.PinPayload{Name: args[0], Contract: addr, Reason: reason}
			res, err := submitTx(cmd, from, wait, func(k ed25519.PrivateKey, chainID string) *block.Tx {
				return client.Sign(k, chainID, block.KindPin, p.Encode(), 200_000)
			})
			if err != nil {
				return err
			}
			return emitReceipt(cmd, res, fmt.Sprintf("pin %s → %s", args[0], addr))
		},
	}
	c.Flags().StringVar(&from, "from", "", "an admin's key in the keyring (required)")
	c.Flags().StringVar(&reason, "reason", "", "why this contract, for the record (required)")
	c.Flags().BoolVar(&wait, "wait", true, "wait until the transaction is committed and print its receipt")
	_ = c.MarkFlagRequired("from")
	return c
}

func newContractPinsCmd() *cobra.Command {
	var prove bool
	c := &cobra.Command{
		Use:   "pins [NAME] [--prove]",
		Short: "List the contract registry's bindings, or one name's history",
		Long: `Without NAME: every name in the contract registry and the contract it is
bound to. With NAME: its current binding and every earlier one (who pinned,
when, why). With --prove the current binding of NAME (or its absence) is
checked with a state proof against a checkpoint the validators in force
certified (the genesis comes from --genesis or --home), so a lying node
cannot point you at another contract.`,
		Example: `  trialchain contract pins --home net/node1
  trialchain contract pins trial-protocol --prove --home net/node2`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				if prove {
					return errors.New("--prove needs a NAME")
				}
				ps, err := cl.Pins(cmd.Context())
				if err != nil {
					return err
				}
				return emit(cmd, ps, func(w io.Writer) {
					if len(ps) == 0 {
						fmt.Fprintln(w, "The contract registry is empty: an admin pins each trial contract with\n  trialchain contract pin NAME ADDR --reason TEXT --from admin")
						return
					}
					for _, p := range ps {
						fmt.Fprintf(w, "%-18s %s  (version %d, pinned by %s at height %d: %s)\n", p.Name, p.Contract, p.Version, pinSender(p), p.Height, p.Reason)
					}
				})
			}
			name := args[0]
			if err := block.ValidPinName(name); err != nil {
				return err
			}
			if prove {
				g, _, err := genesisFor(cmd)
				if err != nil {
					return err
				}
				vals, err := validatorSets(cmd, cl, g)
				if err != nil {
					return err
				}
				vp, err := cl.ProvePin(cmd.Context(), vals, name, -1)
				if errors.Is(err, smt.ErrProof) {
					return &exitError{code: 1, msg: "FAILED: " + err.Error()}
				}
				if err != nil {
					return err
				}
				out := map[string]any{"name": name, "height": vp.State.Height, "found": vp.Pin != nil,
					"state_root": vp.State.Checkpoint.Header.StateRoot, "checkpoint_height": vp.State.Checkpoint.Height()}
				if vp.Pin != nil {
					out["contract"], out["version"], out["reason"] = vp.Pin.Contract, vp.Pin.Version, vp.Pin.Reason
				}
				if err := emit(cmd, out, func(w io.Writer) {
					if vp.Pin == nil {
						fmt.Fprintf(w, "VERIFIED: %q is NOT pinned in the state after block %d\n", name, vp.State.Height)
					} else {
						fmt.Fprintf(w, "VERIFIED: %q is pinned to %s (version %d, pinned at height %d: %s) in the state after block %d\n",
							name, vp.Pin.Contract, vp.Pin.Version, vp.Pin.Height, vp.Pin.Reason, vp.State.Height)
					}
					fmt.Fprintf(w, "  state root %s, certified by block %d's commit certificate\n", vp.State.Checkpoint.Header.StateRoot, vp.State.Checkpoint.Height())
				}); err != nil {
					return err
				}
				if vp.Pin == nil {
					return &exitError{code: 1}
				}
				return nil
			}
			h, err := cl.Pin(cmd.Context(), name)
			if errors.Is(err, client.ErrNotFound) {
				return &exitError{code: 1, msg: notPinned(name).Error()}
			}
			if err != nil {
				return err
			}
			return emit(cmd, h, func(w io.Writer) {
				fmt.Fprintf(w, "%s → %s (version %d)\n", name, h.Current.Contract, h.Current.Version)
				for _, p := range h.History {
					fmt.Fprintf(w, "  v%d %s  pinned by %s at height %d (%s): %s\n", p.Version, p.Contract, pinSender(p), p.Height, p.Time, p.Reason)
				}
			})
		},
	}
	c.Flags().BoolVar(&prove, "prove", false, "check NAME's binding with a state proof against the validators in force (walked from the genesis)")
	c.Flags().String("genesis", "", "the network's genesis file, for --prove (default: --home's genesis.json)")
	return c
}

func pinSender(p view.Pin) string {
	if p.SenderName != "" {
		return p.SenderName
	}
	return shortID(p.Sender)
}

// notPinned is the error of a trial command whose contract is not in the
// registry: what to do, and why a label is not enough.
func notPinned(name string) error {
	return fmt.Errorf("no contract is pinned as %q on this chain, so this command does not know which contract is the trial's\n"+
		"(it never picks one by deploy label: anyone with deploy rights can deploy a look-alike under the same label).\n"+
		"An admin pins the trial's contract once it is deployed:\n"+
		"  trialchain contract pin %s ADDR --reason \"…\" --from admin\n"+
		"or pass --contract ADDR (or set $%s); 'trialchain contract info ADDR' shows who deployed a contract and who may upgrade it",
		name, name, contractEnv[name])
}
