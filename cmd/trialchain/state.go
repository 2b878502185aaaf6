package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
)

func init() { register(newStateCmd) }

func newStateCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "state",
		Short: "Proofs over chain state: a key's value, or its absence, at a height",
	}
	var keyHex, contract, member, redaction, pin string
	var height int64
	prove := &cobra.Command{
		Use:   "prove (--key HEX | --contract ADDR | --member KEY | --redaction SHA256 | --pin NAME) [--height H] --genesis genesis.json",
		Short: "Prove a state key's value or absence at a height, checked against a certified checkpoint",
		Long: `Ask a node for a state proof and check it with nothing but the genesis file:
the checkpoint of block H+1 must carry 2f+1 validator signatures, and the
sparse-Merkle proof must reach the state root its header certifies. The node
is not trusted, for a value or for an absence (exit 1 when the key is
absent). Name the key directly (--key, the raw state key in hex) or by what
it holds: a contract's record (code hash, upgrade height), a member's
record, a payload's redaction record, a name's binding in the contract
registry.`,
		Example: `  trialchain state prove --contract 9f2c… --genesis net/genesis.json --home net/node2
  trialchain state prove --redaction 5d1c… --height 40 --genesis net/genesis.json --home net/node0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := stateKeyFlag(keyHex, contract, member, redaction, pin)
			if err != nil {
				return err
			}
			g, _, err := genesisFor(cmd)
			if err != nil {
				return err
			}
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			vals, err := validatorSets(cmd, cl, g)
			if err != nil {
				return err
			}
			vs, err := cl.ProveState(cmd.Context(), vals, key, height)
			if errors.Is(err, smt.ErrProof) {
				return &exitError{code: 1, msg: "FAILED: " + err.Error()}
			}
			if err != nil {
				return err
			}
			out := map[string]any{"key": hex.EncodeToString(key), "height": vs.Height, "found": vs.Found,
				"value": hex.EncodeToString(vs.Value), "state_root": vs.Checkpoint.Header.StateRoot,
				"checkpoint_height": vs.Checkpoint.Height(), "proof": vs.Proof}
			if err := emit(cmd, out, func(w io.Writer) {
				what := "ABSENT"
				if vs.Found {
					what = fmt.Sprintf("PRESENT (%d-byte value %x)", len(vs.Value), vs.Value)
				}
				fmt.Fprintf(w, "VERIFIED: key %x is %s in the state after block %d\n", key, what, vs.Height)
				fmt.Fprintf(w, "  state root %s, carried by block %d's header and certified by its commit certificate (%d siblings in the proof)\n",
					vs.Checkpoint.Header.StateRoot, vs.Checkpoint.Height(), len(vs.Proof.Siblings))
			}); err != nil {
				return err
			}
			if !vs.Found {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	prove.Flags().StringVar(&keyHex, "key", "", "the raw state key, hex")
	prove.Flags().StringVar(&contract, "contract", "", "a contract address: prove its record (code hash, upgrade height)")
	prove.Flags().StringVar(&member, "member", "", "a member's public key, hex: prove its record")
	prove.Flags().StringVar(&redaction, "redaction", "", "a payload's SHA-256: prove its redaction record (or that it is not redacted)")
	prove.Flags().StringVar(&pin, "pin", "", "a contract registry name (e.g. trial-protocol): prove its current binding (or that it has none)")
	prove.Flags().Int64Var(&height, "height", -1, "the state after this block (default: the latest certified state)")
	prove.Flags().String("genesis", "", "the network's genesis file (default: --home's genesis.json)")
	c.AddCommand(prove)
	return c
}

// stateKeyFlag builds the state key from exactly one of the key flags.
func stateKeyFlag(keyHex, contract, member, redaction, pin string) ([]byte, error) {
	n := 0
	for _, s := range []string{keyHex, contract, member, redaction, pin} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("name exactly one key: --key HEX, --contract ADDR, --member KEY, --redaction SHA256 or --pin NAME")
	}
	switch {
	case keyHex != "":
		k, err := hex.DecodeString(keyHex)
		if err != nil || len(k) == 0 {
			return nil, fmt.Errorf("--key %q: want the state key in hex", keyHex)
		}
		return k, nil
	case contract != "":
		a, err := block.ParseHash(contract)
		if err != nil {
			return nil, fmt.Errorf("--contract: %w", err)
		}
		return state.ContractKey(a), nil
	case member != "":
		k, err := hex.DecodeString(member)
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("--member %q: want an ed25519 public key, 64 hex characters", member)
		}
		return state.MemberKey(k), nil
	case pin != "":
		if err := block.ValidPinName(pin); err != nil {
			return nil, fmt.Errorf("--pin: %w", err)
		}
		return state.PinKey(pin), nil
	}
	h, err := block.ParseHash(redaction)
	if err != nil {
		return nil, fmt.Errorf("--redaction: %w", err)
	}
	return state.RedactionKey(h), nil
}
