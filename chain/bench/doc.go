// Package bench measures a network of validator processes on 127.0.0.1
// (chain/procnet: `trialchain start` per validator, real QUIC, real
// Pebble) under a workload, and reports what `trialchain bench` prints.
//
// # Usage
//
//	rep, err := bench.Run(ctx, bench.Config{
//		Bin: exe, Validators: 4, Workloads: []bench.Workload{bench.Anchors()},
//		Modes: []bench.Mode{bench.Closed, bench.Open}, Txs: 10000, Concurrency: 256,
//		Duration: 20 * time.Second, Progress: os.Stderr})
//	rep.WriteTable(os.Stdout) // or json.Marshal(rep)
//
// Run writes a testnet in a temporary directory, starts one process per
// validator with a metrics listener (their URLs are printed first, so
// `curl` can watch them move), measures this machine's ed25519
// verification rate, then runs each workload in each mode:
//
//   - closed loop: Concurrency submitters, each submits a transaction and
//     waits for its receipt, until Txs transactions or Duration;
//   - open loop: transactions are sent at a fixed offered Rate for
//     Duration whatever the answers (Rate 0: 80% of the same workload's
//     closed-loop figure); latency counts from the scheduled send time,
//     so a slow node cannot hide queueing (no coordinated omission).
//
// Each phase reports committed tx/s (receipts "ok" over the phase's wall
// time), p50/p99 from submit to receipt, the CPU time (utime+stime from
// /proc/PID/stat) each validator spent per committed transaction, each
// validator's resident and peak memory (/proc/PID/status VmRSS, VmHWM),
// and the ratio to the signature bound: the ed25519 verifications per
// second this machine does on GOMAXPROCS goroutines, divided by the
// number of validators (each transaction is verified at least once on
// each validator, and the validators share the machine's cores).
//
// A Workload prepares what its transactions need (deployments,
// enrolments) before a phase, unmeasured, and then hands out signed
// transactions by index; Anchors is here, the trial-protocol CRF
// submissions are trials/trialbench (the domain sits above chain/).
package bench
