package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/sdk/client"
)

func init() { register(newContractCmd) }

func newContractCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "contract",
		Short: "Deploy, call, query and inspect Wasm contracts",
		Long: `Contracts are WebAssembly modules written in Go with sdk/contract (make
contracts builds the examples into bin/contracts/).

  trialchain contract deploy bin/contracts/counter.wasm --from sponsor --keyring devnet/keys --home devnet/node0 --wait
  trialchain contract call ADDR add '{"by":5}' --from site --keyring devnet/keys --home devnet/node0 --wait
  trialchain contract query ADDR get --home devnet/node1
  trialchain contract info ADDR --home devnet/node2
  trialchain contract pin trial-protocol ADDR --reason "audited build" --from admin --keyring devnet/keys --home devnet/node0
  trialchain contract pins --home devnet/node1`,
	}
	c.AddCommand(newContractDeployCmd(), newContractCallCmd(), newContractQueryCmd(), newContractInfoCmd(),
		newContractPinCmd(), newContractPinsCmd())
	return c
}

func parseAddr(s string) (block.Hash, error) {
	h, err := block.ParseHash(s)
	if err != nil {
		return h, fmt.Errorf("contract address %q: %w", s, err)
	}
	return h, nil
}

// argsJSON checks that the optional ARGS_JSON argument is JSON.
func argsJSON(args []string, i int) ([]byte, error) {
	if len(args) <= i {
		return nil, nil
	}
	a := []byte(args[i])
	if strings.HasPrefix(args[i], "@") {
		var err error
		if a, err = os.ReadFile(args[i][1:]); err != nil {
			return nil, err
		}
	}
	if !json.Valid(a) {
		return nil, fmt.Errorf("arguments %q are not valid JSON (quote them for the shell: '{\"by\":2}'; @FILE reads a file)", args[i])
	}
	return a, nil
}

