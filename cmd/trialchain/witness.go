package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof/bundle"
	"github.com/trialchain/trialchain/chain/witness"
	"github.com/trialchain/trialchain/chain/witness/witnessd"
	"github.com/trialchain/trialchain/sdk/client"
)

func init() { register(newWitnessCmd) }

// witnessHome is --home for the witness commands (the persistent flag,
// read as the witness's home, not a node's).
func witnessHome(cmd *cobra.Command) (string, error) {
	home, _ := cmd.Flags().GetString("home")
	if home == "" {
		return "", errors.New("no witness home given: pass --home DIR")
	}
	return home, nil
}

func newWitnessCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "witness",
		Short: "Run a witness: cosign checkpoints only if consistent with the last one cosigned (catches split views)",
		Long: `A witness is run by an organisation that does not run a validator (a
regulator, an ethics committee) with its own ed25519 key. It cosigns a
certified checkpoint only after checking that a quorum of the genesis
validators certified it and that its record log extends the last checkpoint
it cosigned (a consistency proof). It never cosigns two different histories,
so a split view — two certified histories shown to two parties — is refused
by any witness that saw both.

  trialchain witness init  --home DIR --name NAME     make the key and an empty state
  trialchain witness serve --home DIR --genesis FILE  serve add-checkpoint and latest over HTTP
  trialchain witness show  --home DIR                 print the latest cosigned checkpoint

Give verifiers DIR/witness.pub; 'trialchain export --witness URL' asks the
witness to cosign a bundle's checkpoint, 'trialchain verify --witness
witness.pub' requires that cosignature.`,
	}
	c.AddCommand(newWitnessInitCmd(), newWitnessServeCmd(), newWitnessShowCmd())
	return c
}

func newWitnessInitCmd() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "init --home DIR --name NAME",
		Short: "Create a witness home: its ed25519 key (0600), witness.pub, an empty state and cosigned log",
		Example: `  trialchain witness init --home regulator-witness --name regulator
  # give regulator-witness/witness.pub to everyone who verifies bundles`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, err := witnessHome(cmd)
			if err != nil {
				return err
			}
			pk, err := witness.Init(home, name)
			if err != nil {
				return err
			}
			v := struct {
				Name        string `json:"name"`
				PublicKey   string `json:"public_key"`
				Fingerprint string `json:"fingerprint"`
				PubFile     string `json:"public_key_file"`
			}{pk.Name, fmt.Sprintf("%x", []byte(pk.Key)), witness.Fingerprint(pk.Key), filepath.Join(home, witness.PubFile)}
			return emit(cmd, v, func(w io.Writer) {
				fmt.Fprintf(w, "created witness %s in %s\npublic key: %s (fingerprint %s)\ngive verifiers %s\n", v.Name, home, v.PublicKey, v.Fingerprint, v.PubFile)
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the witness's name (letters, digits, . _ -), e.g. regulator (required)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// openWitnessStore loads the key and opens (or, read-only, inspects) the
// home, printing a crash repair to stderr.
func openWitnessStore(cmd *cobra.Command, readOnly bool) (*witness.Store, []byte, witness.PublicKey, error) {
	home, err := witnessHome(cmd)
	if err != nil {
		return nil, nil, witness.PublicKey{}, err
	}
	key, pk, err := witness.LoadKey(home)
	if err != nil {
		return nil, nil, pk, err
	}
	open := witness.Open
	if readOnly {
		open = witness.Inspect
	}
	st, err := open(home, pk)
	if err != nil {
		return nil, nil, pk, &exitError{code: 1, msg: fmt.Sprintf("witness %s refuses to start: %v", home, err)}
	}
	if st.Recovered != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "witness %s: %s\n", home, st.Recovered)
	}
	return st, key, pk, nil
}

