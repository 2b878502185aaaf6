// Package contracts owns the chain side of contracts: it executes the
// transaction kinds deploy, call, upgrade and consent-group on the VM
// (package vm) and on chain state, runs read-only queries, and backs the
// VM's consent_verify host function with the consent groups on chain
// (package consent). It implements state.Contracts and state.BlockScoped;
// chain/node wires it into the state executor.
//
// # Usage
//
//	eng, err := vm.NewEngine(ctx, cfg)        // one per node; cfg.CacheDir under the data dir
//	rt := contracts.New(eng, genesis.ChainID)
//	ex := &state.Executor{Params: p, Contracts: rt}
//	res, err := ex.Apply(committed, prevRoot, blk)   // one vm.Session per block
//	...
//	out, err := rt.Query(ctx, committed, bc, contracts.Query{Contract: addr, Method: "get"})
//	info, err := rt.Info(ctx, committed, addr)
//	eng.Close(ctx)                            // after the last Apply and Query
//
// # Execution
//
// Apply calls BeginBlock, which opens one vm.Session for the block: the
// first call to a contract in the block instantiates it, later calls reuse
// the instance, a failed call discards it (see package vm). The session is
// closed when the block ends, so the instance history is a function of the
// block's transactions in order, the same on every validator and on a
// validator that re-executes the block after a restart. Each transaction
// writes to its own overlay of the block's state; the executor drops it if
// Execute fails, so a failed transaction changes nothing but its nonce.
//
// A storage error or a closed engine is a fault of the node, not of the
// transaction: Execute wraps state.ErrNodeFault and the block is not
// committed.
//
// # Transactions
//
// deploy (block.DeployPayload): the code is validated, instrumented and
// compiled (vm.Engine.Compile) and refused with the VM's specific error
// (vm.ErrInvalidModule, vm.ErrForbiddenImport, vm.ErrNoMethods,
// vm.ErrInitFailed, vm.ErrCodeTooLarge) in the failed receipt. The code is
// stored once per SHA-256 hash; the contract record (Contract) at the
// address block.ContractAddress(sender, nonce). The result is the 32-byte
// address; the event "contract.deployed" carries address ‖ code hash.
// Policies: immutable (Owner empty), owner (Owner empty = the deployer, or
// the 32-byte key of a registered active member), group (Owner = the
// 32-byte id of a consent group registered on chain).
//
// call (block.CallPayload): runs the method with the transaction's gas
// left after the intrinsic gas. The contract sees the sender's key, org
// and role, the block height and time and the transaction hash; its state
// is vm.Prefixed with state.StoragePrefix(address), so no key it can name
// is outside its namespace. The result is the method's output; events are
// the contract's (source = the contract address) after the chain's
// "consent.used" events (source zero).
//
// upgrade (block.UpgradePayload): replaces the code under the contract's
// policy: immutable refuses; owner needs the owner as sender (and no
// consent); group needs a consent of the owner group, meaning
// consent.MeaningApproveUpgrade, for UpgradeAction (contract address ‖ new
// code hash) on this chain, single-use like any consent; the sender does
// not matter. The new code is checked as at deploy. Storage is kept, and
// so are seals: no code version can write a sealed key. Event
// "contract.upgraded": address ‖ old code hash ‖ new code hash.
//
// # Governance
//
// The govern host function (vm.Governor) hands the running contract's
// upgrades to a registered consent group: an owner-policy contract
// becomes group-policy with that group when the call's sender is its
// owner; a group-policy contract is unchanged for the same group and
// moves to another group only if the call verified a consent of the
// current group before (consent_verify); an immutable contract stays
// immutable (no change). Anything else fails the call (vm.CodeDenied,
// ErrGovern). Event "contract.governed": address ‖ old owner bytes ‖ new
// group id. trial-protocol governs itself at registration.
//
// # Seals
//
// state_seal records a seal in vm.SealStore's layout under
// state.SealPrefix(address) (z ‖ address ‖ 'k'|'p' ‖ key → height), in
// the transaction's overlay; the VM refuses a write or delete of a sealed
// key with vm.CodeSealed. The contract's own keys are under
// state.StoragePrefix, so it cannot name a seal record; no transaction
// kind writes either namespace otherwise. A block loads each contract's
// sealed prefixes once, at its first call of the contract (at most 256;
// vm.PrefixSeals), so the checks of a write look up its key and only
// those of its separator-prefixes that may be sealed; the gas is the
// same as with every lookup made.
//
// consent-group (payload: the group's canonical encoding, group.bin):
// registers a consent.Group under its id (SHA-256 of the encoding).
// Every party's member key must be an active member (ErrGroupParty): an
// approver is a person the chain knows. Groups are immutable:
// registering the same id twice is refused. Result:
// the group id; event "consent.group": the group id.
//
// # Who may send what
//
// Admission (state.Allowed) enforces least privilege per kind:
//
//	deploy, upgrade   admin, sponsor (sponsors own trial protocols; operators run nodes, not business logic)
//	consent-group     admin, sponsor, site, committee (the parties that set up amendment,
//	                  sign-off and data-access boards); not regulator, operator, researcher, subject
//	call              every active member; the contract checks the caller's role itself
//	                  (contract.RequireRole), since only it knows which method needs which role
//
// Beyond admission, upgrade needs the contract's policy (above). Queries
// are read-only and unauthenticated: they see a zero caller key and an
// empty org and role.
//
// # Consent
//
// consent_verify(group, meaning, msg, sig) in a call verifies that sig is
// the canonical encoding of a consent (consent.Consent) of the group whose
// id is the 64-hex string group, registered on chain, for this chain id
// and the action CallAction(contract address, method, msg): a consent is
// bound to the contract and method it is used in, and to msg, which the
// contract chooses (e.g. the amendment document, or its hash). Its meaning
// must be exactly the meaning the method requires: otherwise it is
// refused (ErrWrongMeaning) and the reason names every signer and the
// meaning they signed ("REJECT amendment" never counts as an approval). On success the consent id (consent.Consent.ID)
// is marked used in state (state.UsedConsentKey → height) in the
// transaction's overlay and a "consent.used" event is added: a second use,
// in this or any later transaction, is refused; a call that fails records
// nothing. The host function returns 0 for every refusal; if the call then
// fails, the receipt's error ends with the reason of the last refusal.
//
// # Gas
//
// Deploy and upgrade pay, beyond the intrinsic gas (state.IntrinsicGas,
// per payload byte), GasCodePerByte per byte of code (validation and
// compilation) and state.GasPerStorage per byte stored (the code only if
// its hash is new, and the record); the gas is charged before compiling,
// so a limit too low is refused without compiling. A group registration
// pays state.GasPerStorage per byte; a consent verification outside the VM
// (group upgrade) GasConsentVerify. A call pays what the VM meters. Every
// consent verification (in consent_verify or an upgrade) also pays for
// its work, priced from the decoded consent before the signature checks:
// (GasConsentKey + GasConsentSigner per signer) × (key bytes / 256)²; a
// consent already used is refused before that is charged.
//
// # State layout
//
// Keys are those of chain/state/keys.go: c ‖ address → Contract.Encode;
// k ‖ code hash → code; s ‖ address ‖ key → the contract's own values;
// g ‖ group id → group encoding; u ‖ consent id → height (8 bytes, BE);
// z ‖ address ‖ kind ‖ key → height (seals, see Seals).
package contracts
