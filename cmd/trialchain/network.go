package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/node"
)

func init() {
	register(newTestnetCmd)
	register(newStartCmd)
	register(newDevnetCmd)
}

func newTestnetCmd() *cobra.Command {
	var o node.TestnetOptions
	var out string
	var existOK bool
	c := &cobra.Command{
		Use:   "testnet",
		Short: "Write a local network: genesis, one home per validator, a keyring with one key per role",
		Long: `Write DIR/genesis.json, one node home per validator (DIR/node0 … DIR/node<N-1>,
all addresses on 127.0.0.1) and a keyring DIR/keys holding one registered
member key per role, named after the role (admin, sponsor, site, regulator,
committee), and DIR/client.toml naming the genesis, the nodes' API URLs and
the keyring: a client given --keyring DIR/keys finds it, and with it the
genesis, so it verifies what nodes serve by default. Then start each
validator:

  trialchain testnet --validators 4 --out net
  trialchain start --home net/node0   # and node1, node2, node3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if existOK {
				if _, err := os.Stat(filepath.Join(out, "genesis.json")); err == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s already holds a network; kept as it is\n", out)
					return nil
				}
			}
			tn, err := node.NewTestnet(out, o)
			if err != nil {
				return err
			}
			return emit(cmd, tn, func(w io.Writer) { printTestnet(w, tn) })
		},
	}
	c.Flags().IntVar(&o.Validators, "validators", 4, "number of validators (4 tolerates 1 faulty)")
	c.Flags().StringVar(&out, "out", "", "directory to write the network to (required)")
	c.Flags().IntVar(&o.BasePort, "base-port", 26600, "first port: validator i uses UDP base+2i (mesh) and base+2i+1 (API); 0 picks free ports")
	c.Flags().StringVar(&o.ChainID, "chain-id", "trialchain-local", "chain id")
	c.Flags().StringSliceVar(&o.Hosts, "hosts", nil, "one host name per validator (e.g. containers on a private network): validator i is HOST_i:base-port (mesh) and HOST_i:base-port+1 (API), and listens on all interfaces")
	c.Flags().StringSliceVar(&o.Names, "names", nil, "one name per validator, e.g. its organisation (default node0 … node<N-1>)")
	c.Flags().StringVar(&o.DataDir, "data-dir", "", "every node's data directory, e.g. a container volume (default: data in the node's home)")
	c.Flags().BoolVar(&existOK, "exist-ok", false, "do nothing if --out already holds a network (for a one-shot step run again)")
	_ = c.MarkFlagRequired("out")
	return c
}

func printTestnet(w io.Writer, tn *node.Testnet) {
	fmt.Fprintf(w, "network %s written to %s (%d validators)\n", tn.Genesis.ChainID, tn.Dir, len(tn.Homes))
	for i, v := range tn.Genesis.Validators {
		fmt.Fprintf(w, "  %s  %s  mesh %s  api %s\n", tn.Homes[i], v.Name, v.Addr, v.API)
	}
	fmt.Fprintf(w, "keyring %s: ", tn.Keyring)
	for i, m := range tn.Genesis.Members {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprint(w, m.Name)
	}
	fmt.Fprintln(w)
	cc := filepath.Join(tn.Dir, node.ClientConfigFile)
	if abs, err := filepath.Abs(cc); err == nil {
		cc = abs
	}
	fmt.Fprintf(w, "client config %s (genesis, nodes, keyring): found by commands run in %s, or anywhere after\n  export TRIALCHAIN_CLIENT_CONFIG=%s\n", cc, tn.Dir, cc)
}

func newStartCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "start",
		Short: "Run one validator node until SIGINT/SIGTERM",
		Long: `Run the validator whose home is --home (config.toml, genesis.json, node.key,
data/). It joins its peers over QUIC, catches up, takes part in consensus and
serves the client API. SIGINT or SIGTERM stops it cleanly; a crash (even
kill -9) loses nothing committed: every block is one synced write.

Everything the node writes is private (files 0600, directories 0700). The
payload data keys in data/db/payload-keys are wrapped by a key derived from
node.key, so a copy of data/ without node.key decrypts no payload; node.key
may itself be encrypted (keys new --encrypt), its passphrase then read from
$TRIALCHAIN_PASSPHRASE_FILE or $TRIALCHAIN_PASSPHRASE.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, _ := cmd.Flags().GetString("home")
			if home == "" {
				return errors.New("--home DIR is required: the node's home directory (see trialchain testnet)")
			}
			cfg, err := node.LoadConfig(home)
			if err != nil {
				return err
			}
			if m, _ := cmd.Flags().GetString("metrics"); m != "" {
				cfg.Metrics = m
			}
			privateFiles() // the node holds patient data: nothing it writes is readable by others
			ml, _ := cmd.Flags().GetString("memory-limit")
			limit, from, err := setMemoryLimit(ml, cmd.Flags().Changed("memory-limit"))
			if err != nil {
				return err
			}
			if p, _ := cmd.Flags().GetString("cpuprofile"); p != "" {
				stop, err := startCPUProfile(p)
				if err != nil {
					return err
				}
				defer stop()
			}
			fault, _ := cmd.Flags().GetString("byzantine")
			// A node that repairs its damaged store reopens on it; one
			// that cannot returns the error (exit non-zero).
			return node.Run(cmd.Context(), cfg, node.Options{Fault: fault}, func(n *node.Node) {
				fmt.Fprintf(cmd.ErrOrStderr(), "node %d of %s running; API %s; Go memory limit %s (%s)\n",
					cfg.ID, n.Genesis().ChainID, n.APIURL(), formatMemoryLimit(limit), from)
				if u := n.MetricsURL(); u != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "metrics %s/metrics, liveness %s/healthz, readiness %s/readyz\n", u, u, u)
				}
			})
		},
	}
	c.Flags().String("metrics", "", "address of the metrics listener, e.g. 127.0.0.1:9100: Prometheus /metrics, liveness /healthz, readiness /readyz (default: config.toml's metrics, else none)")
	c.Flags().String("memory-limit", "", memoryLimitFlag)
	c.Flags().String("cpuprofile", "", "write a CPU profile (go tool pprof) of this node to this file until it stops (SIGINT/SIGTERM), and at the stop its allocation profile next to it (FILE.pprof → FILE.allocs.pprof)")
	c.Flags().String("byzantine", "", "fault-injection tests only: run as a Byzantine validator (wrong-parent)")
	_ = c.Flags().MarkHidden("byzantine")
	return c
}

