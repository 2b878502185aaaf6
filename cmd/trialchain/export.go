package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/proof/bundle"
	"github.com/trialchain/trialchain/sdk/client"
)

func init() {
	register(newExportCmd)
	register(newCheckpointCmd)
}

// nodeDocuments fetches, for an export, the off-chain payloads the node
// holds and the member may read (signed reads: the node checks the
// member's organisation, or regulator or admin role), and counts those it
// could not have.
type nodeDocuments struct {
	c        *client.Client
	key      ed25519.PrivateKey
	chainID  string
	included int
	redacted []block.Hash // payloads destroyed by a redaction
	refused  int          // reads the node refused to the member (it does not say whether it holds them)
}

// fetch is a bundle.Options.Fetch: a hash the node holds no payload for
// (most hex strings in a record are not documents) is skipped.
func (n *nodeDocuments) fetch(ctx context.Context, h block.Hash) (*bundle.File, error) {
	data, err := n.c.Payload(ctx, n.key, n.chainID, h)
	var ae *client.APIError
	switch {
	case errors.Is(err, client.ErrGone):
		n.redacted = append(n.redacted, h)
		return nil, nil
	case errors.Is(err, client.ErrNotFound):
		return nil, nil
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		n.refused++
		return nil, nil
	case err != nil:
		return nil, err
	}
	name := h.String()
	if as, err := n.c.Anchors(ctx, h); err == nil && len(as) > 0 && as[0].Label != "" {
		name = as[0].Label
	}
	n.included++
	return &bundle.File{Name: name, Data: data}, nil
}

// report says what was fetched, for people.
func (n *nodeDocuments) report(w io.Writer) {
	fmt.Fprintf(w, "documents from the node: %d included", n.included)
	if n.refused > 0 {
		fmt.Fprintf(w, ", %d reads refused to this member", n.refused)
	}
	if len(n.redacted) > 0 {
		fmt.Fprintf(w, ", %d redacted (only their hashes remain):", len(n.redacted))
		for _, h := range n.redacted {
			fmt.Fprintf(w, " %s", h)
		}
	}
	fmt.Fprintln(w)
}

// payloadFiles reads the files (and the regular files of the directories) named.
func payloadFiles(paths []string) ([]bundle.File, error) {
	var out []bundle.File
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("--payload: %w", err)
		}
		files := []string{p}
		if st.IsDir() {
			ents, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("--payload: %w", err)
			}
			files = files[:0]
			for _, e := range ents {
				if e.Type().IsRegular() {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
			sort.Strings(files)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("--payload: %w", err)
			}
			out = append(out, bundle.File{Name: filepath.Base(f), Data: b, Optional: st.IsDir()})
		}
	}
	return out, nil
}

// exportSummary is what export prints.
type exportSummary struct {
	File       string        `json:"file"`
	Bytes      int           `json:"bytes"`
	Scope      string        `json:"scope"`
	Records    int           `json:"records"`
	Payloads   int           `json:"payloads"`
	Checkpoint uint64        `json:"checkpoint_height"`
	LogSize    uint64        `json:"log_size"`
	Verified   bool          `json:"verified"`
	Counts     bundle.Counts `json:"counts,omitempty"`
	// Survey is which validators answered the newest checkpoint, which
	// lagged, failed or disagreed (absent without a genesis).
	Survey *client.Survey `json:"survey,omitempty"`
}

// latestCheckpoint asks every validator of g (and c first) for its latest
// checkpoint, takes the newest that verifies and reports on stderr who
// answered what. A fork (two certified histories) is exit status 1.
func latestCheckpoint(cmd *cobra.Command, c *client.Client, g *genesis.Genesis) (*client.Survey, error) {
	s, _, err := latestCheckpointOf(cmd, c, g)
	return s, err
}

// validatorSets is what checkpoints of c's chain verify against: the
// genesis set, or on a chain whose genesis lets the set change
// (params.validator_group), the sets walked from the genesis through c's
// blocks (client.SetHistory).
func validatorSets(cmd *cobra.Command, c *client.Client, g *genesis.Genesis) (proof.Validators, error) {
	if g.Params.ValidatorGroup == "" {
		return g, nil
	}
	stop := reporter(cmd).Every(cmd.Context(), "walking the validator-set changes from the genesis", nil)
	defer stop()
	return c.ValidatorSets(cmd.Context(), g)
}

