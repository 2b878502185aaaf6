package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/proof/bundle"
	"github.com/trialchain/trialchain/chain/witness"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials/audit"
)

func init() { register(newVerifyCmd) }

// verifyView is what verify prints with --output json.
type verifyView struct {
	OK         bool                   `json:"ok"`
	File       string                 `json:"file"`
	Scope      string                 `json:"scope"`
	ChainID    string                 `json:"chain_id"`
	Genesis    block.Hash             `json:"genesis_hash"`
	Counts     bundle.Counts          `json:"counts"`
	Checkpoint *bundle.CheckpointInfo `json:"checkpoint,omitempty"`
	// SetChanges are the validator-set changes walked from the genesis.
	SetChanges []bundle.SetChangeInfo `json:"set_changes,omitempty"`
	// Complete says the bundle holds every record of its trial's
	// certified record set (nil: completeness not proven).
	Complete  *bundle.Completeness `json:"complete,omitempty"`
	Failures  []string             `json:"failures,omitempty"`
	InWords   []string             `json:"failures_in_words,omitempty"` // bundle.Words: one sentence per failure
	Witnesses *bundleWitnesses     `json:"witnesses,omitempty"`
}

// completeLine says what completeness was proven, for people.
func completeLine(c *bundle.Completeness) string {
	if c == nil {
		return "NOT proven: the bundle shows its records are in the certified log, not that it holds all of them"
	}
	return fmt.Sprintf("complete for trial %s as of block %d at %s (UTC): all %d records of its certified record set, checkpoint signed by %d validators",
		strings.TrimPrefix(c.Scope, "trial:"), c.Height, time.UnixMilli(c.TimeUnixMilli).UTC().Format("2006-01-02 15:04:05"), c.Records, c.Validators)
}

// checkTrial refuses a bundle that is not a proven-complete bundle of
// trial (when trial is set).
func checkTrial(res *bundle.Result, trial string) error {
	if trial == "" {
		return nil
	}
	return res.CompleteFor(trial)
}

// VerifyBundleFile reads and verifies a bundle file against a genesis file,
// offline. It is what `trialchain verify FILE` and the demo run.
func VerifyBundleFile(path string, g *genesis.Genesis) (*bundle.Result, error) {
	b, err := ReadBundleFile(path)
	if err != nil {
		return nil, err
	}
	return bundle.Verify(b, g)
}

