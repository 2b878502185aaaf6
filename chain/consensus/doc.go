// Package consensus is the SmartBFT adapter: it runs one validator's
// github.com/hyperledger-labs/SmartBFT instance (this package is its only
// importer) and implements its plug points — Comm, Assembler, Verifier,
// Signer, RequestInspector, Synchronizer, Application — over three small
// interfaces the caller provides:
//
//   - Ledger: the committed head and blocks, the committed state for
//     admission, and Commit (execute, record log, persist; chain/ledger).
//   - Network: Send (never blocks) and Request (block sync) to a peer;
//     transport.Mesh over QUIC, or transport/memnet in tests.
//   - Clock: proposal timestamps and the ticks that drive SmartBFT's
//     heartbeat, view-change and resend timers; WallClock, or a virtual
//     clock in tests.
//
// # Usage
//
//	rep, _ := consensus.New(consensus.Config{SelfID: id, Key: key, Genesis: g,
//		Ledger: led, WALDir: dir}, net)                  // nothing runs yet
//	mesh, _ := transport.New(tcfg, rep.HandleFrame, rep.HandleRequest) // inbound frames → rep
//	_ = rep.Start()      // opens the WAL, catches up from peers, joins the protocol
//	_ = rep.Submit(rawTx) // an admitted transaction: into the pool and (batched) to the leader
//	leader, view := rep.Leader()
//	rep.Stop()           // stops SmartBFT and every goroutine the replica started
//
// # Ordering and durability
//
// A block is decided by 2f+1 validator signatures over a Vote naming it
// (chain/block.Vote); Deliver hands it to Ledger.Commit, which stores it
// with its certificate in one synced batch before returning — SmartBFT
// assumes a delivered proposal is durable. Blocks are committed in height
// order through the ledger's lock, whether they come from Deliver or from
// catch-up (Sync), which verifies each block's certificate against the
// validator set in force at its height before committing it.
//
// # Validator-set changes
//
// The set starts as the genesis's. Config.SetChanges names the changes a
// committed block carried (add or remove one validator, genesis.Change);
// they are in force from the next block. Deliver then returns SmartBFT a
// Reconfig with the new nodes, so every replica restarts its instance with
// them at that block boundary (a removed validator's instance shuts down);
// a catch-up that fetched such a block reports it in its SyncResponse.
// Config.OnSet tells the node, so the mesh admits the new pinned keys. A
// validator added later starts from an empty store: Start catches up
// through its joining before it starts SmartBFT. Certificates, proposers
// and consensus signatures are checked against genesis.History.At(height). HandleFrame and HandleRequest
// may be called concurrently from any goroutine once Start has returned.
//
// Why the adapter does what it does (timeouts, resending, catch-up, the
// parts of SmartBFT that run on the wall clock) is in RATIONALE.md.
package consensus
