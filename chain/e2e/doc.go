// Package e2e is the fault-injection harness: it runs scenario manifests
// (scenarios/*.json) against a network of trialchain validator processes on
// 127.0.0.1 and checks, black-box, that safety held and how long liveness
// was lost.
//
// # Usage
//
//	c, _ := NewCluster(bin, dir, 4, &params, scenario.Proxy, seed) // writes the network, starts the relays
//	defer c.Close()                                                // kills every process, stops the relays
//	rep, _ := Run(ctx, c, scenario, seed)                          // start, load + schedule, lift faults, check
//	fmt.Println(rep.Row(scenario), rep.Failures)
//
// Cluster is a chain/procnet.Network (the validator processes, shared
// with chain/bench) plus the relays. A scenario's steps kill (SIGKILL), restart, pause (SIGSTOP/SIGCONT),
// kill all, crash-loop, partition, heal, make links lossy, tamper with a
// stopped node's store (doctor must find it, the restarted node must
// repair itself from its peers and serve the committed values) or repair
// a node by removing its data directory; partitions and
// loss need "proxy": true, which puts a UDP relay (Proxy) in front of each
// node's mesh socket (genesis names the relay, the node listens elsewhere).
// A Byzantine test double is a node started with --byzantine MODE.
//
// The load generator offers a bounded rate of anchor transactions, with
// workers per node (a slow node holds up only its share), and records
// every acknowledged one (a receipt came back); readers list the anchors
// of the same documents. The client-observed history of reads and writes
// per document is checked for linearizability with porcupine after the
// scenario (linear.go); a history that is not linearizable fails it and
// leaves a visualisation beside the report. After the schedule
// every fault is lifted; the checks then fetch every block from every node,
// verifying certificates against genesis, and compare hashes, state roots,
// duplicates and acknowledged transactions. Figures (longest commit gap,
// empty 10-s windows, stall per step, catch-up, settle time) come from the
// certified block times, and are reported, not asserted: timing asserts on
// a shared machine would be flaky.
//
// Run by `make e2e` (every scenario) and by `make test` (the short ones).
package e2e