// ReadBundleFile reads and decodes (strictly, without verifying) a bundle file.
func ReadBundleFile(path string) (*bundle.Bundle, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > bundle.MaxBytes {
		return nil, fmt.Errorf("%s: %d bytes, a bundle is at most %d: %w", path, st.Size(), bundle.MaxBytes, bundle.ErrMalformed)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, err := bundle.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// failureWords is verify's message on failure: each failure in plain words
// (bundle.Words), then the verifier's own text for the record.
func failureWords(b *bundle.Bundle, verr error) string {
	var sb strings.Builder
	sb.WriteString("verification FAILED: what was changed, in words:")
	for _, w := range bundle.Words(b, verr, audit.Describe) {
		sb.WriteString("\n  - " + w)
	}
	sb.WriteString("\ndetails (the verifier's own words):\n  " + strings.ReplaceAll(verr.Error(), "\n", "\n  "))
	return sb.String()
}

// checkMaxAge fails when the checkpoint's block time is more than maxAge before now.
func checkMaxAge(cp *bundle.CheckpointInfo, now time.Time, maxAge time.Duration) error {
	t := time.UnixMilli(cp.TimeUnixMilli).UTC()
	if age := now.Sub(t); age > maxAge {
		return fmt.Errorf("the bundle is too old: its latest checkpoint is block %d at %s (UTC), %s ago, more than --max-age %s; export a fresh one",
			cp.Height, t.Format("2006-01-02 15:04:05"), age.Round(time.Second), maxAge)
	}
	return nil
}

func newVerifyCmd() *cobra.Command {
	var trial string
	var maxAge time.Duration
	cmd := &cobra.Command{
		Use:   "verify FILE --genesis genesis.json",
		Short: "Verify an exported bundle offline (or, with 'consistency', that the log extends a checkpoint)",
		Long: `verify checks an export bundle with nothing but the network's genesis file —
no node, no network: every checkpoint's certificate against the genesis
validators, every record's signature, receipt, inclusion proof and contract
code version, every consent and every included document, all re-hashed
from the bytes.

A trial's bundle also proves it is complete: the chain keeps, for each
trial, the ordered set of its records (every accepted and refused call,
anchored document and redaction), committed in the state root of every
certified header. verify checks the bundle holds exactly those records —
none missing, none from another trial, none twice — that every contract
version they ran is there, and that every signer was an active member
with its role at the record's block. It prints "complete for trial X as of
block H"; --trial X refuses a bundle of any other trial.

With --max-age DURATION a bundle whose latest checkpoint is older than that
fails too (exit 1): the evidence says nothing about what happened after its
checkpoint.

Exit status 0 means everything verified; 1 means some check failed. Each
failure is then said in plain words for an inspector — what was changed and
the record it concerns ("record 12 of 31 (an adverse event report at block
26, tx 3f2a…): the receipt was changed — it no longer matches the record log
certified at block 40") — followed by the verifier's technical details
(position in the bundle, transaction hash, log record number, what failed).
With --output json they are "failures_in_words" and "failures".

  trialchain verify consistency cp.json   proves against a node that the
                                          current log extends a saved checkpoint`,
		Example: `  trialchain verify trial.bundle.json --genesis net/genesis.json
  trialchain verify consistency cp.json --home net/node0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, _, err := genesisFor(cmd)
			if err != nil {
				return err
			}
			b, err := ReadBundleFile(args[0])
			if errors.Is(err, bundle.ErrMalformed) {
				return &exitError{code: 1, msg: failureWords(nil, err)}
			} else if err != nil {
				return &exitError{code: 1, msg: fmt.Sprintf("verification FAILED: %v", err)}
			}
			res, verr := bundle.VerifyProgress(b, g, verifyProgress(reporter(cmd)))
			wv, werr := verifyWitnessFlags(cmd, args[0]) // --witness KEYFILE (witness.go)
			if werr != nil && wv == nil {
				return werr
			}
			if verr == nil {
				verr = werr
			}
			if verr == nil {
				if err := checkTrial(res, trial); err != nil {
					return &exitError{code: 1, msg: "verification FAILED: " + err.Error()}
				}
			}
			v := verifyView{OK: verr == nil, File: args[0], Scope: res.Scope, ChainID: res.ChainID, Genesis: res.GenesisHash, Counts: res.Counts, Complete: res.Complete,
				InWords: bundle.Words(b, verr, audit.Describe), Witnesses: wv, SetChanges: res.SetChanges}
			if n := len(res.Checkpoints); n > 0 {
				v.Checkpoint = &res.Checkpoints[n-1]
			}
			for _, f := range res.Failures {
				v.Failures = append(v.Failures, f.Error())
			}
			if err := emit(cmd, v, func(w io.Writer) {
				if v.OK {
					fmt.Fprintf(w, "VERIFIED %s (%s, chain %s)\n", args[0], v.Scope, v.ChainID)
				} else {
					fmt.Fprintf(w, "FAILED %s (%s, chain %s)\n", args[0], v.Scope, v.ChainID)
				}
				c := v.Counts
				if v.OK {
					fmt.Fprintf(w, "  proven      %s\n", completeLine(v.Complete))
				}
				fmt.Fprintf(w, "  records     %d verified of %d (%d signed transactions, %d contract calls with their code version, %d code versions by receipt)\n",
					c.Verified, c.Records, c.Transactions, c.Calls, c.ReceiptOnly)
				fmt.Fprintf(w, "  consents    %d re-verified\n  documents   %d re-hashed against their records\n", c.Consents, c.Payloads)
				if c.Redactions > 0 {
					fmt.Fprintf(w, "  redactions  %d of documents the records commit to, each a signed record in the log (the documents are destroyed; their hashes still verify)\n", c.Redactions)
				}
				if cp := v.Checkpoint; cp != nil {
					fmt.Fprintf(w, "  checkpoint  block %d (%s), log of %d records, root %s, signed by validators %v\n",
						cp.Height, time.UnixMilli(cp.TimeUnixMilli).UTC().Format(time.RFC3339), cp.LogSize, cp.LogRoot, cp.Signers)
				}
				for i, sc := range v.SetChanges {
					label := "validators"
					if i > 0 {
						label = ""
					}
					fmt.Fprintf(w, "  %-10s  block %d: %s validator %d %s (consent of the validator organisations re-verified); %d validators from block %d\n",
						label, sc.Height, sc.Op, sc.Validator, sc.Name, sc.Size, sc.Height+1)
				}
				fmt.Fprintf(w, "  genesis     %s\n", v.Genesis)
				printWitnesses(w, v.Witnesses)
			}); err != nil {
				return err
			}
			if verr == nil && maxAge > 0 {
				if v.Checkpoint == nil {
					return &exitError{code: 1, msg: "verification FAILED: --max-age: the bundle has no checkpoint"}
				}
				if err := checkMaxAge(v.Checkpoint, time.Now(), maxAge); err != nil {
					return &exitError{code: 1, msg: "verification FAILED: " + err.Error()}
				}
			}
			if verr != nil {
				return &exitError{code: 1, msg: failureWords(b, verr)}
			}
			return nil
		},
	}
	cmd.Flags().String("genesis", "", "the network's genesis file (default: --home's genesis.json)")
	cmd.Flags().StringVar(&trial, "trial", "", "require a bundle of this trial that proves it holds all of the trial's records")
	cmd.Flags().DurationVar(&maxAge, "max-age", 0, "fail (exit 1) when the bundle's latest checkpoint is older than this, e.g. 24h (default: no limit)")
	cmd.Flags().StringArray("witness", nil, "a witness's public-key file (witness.pub) whose cosignature of the bundle's checkpoint is required (repeatable)")
	cmd.Flags().Int("witness-threshold", 0, "how many of the --witness keys must have cosigned (default: all of them)")
	cmd.AddCommand(newVerifyConsistencyCmd())
	return cmd
}

func newVerifyConsistencyCmd() *cobra.Command {
	var save string
	cmd := &cobra.Command{
		Use:   "consistency CHECKPOINT.json",
		Short: "Prove that the node's current record log extends a saved checkpoint (fails on a forked or rewritten log)",
		Long: `consistency verifies the saved checkpoint and the node's latest one against the
genesis validators, then checks the node's consistency proof: every record
the saved checkpoint covered is still there, unchanged and in order.
Exit status 1 with "FORK" if the histories disagree.`,
		Example: `  trialchain verify consistency cp.json --home net/node0
  trialchain verify consistency cp.json --node http://127.0.0.1:26601 --genesis net/genesis.json --save cp-new.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, _, err := genesisFor(cmd)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			old, err := proof.DecodeCheckpoint(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			c, err := clientFor(cmd)
			if err != nil {
				return err
			}
			vals, err := validatorSets(cmd, c, g)
			if err != nil {
				return err
			}
			now, err := c.ProveExtends(cmd.Context(), vals, old)
			if err != nil {
				if errors.Is(err, client.ErrFork) || errors.Is(err, proof.ErrCheckpoint) || errors.Is(err, proof.ErrConsistency) {
					return &exitError{code: 1, msg: fmt.Sprintf("FORK or invalid checkpoint: the node's record log does not extend %s: %v", args[0], err)}
				}
				return err
			}
			if save != "" {
				if err := genesis.WriteFileAtomic(save, now.Encode(), 0o644); err != nil {
					return err
				}
			}
			v := struct {
				OK          bool   `json:"ok"`
				FromHeight  uint64 `json:"from_height"`
				FromLogSize uint64 `json:"from_log_size"`
				ToHeight    uint64 `json:"to_height"`
				ToLogSize   uint64 `json:"to_log_size"`
			}{true, old.Height(), old.Header.LogSize, now.Height(), now.Header.LogSize}
			return emit(cmd, v, func(w io.Writer) {
				fmt.Fprintf(w, "CONSISTENT: the node's record log at block %d (%d records) extends %s (block %d, %d records); both checkpoints are certified by the validators in force at their heights\n",
					v.ToHeight, v.ToLogSize, args[0], v.FromHeight, v.FromLogSize)
			})
		},
	}
	cmd.Flags().String("genesis", "", "the network's genesis file (default: --home's genesis.json)")
	cmd.Flags().StringVar(&save, "save", "", "also save the node's newer checkpoint to this file")
	return cmd
}

// DemoWitness is a witness DemoProve asks to cosign: its API and the key a
// verifier trusts for it.
type DemoWitness struct {
	URL string
	Key witness.PublicKey
}

// ProveSteps is what DemoProve did, for the demo's summary.
type ProveSteps struct {
	Bundle      string // path of the exported bundle
	Records     int
	Documents   int // off-chain documents included and re-hashed
	Redactions  int // redaction records of documents the trial's records commit to
	Checkpoint  uint64
	Tampered    string // path of the one-byte-changed copy
	TamperError string // how verification of the copy failed
	Removed     string // path of a copy with one trial record removed
	RemoveError string // how verification of that copy failed
	Complete    *bundle.Completeness
	Witnessed   []string // witnesses whose cosignature of the checkpoint verified
	Report      string   // path of the HTML audit report
}

// DemoProve is issue 6 item 8 as one call for `make demo`: export trial
// from the node c (whose newest records must already be certified: commit
// one more block, e.g. an anchor, after the last trial transaction), write
// DIR/TRIAL.bundle.json, verify it offline against g, write a copy with one
// byte changed and check that it fails naming the record, and write
// DIR/TRIAL.audit.html. With reader (a member's key), the off-chain
// documents the node holds that the member may read go into the bundle.
//
// Each witness (its API URL and trusted public key) is asked to cosign the
// bundle's checkpoint; the cosignatures travel in the bundle and the
// report names the witnesses whose cosignature verified.
func DemoProve(ctx context.Context, c *client.Client, g *genesis.Genesis, trial, dir string, reader ed25519.PrivateKey, witnesses ...DemoWitness) (*ProveSteps, error) {
	opt := bundle.Options{Scope: "trial:" + trial}
	if reader != nil {
		opt.Fetch = (&nodeDocuments{c: c, key: reader, chainID: g.ChainID}).fetch
	}
	vals, err := c.ValidatorSets(ctx, g) // the set in force at each height, on a chain whose set changed
	if err != nil {
		return nil, err
	}
	hl := bundle.NewHeaderLog(&client.Source{Node: c, Vals: vals})
	b, err := bundle.Export(ctx, hl, g.ChainID, g.Hash(), opt)
	if err != nil {
		return nil, err
	}
	left, err := leftOut(ctx, c, b.Latest().Height(), audit.Selector(trial))
	if err != nil {
		return nil, err
	}
	var trusted []witness.PublicKey
	for _, w := range witnesses {
		cs, err := client.Cosign(ctx, c, client.NewWitness(w.URL), b.Latest())
		if err != nil {
			return nil, fmt.Errorf("witness %s: %w", w.URL, err)
		}
		b.Witnesses = append(b.Witnesses, cs)
		trusted = append(trusted, w.Key)
	}
	var witnessed []string
	if len(trusted) > 0 {
		wr, err := bundle.VerifyWitnesses(b, trusted, len(trusted))
		if err != nil {
			return nil, fmt.Errorf("the witnesses' cosignatures: %w", err)
		}
		for _, w := range wr.Witnessed {
			witnessed = append(witnessed, w.Witness.String())
		}
	}
	s := &ProveSteps{Witnessed: witnessed, Bundle: filepath.Join(dir, trial+".bundle.json"), Tampered: filepath.Join(dir, trial+".tampered.bundle.json"),
		Report: filepath.Join(dir, trial+".audit.html"), Records: len(b.Records), Documents: len(b.Payloads), Checkpoint: b.Latest().Height()}
	enc := b.Encode()
	if err := genesis.WriteFileAtomic(s.Bundle, enc, 0o644); err != nil {
		return nil, err
	}
	res, err := VerifyBundleFile(s.Bundle, g)
	if err != nil {
		return nil, fmt.Errorf("the exported bundle does not verify: %w", err)
	}
	s.Redactions, s.Complete = res.Counts.Redactions, res.Complete
	if res.Complete == nil {
		return nil, errors.New("the exported bundle does not prove it is complete")
	}
	// Remove one record of the trial (the last adverse event report, else
	// the last call) and re-encode: a partial export.
	s.Removed = filepath.Join(dir, trial+".partial.bundle.json")
	// the trial's last adverse event report, else its last record
	if len(b.Scopes) == 0 || len(b.Scopes[0].Entries) == 0 {
		return nil, errors.New("demo: the bundle lists no record of the trial")
	}
	entries := b.Scopes[0].Entries
	target := entries[len(entries)-1].TxHash
	for _, e := range entries {
		if e.Kind == "call:ae" {
			target = e.TxHash
		}
	}
	drop := -1
	for _, r := range res.Records {
		if r.TxHash == target {
			drop = r.Index
		}
	}
	if drop < 0 {
		return nil, errors.New("demo: the record to remove is not in the bundle")
	}
	partial := *b
	partial.Records = append(append([]*bundle.Record(nil), b.Records[:drop]...), b.Records[drop+1:]...)
	if err := os.WriteFile(s.Removed, partial.Encode(), 0o644); err != nil {
		return nil, err
	}
	if _, rerr := VerifyBundleFile(s.Removed, g); rerr == nil {
		return nil, errors.New("demo: the bundle with a record removed verified")
	} else {
		s.RemoveError = rerr.Error()
	}
	// Change one byte: a hex digit inside the last record's receipt.
	i := bytes.LastIndex(enc, []byte(`"record": "`))
	if i < 0 {
		return nil, errors.New("demo: no record to tamper with")
	}
	bad := bytes.Clone(enc)
	at := i + len(`"record": "`) + 100
	if bad[at] == '0' {
		bad[at] = '1'
	} else {
		bad[at] = '0'
	}
	if err := os.WriteFile(s.Tampered, bad, 0o644); err != nil {
		return nil, err
	}
	_, terr := VerifyBundleFile(s.Tampered, g)
	if terr == nil {
		return nil, errors.New("demo: the tampered bundle verified")
	}
	s.TamperError = terr.Error()
	rep, err := WriteAuditReportWith(b, g, "html", s.Report, time.Now(), audit.Options{Trial: trial, LeftOut: left, Sealed: left == 0, Witnesses: witnessed,
		Times: &audit.BlockTimes{Checkpoint: b.Latest().Hash(), Times: hl.BlockTimes(b.Latest())}})
	if err != nil {
		return nil, err
	}
	if !rep.Verification.OK {
		return nil, fmt.Errorf("audit report: %s", rep.Verification.Summary)
	}
	return s, nil
}
