package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/sdk/client"
)

func init() { register(newDemoCmd) }

// demoEnv is what every demo step can use: the running network, its
// keyring and a client per node.
type demoEnv struct {
	ctx       context.Context
	w         io.Writer
	dir       string
	contracts string
	tn        *node.Testnet
	pn        *procNet
	clients   []*client.Client
	ring      keys.Ring
	chainID   string
	step      int
	facts     []string // the summary, one line per checked outcome
	// fixturesDir holds the standards bodies' files (../shared/fixtures);
	// embedded stand-ins are used where it is absent.
	fixturesDir string
	trial       *trialDemo
	out         string // where the regulator's bundle, genesis and report go
	keep        bool
	plan        block.Hash // the statistical analysis plan, anchored and held by the validators
}

// say prints a numbered step in plain words.
func (d *demoEnv) say(format string, args ...any) {
	d.step++
	fmt.Fprintf(d.w, "\n%2d. %s\n", d.step, fmt.Sprintf(format, args...))
}

// detail prints indented lines under the current step.
func (d *demoEnv) detail(format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	fmt.Fprintf(d.w, "    %s\n", strings.ReplaceAll(text, "\n", "\n    "))
}

// fact records a checked outcome for the closing summary.
func (d *demoEnv) fact(format string, args ...any) {
	d.facts = append(d.facts, fmt.Sprintf(format, args...))
}

// key returns the keyring's key for a role.
func (d *demoEnv) key(name string) (ed25519.PrivateKey, error) {
	k, err := d.ring.Get(name)
	if err != nil {
		return nil, err
	}
	return k.Private, nil
}

// submit signs and submits a transaction through node i and waits for the receipt.
func (d *demoEnv) submit(i int, from string, kind block.Kind, payload []byte, gas uint64) (*client.Client, *block.Hash, error) {
	k, err := d.key(from)
	if err != nil {
		return nil, nil, err
	}
	c := d.clients[i%len(d.clients)]
	res, err := c.Submit(d.ctx, client.Sign(k, d.chainID, kind, payload, gas), true)
	if err != nil {
		return nil, nil, err
	}
	if res.Receipt == nil {
		return nil, nil, fmt.Errorf("transaction %s was not committed in time", res.Hash)
	}
	if res.Receipt.Status != "ok" {
		return nil, nil, fmt.Errorf("transaction %s failed: %s", res.Hash, res.Receipt.Error)
	}
	if err := d.settle(res.Receipt.Height); err != nil {
		return nil, nil, err
	}
	return c, &res.Hash, nil
}

// settle waits until every validator has committed the block at height:
// a receipt from one node says nothing about the others, and the demo
// goes on to ask them.
func (d *demoEnv) settle(height uint64) error { return awaitHeight(d.ctx, d.clients, height) }

