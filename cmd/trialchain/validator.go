package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/sdk/client"
)

func init() { register(newValidatorCmd) }

func newValidatorCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "validator",
		Short: "Add or remove a validator (a hospital joining or leaving) with the validator organisations' consent",
		Long: `Change the validator set. Each change needs the threshold consent of the
consent group the genesis names as the validator organisations
(params.validator_group), for exactly that change; it is in force from the
block after the one that carries it, where every validator's SmartBFT
instance restarts with the new set and its mesh pins the new set's keys
(no restart). Two steps, like every consent: --action-out FILE writes the
action the organisations sign, --consent consent.sig sends the change.

A joining organisation first writes its node's home with 'validator init'
(a new node key, the genesis, a config naming its id and addresses), hands
the printed 'validator add' line to the organisations, and starts the node
('trialchain start --home DIR') once the addition is committed: it catches
up from the genesis, checking every block's certificate against the set in
force at its height, and takes part from then on.`,
	}
	c.AddCommand(newValidatorInitCmd(), newValidatorChangeCmd(genesis.ChangeAdd), newValidatorChangeCmd(genesis.ChangeRemove))
	return c
}

func newValidatorChangeCmd(op byte) *cobra.Command {
	var v genesis.Validator
	var keyHex, from string
	var wait bool
	use, short := "add --id N --name NAME --key HEX --addr HOST:PORT --api HOST:PORT", "Add a validator"
	if op == genesis.ChangeRemove {
		use, short = "remove --id N", "Remove a validator"
	}
	c := &cobra.Command{
		Use:   use + " (--action-out FILE | --consent consent.sig) --from NAME",
		Short: short + " (two steps: the validator organisations' consent, then the transaction)",
		Example: `  trialchain validator add --id 5 --name node4 --key 3b6a… --addr 10.0.0.5:7000 --api 10.0.0.5:8000 --action-out add-5.json --from site
  trialchain validator add --id 5 --name node4 --key 3b6a… --addr 10.0.0.5:7000 --api 10.0.0.5:8000 --consent consent.sig --from site
  trialchain validator remove --id 1 --consent consent.sig --from site`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if op == genesis.ChangeAdd {
				k, err := hex.DecodeString(keyHex)
				if err != nil || len(k) != ed25519.PublicKeySize {
					return fmt.Errorf("--key must be the validator's 64-hex ed25519 public key")
				}
				v.Key = genesis.Key(k)
			}
			ch := genesis.Change{Op: op, Validator: v}
			if _, err := genesis.DecodeChange(ch.Encode()); err != nil {
				return err
			}
			out, _ := cmd.Flags().GetString("action-out")
			in, _ := cmd.Flags().GetString("consent")
			switch {
			case out != "" && in != "":
				return errors.New("give --action-out (prepare) or --consent (send), not both")
			case out != "":
				return writeValidatorAction(cmd, out, ch)
			case in == "":
				return errors.New("a validator change needs the validator organisations' consent: run with --action-out FILE first, then --consent consent.sig")
			}
			cons, err := os.ReadFile(in)
			if err != nil {
				return fmt.Errorf("--consent: %w", err)
			}
			if _, err := consent.ParseConsent(cons); err != nil {
				return fmt.Errorf("--consent %s is not a combined consent (%v): make it with trialchain consent combine", in, err)
			}
			res, err := submitTx(cmd, from, wait, func(k ed25519.PrivateKey, chainID string) *block.Tx {
				return client.ValidatorTx(k, chainID, ch, cons)
			})
			if err != nil {
				return err
			}
			return emitReceipt(cmd, res, describeChange(ch))
		},
	}
	f := c.Flags()
	f.Uint64Var(&v.ID, "id", 0, "the validator's node id (required)")
	if op == genesis.ChangeAdd {
		f.StringVar(&v.Name, "name", "", "the validator's name, e.g. node4")
		f.StringVar(&keyHex, "key", "", "the validator's ed25519 public key, 64 hex (its transport and signing key; required)")
		f.StringVar(&v.Addr, "addr", "", "the QUIC address its peers dial (required)")
		f.StringVar(&v.API, "api", "", "its client API address")
	}
	f.StringVar(&from, "from", "", "the member key in the keyring that sends the change (any member may)")
	f.BoolVar(&wait, "wait", true, "wait until the transaction is committed and print its receipt")
	addConsentFlags(c)
	_ = c.MarkFlagRequired("id")
	return c
}

