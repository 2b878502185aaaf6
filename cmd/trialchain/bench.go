package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/sdk/client"
)

func init() { register(newBenchCmd) }

type benchResult struct {
	Validators  int     `json:"validators"`
	Txs         int     `json:"txs"`
	Failed      int     `json:"failed"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	TxPerSec    float64 `json:"tx_per_sec"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	Blocks      uint64  `json:"blocks"`
	CPUs        int     `json:"cpus"`
}

func newBenchCmd() *cobra.Command {
	var validators, txs, conc int
	var metricsAddr, cpuProfile string
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure committed tx/s and submit-to-commit latency on a local loopback network",
		Long: `Start a local network in this process (real QUIC on 127.0.0.1, real Pebble
in a temporary directory), submit a bounded load of signed anchor
transactions spread over the validators with a fixed number in flight, and
print committed transactions per second and the p50/p99 latency from submit
to the committed receipt.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if txs < 1 || conc < 1 || validators < 1 {
				return fmt.Errorf("--txs, --concurrency and --validators must be ≥ 1")
			}
			if metricsAddr != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "node 1's metrics on http://%s/metrics while the load runs\n", metricsAddr)
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return fmt.Errorf("cpu profile: %w", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("cpu profile: %w", err)
				}
				defer pprof.StopCPUProfile()
			}
			r, err := runBench(cmd.Context(), validators, txs, conc, metricsAddr)
			if err != nil {
				return err
			}
			return emit(cmd, r, func(w io.Writer) {
				fmt.Fprintf(w, "%d validators on loopback QUIC, %d anchor txs, %d in flight, %d CPUs\n", r.Validators, r.Txs, r.Concurrency, r.CPUs)
				fmt.Fprintf(w, "committed %d txs in %.2fs over %d blocks: %.0f tx/s\n", r.Txs-r.Failed, r.Seconds, r.Blocks, r.TxPerSec)
				fmt.Fprintf(w, "submit-to-commit latency: p50 %.1f ms, p99 %.1f ms\n", r.P50Ms, r.P99Ms)
				if r.Failed > 0 {
					fmt.Fprintf(w, "%d transactions failed\n", r.Failed)
				}
			})
		},
	}
	c.Flags().IntVar(&validators, "validators", 4, "number of validators")
	c.Flags().IntVar(&txs, "txs", 5000, "transactions to submit (the load is bounded)")
	c.Flags().IntVar(&conc, "concurrency", 64, "transactions in flight at once")
	c.Flags().StringVar(&metricsAddr, "metrics", "", "serve the first validator's metrics listener here during the run (e.g. 127.0.0.1:9100; see start --metrics)")
	c.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (all validators, setup included) to this file (go tool pprof)")
	return c
}

func runBench(ctx context.Context, validators, txs, conc int, metricsAddr string) (*benchResult, error) {
	dir, err := os.MkdirTemp("", "trialchain-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tn, err := node.NewTestnet(dir, node.TestnetOptions{Validators: validators})
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var nodes []*node.Node
	defer func() {
		for _, n := range nodes {
			n.Stop()
		}
	}()
	var urls []string
	for i, h := range tn.Homes {
		cfg, err := node.LoadConfig(h)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			cfg.Metrics = metricsAddr
		}
		n, err := node.New(cfg, node.Options{Logger: quiet})
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
		if err := n.Start(ctx); err != nil {
			return nil, err
		}
		urls = append(urls, n.APIURL())
	}
	if err := waitHealthy(ctx, urls, 30*time.Second); err != nil {
		return nil, err
	}
	k, err := keys.Ring{Dir: tn.Keyring}.Get("sponsor")
	if err != nil {
		return nil, err
	}
	signed := make([]*block.Tx, txs)
	for i := range signed {
		var doc [8]byte
		binary.BigEndian.PutUint64(doc[:], uint64(i))
		p := &block.AnchorPayload{Hash: sha256.Sum256(doc[:]), Label: fmt.Sprintf("bench %d", i)}
		signed[i] = client.Sign(k.Private, tn.Genesis.ChainID, block.KindAnchor, p.Encode(), 100_000)
	}
	clients := make([]*client.Client, len(urls))
	for i, u := range urls {
		clients[i] = client.New(u)
	}
	lat := make([]time.Duration, txs)
	failed := make([]bool, txs)
	var wg sync.WaitGroup
	next := make(chan int)
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				res, err := clients[i%len(clients)].Submit(ctx, signed[i], true)
				lat[i] = time.Since(t0)
				failed[i] = err != nil || res.Receipt == nil || res.Receipt.Status != "ok"
			}
		}()
	}
feed:
	for i := range signed {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	r := &benchResult{Validators: validators, Txs: txs, Concurrency: conc, Seconds: elapsed.Seconds(), CPUs: runtime.NumCPU()}
	for _, f := range failed {
		if f {
			r.Failed++
		}
	}
	r.TxPerSec = float64(txs-r.Failed) / elapsed.Seconds()
	slices.Sort(lat)
	r.P50Ms = float64(lat[len(lat)/2].Microseconds()) / 1000
	r.P99Ms = float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds()) / 1000
	r.Blocks = nodes[0].Ledger().Head().Height
	return r, nil
}