func newWitnessServeCmd() *cobra.Command {
	var listen string
	var follow time.Duration
	var via string
	cmd := &cobra.Command{
		Use:   "serve --home DIR --genesis genesis.json --listen 127.0.0.1:PORT",
		Short: "Serve the witness's HTTP API (add-checkpoint, latest, key); optionally follow the validators",
		Long: `serve checks the witness's state (state.json against the hash-chained
cosigned.log: a truncated or rolled-back state is refused), binds the witness
to the genesis's chain on first use, and serves until SIGTERM or SIGINT:

  POST /witness/v1/add-checkpoint   {"old_size", "proof", "checkpoint"} → cosignature
  GET  /witness/v1/latest           the latest cosigned checkpoint's cosignature
  GET  /witness/v1/key              witness.pub

With --follow DURATION it also polls the client API of every validator in
force at that interval and cosigns each newer certified checkpoint by
itself; on a chain whose set can change it walks the set changes from the
genesis through the validators' certified blocks (a validator added later
is asked at the API address its add recorded, a removed one no longer); a
validator serving a history that contradicts what it cosigned is logged as
FORK on stderr. It reaches them over TLS (--follow-via https, the default)
or HTTP/3 (h3), each node's key pinned from the genesis, or over plain HTTP
(http, nodes on this machine only).`,
		Example: `  trialchain witness serve --home regulator-witness --genesis net/genesis.json --listen 127.0.0.1:26900 --follow 5s`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch via {
			case "https", client.SchemeH3, "http":
			default:
				return fmt.Errorf("--follow-via %q: use https, h3 or http", via)
			}
			g, _, err := genesisFor(cmd)
			if err != nil {
				return err
			}
			st, key, pk, err := openWitnessStore(cmd, false)
			if err != nil {
				return err
			}
			w, err := witness.New(st, key, pk.Name, g, time.Now)
			if err != nil {
				st.Close()
				return &exitError{code: 1, msg: fmt.Sprintf("witness refuses to start: %v", err)}
			}
			defer w.Close()
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("--listen: %w", err)
			}
			errw := cmd.ErrOrStderr()
			logf := func(format string, args ...any) {
				fmt.Fprintf(errw, "%s %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
			}
			at := "nothing cosigned yet"
			if l := w.Latest(); l != nil {
				at = fmt.Sprintf("latest cosigned block %d (log of %d records)", l.Height, l.LogSize)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "witness %s serving chain %s on http://%s (%s)\n", pk, g.ChainID, ln.Addr(), at)
			ctx := cmd.Context()
			if follow > 0 {
				go witnessd.Follow(ctx, w, follow, via, logf)
			} else if g.Params.ValidatorGroup != "" {
				fmt.Fprintln(errw, "note: this chain's validator set can change (params.validator_group); without --follow the witness checks against the genesis set only and refuses checkpoints certified after a change")
			}
			if err := witnessd.Serve(ctx, ln, witnessd.Handler(w, logf)); err != nil {
				return err
			}
			fmt.Fprintln(errw, "witness stopped")
			return nil
		},
	}
	cmd.Flags().String("genesis", "", "the network's genesis file (required)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:26900", "address to serve the witness API on (port 0: any free port, printed)")
	cmd.Flags().DurationVar(&follow, "follow", 0, "also poll the APIs of the validators in force at this interval (0: only serve)")
	cmd.Flags().StringVar(&via, "follow-via", "https", "how --follow reaches the validators: https (TLS) or h3 (HTTP/3), keys pinned from the genesis, or http (plain, this machine only)")
	return cmd
}

// witnessView is what show prints.
type witnessView struct {
	Name        string               `json:"name"`
	PublicKey   string               `json:"public_key"`
	Fingerprint string               `json:"fingerprint"`
	ChainID     string               `json:"chain_id,omitempty"`
	GenesisHash *block.Hash          `json:"genesis_hash,omitempty"`
	Cosigned    uint64               `json:"cosigned"`
	Latest      *witness.Cosignature `json:"latest,omitempty"`
	Note        string               `json:"note,omitempty"`
}

func newWitnessShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show --home DIR",
		Short: "Check the witness's state files and print its key and latest cosigned checkpoint",
		Long: `show runs the same checks as serve (a truncated, rolled-back or edited
state is refused with exit status 1) without changing anything, and works
beside a running witness.`,
		Example: `  trialchain witness show --home regulator-witness`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, pk, err := openWitnessStore(cmd, true)
			if err != nil {
				return err
			}
			defer st.Close()
			v := witnessView{Name: pk.Name, PublicKey: fmt.Sprintf("%x", []byte(pk.Key)), Fingerprint: witness.Fingerprint(pk.Key),
				Cosigned: st.Count(), Latest: st.Latest(), Note: st.Recovered}
			if id, gh := st.Chain(); id != "" {
				v.ChainID, v.GenesisHash = id, &gh
			}
			return emit(cmd, v, func(w io.Writer) {
				fmt.Fprintf(w, "witness     %s\npublic key  %s (fingerprint %s)\n", v.Name, v.PublicKey, v.Fingerprint)
				if v.ChainID == "" {
					fmt.Fprintln(w, "chain       not bound yet (the first serve binds it)")
				} else {
					fmt.Fprintf(w, "chain       %s (genesis %s)\n", v.ChainID, v.GenesisHash)
				}
				fmt.Fprintf(w, "cosigned    %d checkpoints\n", v.Cosigned)
				if l := v.Latest; l != nil {
					fmt.Fprintf(w, "latest      block %d (%s), log of %d records, root %s, cosigned %s\n",
						l.Height, l.BlockHash, l.LogSize, l.LogRoot, l.TimeUTC().Format(time.RFC3339))
				}
			})
		},
	}
}