// awaitHeight waits until every node has committed the block at height.
func awaitHeight(ctx context.Context, nodes []*client.Client, height uint64) error {
	for i, c := range nodes {
		for {
			st, err := c.Status(ctx)
			if err != nil {
				return fmt.Errorf("node%d status: %w", i, err)
			}
			if st.Height >= height {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("node%d stays at height %d, want %d: %w", i, st.Height, height, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// demoSteps are the scenario's chapters, in order. Each file that adds a
// chapter appends to it in init.
var demoSteps []demoStep

type demoStep struct {
	name string
	run  func(d *demoEnv) error
}

func newDemoCmd() *cobra.Command {
	var keep bool
	var basePort int
	var contracts, dir, fixtures, out, chapter string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Play a whole clinical trial on a local 4-validator network, then verify it offline",
		Long: `Start a 4-validator network in a temporary directory (real processes, real
QUIC, real Pebble), deploy the example contracts, and play a whole trial,
printing each step in plain words and ending with a summary. The network is
stopped and removed at the end unless --keep is given.

  make demo               # builds the binary and the contracts, then runs this
  trialchain demo --contracts bin/contracts --keep

--chapter care plays instead healthcare beyond trials on the same kind of
network: record sharing under FHIR R4 Consents, claims, drug traceability
(make demo-more).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			steps := demoSteps
			switch chapter {
			case "", "trial":
			case "care":
				steps = careSteps
			default:
				return fmt.Errorf("--chapter %q: want trial (the default) or care", chapter)
			}
			return runDemo(cmd.Context(), cmd.OutOrStdout(), dir, contracts, fixtures, out, basePort, keep, steps)
		},
	}
	c.Flags().IntVar(&basePort, "base-port", 0, "first port of the network (see testnet: validator i uses base+2i and base+2i+1); 0 picks free ports")
	c.Flags().BoolVar(&keep, "keep", false, "keep the network running and its directory after the demo (Ctrl-C stops it)")
	c.Flags().StringVar(&contracts, "contracts", "bin/contracts", "directory of the built contracts (make contracts)")
	c.Flags().StringVar(&dir, "dir", "", "directory for the network (default: a new temporary directory)")
	c.Flags().StringVar(&out, "out", "demo-output", "directory for the exported bundle, its genesis file and the audit report (kept after the demo)")
	c.Flags().StringVar(&chapter, "chapter", "trial", "what to play: trial (the clinical trial) or care (record sharing, claims, drug traceability)")
	c.Flags().StringVar(&fixtures, "fixtures", "../shared/fixtures", "standards bodies' files (FHIR, CDISC, DUO); embedded stand-ins are used if absent")
	return c
}

func runDemo(ctx context.Context, w io.Writer, dir, contracts, fixtures, out string, basePort int, keep bool, steps []demoStep) error {
	start := time.Now()
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "trialchain-demo-"); err != nil {
			return err
		}
		if !keep {
			defer os.RemoveAll(dir)
		}
	}
	d := &demoEnv{ctx: ctx, w: w, dir: dir, contracts: contracts, fixturesDir: fixtures, out: out, keep: keep}
	d.say("Starting a local network of 4 validators in %s", dir)
	tn, err := node.NewTestnet(filepath.Join(dir, "net"), node.TestnetOptions{Validators: 4, BasePort: basePort})
	if err != nil {
		return err
	}
	d.tn, d.ring = tn, keys.Ring{Dir: tn.Keyring}
	pn, err := launch(ctx, tn.Homes)
	if err != nil {
		return err
	}
	d.pn = pn
	defer func() {
		if !keep {
			pn.stop()
		}
	}()
	for _, u := range pn.urls {
		// Over TLS, each node's key pinned from the genesis.
		c, err := client.ForGenesis(tn.Genesis, strings.Replace(u, "http://", "https://", 1))
		if err != nil {
			return err
		}
		d.clients = append(d.clients, c)
	}
	if _, err := d.clients[0].Status(ctx); err != nil {
		return err
	}
	d.chainID = tn.Genesis.ChainID // from the genesis, never from a node
	d.detail("chain %s, validators at %v (TLS, keys pinned from the genesis)", d.chainID, pn.urls)
	d.detail("members: admin, sponsor, site, regulator, committee (keyring %s)", tn.Keyring)

	for _, s := range steps {
		if err := s.run(d); err != nil {
			return fmt.Errorf("demo step %q: %w", s.name, err)
		}
	}

	fmt.Fprintf(w, "\nSummary (%.1fs):\n", time.Since(start).Seconds())
	for _, f := range d.facts {
		fmt.Fprintf(w, "  ✓ %s\n", f)
	}
	if keep {
		fmt.Fprintf(w, "\nThe network keeps running: trialchain status --home %s ; keyring %s\nPress Ctrl-C to stop it.\n", tn.Homes[0], tn.Keyring)
		select {
		case <-ctx.Done():
		case i := <-pn.exited:
			fmt.Fprintf(w, "node%d exited\n", i)
		}
		pn.stop()
	}
	return nil
}

// demoTrialID is the trial the demo plays: NCT05503693, from the FHIR
// ResearchStudy in ../shared/fixtures or its embedded stand-in.
const demoTrialID = "NCT05503693"

// The chain-core chapter: anchoring the analysis plan before enrolment.
func init() {
	demoSteps = append(demoSteps, demoStep{"anchor the analysis plan", func(d *demoEnv) error {
		sap := []byte("Statistical analysis plan v1.0 for the demo trial.\nPrimary outcome: overall survival at 24 months, Cox model stratified by site.\n")
		h := block.Hash(sha256.Sum256(sap))
		d.say("The sponsor timestamps the statistical analysis plan before the first enrolment")
		// The anchor joins the trial's record set: the trial's export carries
		// it and proves it carries every document anchored for the trial.
		_, tx, err := d.submit(0, "sponsor", block.KindAnchor, (&block.AnchorPayload{Hash: h, Label: "SAP v1.0", Scope: state.TrialScope(demoTrialID)}).Encode(), 100_000)
		if err != nil {
			return err
		}
		d.detail("SHA-256 %s recorded in tx %s", h, tx)
		sp, err := d.key("sponsor")
		if err != nil {
			return err
		}
		if n, err := client.Replicate(d.ctx, d.clients, sp, d.chainID, sap); n != len(d.clients) {
			return fmt.Errorf("analysis plan held by %d of %d validators: %w", n, len(d.clients), err)
		}
		d.plan = h
		d.detail("the plan itself stays off chain: each validator keeps it encrypted, for those allowed to read it")
		as, err := d.clients[3].Anchors(d.ctx, h)
		if err != nil {
			return err
		}
		if len(as) != 1 {
			return fmt.Errorf("node3 knows %d anchorings of the plan, want 1", len(as))
		}
		d.detail("a regulator asks another validator (node3): anchored at height %d, %s, by %s", as[0].Height, as[0].Time, as[0].SenderName)
		d.fact("analysis plan anchored at height %d before enrolment; any later edit of it is evident", as[0].Height)
		return nil
	}})
}
