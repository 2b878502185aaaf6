package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/witness"
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
	// The regulator runs a witness of its own: it cosigns the checkpoint
	// only if it is certified and consistent with what it cosigned before.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	wit, err := startDemoWitness(d.ctx, self, filepath.Join(d.dir, "regulator-witness"), gen)
	if err != nil {
		return err
	}
	defer wit.stop()
	d.detail("the regulator's witness %s serves at %s; its public key goes to every verifier (%s)", wit.key, wit.url, wit.pub)
	steps, err := DemoProve(d.ctx, d.clients[2], d.tn.Genesis, td.protocol.ID, d.out, reg, DemoWitness{URL: wit.url, Key: wit.key})
	if err != nil {
		return err
	}
	pubCopy := filepath.Join(d.out, "regulator-witness.pub")
	if err := copyFile(wit.pub, pubCopy); err != nil {
		return err
	}
	d.detail("the witness cosigned checkpoint %d: %v", steps.Checkpoint, steps.Witnessed)
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
	for _, f := range []struct {
		path string
		good bool
	}{{steps.Bundle, true}, {steps.Tampered, false}, {steps.Removed, false}} {
		cmd := exec.CommandContext(d.ctx, self, "verify", f.path, "--genesis", gen, "--trial", td.protocol.ID, "--witness", pubCopy)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		d.detail("$ trialchain verify %s --genesis %s --trial %s --witness %s", f.path, gen, td.protocol.ID, pubCopy)
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			d.detail("  %s", l)
		}
		if f.good != (err == nil) {
			return fmt.Errorf("verify %s: exit %v, want success %v", f.path, err, f.good)
		}
	}
	d.fact("bundle verified offline with the network stopped: complete for %s as of block %d (all %d records of its certified record set), witnessed by %s; a copy with one byte changed fails, naming the record; a copy with one record removed fails, naming the missing record",
		td.protocol.ID, steps.Complete.Height, steps.Complete.Records, strings.Join(steps.Witnessed, ", "))
	return nil
}

// demoWitness is a `trialchain witness serve` child process.
type demoWitness struct {
	url, pub string
	key      witness.PublicKey
	cmd      *exec.Cmd
	done     chan struct{}
}

// startDemoWitness creates a witness home and serves it on a free port of
// 127.0.0.1, as a separate process (as a regulator would run it).
func startDemoWitness(ctx context.Context, self, home, gen string) (*demoWitness, error) {
	if out, err := exec.CommandContext(ctx, self, "witness", "init", "--home", home, "--name", "regulator-witness").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("witness init: %v: %s", err, out)
	}
	w := &demoWitness{pub: filepath.Join(home, "witness.pub"), done: make(chan struct{})}
	key, err := witness.LoadPublicKey(w.pub)
	if err != nil {
		return nil, err
	}
	w.key = key
	w.cmd = exec.Command(self, "witness", "serve", "--home", home, "--genesis", gen, "--listen", "127.0.0.1:0")
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	w.cmd.Stderr = io.Discard
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("witness serve: %w", err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		_ = w.cmd.Process.Kill()
		_ = w.cmd.Wait()
		return nil, errors.New("witness serve: exited before serving")
	}
	m := regexp.MustCompile(`on (http://[^ ]+)`).FindStringSubmatch(lines.Text())
	if m == nil {
		_ = w.cmd.Process.Kill()
		_ = w.cmd.Wait()
		return nil, fmt.Errorf("witness serve said %q", lines.Text())
	}
	w.url = m[1]
	go func() { // drain its output until it exits
		for lines.Scan() {
		}
		_ = w.cmd.Wait()
		close(w.done)
	}()
	return w, nil
}

// stop ends the witness gracefully (SIGTERM), or kills it after 5 s.
func (w *demoWitness) stop() {
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.done
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}
