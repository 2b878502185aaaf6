package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof/bundle"
	"github.com/trialchain/trialchain/chain/witness"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials/audit"
)

func init() { register(newAuditCmd) }

// WriteAuditReport verifies b against g and writes the audit report of
// trial in format to path; the report is written even if verification
// fails (rep.Verification says what failed). The demo calls it too.
func WriteAuditReport(b *bundle.Bundle, g *genesis.Genesis, trial, format, path string, now time.Time) (*audit.Report, error) {
	return WriteAuditReportWith(b, g, format, path, now, audit.Options{Trial: trial, LeftOut: -1})
}

// WriteAuditReportWith is WriteAuditReport with what the exporter knows
// beyond the bundle (proven block times, sealing); the genesis and the
// bundle are set from g and b.
func WriteAuditReportWith(b *bundle.Bundle, g *genesis.Genesis, format, path string, now time.Time, o audit.Options) (*audit.Report, error) {
	res, verr := bundle.Verify(b, g)
	o.Genesis, o.Bundle = g, b
	rep := audit.BuildWith(res, verr, o)
	var buf bytes.Buffer
	if err := rep.Write(&buf, format, audit.GeneratedAt(now)); err != nil {
		return nil, err
	}
	if err := genesis.WriteFileAtomic(path, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return rep, nil
}

func newAuditCmd() *cobra.Command {
	var trial, format, out, from, seal string
	var noSeal bool
	cmd := &cobra.Command{
		Use:   "audit --trial ID --format html|csv|json --out FILE",
		Short: "Write a Part 11 audit report of a trial, verified from the evidence",
		Long: `audit writes the audit report of a trial for an inspector: the audit trail
(who, what, when in UTC, why, original and corrected values side by side,
signature manifestations), the consents with each signer, the
outcome-reporting report, the documents, and the result of verifying all
of it against the genesis file.

The evidence comes from a node (exported like 'trialchain export --trial')
or, offline, from a bundle file (--bundle FILE).

From a node, audit first seals the record log: it commits one anchor
transaction (signed with --seal NAME, by default the keyring's regulator or
another member allowed to anchor) and waits for the next block, so that the
newest records are covered by a certified checkpoint. --no-seal leaves the
newest block out; the report then says how many of the trial's records were
left out. The block time of every record is proven by the header hash chain
from the certified checkpoint. The report is written even
when verification fails (it then says which records failed), and the exit
status is 1.

Formats: html (one self-contained page), csv (the audit trail, one row per
action), json (the whole report).`,
		Example: `  trialchain audit --trial NCT-DEMO-1 --format html --out audit.html --home net/node0
  trialchain audit --bundle trial.bundle.json --genesis net/genesis.json --format csv --out trail.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ok := false
			for _, f := range audit.Formats {
				ok = ok || f == format
			}
			if !ok {
				return fmt.Errorf("--format %q: use html, csv or json", format)
			}
			g, _, err := genesisFor(cmd)
			if err != nil {
				return err
			}
			var b *bundle.Bundle
			o := audit.Options{LeftOut: -1}
			if from != "" {
				data, err := os.ReadFile(from)
				if err != nil {
					return err
				}
				if b, err = bundle.Decode(data); err != nil {
					return fmt.Errorf("%s: %w", from, err)
				}
				if trial == "" && len(b.Scope) > 6 && b.Scope[:6] == "trial:" {
					trial = b.Scope[6:]
				}
				if trial != "" && b.Scope != "trial:"+trial {
					return &exitError{code: 1, msg: fmt.Sprintf("%s is evidence for %q, not for trial %s; no report written", from, b.Scope, trial)}
				}
			} else {
				if trial == "" {
					return errors.New("give --trial ID (from a node) or --bundle FILE (offline)")
				}
				if !noSeal && seal == "" {
					if seal, err = sealKey(cmd, g); err != nil {
						return err
					}
				}
				if noSeal {
					seal = ""
				}
				_ = cmd.Flags().Set("seal", seal)
				var hl *bundle.HeaderLog
				if b, _, _, err = exportBundleFrom(cmd, trial, false, func(s bundle.Source) bundle.Source { hl = bundle.NewHeaderLog(s); return hl }); err != nil {
					return err
				}
				o.Times = &audit.BlockTimes{Checkpoint: b.Latest().Hash(), Times: hl.BlockTimes(b.Latest())}
				o.Sealed = seal != ""
				c, err := clientFor(cmd)
				if err != nil {
					return err
				}
				if o.LeftOut, err = leftOut(cmd.Context(), c, b.Latest().Height(), audit.Selector(trial)); err != nil {
					return err
				}
			}
			o.Trial = trial
			if files, _ := cmd.Flags().GetStringArray("witness"); len(files) > 0 {
				if from == "" {
					return errors.New("--witness checks the cosignatures a bundle carries: export with 'trialchain export --witness URL', then 'trialchain audit --bundle FILE --witness KEYFILE'")
				}
				var keys []witness.PublicKey
				for _, f := range files {
					pk, err := witness.LoadPublicKey(f)
					if err != nil {
						return fmt.Errorf("--witness: %w", err)
					}
					keys = append(keys, pk)
				}
				wr, err := bundle.VerifyWitnesses(b, keys, len(keys))
				if err != nil {
					return &exitError{code: 1, msg: "verification FAILED: " + err.Error() + "; no report written"}
				}
				for _, w := range wr.Witnessed {
					o.Witnesses = append(o.Witnesses, w.Witness.String())
				}
			}
			rep, err := WriteAuditReportWith(b, g, format, out, time.Now(), o)
			if err != nil {
				return err
			}
			if err := emit(cmd, rep.Verification, func(w io.Writer) {
				fmt.Fprintf(w, "wrote %s (%s): %d actions, %d corrections, %d consents\n%s\n", out, format, len(rep.Trail), len(rep.Corrections), len(rep.Consents), rep.Verification.Summary)
			}); err != nil {
				return err
			}
			if v := rep.Verification; !v.OK {
				msg := "verification FAILED (the report lists the failing records)"
				for _, f := range v.Failures {
					msg += "\n  " + f
				}
				return &exitError{code: 1, msg: msg}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&trial, "trial", "", "trial id")
	f.StringVar(&format, "format", "html", "html, csv or json")
	f.StringVar(&out, "out", "", "report file to write (required)")
	f.StringVar(&from, "bundle", "", "read the evidence from this bundle file instead of a node (offline)")
	f.StringArray("witness", nil, "a witness's public-key file: its cosignature of the bundle's checkpoint is required, and the report names it (repeatable)")
	f.String("genesis", "", "the network's genesis file (default: --home's genesis.json)")
	f.Bool("with-code", false, "with a node: include the contracts' code in the evidence")
	f.StringArray("payload", nil, "with a node: off-chain document (file or directory) to include and re-hash; repeatable")
	f.String("payloads-as", "", "with a node: include the off-chain documents the node holds that keyring member NAME may read")
	f.StringVar(&seal, "seal", "", "with a node: key NAME that signs the seal anchor (default: the keyring's regulator, else another member allowed to anchor)")
	f.BoolVar(&noSeal, "no-seal", false, "with a node: do not seal; the records of the newest block are then left out (the report says how many)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// sealKey picks the keyring member that signs audit's seal: the first
// regulator of the genesis whose key is in the keyring, else an admin,
// sponsor, site or committee member (the roles that may anchor).
func sealKey(cmd *cobra.Command, g *genesis.Genesis) (string, error) {
	ring, err := keyring(cmd)
	if err != nil {
		return "", fmt.Errorf("audit seals the record log first so that the newest records are certified: %w; or pass --no-seal", err)
	}
	ks, err := ring.List()
	if err != nil {
		return "", err
	}
	have := map[string]string{} // public key hex → key name
	for _, k := range ks {
		have[k.PublicHex()] = k.Name
	}
	for _, role := range []block.Role{block.RoleRegulator, block.RoleAdmin, block.RoleSponsor, block.RoleSite, block.RoleCommittee} {
		for _, m := range g.Members {
			if name, ok := have[hex.EncodeToString(m.Key)]; ok && m.Role == role {
				return name, nil
			}
		}
	}
	return "", fmt.Errorf("audit seals the record log first: keyring %s holds no key of a member allowed to anchor; pass --seal NAME, or --no-seal", ring.Dir)
}

// leftOut counts the transactions sel picks in the blocks from height
// (the checkpoint's block, whose records no checkpoint covers yet) to the
// node's newest: the records an unsealed export leaves out. Seal anchors
// (label "export seal …", see sealLog) are the exporter's own marker and
// are not counted.
func leftOut(ctx context.Context, c *client.Client, height uint64, sel bundle.Selector) (int, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for h := height; h <= st.Height; h++ {
		blk, err := (&client.Source{Node: c}).Block(ctx, h)
		if err != nil {
			return 0, err
		}
		n += audit.CountSelected(blk.Block.Txs, func(tx *block.Tx) bool {
			if tx.Kind == block.KindAnchor {
				if a, err := block.DecodeAnchor(tx.Payload); err == nil && strings.HasPrefix(a.Label, sealLabel) {
					return false
				}
			}
			return sel == nil || sel(tx)
		})
	}
	return n, nil
}

// verifiedOutcomeReport exports the trial from the node the flags name
// (asking every validator for the newest checkpoint), verifies the bundle
// against the genesis, requires it complete for the trial, and returns the
// outcome-reporting report of its verified results record as JSON.
func verifiedOutcomeReport(cmd *cobra.Command, trial string) ([]byte, error) {
	b, _, g, err := exportBundle(cmd, trial, false)
	if err != nil {
		return nil, err
	}
	res, verr := bundle.Verify(b, g)
	if verr != nil {
		return nil, &exitError{code: 1, msg: failureWords(b, verr)}
	}
	if err := res.CompleteFor(trial); err != nil {
		return nil, &exitError{code: 1, msg: "verification FAILED: " + err.Error()}
	}
	rep := audit.BuildWith(res, nil, audit.Options{Trial: trial, Genesis: g, Bundle: b, LeftOut: -1})
	if rep.Outcomes == nil {
		hint := ""
		if seal, _ := cmd.Flags().GetString("seal"); seal == "" {
			hint = "; results submitted in the newest block are certified by the next one: pass --seal NAME to commit it"
		}
		return nil, &exitError{code: 1, msg: fmt.Sprintf("no results of trial %s are recorded in the certified log (verified as of block %d)%s", trial, res.Complete.Height, hint)}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "VERIFIED: the report stored with the trial's results record, from an export complete for trial %s as of block %d (%s UTC), certified by %d validators\n",
		trial, res.Complete.Height, time.UnixMilli(res.Complete.TimeUnixMilli).UTC().Format("2006-01-02 15:04:05"), res.Complete.Validators)
	return json.Marshal(rep.Outcomes)
}