// witnessBundle is export's --witness: each witness URL is asked to cosign
// the bundle's latest checkpoint (with a consistency proof from the node
// c), and its cosignature goes into the bundle. A refusal (a fork, a
// checkpoint not certified) fails the export: nothing is written.
func witnessBundle(cmd *cobra.Command, b *bundle.Bundle) error {
	urls, _ := cmd.Flags().GetStringArray("witness")
	if len(urls) == 0 {
		return nil
	}
	c, err := clientFor(cmd)
	if err != nil {
		return err
	}
	for _, u := range urls {
		cs, err := client.Cosign(cmd.Context(), c, client.NewWitness(u), b.Latest())
		if err != nil {
			msg := fmt.Sprintf("witness %s did not cosign the exported checkpoint (block %d); nothing written: %v", u, b.Latest().Height(), err)
			if errors.Is(err, witness.ErrFork) {
				msg = "FORK: " + msg
			}
			return &exitError{code: 1, msg: msg}
		}
		b.Witnesses = append(b.Witnesses, cs)
		fmt.Fprintf(cmd.ErrOrStderr(), "witnessed by %s (key %s) at %s: block %d is %s\n",
			cs.Name, witness.Fingerprint(cs.Key), cs.TimeUTC().Format(time.RFC3339), cs.Height, statementWords(cs.Statement))
	}
	return nil
}

func statementWords(s witness.Statement) string {
	if s == witness.Prefix {
		return "on the history it follows (it has cosigned a later block)"
	}
	return "the latest block it has seen"
}

// bundleWitnesses is what verify prints about witnesses.
type bundleWitnesses struct {
	Required  int                   `json:"required"`
	Witnessed []witnessedView       `json:"witnessed"`
	Present   int                   `json:"cosignatures"` // in the bundle
	Checked   bool                  `json:"checked"`      // --witness keys were given
	Failed    string                `json:"failed,omitempty"`
	Missing   []string              `json:"missing,omitempty"`
	Invalid   []string              `json:"invalid,omitempty"`
	Result    *bundle.WitnessResult `json:"-"`
}

type witnessedView struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	Time        string `json:"time"`
	Statement   string `json:"statement"`
}

// verifyWitnessFlags is verify's --witness/--witness-threshold: nil when
// the bundle has no cosignatures and no keys were given; an error (an
// *bundle.Error wrapping bundle.ErrWitness) when fewer than the threshold
// of the given witnesses cosigned the bundle's checkpoint.
func verifyWitnessFlags(cmd *cobra.Command, path string) (*bundleWitnesses, error) {
	files, _ := cmd.Flags().GetStringArray("witness")
	threshold, _ := cmd.Flags().GetInt("witness-threshold")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 && threshold == 0 && !bytes.Contains(data, []byte("\n \"witnesses\": [")) {
		return nil, nil // no cosignatures (Encode's canonical form) and none required: skip a second decode
	}
	b, err := bundle.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(files) == 0 {
		if threshold > 0 {
			return nil, errors.New("--witness-threshold needs --witness KEYFILE")
		}
		if len(b.Witnesses) == 0 {
			return nil, nil
		}
		return &bundleWitnesses{Present: len(b.Witnesses)}, nil
	}
	var keys []witness.PublicKey
	for _, f := range files {
		pk, err := witness.LoadPublicKey(f)
		if err != nil {
			return nil, fmt.Errorf("--witness: %w", err)
		}
		keys = append(keys, pk)
	}
	if threshold == 0 {
		threshold = len(keys)
	}
	res, verr := bundle.VerifyWitnesses(b, keys, threshold)
	if res == nil {
		return nil, fmt.Errorf("--witness-threshold: %w", verr)
	}
	v := &bundleWitnesses{Required: threshold, Present: len(b.Witnesses), Checked: true, Result: res, Witnessed: []witnessedView{}}
	for _, w := range res.Witnessed {
		c := w.Cosignature
		v.Witnessed = append(v.Witnessed, witnessedView{Name: c.Name, Fingerprint: witness.Fingerprint(c.Key), Time: c.TimeUTC().Format(time.RFC3339), Statement: c.Statement.String()})
	}
	for _, pk := range res.Missing {
		v.Missing = append(v.Missing, pk.String())
	}
	for _, f := range res.Invalid {
		v.Invalid = append(v.Invalid, fmt.Sprintf("%s: %v", f.Witness, f.Err))
	}
	if verr != nil {
		v.Failed = verr.Error()
	}
	return v, verr
}

// printWitnesses is verify's text about witnesses.
func printWitnesses(w io.Writer, v *bundleWitnesses) {
	if v == nil {
		return
	}
	if !v.Checked {
		fmt.Fprintf(w, "  witnesses   %d cosignatures in the bundle, not checked (pass --witness KEYFILE to require them)\n", v.Present)
		return
	}
	fmt.Fprintf(w, "  witnesses   %d of %d required cosigned this checkpoint\n", len(v.Witnessed), v.Required)
	for _, x := range v.Witnessed {
		fmt.Fprintf(w, "              %s (key %s) at %s (%s)\n", x.Name, x.Fingerprint, x.Time, x.Statement)
	}
	for _, x := range v.Invalid {
		fmt.Fprintf(w, "              INVALID %s\n", x)
	}
	for _, k := range v.Missing {
		fmt.Fprintf(w, "              MISSING %s: no cosignature in the bundle\n", k)
	}
}