func newValidatorInitCmd() *cobra.Command {
	var o node.JoinOptions
	c := &cobra.Command{
		Use:   "init --home DIR --genesis FILE --id N --addr HOST:PORT [--api HOST:PORT] [--name NAME] [--listen ADDR]",
		Short: "Write the home of a validator that joins later (its key, the genesis, its config) and print its 'validator add' line",
		Example: `  trialchain validator init --home hospital-c --genesis net/genesis.json --id 5 --name hospital-c --addr 10.0.0.5:7000 --api 10.0.0.5:7001
  # the organisations approve and send the printed 'validator add' line, then:
  trialchain start --home hospital-c`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			j, err := node.NewJoiningHome(o)
			if err != nil {
				return err
			}
			v := j.Change.Validator
			add := fmt.Sprintf("trialchain validator add --id %d --name %s --key %s --addr %s", v.ID, v.Name, hex.EncodeToString(v.Key), v.Addr)
			if v.API != "" {
				add += " --api " + v.API
			}
			out := map[string]any{"home": j.Home, "id": v.ID, "name": v.Name, "key": hex.EncodeToString(v.Key), "addr": v.Addr, "api": v.API, "add": add}
			return emit(cmd, out, func(w io.Writer) {
				fmt.Fprintf(w, "Wrote %s (node.key, genesis.json, config.toml) for validator %d (%s), key %s.\n", j.Home, v.ID, v.Name, hex.EncodeToString(v.Key))
				fmt.Fprintf(w, "Next:\n  1. the validator organisations approve and send its addition:\n       %s --action-out add-%d.json --from MEMBER\n", add, v.ID)
				fmt.Fprintf(w, "     (then consent sign, consent combine, and the same line with --consent consent.sig)\n")
				fmt.Fprintf(w, "  2. once it is committed, start the node: trialchain start --home %s\n", j.Home)
			})
		},
	}
	f := c.Flags()
	f.StringVar(&o.Home, "home", "", "the new node's home directory (required; must not hold a node)")
	f.StringVar(&o.Genesis, "genesis", "", "the chain's genesis file (required; it must name params.validator_group)")
	f.Uint64Var(&o.ID, "id", 0, "the node id to give it: one no validator of the chain has used (required)")
	f.StringVar(&o.Name, "name", "", "its name, e.g. the organisation (default node<ID>)")
	f.StringVar(&o.Addr, "addr", "", "the QUIC address its peers dial, HOST:PORT (required)")
	f.StringVar(&o.API, "api", "", "its client API address, HOST:PORT")
	f.StringVar(&o.Listen, "listen", "", "the address it binds for the mesh, e.g. 0.0.0.0:7000 in a container (default --addr)")
	for _, name := range []string{"home", "genesis", "id", "addr"} {
		_ = c.MarkFlagRequired(name)
	}
	return c
}

func describeChange(ch genesis.Change) string {
	if ch.Op == genesis.ChangeAdd {
		return fmt.Sprintf("add validator %d (%s, %s)", ch.Validator.ID, ch.Validator.Name, ch.Validator.Addr)
	}
	return fmt.Sprintf("remove validator %d", ch.Validator.ID)
}

// validatorActionFile is the action file of a change (read by consent sign).
func validatorActionFile(ch genesis.Change) actionFile {
	h := ch.Hash()
	return actionFile{Action: consent.KindValidatorChange, Change: hex.EncodeToString(h[:]), Note: describeChange(ch)}
}

func writeValidatorAction(cmd *cobra.Command, out string, ch genesis.Change) error {
	af := validatorActionFile(ch)
	b, _ := json.MarshalIndent(af, "", "  ")
	if err := genesis.WriteFileAtomic(out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	v := map[string]any{"action_file": out, "change": describeChange(ch), "change_sha256": af.Change}
	return emit(cmd, v, func(w io.Writer) {
		fmt.Fprintf(w, "Wrote %s: the action the validator organisations' group must approve (%s).\n", out, describeChange(ch))
		fmt.Fprintf(w, "Next:\n  1. each of the threshold of organisations signs:\n       trialchain consent sign --group GROUP/group.json --share GROUP/share-NN-NAME.bin --as NAME --action %s --meaning %q --out NAME.sig\n", out, consent.MeaningApproveValidatorChange)
		fmt.Fprintf(w, "  2. combine the shares:\n       trialchain consent combine --group GROUP/group.json NAME1.sig NAME2.sig … --out consent.sig\n")
		fmt.Fprintf(w, "  3. send it: the same command with --consent consent.sig instead of --action-out\n")
	})
}
