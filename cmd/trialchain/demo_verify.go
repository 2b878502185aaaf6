package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/trialchain/trialchain/chain/block"
)

func init() {
	demoSteps = append(demoSteps, demoStep{"regulator", demoRegulator})
}

// demoRegulator exports the trial with its proofs, verifies the bundle
// with nothing but the genesis file, shows a tampered copy fail, and
// writes the HTML audit report. The bundle and the genesis file go to the
// demo's output directory, which outlives the network.
func demoRegulator(d *demoEnv) error {
	td := d.trial
	d.say("A regulator exports trial %s with its proofs and checks it offline", td.protocol.ID)
	// A header certifies the record log as it was before its block: one
	// more block certifies the trial's last records.
	seal := []byte("export of " + td.protocol.ID + " for inspection")
	if _, _, err := d.submit(0, "regulator", block.KindAnchor, (&block.AnchorPayload{Hash: sha256.Sum256(seal), Label: sealLabel + "trial:" + td.protocol.ID + " (inspection)"}).Encode(), 100_000); err != nil {
		return err
	}
	if err := os.MkdirAll(d.out, 0o755); err != nil {
		return err
	}
	gen := filepath.Join(d.out, "genesis.json")
	if err := d.tn.Genesis.Save(gen); err != nil {
		return err
	}
	reg, err := d.key("regulator")
	if err != nil {
		return err
	}
	steps, err := DemoProve(d.ctx, d.clients[2], d.tn.Genesis, td.protocol.ID, d.out, reg)
	if err != nil {
		return err
	}
	d.detail("bundle %s: %d records, inclusion proofs under the certified checkpoint of block %d", steps.Bundle, steps.Records, steps.Checkpoint)
	d.detail("%d off-chain documents read with the regulator's signed request (the analysis plan, the corrected SAE narrative); the redacted narrative is left out and its redaction record is in (%d)",
		steps.Documents, steps.Redactions)
	d.detail("HTML audit report (Part 11 trail, consents, outcome report, verification): %s", steps.Report)
	if steps.Documents != 2 || steps.Redactions != 1 {
		return fmt.Errorf("the bundle holds %d off-chain documents and %d redactions, want the analysis plan and the corrected narrative, and the narrative's redaction", steps.Documents, steps.Redactions)
	}
	d.fact("trial exported with proofs (%d records, %d documents, %d redaction) and an HTML audit report", steps.Records, steps.Documents, steps.Redactions)

	d.say("The network is stopped; the regulator verifies with nothing but the genesis file")
	if !d.keep {
		d.pn.stop()
		d.detail("all 4 validators stopped")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for _, f := range []struct {
		path string
		good bool
	}{{steps.Bundle, true}, {steps.Tampered, false}, {steps.Removed, false}} {
		cmd := exec.CommandContext(d.ctx, self, "verify", f.path, "--genesis", gen)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		d.detail("$ trialchain verify %s --genesis %s", f.path, gen)
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			d.detail("  %s", l)
		}
		if f.good != (err == nil) {
			return fmt.Errorf("verify %s: exit %v, want success %v", f.path, err, f.good)
		}
	}
	d.fact("bundle verified offline with the network stopped, complete for %s as of block %d (all %d records of its certified record set); a copy with one byte changed fails, naming the record; a copy with one record removed fails, naming the missing record",
		td.protocol.ID, steps.Complete.Height, steps.Complete.Records)
	return nil
}
