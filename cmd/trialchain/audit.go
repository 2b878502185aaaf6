package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof/bundle"
	"github.com/trialchain/trialchain/trials/audit"
)

func init() { register(newAuditCmd) }

// WriteAuditReport verifies b against g and writes the audit report of
// trial in format to path; the report is written even if verification
// fails (rep.Verification says what failed). The demo calls it too.
func WriteAuditReport(b *bundle.Bundle, g *genesis.Genesis, trial, format, path string, now time.Time) (*audit.Report, error) {
	res, verr := bundle.Verify(b, g)
	rep := audit.Build(res, verr, trial)
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
	var trial, format, out, from string
	cmd := &cobra.Command{
		Use:   "audit --trial ID --format html|csv|json --out FILE",
		Short: "Write a Part 11 audit report of a trial, verified from the evidence",
		Long: `audit writes the audit report of a trial for an inspector: the audit trail
(who, what, when in UTC, why, original and corrected values side by side,
signature manifestations), the consents with each signer, the
outcome-reporting report, the documents, and the result of verifying all
of it against the genesis file.

The evidence comes from a node (exported like 'trialchain export --trial')
or, offline, from a bundle file (--bundle FILE). The report is written even
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
			} else {
				if trial == "" {
					return errors.New("give --trial ID (from a node) or --bundle FILE (offline)")
				}
				if b, _, _, err = exportBundle(cmd, trial, false); err != nil {
					return err
				}
			}
			rep, err := WriteAuditReport(b, g, trial, format, out, time.Now())
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
	f.String("genesis", "", "the network's genesis file (default: --home's genesis.json)")
	f.Bool("with-code", false, "with a node: include the contracts' code in the evidence")
	f.StringArray("payload", nil, "with a node: off-chain document (file or directory) to include and re-hash; repeatable")
	f.String("payloads-as", "", "with a node: include the off-chain documents the node holds that keyring member NAME may read")
	f.String("seal", "", "with a node: key NAME to sign a seal anchor with first, so the newest records are certified")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
