package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/sdk/client"
)

func init() {
	register(newPayloadCmd)
	register(newRedactCmd)
}

func newPayloadCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "payload",
		Short: "Keep an off-chain payload on every node (hash anchored, bytes encrypted per node), and read it back",
		Long: `An off-chain payload is a file whose SHA-256 is anchored on chain but whose
bytes must not be (a full case-report form, an adverse-event narrative).
"payload put" anchors the hash and hands the bytes to every validator; each
keeps them encrypted under a data key of its own. "payload get" reads them
back, signing the read: only a member of the organisation that anchored it,
a regulator or an admin may. "redact" destroys every node's copy.`,
	}
	var label, from, out, trial string
	put := &cobra.Command{
		Use:     "put FILE --label TEXT [--trial ID] --from NAME",
		Short:   "Anchor FILE's SHA-256 (if not yet) and give the bytes to every validator",
		Example: `  trialchain payload put ae-0001-narrative.json --label "AE narrative" --from site --keyring net/keys --home net/node0`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			h := block.Sum(data)
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			as, err := cl.Anchors(cmd.Context(), h)
			if err != nil {
				return err
			}
			if len(as) == 0 {
				p := &block.AnchorPayload{Hash: h, Label: label}
				if trial != "" {
					p.Scope = state.TrialScope(trial)
					if err := state.ValidScopeName(p.Scope); err != nil {
						return fmt.Errorf("--trial: %w", err)
					}
				}
				res, err := submitTx(cmd, from, true, func(k ed25519.PrivateKey, chainID string) *block.Tx {
					return client.Sign(k, chainID, block.KindAnchor, p.Encode(), 100_000)
				})
				if err != nil {
					return err
				}
				if res.Receipt == nil || res.Receipt.Status != "ok" {
					return fmt.Errorf("anchoring %s failed: %+v", h, res.Receipt)
				}
			}
			// Only the validators the genesis names receive the data, each
			// over TLS with its key pinned: never whatever a node lists.
			g, _, err := genesisFor(cmd)
			if err != nil {
				return err
			}
			key, err := signer(cmd, from)
			if err != nil {
				return err
			}
			nodes := client.NodesOf(g, cl)
			n, rerr := client.Replicate(cmd.Context(), nodes, key, g.ChainID, data)
			if errors.Is(rerr, client.ErrGone) {
				return &exitError{code: 1, msg: fmt.Sprintf("payload %s was redacted: no node takes it back", h)}
			}
			if n == 0 {
				return fmt.Errorf("no node took payload %s: %w", h, rerr)
			}
			res := map[string]any{"payload": h, "file": args[0], "bytes": len(data), "nodes": n, "of": len(nodes)}
			if err := emit(cmd, res, func(w io.Writer) {
				fmt.Fprintf(w, "payload %s\nsha256  %s (anchored)\nheld by %d of %d validators, each encrypted under its own data key\n", args[0], h, n, len(nodes))
				if rerr != nil {
					fmt.Fprintf(w, "not taken by: %v\n", rerr)
				}
			}); err != nil {
				return err
			}
			return nil
		},
	}
	put.Flags().StringVar(&label, "label", "", "what the payload is, e.g. \"AE narrative\" (≤256 bytes)")
	put.Flags().StringVar(&trial, "trial", "", "the trial the document belongs to (its anchor joins the trial's record set)")
	put.Flags().StringVar(&from, "from", "", "member key in the keyring that anchors it (if not yet anchored) and signs each upload (required)")
	get := &cobra.Command{
		Use:     "get SHA256 --from NAME --out FILE",
		Short:   "Read a payload back from the node, signing the read (exit 1 if it was redacted)",
		Example: `  trialchain payload get 5d1c… --from regulator --out narrative.json --keyring net/keys --home net/node2`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := block.ParseHash(args[0])
			if err != nil {
				return fmt.Errorf("payload hash: %w", err)
			}
			key, err := signer(cmd, from)
			if err != nil {
				return err
			}
			cl, err := clientFor(cmd)
			if err != nil {
				return err
			}
			id, err := chainID(cmd)
			if err != nil {
				return err
			}
			data, err := cl.Payload(cmd.Context(), key, id, h)
			if errors.Is(err, client.ErrGone) {
				return &exitError{code: 1, msg: err.Error()}
			}
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			if err := genesis.WriteFileAtomic(out, data, 0o600); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%d bytes, sha256 %s checked)\n", out, len(data), h)
			return nil
		},
	}
	get.Flags().StringVar(&from, "from", "", "member key in the keyring that signs the read (required)")
	get.Flags().StringVar(&out, "out", "", "write the payload to FILE (mode 0600; default: standard output)")
	c.AddCommand(put, get)
	return c
}

func newRedactCmd() *cobra.Command {
	var from, basis, reason, meaning string
	var wait bool
	c := &cobra.Command{
		Use:   "redact SHA256... --basis mistaken-phi|withdrawal-erasure|legal-order --reason TEXT --from NAME",
		Short: "Redact off-chain payloads: every node destroys its copy and its key; the hashes and every proof stay",
		Long: `Redact off-chain payloads, e.g. protected health information entered by
mistake, or a subject's data after withdrawal with erasure. The signed
redaction is a Part 11 record (who, when, why, the meaning of the
signature) in the record log; every validator deletes its encrypted copy
and destroys its data key (crypto-shredding), a validator that was offline
does so as it catches up, and no node takes the payload back. The on-chain
hash, its anchoring and every earlier inclusion and consistency proof stay
valid. Only an admin or a member of the organisation that anchored a
payload may redact it.`,
		Example: `  trialchain redact 5d1c… --basis mistaken-phi --reason "patient name typed into the narrative" \
      --from site --keyring net/keys --home net/node0 --wait`,
		Args: cobra.RangeArgs(1, block.MaxRedactTargets),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := block.ParseBasis(basis)
			if err != nil {
				return err
			}
			if strings.TrimSpace(reason) == "" {
				return requireFlag("reason", `"patient name typed into the narrative"`)
			}
			seen := map[block.Hash]bool{}
			var targets []block.Hash
			for _, a := range args {
				h, err := block.ParseHash(a)
				if err != nil {
					return fmt.Errorf("payload hash %q: %w", a, err)
				}
				if !seen[h] {
					seen[h] = true
					targets = append(targets, h)
				}
			}
			sort.Slice(targets, func(i, j int) bool { return string(targets[i][:]) < string(targets[j][:]) })
			p := &block.RedactPayload{Targets: targets, Basis: b, Reason: reason, Meaning: meaning}
			res, err := submitTx(cmd, from, wait, func(k ed25519.PrivateKey, chainID string) *block.Tx {
				return client.Sign(k, chainID, block.KindRedact, p.Encode(), 200_000)
			})
			if err != nil {
				return err
			}
			return emitReceipt(cmd, res, fmt.Sprintf("redaction of %d payload(s) (%s)", len(targets), b))
		},
	}
	c.Flags().StringVar(&from, "from", "", "member key in the keyring that signs (required)")
	c.Flags().StringVar(&basis, "basis", "", "why: mistaken-phi, withdrawal-erasure or legal-order (required)")
	c.Flags().StringVar(&reason, "reason", "", "the reason, in words, for the audit trail (required)")
	c.Flags().StringVar(&meaning, "meaning", "approval of redaction", "the meaning of your signature (21 CFR 11.50)")
	c.Flags().BoolVar(&wait, "wait", true, "wait until the transaction is committed and print its receipt (--wait=false: only submit)")
	_ = c.MarkFlagRequired("from")
	_ = c.MarkFlagRequired("basis")
	return c
}
