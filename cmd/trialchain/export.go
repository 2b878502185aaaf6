package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/trialchain/trialchain/trials/audit"
)

func init() {
	register(newExportCmd)
	register(newCheckpointCmd)
}

// clientSource adapts the node client to bundle.Source. Nothing it returns
// is trusted: the bundle is verified against the genesis before use.
type clientSource struct{ c *client.Client }

func (s clientSource) Checkpoint(ctx context.Context, height uint64) (*proof.Checkpoint, error) {
	return s.c.Checkpoint(ctx, height)
}

func (s clientSource) Block(ctx context.Context, height uint64) (*block.Committed, error) {
	v, err := s.c.Block(ctx, height)
	if err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(v.Raw)
	if err != nil {
		return nil, fmt.Errorf("block %d: raw encoding: %w", height, err)
	}
	c, err := block.DecodeCommitted(raw)
	if err != nil {
		return nil, fmt.Errorf("block %d from node: %w", height, err)
	}
	if c.Block.Header.Height != height {
		return nil, fmt.Errorf("asked for block %d, node sent %d", height, c.Block.Header.Height)
	}
	return c, nil
}

func (s clientSource) InclusionProof(ctx context.Context, tx block.Hash, size uint64) (*proof.InclusionProof, error) {
	return s.c.InclusionProof(ctx, tx, size)
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

// genesisFor loads --genesis, or the genesis.json of --home.
func genesisFor(cmd *cobra.Command) (*genesis.Genesis, string, error) {
	path, _ := cmd.Flags().GetString("genesis")
	if path == "" {
		if home, _ := cmd.Flags().GetString("home"); home != "" {
			path = filepath.Join(home, "genesis.json")
		}
	}
	if path == "" {
		return nil, "", errors.New("no genesis file given: pass --genesis FILE (the network's genesis.json, e.g. NET/genesis.json)")
	}
	g, err := genesis.Load(path)
	return g, path, err
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
}

// exportBundle seals (optionally) and exports from the node the flags name.
func exportBundle(cmd *cobra.Command, trial string, all bool) (*bundle.Bundle, error) {
	if (trial == "") == !all {
		return nil, errors.New("give --trial ID or --all")
	}
	ctx := cmd.Context()
	c, err := clientFor(cmd)
	if err != nil {
		return nil, err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	opt := bundle.Options{Scope: "all"}
	if trial != "" {
		opt.Scope, opt.Select = "trial:"+trial, audit.Selector(trial)
	}
	opt.WithCode, _ = cmd.Flags().GetBool("with-code")
	paths, _ := cmd.Flags().GetStringArray("payload")
	if opt.Payloads, err = payloadFiles(paths); err != nil {
		return nil, err
	}
	var docs *nodeDocuments
	if as, _ := cmd.Flags().GetString("payloads-as"); as != "" {
		key, err := signer(cmd, as)
		if err != nil {
			return nil, fmt.Errorf("--payloads-as: %w", err)
		}
		docs = &nodeDocuments{c: c, key: key, chainID: st.ChainID}
		opt.Fetch = docs.fetch
	}
	if seal, _ := cmd.Flags().GetString("seal"); seal != "" {
		if err := sealLog(cmd, c, seal, opt.Scope, st.Height); err != nil {
			return nil, err
		}
	}
	errw := cmd.ErrOrStderr()
	last := time.Now()
	opt.Progress = func(stage string, done, total uint64) {
		if time.Since(last) > 500*time.Millisecond || done == total {
			fmt.Fprintf(errw, "\r%s %d/%d   ", stage, done, total)
			last = time.Now()
			if done == total {
				fmt.Fprintln(errw)
			}
		}
	}
	if j, _ := jsonOutput(cmd); j {
		opt.Progress = nil
	}
	b, err := bundle.Export(ctx, clientSource{c}, st.ChainID, st.GenesisHash, opt)
	if err != nil {
		return nil, err
	}
	if docs != nil {
		docs.report(errw)
	}
	return b, nil
}

// sealLog commits one anchor transaction (a seal naming the export) and
// waits until a later block certifies it, so that every record committed
// before the export is covered by the latest checkpoint.
func sealLog(cmd *cobra.Command, c *client.Client, from, scope string, height uint64) error {
	doc := sha256.Sum256([]byte(fmt.Sprintf("trialchain export seal\x00%s\x00%d", scope, height)))
	res, err := submitTx(cmd, from, true, func(k ed25519.PrivateKey, chainID string) *block.Tx {
		return client.Sign(k, chainID, block.KindAnchor, (&block.AnchorPayload{Hash: doc, Label: "export seal " + scope}).Encode(), 100_000)
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

With --genesis (or --home) the bundle is verified before it is written.`,
		Example: `  trialchain export --trial NCT-DEMO-1 --out trial.bundle.json --home net/node0 --seal sponsor --keyring net/keys
  trialchain export --trial NCT-DEMO-1 --out trial.bundle.json --payloads-as regulator --keyring net/keys --home net/node2
  trialchain export --all --out chain.bundle.json --node http://127.0.0.1:26601 --genesis net/genesis.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := exportBundle(cmd, trial, all)
			if err != nil {
				return err
			}
			sum := exportSummary{File: out, Scope: b.Scope, Records: len(b.Records), Payloads: len(b.Payloads),
				Checkpoint: b.Latest().Height(), LogSize: b.Latest().Header.LogSize}
			gp, _ := cmd.Flags().GetString("genesis")
			home, _ := cmd.Flags().GetString("home")
			if gp != "" || home != "" {
				g, path, err := genesisFor(cmd)
				if err != nil {
					return err
				}
				res, err := bundle.Verify(b, g)
				if err != nil {
					return fmt.Errorf("the node's export does not verify against %s; nothing written: %w", path, err)
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
					fmt.Fprintln(w, "verified against the genesis file before writing")
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
network's log still extends it. With --genesis (or --home) it is verified first.`,
		Example: `  trialchain checkpoint --out cp.json --home net/node0`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := clientFor(cmd)
			if err != nil {
				return err
			}
			cp, err := c.Checkpoint(cmd.Context(), height)
			if err != nil {
				return err
			}
			verified := false
			gp, _ := cmd.Flags().GetString("genesis")
			home, _ := cmd.Flags().GetString("home")
			if gp != "" || home != "" {
				g, _, err := genesisFor(cmd)
				if err != nil {
					return err
				}
				if err := cp.Verify(g); err != nil {
					return fmt.Errorf("the node's checkpoint does not verify; nothing written: %w", err)
				}
				verified = true
			}
			if err := genesis.WriteFileAtomic(out, cp.Encode(), 0o644); err != nil {
				return err
			}
			v := struct {
				File     string     `json:"file"`
				Height   uint64     `json:"height"`
				LogSize  uint64     `json:"log_size"`
				LogRoot  block.Hash `json:"log_root"`
				Time     string     `json:"time"`
				Verified bool       `json:"verified"`
			}{out, cp.Height(), cp.Header.LogSize, cp.Header.LogRoot, time.UnixMilli(cp.Header.TimeUnixMilli).UTC().Format(time.RFC3339), verified}
			return emit(cmd, v, func(w io.Writer) {
				fmt.Fprintf(w, "wrote %s: block %d (%s), record log of %d records, root %s\n", out, v.Height, v.Time, v.LogSize, v.LogRoot)
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "checkpoint file to write (required)")
	cmd.Flags().Uint64Var(&height, "height", 0, "block height (default: the latest)")
	cmd.Flags().String("genesis", "", "genesis file to verify the checkpoint against (default: --home's)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
