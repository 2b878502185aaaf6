package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trialchain/trialchain/chain/bench"
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/trials/trialbench"
)

func init() { register(newBenchCmd) }

func newBenchCmd() *cobra.Command {
	var validators, txs, conc, crfTxs int
	var batches []int
	var metricsAddr, workload, mode, jsonFile, contracts, cpuProfile string
	var rate float64
	var duration time.Duration
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure committed tx/s, latency, CPU and memory of 4 validator processes on loopback",
		Long: `Start a local network of validator processes of this binary (trialchain
start, real QUIC on 127.0.0.1, real Pebble in a temporary directory), each
with a metrics listener (their URLs are printed first), measure this
machine's ed25519 verification rate, then run each workload in each mode:

  anchors  signed anchor transactions
  crf      case-report forms submitted through the deployed trial-protocol
           contract (a registered, active trial; enrolled subjects; vitals
           forms signed by the site) — needs 'make contracts'

  closed   --concurrency submitters, each waits for its receipt, until
           --txs transactions or --duration
  open     --rate transactions per second offered for --duration whatever
           the answers (0: 80% of the closed-loop figure just measured)

For each it prints committed tx/s (and its share of the ed25519 bound:
verifications per second ÷ validators), p50/p99 from submit to receipt,
CPU time per committed transaction of each validator (from
/proc/PID/stat) and each validator's resident and peak memory. --json
FILE also writes the report as JSON (-o json prints it instead of the
table).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, b := range batches {
				if b < 1 || b > view.MaxBatchTxs {
					return fmt.Errorf("--batch %d: use 1 to %d", b, view.MaxBatchTxs)
				}
			}
			modes, err := bench.ParseMode(mode)
			if err != nil {
				return err
			}
			var ws []bench.Workload
			for _, w := range strings.Split(workload, ",") {
				switch w {
				case "anchors":
					ws = append(ws, bench.Anchors())
				case "crf":
					ws = append(ws, trialbench.CRF(crfTxs))
				case "both":
					ws = append(ws, bench.Anchors(), trialbench.CRF(crfTxs))
				default:
					return fmt.Errorf("--workload %q: use anchors, crf or both", w)
				}
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			if contracts == "" {
				contracts = filepath.Join("bin", "contracts")
			}
			if cpuProfile != "" {
				// The client shares the machine's cores with the validators:
				// its own profile shows what the measurement costs.
				stop, err := startCPUProfile(suffixPath(cpuProfile, "-client"))
				if err != nil {
					return err
				}
				defer stop()
			}
			rep, err := bench.Run(cmd.Context(), bench.Config{Bin: exe, Validators: validators, Workloads: ws, Modes: modes,
				Txs: txs, Concurrency: conc, Batches: batches, Rate: rate, Duration: duration, Contracts: contracts, Metrics: metricsAddr, CPUProfile: cpuProfile,
				Progress: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			if jsonFile != "" {
				b, err := json.MarshalIndent(rep, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(jsonFile, append(b, '\n'), 0o644); err != nil {
					return err
				}
			}
			return emit(cmd, rep, rep.WriteTable)
		},
	}
	c.Flags().IntVar(&validators, "validators", 4, "number of validators (one process each)")
	c.Flags().IntVar(&txs, "txs", 5000, "closed loop: transactions to submit at most (the load is bounded)")
	c.Flags().IntVar(&conc, "concurrency", 64, "closed loop: transactions in flight at once (at most 120 connections per validator: more wait in the client)")
	c.Flags().IntSliceVar(&batches, "batch", []int{1}, "transactions per request, or a list (1,16: every workload and mode at each); above 1 they go through POST /v1/txs (at most 256; a closed loop's --concurrency counts transactions)")
	c.Flags().IntVar(&crfTxs, "crf-txs", 1500, "crf: transactions prepared per phase at most (every 3 forms need one enrolment, made before the phase)")
	c.Flags().StringVar(&workload, "workload", "both", "anchors, crf or both (comma-separated also works)")
	c.Flags().StringVar(&mode, "mode", "both", "closed, open or both")
	c.Flags().Float64Var(&rate, "rate", 0, "open loop: offered transactions per second (0: 80% of the closed-loop figure of this run)")
	c.Flags().DurationVar(&duration, "duration", 20*time.Second, "longest time each phase offers load")
	c.Flags().StringVar(&jsonFile, "json", "", "also write the report as JSON to this file")
	c.Flags().StringVar(&contracts, "contracts", "", "directory of built contracts, for the crf workload (default bin/contracts; make contracts)")
	c.Flags().StringVar(&cpuProfile, "cpuprofile", "", "each validator writes a CPU profile of the run here, -vN before the extension (bench.pprof → bench-v1.pprof …), and its allocation profile (bench-v1.allocs.pprof); the client's own are bench-client.pprof and bench-client.allocs.pprof")
	c.Flags().StringVar(&metricsAddr, "metrics", "", "validator 1's metrics listener address (e.g. 127.0.0.1:9100; the others get free ports; see start --metrics)")
	return c
}