// latestCheckpointOf is latestCheckpoint that also returns what the
// checkpoints were verified against: the genesis set, or on a chain whose
// genesis lets the set change, the sets walked from the genesis through
// c's blocks (client.SetHistory).
func latestCheckpointOf(cmd *cobra.Command, c *client.Client, g *genesis.Genesis) (*client.Survey, proof.Validators, error) {
	vals, err := validatorSets(cmd, c, g)
	if err != nil {
		return nil, nil, err
	}
	s, err := client.SurveyCheckpointsAgainst(cmd.Context(), g, vals, client.NodesIn(vals, c))
	errw := cmd.ErrOrStderr()
	if err != nil {
		if errors.Is(err, client.ErrFork) {
			fmt.Fprintf(errw, "checkpoints asked of %d nodes: %s\n", len(s.Nodes), s.Summary())
			return nil, nil, &exitError{code: 1, msg: "FORK: the validators certified two different histories; nothing written, trust neither:\n  " + err.Error()}
		}
		return nil, nil, err
	}
	fmt.Fprintf(errw, "checkpoint: block %d (%s) from %d of %d nodes asked; %s\n",
		s.Checkpoint.Height(), time.UnixMilli(s.Checkpoint.Header.TimeUnixMilli).UTC().Format(time.RFC3339), s.Count(client.NodeNewest), len(s.Nodes), s.Summary())
	for _, a := range s.Nodes {
		if a.Error != "" {
			fmt.Fprintf(errw, "  %s: %s\n", a.Node, a.Error)
		}
	}
	if !s.Fresh() {
		fmt.Fprintf(errw, "WARNING: only %d node(s) sent a checkpoint that verifies; %d are needed so that one honest validator vouches that nothing newer exists\n", s.Verified, s.Needed)
	}
	return s, vals, nil
}

// exportBundle seals (optionally) and exports from the node the flags
// name. With a genesis (see genesisPath) the checkpoint is the newest any
// validator certifies (see latestCheckpoint) and every block chains to it;
// without, it says that the export is unverified.
func exportBundle(cmd *cobra.Command, trial string, all bool) (*bundle.Bundle, *client.Survey, *genesis.Genesis, error) {
	return exportBundleFrom(cmd, trial, all, nil)
}

// exportBundleFrom is exportBundle reading the node through wrap (nil:
// directly), e.g. a bundle.HeaderLog that keeps the headers it serves.
func exportBundleFrom(cmd *cobra.Command, trial string, all bool, wrap func(bundle.Source) bundle.Source) (*bundle.Bundle, *client.Survey, *genesis.Genesis, error) {
	if (trial == "") == !all {
		return nil, nil, nil, errors.New("give --trial ID or --all")
	}
	ctx := cmd.Context()
	c, err := clientFor(cmd)
	if err != nil {
		return nil, nil, nil, err
	}
	g, err := optionalGenesis(cmd)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if g != nil {
		if err := checkSameChain(c, st, g); err != nil {
			return nil, nil, nil, err
		}
	}
	opt := bundle.Options{Scope: "all"}
	if trial != "" {
		opt.Scope = "trial:" + trial // the trial's certified record set decides what is exported
	}
	opt.WithCode, _ = cmd.Flags().GetBool("with-code")
	paths, _ := cmd.Flags().GetStringArray("payload")
	if opt.Payloads, err = payloadFiles(paths); err != nil {
		return nil, nil, nil, err
	}
	var docs *nodeDocuments
	if as, _ := cmd.Flags().GetString("payloads-as"); as != "" {
		key, err := signer(cmd, as)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--payloads-as: %w", err)
		}
		docs = &nodeDocuments{c: c, key: key, chainID: st.ChainID}
		opt.Fetch = docs.fetch
	}
	if seal, _ := cmd.Flags().GetString("seal"); seal != "" {
		if err := sealLog(cmd, c, seal, opt.Scope, st.Height); err != nil {
			return nil, nil, nil, err
		}
	}
	src := &client.Source{Node: c}
	var survey *client.Survey
	if g != nil {
		var vals proof.Validators
		if survey, vals, err = latestCheckpointOf(cmd, c, g); err != nil {
			return nil, nil, nil, err
		}
		src = &client.Source{Node: survey.Source, Vals: vals, Latest: survey.Checkpoint}
	} else {
		warnUnverified(cmd, "the export")
	}
	errw := cmd.ErrOrStderr()
	progressFn, progressDone := exportProgress(reporter(cmd))
	opt.Progress = progressFn
	var from bundle.Source = src
	if wrap != nil {
		from = wrap(src)
	}
	b, err := bundle.Export(ctx, from, st.ChainID, st.GenesisHash, opt)
	progressDone()
	if err != nil {
		if errors.Is(err, bundle.ErrChain) {
			return nil, nil, nil, &exitError{code: 1, msg: fmt.Sprintf("node %s served a block that is not the certified one; nothing written:\n  %v", src.Node.Label(), err)}
		}
		return nil, nil, nil, err
	}
	if docs != nil {
		docs.report(errw)
	}
	return b, survey, g, nil
}