func newDevnetCmd() *cobra.Command {
	var o node.TestnetOptions
	var dir string
	c := &cobra.Command{
		Use:   "devnet",
		Short: "Write a local network (like testnet) and run every validator as a child process",
		Long: `Write a local network to --dir (unless it already holds one, which is
reused), start every validator as a child process (logs in DIR/node<i>/node.log),
print each node's API URL and the keyring path, and stop them all on Ctrl-C.

  trialchain devnet --validators 4
  trialchain anchor README.md --label readme --from sponsor --keyring devnet/keys --home devnet/node0 --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDevnet(cmd.Context(), cmd.OutOrStdout(), dir, o)
		},
	}
	c.Flags().IntVar(&o.Validators, "validators", 4, "number of validators")
	c.Flags().StringVar(&dir, "dir", "devnet", "directory of the network (created if missing, reused if present)")
	c.Flags().IntVar(&o.BasePort, "base-port", 26600, "first port (see testnet); 0 picks free ports")
	c.Flags().StringVar(&o.ChainID, "chain-id", "trialchain-local", "chain id")
	return c
}

func runDevnet(ctx context.Context, w io.Writer, dir string, o node.TestnetOptions) error {
	var homes []string
	if _, err := os.Stat(filepath.Join(dir, "genesis.json")); err == nil {
		for i := 0; ; i++ {
			h := filepath.Join(dir, fmt.Sprintf("node%d", i))
			if _, err := os.Stat(filepath.Join(h, node.ConfigFile)); err != nil {
				break
			}
			homes = append(homes, h)
		}
		if len(homes) == 0 {
			return fmt.Errorf("%s holds a genesis.json but no node homes; remove it or choose another --dir", dir)
		}
		fmt.Fprintf(w, "reusing the network in %s (%d validators)\n", dir, len(homes))
	} else {
		tn, err := node.NewTestnet(dir, o)
		if err != nil {
			return err
		}
		printTestnet(w, tn)
		homes = tn.Homes
	}
	pn, err := launch(ctx, homes)
	if err != nil {
		return fmt.Errorf("devnet: %w", err)
	}
	defer pn.stop()
	fmt.Fprintf(w, "\ndevnet running: %d validators\n", len(homes))
	for i, u := range pn.urls {
		fmt.Fprintf(w, "  node%d  %s  (home %s, log %s)\n", i, u, homes[i], filepath.Join(homes[i], "node.log"))
	}
	fmt.Fprintf(w, "keyring: %s\n", filepath.Join(dir, "keys"))
	fmt.Fprintf(w, "try:     trialchain status --home %s\npress Ctrl-C to stop\n", homes[0])
	select {
	case <-ctx.Done():
		fmt.Fprintln(w, "\nstopping the devnet…")
		return nil
	case i := <-pn.exited:
		return fmt.Errorf("devnet: node%d exited unexpectedly (see %s)", i, filepath.Join(homes[i], "node.log"))
	}
}

// procNet is a local network of validator child processes (this binary's
// start command), each logging to HOME/node.log. Its owner calls stop.
type procNet struct {
	homes  []string
	urls   []string
	procs  []*exec.Cmd
	done   []chan struct{}
	exited chan int
}

// launch starts one child process per home and waits until every node's
// API is healthy.
func launch(ctx context.Context, homes []string) (*procNet, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own binary: %w", err)
	}
	pn := &procNet{homes: homes, exited: make(chan int, len(homes))}
	for i, h := range homes {
		addr, err := node.APIAddr(h)
		if err != nil {
			pn.stop()
			return nil, err
		}
		logf, err := os.OpenFile(filepath.Join(h, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			pn.stop()
			return nil, err
		}
		p := exec.Command(self, "start", "--home", h)
		p.Stdout, p.Stderr = logf, logf
		// Children get their own process group, so a terminal's Ctrl-C
		// reaches only us and we stop them in order.
		p.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		err = p.Start()
		logf.Close()
		if err != nil {
			pn.stop()
			return nil, fmt.Errorf("start %s: %w", h, err)
		}
		done := make(chan struct{})
		pn.procs, pn.done = append(pn.procs, p), append(pn.done, done)
		pn.urls = append(pn.urls, "http://"+addr)
		go func() {
			_ = p.Wait()
			close(done)
			pn.exited <- i
		}()
	}
	if err := waitHealthy(ctx, pn.urls, 30*time.Second); err != nil {
		pn.stop()
		return nil, fmt.Errorf("%w (see %s)", err, filepath.Join(filepath.Dir(homes[0]), "node*", "node.log"))
	}
	return pn, nil
}

// stop sends SIGTERM to every node and waits for each (SIGKILL after 15 s).
func (pn *procNet) stop() {
	for _, p := range pn.procs {
		_ = p.Process.Signal(syscall.SIGTERM)
	}
	for i, p := range pn.procs {
		select {
		case <-pn.done[i]:
		case <-time.After(15 * time.Second):
			_ = p.Process.Kill()
			<-pn.done[i]
		}
	}
}

// waitHealthy polls each URL's /healthz until all answer 200.
func waitHealthy(ctx context.Context, urls []string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for _, u := range urls {
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u+"/healthz", nil)
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("node %s did not become healthy within %s", u, limit)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}