func newContractDeployCmd() *cobra.Command {
	var from, policy, owner, label string
	var wait bool
	c := &cobra.Command{
		Use:   "deploy FILE.wasm --from NAME [--policy immutable|owner|group] [--wait]",
		Short: "Deploy a contract; prints its address",
		Long: `Deploy FILE.wasm. The code is stored once by its SHA-256; the contract gets an
address derived from the sender and nonce. --policy says who may upgrade it:
immutable (nobody), owner (the deployer, or --owner MEMBERKEY), or group
(a consent of the consent group --owner GROUPID).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			code, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			pol, err := block.ParsePolicy(policy)
			if err != nil {
				return fmt.Errorf("--policy: %w", err)
			}
			var ownerB []byte
			if owner != "" {
				if ownerB, err = hex.DecodeString(owner); err != nil || len(ownerB) != 32 {
					return fmt.Errorf("--owner: want 64 hex characters (a member key or a consent group id)")
				}
			}
			if label == "" {
				label = strings.TrimSuffix(baseName(args[0]), ".wasm")
			}
			var addr block.Hash
			res, err := submitTx(cmd, from, wait, func(k ed25519.PrivateKey, chainID string) *block.Tx {
				tx := client.DeployTx(k, chainID, code, pol, ownerB, label)
				addr = client.ContractAddress(tx)
				return tx
			})
			if err != nil {
				return err
			}
			out := struct {
				Address block.Hash `json:"address"`
				*view.Submitted
			}{addr, res}
			if err := emit(cmd, out, func(w io.Writer) {
				fmt.Fprintf(w, "contract %s (%s, %d bytes, policy %s)\naddress %s\ntx      %s\n", label, args[0], len(code), pol, addr, res.Hash)
				if res.Receipt != nil {
					printReceipt(w, res.Receipt)
				}
			}); err != nil {
				return err
			}
			if res.Receipt != nil && res.Receipt.Status != "ok" {
				return &exitError{code: 1, msg: "deploy failed: " + res.Receipt.Error}
			}
			if res.Receipt != nil { // --wait: also until the code runs (code_activation_delay)
				cl, err := clientFor(cmd)
				if err != nil {
					return err
				}
				stop := reporter(cmd).Every(cmd.Context(), fmt.Sprintf("waiting for contract %s to run (every node compiles it; code_activation_delay)", addr.String()[:12]), nodeHeight(cl))
				err = cl.WaitActive(cmd.Context(), addr)
				stop()
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&from, "from", "", "member key that deploys (admin or sponsor)")
	c.Flags().StringVar(&policy, "policy", "immutable", "upgrade policy: immutable, owner or group")
	c.Flags().StringVar(&owner, "owner", "", "owner member key (policy owner) or consent group id (policy group), 64 hex")
	c.Flags().StringVar(&label, "label", "", "a name for the contract (default: the file name)")
	c.Flags().BoolVar(&wait, "wait", true, "wait for the receipt, then until the code runs (code_activation_delay after its block, while every node compiles it)")
	_ = c.MarkFlagRequired("from")
	return c
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

func newContractCallCmd() *cobra.Command {
	var from string
	var gas uint64
	var wait bool
	c := &cobra.Command{
		Use:   "call ADDR METHOD [ARGS_JSON|@FILE] --from NAME [--gas N] [--wait]",
		Short: "Call a contract method in a transaction; prints the receipt (status, result, events, gas used)",
		Args:  cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := parseAddr(args[0])
			if err != nil {
				return err
			}
			a, err := argsJSON(args, 2)
			if err != nil {
				return err
			}
			res, err := submitTx(cmd, from, wait, func(k ed25519.PrivateKey, chainID string) *block.Tx {
				return client.CallTx(k, chainID, addr, args[1], a, gas)
			})
			if err != nil {
				return err
			}
			return emitCall(cmd, res, fmt.Sprintf("call %s on %s", args[1], addr))
		},
	}
	c.Flags().StringVar(&from, "from", "", "member key that signs")
	c.Flags().Uint64Var(&gas, "gas", 50_000_000, "gas limit")
	c.Flags().BoolVar(&wait, "wait", true, "wait for the receipt (--wait=false: only submit)")
	_ = c.MarkFlagRequired("from")
	return c
}

// emitCall prints a call's receipt with its result decoded when it is text.
func emitCall(cmd *cobra.Command, res *view.Submitted, what string) error {
	if err := emit(cmd, res, func(w io.Writer) {
		fmt.Fprintf(w, "%s\ntx %s\n", what, res.Hash)
		r := res.Receipt
		if r == nil {
			fmt.Fprintln(w, "submitted (--wait=false); trialchain tx get TXHASH shows its receipt")
			return
		}
		fmt.Fprintf(w, "status:   %s in block %d, gas used %d\n", r.Status, r.Height, r.GasUsed)
		if r.Error != "" {
			fmt.Fprintf(w, "error:    %s\n", r.Error)
		}
		if r.Result != "" {
			fmt.Fprintf(w, "result:   %s\n", hexText(r.Result))
		}
		for _, e := range r.Events {
			fmt.Fprintf(w, "event:    %s %s\n", e.Type, hexText(e.Data))
		}
	}); err != nil {
		return err
	}
	if res.Receipt != nil && res.Receipt.Status != "ok" {
		return &exitError{code: 1, msg: "call failed: " + res.Receipt.Error}
	}
	return nil
}

// hexText shows hex-encoded bytes as text when they are printable UTF-8.
func hexText(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil {
		return h
	}
	for _, r := range string(b) {
		if r == '\uFFFD' || (r < 0x20 && r != '\n' && r != '\t') {
			return h
		}
	}
	return string(b)
}

func newContractQueryCmd() *cobra.Command {
	var gas uint64
	c := &cobra.Command{
		Use:   "query ADDR METHOD [ARGS_JSON|@FILE]",
		Short: "Run a method read-only against the latest state (no transaction, no consensus)",
		Args:  cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := parseAddr(args[0])
			if err != nil {
				return err
			}
			a, err := argsJSON(args, 2)
			if err != nil {
				return err
			}
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			q, err := cl.Query(cmd.Context(), addr, args[1], a, gas)
			if err != nil {
				return err
			}
			if err := emit(cmd, q, func(w io.Writer) {
				if q.Status != "ok" {
					fmt.Fprintf(w, "query failed at height %d: %s\n", q.Height, q.Error)
					return
				}
				if len(q.ResultJSON) > 0 {
					fmt.Fprintln(w, string(q.ResultJSON))
				} else {
					fmt.Fprintln(w, hexText(q.Result))
				}
			}); err != nil {
				return err
			}
			if q.Status != "ok" {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	c.Flags().Uint64Var(&gas, "gas", 0, "gas limit (0: the node's default)")
	return c
}

func newContractInfoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "info ADDR",
		Short: "Show a contract's code hash, policy, owner, deployer and methods",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := parseAddr(args[0])
			if err != nil {
				return err
			}
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			ci, err := cl.Contract(cmd.Context(), addr)
			if err != nil {
				return err
			}
			pins, err := cl.Pins(cmd.Context())
			if err != nil {
				return fmt.Errorf("contract registry: %w", err)
			}
			return emit(cmd, ci, func(w io.Writer) {
				fmt.Fprintf(w, "contract  %s (%s)\ncode      %s, %d bytes\npolicy    %s", ci.Address, ci.Label, ci.CodeHash, ci.CodeSize, ci.Policy)
				if ci.Owner != "" {
					fmt.Fprintf(w, ", owner %s", ci.Owner)
				}
				fmt.Fprintf(w, "\ndeployer  %s %s at height %d\n", ci.DeployerName, ci.Deployer, ci.Height)
				if ci.Upgraded > 0 {
					fmt.Fprintf(w, "upgraded  at height %d\n", ci.Upgraded)
				}
				fmt.Fprintf(w, "methods   %s\n", strings.Join(ci.Methods, ", "))
				for _, p := range pins {
					if p.Contract == ci.Address {
						fmt.Fprintf(w, "pinned    as %s (version %d, by %s at height %d)\n", p.Name, p.Version, pinSender(p), p.Height)
					}
				}
			})
		},
	}
}