// sealLabel begins the label of a seal anchor.
const sealLabel = "export seal "

// sealLog commits one anchor transaction (a seal naming the export) and
// waits until a later block certifies it, so that every record committed
// before the export is covered by the latest checkpoint.
func sealLog(cmd *cobra.Command, c *client.Client, from, scope string, height uint64) error {
	doc := sha256.Sum256([]byte(fmt.Sprintf("trialchain export seal\x00%s\x00%d", scope, height)))
	res, err := submitTx(cmd, from, true, func(k ed25519.PrivateKey, chainID string) *block.Tx {
		return client.Sign(k, chainID, block.KindAnchor, (&block.AnchorPayload{Hash: doc, Label: sealLabel + scope}).Encode(), 100_000)
	})
	if err != nil {
		return fmt.Errorf("--seal: %w", err)
	}
	if res.Receipt == nil {
		return fmt.Errorf("--seal: seal transaction %s is not committed yet", res.Hash)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "sealed the record log with anchor %s in block %d\n", res.Hash, res.Receipt.Height)
	return nil
}

func newExportCmd() *cobra.Command {
	var out, trial string
	var all bool
	cmd := &cobra.Command{
		Use:   "export (--trial ID | --all) --out FILE",
		Short: "Write a self-contained evidence bundle: records, proofs, certified checkpoint",
		Long: `export writes one self-contained bundle of committed records that anyone can
check offline with 'trialchain verify FILE --genesis genesis.json':

  - each record's signed transaction and receipt (with its Part 11 signature
    manifestation), and its inclusion proof in the record log;
  - the code hash of the contract version that accepted each call (with the
    deploy and upgrade records that prove it; the code itself with --with-code);
  - the multi-party consents the calls used and the registrations of their groups;
  - the certified checkpoint (block header + 2f+1 validator signatures);
  - the off-chain documents given with --payload whose SHA-256 a record holds,
    and with --payloads-as NAME those the node holds that member NAME may
    read (its organisation's, or all of them for a regulator); a redacted
    document is left out and named.

A block header certifies the record log as it was after the previous block,
so the newest block's records are covered only once another block exists:
--seal NAME commits a small anchor transaction first, so that everything
committed before the export is included.

With the genesis (--genesis, $TRIALCHAIN_GENESIS, --home, or the client.toml
beside the keyring) nothing the node serves is believed: every validator in
the genesis is asked for its latest checkpoint, the newest that verifies is
used (and who answered, lagged, failed or disagreed is printed; two
certified histories fail loudly), every block scanned must chain to it by
header hashes, and the bundle is verified before it is written (exit 1 and
nothing written otherwise). Without a genesis the export is marked
UNVERIFIED.`,
		Example: `  trialchain export --trial NCT-DEMO-1 --out trial.bundle.json --home net/node0 --seal sponsor --keyring net/keys
  trialchain export --trial NCT-DEMO-1 --out trial.bundle.json --payloads-as regulator --keyring net/keys --home net/node2
  trialchain export --all --out chain.bundle.json --node http://127.0.0.1:26601 --genesis net/genesis.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, survey, g, err := exportBundle(cmd, trial, all)
			if err != nil {
				return err
			}
			sum := exportSummary{File: out, Scope: b.Scope, Records: len(b.Records), Payloads: len(b.Payloads),
				Checkpoint: b.Latest().Height(), LogSize: b.Latest().Header.LogSize, Survey: survey}
			if g != nil {
				res, err := bundle.Verify(b, g)
				if err != nil {
					return &exitError{code: 1, msg: fmt.Sprintf("the node's export does not verify against the genesis file; nothing written: %v", err)}
				}
				sum.Verified, sum.Counts = true, res.Counts
			}
			if err := witnessBundle(cmd, b); err != nil { // --witness URL (witness.go)
				return err
			}
			enc := b.Encode()
			if err := genesis.WriteFileAtomic(out, enc, 0o644); err != nil {
				return err
			}
			sum.Bytes = len(enc)
			return emit(cmd, sum, func(w io.Writer) {
				fmt.Fprintf(w, "wrote %s (%d bytes): %d records of %s, %d documents, certified at block %d (log of %d records)\n",
					out, sum.Bytes, sum.Records, sum.Scope, sum.Payloads, sum.Checkpoint, sum.LogSize)
				if sum.Verified {
					fmt.Fprintf(w, "verified against the genesis file before writing: every block chains to the checkpoint, the newest of %d validators asked\n", len(survey.Nodes))
				} else {
					fmt.Fprintln(w, "UNVERIFIED: no genesis file given; the bundle is the node's word until 'trialchain verify' checks it")
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "bundle file to write (required)")
	f.StringVar(&trial, "trial", "", "export the records of this trial")
	f.BoolVar(&all, "all", false, "export every record of the chain")
	f.String("genesis", "", "genesis file to verify the bundle against before writing (default: --home's)")
	f.Bool("with-code", false, "include the contracts' code (megabytes each), so verifiers re-hash it too")
	f.StringArray("payload", nil, "off-chain document to include (a record must commit to its SHA-256), or a directory of candidates; repeatable")
	f.String("payloads-as", "", "include the off-chain documents the node holds that keyring member NAME may read (signed reads)")
	f.String("seal", "", "key NAME to sign a seal anchor with first, so the newest records are certified")
	f.StringArray("witness", nil, "witness API URL to cosign the exported checkpoint (repeatable); a refusal (e.g. FORK) writes nothing")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func newCheckpointCmd() *cobra.Command {
	var out string
	var height uint64
	cmd := &cobra.Command{
		Use:   "checkpoint --out cp.json",
		Short: "Save a certified checkpoint of the record log (to prove later that history was not rewritten)",
		Long: `checkpoint saves the node's latest (or --height) certified block header with
its commit certificate: the record-log size and root a quorum of validators
signed. Keep it; later 'trialchain verify consistency cp.json' proves that the
network's log still extends it.

With the genesis (--genesis, $TRIALCHAIN_GENESIS, --home, or the client.toml
beside the keyring) it is verified first, and the latest is the newest any
validator in the genesis certifies: every validator is asked, and which
answered it, lagged, failed or disagreed is printed (a node serving an old
checkpoint cannot hide newer blocks; two certified histories at one height
are a fork: exit 1, nothing written). Without a genesis it is marked
UNVERIFIED.`,
		Example: `  trialchain checkpoint --out cp.json --home net/node0`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := clientFor(cmd)
			if err != nil {
				return err
			}
			g, err := optionalGenesis(cmd)
			if err != nil {
				return err
			}
			var cp *proof.Checkpoint
			var survey *client.Survey
			switch {
			case g == nil:
				warnUnverified(cmd, "the checkpoint")
				if cp, err = c.Checkpoint(cmd.Context(), height); err != nil {
					return err
				}
			case height > 0:
				vals, err := validatorSets(cmd, c, g)
				if err != nil {
					return err
				}
				if cp, err = c.VerifiedCheckpoint(cmd.Context(), vals, height); err != nil {
					if errors.Is(err, proof.ErrCheckpoint) {
						return &exitError{code: 1, msg: "the node's checkpoint does not verify; nothing written: " + err.Error()}
					}
					return err
				}
			default:
				if survey, err = latestCheckpoint(cmd, c, g); err != nil {
					return err
				}
				cp = survey.Checkpoint
			}
			verified := g != nil
			if err := genesis.WriteFileAtomic(out, cp.Encode(), 0o644); err != nil {
				return err
			}
			v := struct {
				File     string         `json:"file"`
				Height   uint64         `json:"height"`
				LogSize  uint64         `json:"log_size"`
				LogRoot  block.Hash     `json:"log_root"`
				Time     string         `json:"time"`
				Verified bool           `json:"verified"`
				Survey   *client.Survey `json:"survey,omitempty"`
			}{out, cp.Height(), cp.Header.LogSize, cp.Header.LogRoot, time.UnixMilli(cp.Header.TimeUnixMilli).UTC().Format(time.RFC3339), verified, survey}
			return emit(cmd, v, func(w io.Writer) {
				fmt.Fprintf(w, "wrote %s: block %d (%s), record log of %d records, root %s\n", out, v.Height, v.Time, v.LogSize, v.LogRoot)
				if verified {
					fmt.Fprintln(w, "verified: certified by a quorum of the genesis validators")
				} else {
					fmt.Fprintln(w, "UNVERIFIED: no genesis file given")
				}
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "checkpoint file to write (required)")
	cmd.Flags().Uint64Var(&height, "height", 0, "block height (default: the latest)")
	cmd.Flags().String("genesis", "", "genesis file to verify the checkpoint against (default: --home's)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
