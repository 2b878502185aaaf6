package contracts

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/vm"
)

// Gas charged by this package, beyond the intrinsic gas and the VM's
// metering (see the package doc).
const (
	// GasCodePerByte is charged per byte of code at deploy and upgrade, for
	// validating, instrumenting and compiling it.
	GasCodePerByte = 4
	// GasConsentVerify is the base price of verifying a consent outside
	// the VM (an upgrade under a group policy); it equals the VM's price of
	// the consent_verify host call. Both add consentGas.
	GasConsentVerify = 200_000
	// GasConsentKey and GasConsentSigner price a consent verification's
	// work for a 2048-bit group key: the key's part (two RSA-PSS
	// verifications, the padding) and each signer's (an ed25519
	// attestation, a share's exponentiation in the combination). Both grow
	// with the square of the key size (see consentGas). Measured with
	// BenchmarkVerifyEncodedSigners in chain/consent: 3 signers 0.56 ms,
	// 5 signers 0.75 ms on the 2-core test machine.
	GasConsentKey    = 100_000
	GasConsentSigner = 120_000
)

// consentGas is the price of verifying a consent with signers signers and
// a signature (the size of the group's RSA modulus) of sigBytes bytes, on
// top of GasConsentVerify: charged before the signature checks, once the
// consent has been decoded (cheap), so the work done is always paid.
func consentGas(signers, sigBytes int) uint64 {
	k2 := uint64(sigBytes) * uint64(sigBytes) // modulus size squared, in units of 256 bytes squared
	return (GasConsentKey + GasConsentSigner*uint64(signers)) * k2 / (256 * 256)
}

// Runtime executes contract transactions on a vm.Engine. It implements
// state.Contracts and state.BlockScoped, and is safe for concurrent use
// (each block, and each query, gets its own vm.Session).
type Runtime struct {
	engine  *vm.Engine
	chainID string
	delay   int64 // activation delay, ms (SetActivationDelay)
	// valGroup and valGenesis govern validator changes (SetValidators).
	valGroup   block.Hash
	valGenesis *genesis.Set

	mu      sync.Mutex
	modules map[block.Hash]*vm.Module // by code hash: a call neither reads nor hashes the code again
}

// New returns a Runtime that runs contracts on engine for the chain
// chainID (consents are verified for it). The caller owns engine and
// closes it after the last Apply or Query.
func New(engine *vm.Engine, chainID string) *Runtime {
	return &Runtime{engine: engine, chainID: chainID, modules: make(map[block.Hash]*vm.Module)}
}

// SetActivationDelay sets how long after its deploy or upgrade block new
// code starts to run (genesis parameter code_activation_delay; consensus:
// equal on every validator). Every node compiles the code in the
// background meanwhile, so no block waits for a compiler. 0 (the default
// of New, for tests) activates code at once: the first call compiles it.
func (rt *Runtime) SetActivationDelay(ms int64) *Runtime {
	rt.delay = max(ms, 0)
	return rt
}

// PrepareTx starts compiling the code of a deploy or upgrade in the
// background (vm.Engine.Prepare) and returns at once; other kinds are
// ignored. The node calls it when it admits, proposes or verifies one.
// Refusals are remembered; execution checks again.
func (rt *Runtime) PrepareTx(tx *block.Tx) {
	switch tx.Kind {
	case block.KindDeploy:
		if p, err := block.DecodeDeploy(tx.Payload); err == nil {
			rt.engine.Prepare(p.Code)
		}
	case block.KindUpgrade:
		if p, err := block.DecodeUpgrade(tx.Payload); err == nil {
			rt.engine.Prepare(p.Code)
		}
	}
}

// Engine returns the VM engine.
func (rt *Runtime) Engine() *vm.Engine { return rt.engine }

// BeginBlock implements state.BlockScoped: it opens the block's vm.Session;
// end closes it.
func (rt *Runtime) BeginBlock(bc state.BlockContext) (state.Contracts, func()) {
	b := rt.begin(bc)
	return b, b.end
}

// Execute implements state.Contracts for a transaction executed outside a
// block scope: it runs in a session of its own. The executor uses
// BeginBlock instead.
func (rt *Runtime) Execute(bc state.BlockContext, ov *state.Overlay, tx *block.Tx, txHash block.Hash, sender *state.Member, gasLeft uint64) ([]byte, []block.Event, uint64, error) {
	b := rt.begin(bc)
	defer b.end()
	return b.Execute(bc, ov, tx, txHash, sender, gasLeft)
}

func (rt *Runtime) begin(bc state.BlockContext) *blockRunner {
	return &blockRunner{rt: rt, sess: rt.engine.NewSession(vm.BlockInfo{Height: bc.Height, TimeUnixMilli: bc.TimeUnixMilli}),
		prefixes: &blockPrefixes{byContract: make(map[block.Hash]*vm.PrefixSeals)}}
}

// blockRunner executes the contract transactions of one block in order.
type blockRunner struct {
	rt       *Runtime
	sess     *vm.Session
	prefixes *blockPrefixes
}

// blockPrefixes holds, per contract called in a block, the sealed
// prefixes its seal store had when the block first called it and those
// its calls sealed since (vm.PrefixSeals: a superset, so that a write
// looks up only the prefixes of its key that may be sealed). Loaded once
// per contract per block, from the block's state: seals only ever grow,
// and within the block every seal passes through a vm.SealStore that
// records it.
type blockPrefixes struct {
	byContract map[block.Hash]*vm.PrefixSeals // nil value: more than maxPrefixSeals, look every prefix up
}

// maxPrefixSeals bounds the sealed prefixes a block loads per contract:
// beyond it every prefix is looked up, as without the set.
const maxPrefixSeals = 256

// of returns contract's prefix seals, loading them through seals on the
// block's first call of it.
func (bp *blockPrefixes) of(contract block.Hash, seals vm.KV) (*vm.PrefixSeals, error) {
	if p, ok := bp.byContract[contract]; ok {
		return p, nil
	}
	p, err := vm.LoadPrefixSeals(seals, maxPrefixSeals)
	if err != nil {
		return nil, err
	}
	bp.byContract[contract] = p
	return p, nil
}

func (b *blockRunner) end() { _ = b.sess.Close(context.Background()) }

// nodeFault marks err as a failure of this node (state.ErrNodeFault).
func nodeFault(err error) error { return fmt.Errorf("%w: %w", state.ErrNodeFault, err) }

// Execute implements state.Contracts.
func (b *blockRunner) Execute(bc state.BlockContext, ov *state.Overlay, tx *block.Tx, txHash block.Hash, sender *state.Member, gasLeft uint64) ([]byte, []block.Event, uint64, error) {
	m := &meter{limit: gasLeft}
	var (
		out    []byte
		events []block.Event
		err    error
	)
	switch tx.Kind {
	case block.KindDeploy:
		out, events, err = b.deploy(bc, ov, tx, m)
	case block.KindCall:
		out, events, err = b.call(bc, ov, tx, txHash, sender, m)
	case block.KindUpgrade:
		out, events, err = b.upgrade(bc, ov, tx, m)
	case block.KindConsentGroup:
		out, events, err = b.registerGroup(ov, tx, m)
	case block.KindValidator:
		out, events, err = b.changeValidators(bc, ov, tx, m)
	default:
		err = fmt.Errorf("contracts: %s is not a contract transaction", tx.Kind)
	}
	if err != nil {
		return nil, nil, m.used, err
	}
	return out, events, m.used, nil
}

// meter counts gas against a limit.
type meter struct{ used, limit uint64 }

// charge adds n; beyond the limit it uses the whole limit and fails.
func (m *meter) charge(n uint64, what string) error {
	if n > m.limit-m.used {
		need := m.used + n
		m.used = m.limit
		return fmt.Errorf("%w: %s needs %d gas, %d left after the intrinsic gas", ErrOutOfGas, what, need, m.limit)
	}
	m.used += n
	return nil
}

func (b *blockRunner) deploy(bc state.BlockContext, ov *state.Overlay, tx *block.Tx, m *meter) ([]byte, []block.Event, error) {
	p, err := block.DecodeDeploy(tx.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("contracts: deploy: %w", err)
	}
	owner, err := checkPolicy(ov, p.Policy, p.Owner, tx.Sender)
	if err != nil {
		return nil, nil, fmt.Errorf("contracts: deploy: %w", err)
	}
	addr := block.ContractAddress(tx.Sender, tx.Nonce)
	rec := &Contract{Address: addr, CodeHash: block.Sum(p.Code), Deployer: tx.Sender, Policy: p.Policy,
		Owner: owner, Label: p.Label, Height: bc.Height, Active: bc.TimeUnixMilli + b.rt.delay}
	if err := b.storeCode(ov, p.Code, rec, m, "deploy"); err != nil {
		return nil, nil, err
	}
	if _, ok, err := ov.Get(state.ContractKey(addr)); err != nil {
		return nil, nil, nodeFault(fmt.Errorf("contracts: read contract %s: %w", addr, err))
	} else if ok { // unreachable: a (sender, nonce) is used once
		return nil, nil, fmt.Errorf("contracts: deploy: a contract exists at %s", addr)
	}
	ov.Set(state.ContractKey(addr), rec.Encode())
	ov.JoinScope(state.CodeScope(addr))
	data := append(append([]byte(nil), addr[:]...), rec.CodeHash[:]...)
	return addr[:], []block.Event{{Type: "contract.deployed", Data: data}}, nil
}

// storeCode charges for code and rec, checks code (vm.Engine.Check: no
// compiler runs here), stores it under its hash if it is new, and starts
// its compilation in the background. what names the transaction in errors.
func (b *blockRunner) storeCode(ov *state.Overlay, code []byte, rec *Contract, m *meter, what string) error {
	_, have, err := ov.Get(state.CodeKey(rec.CodeHash))
	if err != nil {
		return nodeFault(fmt.Errorf("contracts: read code %s: %w", rec.CodeHash, err))
	}
	gas := GasCodePerByte*uint64(len(code)) + state.GasPerStorage*uint64(len(rec.Encode()))
	if !have {
		gas += state.GasPerStorage * uint64(len(code))
	}
	if err := m.charge(gas, fmt.Sprintf("%s of %d bytes of code", what, len(code))); err != nil {
		return err
	}
	if _, err := b.rt.engine.Check(code); err != nil {
		if isModuleError(err) {
			return fmt.Errorf("contracts: %s refused: %w", what, err)
		}
		return nodeFault(fmt.Errorf("contracts: %s: check: %w", what, err))
	}
	b.rt.engine.Prepare(code)
	if !have {
		ov.Set(state.CodeKey(rec.CodeHash), code)
	}
	return nil
}

// isModuleError reports whether err is the VM refusing the module (a
// deterministic outcome), rather than a failure of this node.
func isModuleError(err error) bool {
	for _, e := range []error{vm.ErrCodeTooLarge, vm.ErrInvalidModule, vm.ErrForbiddenImport, vm.ErrNoMethods, vm.ErrInitFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// checkPolicy validates a deploy's policy and returns the owner to record.
func checkPolicy(r state.Reader, p block.Policy, owner []byte, deployer ed25519.PublicKey) ([]byte, error) {
	switch p {
	case block.PolicyImmutable:
		if len(owner) != 0 {
			return nil, fmt.Errorf("%w: an immutable contract has no owner (%d bytes given)", ErrBadPolicy, len(owner))
		}
		return nil, nil
	case block.PolicyOwner:
		if len(owner) == 0 {
			return append([]byte(nil), deployer...), nil
		}
		if len(owner) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: owner must be a 32-byte member key, have %d bytes", ErrBadPolicy, len(owner))
		}
		mem, ok, err := state.LookupMember(r, owner)
		if err != nil {
			return nil, nodeFault(fmt.Errorf("contracts: read member: %w", err))
		}
		if !ok || mem.Revoked {
			return nil, fmt.Errorf("%w: owner %x is not an active member", ErrBadPolicy, owner)
		}
		return append([]byte(nil), owner...), nil
	case block.PolicyGroup:
		if len(owner) != block.HashSize {
			return nil, fmt.Errorf("%w: the group policy needs the 32-byte consent group id, have %d bytes", ErrBadPolicy, len(owner))
		}
		if _, ok, err := r.Get(state.GroupKey(block.Hash(owner))); err != nil {
			return nil, nodeFault(fmt.Errorf("contracts: read consent group: %w", err))
		} else if !ok {
			return nil, fmt.Errorf("%w: %w: %x", ErrBadPolicy, ErrNoGroup, owner)
		}
		return append([]byte(nil), owner...), nil
	}
	return nil, fmt.Errorf("%w: %s", ErrBadPolicy, p)
}

func (b *blockRunner) call(bc state.BlockContext, ov *state.Overlay, tx *block.Tx, txHash block.Hash, sender *state.Member, m *meter) ([]byte, []block.Event, error) {
	p, err := block.DecodeCall(tx.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("contracts: call: %w", err)
	}
	return b.rt.run(context.Background(), b.sess, b.prefixes, bc, ov, &invocation{
		contract: p.Contract, method: p.Method, args: p.Args,
		caller: tx.Sender, org: sender.Org, role: sender.Role.String(), txHash: txHash,
	}, m)
}

// invocation is one contract method call, from a transaction or a query.
type invocation struct {
	contract  block.Hash
	method    string
	args      []byte
	caller    ed25519.PublicKey
	org, role string
	txHash    block.Hash
}

// run executes inv in sess against ov (the transaction's or query's
// overlay) and charges m. prefixes is the block's (nil: a query, whose
// seal checks look every prefix up).
func (rt *Runtime) run(ctx context.Context, sess *vm.Session, prefixes *blockPrefixes, bc state.BlockContext, ov *state.Overlay, inv *invocation, m *meter) ([]byte, []block.Event, error) {
	rec, err := Lookup(ov, inv.contract)
	if errors.Is(err, ErrNoContract) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, nodeFault(err)
	}
	running, ok := rec.Running(bc.TimeUnixMilli)
	if !ok {
		return nil, nil, fmt.Errorf("%w: contract %s runs from block time %d (Unix ms; its code is being compiled on every node), %d ms after this block",
			ErrNotActive, rec.Address, rec.Active, rec.Active-bc.TimeUnixMilli)
	}
	mod, err := rt.module(ctx, ov, rec, running)
	if err != nil {
		if isModuleError(err) {
			// Check accepted it, the compiler or its initialisation did not:
			// the same on every node (a pure function of the code).
			if cerr := m.charge(rt.engine.Config().Gas.Instantiate, "loading the module"); cerr != nil {
				return nil, nil, cerr
			}
			return nil, nil, fmt.Errorf("%w: %w", ErrCannotRun, err)
		}
		return nil, nil, nodeFault(err)
	}
	cc := &consentCheck{ov: ov, chainID: rt.chainID, contract: inv.contract, method: inv.method, height: bc.Height}
	gv := &governor{ov: ov, rec: rec, caller: inv.caller, cc: cc}
	// Seals go straight to the transaction's overlay: dropped with it if
	// the call fails, like a used consent.
	seals := vm.NewSealStore(vm.Prefixed(stateKV{ov}, state.SealPrefix(inv.contract)), bc.Height)
	if prefixes != nil {
		p, err := prefixes.of(inv.contract, vm.Prefixed(stateKV{ov}, state.SealPrefix(inv.contract)))
		if err != nil {
			return nil, nil, nodeFault(fmt.Errorf("contracts: %w", err))
		}
		seals.WithPrefixes(p)
	}
	res, err := sess.Call(ctx, mod, &vm.Call{
		Contract: inv.contract, Caller: inv.caller, CallerOrg: inv.org, CallerRole: inv.role, TxHash: inv.txHash,
		Method: inv.method, Args: inv.args, GasLimit: m.limit - m.used,
		KV:            vm.Prefixed(stateKV{ov}, state.StoragePrefix(inv.contract)),
		ConsentVerify: cc.verify,
		Seals:         seals,
		Govern:        gv.govern,
	})
	if err != nil {
		return nil, nil, nodeFault(fmt.Errorf("contracts: call %s.%s: %w", inv.contract, inv.method, err))
	}
	if cc.nodeErr != nil {
		return nil, nil, nodeFault(cc.nodeErr)
	}
	if gv.nodeErr != nil {
		return nil, nil, nodeFault(gv.nodeErr)
	}
	for _, name := range res.Scopes { // held even if the call failed (the VM checked the names)
		ov.JoinScope(name)
	}
	m.used += min(res.GasUsed, m.limit-m.used)
	if res.Err != nil {
		if cc.lastErr != nil {
			return nil, nil, fmt.Errorf("%w (consent_verify: %w)", res.Err, cc.lastErr)
		}
		return nil, nil, res.Err
	}
	events := append(cc.events, gv.events...)
	for _, e := range res.Events {
		if len(e.Topic) > block.MaxNameBytes {
			return nil, nil, fmt.Errorf("%w: topic of %d bytes exceeds %d", ErrBadEvent, len(e.Topic), block.MaxNameBytes)
		}
		events = append(events, block.Event{Source: inv.contract, Type: e.Topic, Data: e.Data})
	}
	if len(events) > block.MaxEvents {
		return nil, nil, fmt.Errorf("%w: %d events exceed %d", ErrBadEvent, len(events), block.MaxEvents)
	}
	size := 0
	for _, e := range events {
		size += len(e.Type) + len(e.Data)
	}
	if size > block.MaxReceiptEventBytes {
		return nil, nil, fmt.Errorf("%w: %d events of %d bytes exceed %d", ErrReceiptSize, len(events), size, block.MaxReceiptEventBytes)
	}
	return res.Output, events, nil
}

// module returns the compiled module of rec's code h: from the runtime's
// map, else read from r and compiled (waiting for the background
// compilation if it is under way; a cache hit of the engine, in memory or
// on disk, after the first time).
func (rt *Runtime) module(ctx context.Context, r state.Reader, rec *Contract, h block.Hash) (*vm.Module, error) {
	rt.mu.Lock()
	m := rt.modules[h]
	rt.mu.Unlock()
	if m != nil {
		return m, nil
	}
	code, err := codeByHash(r, rec, h)
	if err != nil {
		return nil, err
	}
	if m, err = rt.engine.Compile(ctx, code); err != nil {
		return nil, fmt.Errorf("contracts: load contract %s: %w", rec.Address, err)
	}
	rt.mu.Lock()
	rt.modules[h] = m
	rt.mu.Unlock()
	return m, nil
}

func (b *blockRunner) upgrade(bc state.BlockContext, ov *state.Overlay, tx *block.Tx, m *meter) ([]byte, []block.Event, error) {
	p, err := block.DecodeUpgrade(tx.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("contracts: upgrade: %w", err)
	}
	rec, err := Lookup(ov, p.Contract)
	if errors.Is(err, ErrNoContract) {
		return nil, nil, fmt.Errorf("contracts: upgrade: %w", err)
	}
	if err != nil {
		return nil, nil, nodeFault(err)
	}
	newHash := block.Sum(p.Code)
	if newHash == rec.CodeHash {
		return nil, nil, fmt.Errorf("contracts: upgrade: contract %s already runs code %s", rec.Address, newHash)
	}
	var events []block.Event
	switch rec.Policy {
	case block.PolicyOwner:
		if !bytes.Equal(tx.Sender, rec.Owner) {
			return nil, nil, fmt.Errorf("%w: only the owner %x may upgrade %s", ErrNotAllowed, rec.Owner, rec.Address)
		}
		if len(p.Consent) != 0 {
			return nil, nil, fmt.Errorf("%w: contract %s is upgraded by its owner; a consent is not expected", ErrNotAllowed, rec.Address)
		}
	case block.PolicyGroup:
		if len(p.Consent) == 0 {
			return nil, nil, fmt.Errorf("%w: contract %s is governed by consent group %s%s: an upgrade needs that group's threshold consent (meaning %q) for the new code %s; no single party, its owner or deployer included, can upgrade it alone",
				ErrNotAllowed, rec.Address, block.Hash(rec.Owner), groupName(ov, block.Hash(rec.Owner)), consent.MeaningApproveUpgrade, newHash)
		}
		if err := m.charge(GasConsentVerify+state.GasPerStorage*8, "consent verification"); err != nil {
			return nil, nil, err
		}
		cc := &consentCheck{ov: ov, chainID: b.rt.chainID, height: bc.Height}
		pay := func(gas uint64) error { return m.charge(gas, "consent verification") }
		if err := cc.check(block.Hash(rec.Owner), UpgradeAction(rec.Address, newHash), p.Consent, consent.MeaningApproveUpgrade, pay); err != nil {
			if cc.nodeErr != nil {
				return nil, nil, nodeFault(cc.nodeErr)
			}
			if errors.Is(err, ErrOutOfGas) {
				return nil, nil, err
			}
			return nil, nil, fmt.Errorf("%w: %w", ErrNotAllowed, err)
		}
		events = cc.events
	default:
		return nil, nil, fmt.Errorf("%w: contract %s is %s", ErrNotAllowed, rec.Address, rec.Policy)
	}
	old := rec.CodeHash
	rec.Previous, _ = rec.Running(bc.TimeUnixMilli) // runs until the new code is active
	rec.CodeHash, rec.Upgraded, rec.Active = newHash, bc.Height, bc.TimeUnixMilli+b.rt.delay
	if err := b.storeCode(ov, p.Code, rec, m, "upgrade"); err != nil {
		return nil, nil, err
	}
	ov.Set(state.ContractKey(rec.Address), rec.Encode())
	ov.JoinScope(state.CodeScope(rec.Address))
	data := append(append(append([]byte(nil), rec.Address[:]...), old[:]...), newHash[:]...)
	events = append(events, block.Event{Type: "contract.upgraded", Data: data})
	return newHash[:], events, nil
}

func (b *blockRunner) registerGroup(ov *state.Overlay, tx *block.Tx, m *meter) ([]byte, []block.Event, error) {
	g, err := consent.ParseGroup(tx.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("contracts: consent group: %w", err)
	}
	enc, err := g.MarshalBinary()
	if err != nil {
		return nil, nil, fmt.Errorf("contracts: consent group: %w", err)
	}
	id := block.Hash(g.ID())
	if err := m.charge(state.GasPerStorage*uint64(len(enc)), "storing the consent group"); err != nil {
		return nil, nil, err
	}
	for _, party := range g.Parties { // an approver is a person the chain knows, not a key anyone made up
		mem, ok, err := state.LookupMember(ov, party.MemberKey)
		if err != nil {
			return nil, nil, nodeFault(fmt.Errorf("contracts: read member: %w", err))
		}
		if !ok || mem.Revoked {
			return nil, nil, fmt.Errorf("%w: party %d (%s) of group %q: member key %x is not an active member of this chain; register it first",
				ErrGroupParty, party.Index, party.Name, g.Name, []byte(party.MemberKey))
		}
	}
	if _, ok, err := ov.Get(state.GroupKey(id)); err != nil {
		return nil, nil, nodeFault(fmt.Errorf("contracts: read consent group: %w", err))
	} else if ok {
		return nil, nil, fmt.Errorf("%w: %s (%s)", ErrGroupExists, id, g.Name)
	}
	ov.Set(state.GroupKey(id), enc)
	return id[:], []block.Event{{Type: "consent.group", Data: id[:]}}, nil
}

// consentCheck backs consent_verify for one call (or checks an upgrade's
// consent). Used consents are marked in ov, the transaction's overlay.
type consentCheck struct {
	ov       *state.Overlay
	chainID  string
	contract block.Hash
	method   string
	height   uint64

	events   []block.Event // one "consent.used" per accepted consent
	verified []block.Hash  // the groups whose consent this call verified, in order
	lastErr  error         // the reason of the last refusal
	nodeErr  error         // a read failure: the call's outcome is void
}

// verify implements vm.ConsentVerifier: group is the 64-hex group id.
func (c *consentCheck) verify(group, meaning string, msg, sig []byte, charge func(uint64) bool) error {
	id, err := block.ParseHash(group)
	if err != nil {
		c.lastErr = fmt.Errorf("%w: group must be the 64-hex consent group id: %w", ErrConsentRefuse, err)
		return c.lastErr
	}
	pay := func(gas uint64) error {
		if !charge(gas) {
			return errConsentGas
		}
		return nil
	}
	if err := c.check(id, CallAction(c.contract, c.method, msg), sig, meaning, pay); err != nil {
		c.lastErr = err
		return err
	}
	c.verified = append(c.verified, id)
	return nil
}

// errConsentGas: the call could not pay for a consent's verification (the
// VM then fails the call out of gas).
var errConsentGas = errors.New("contracts: out of gas for the consent verification")

// check verifies consentBytes for action by group id with the meaning
// the caller requires, refuses a used consent, and marks it used (so a
// consent attached twice, even in one call, counts once). It pays
// consentGas with charge before the signature checks.
func (c *consentCheck) check(id block.Hash, action consent.Action, consentBytes []byte, meaning string, charge func(uint64) error) error {
	// "Already used" first, from the decoded consent alone: a replayed
	// consent costs a decode and a read, never the signature checks.
	parsed, err := consent.ParseConsent(consentBytes)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConsentRefuse, err)
	}
	cid := block.Hash(parsed.ID())
	at, used, err := ConsentUsed(c.ov, cid)
	if err != nil {
		c.nodeErr = err
		return err
	}
	if used {
		return fmt.Errorf("%w: consent %s was used at height %d", ErrConsentUsed, cid, at)
	}
	gb, err := groupBytes(c.ov, id)
	if errors.Is(err, ErrNoGroup) {
		return fmt.Errorf("%w: %w", ErrConsentRefuse, err)
	}
	if err != nil {
		c.nodeErr = err
		return err
	}
	if err := charge(consentGas(len(parsed.Signers), len(parsed.Signature))); err != nil {
		return err
	}
	cons, signers, err := consent.VerifyEncoded(gb, c.chainID, action, consentBytes)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConsentRefuse, err)
	}
	if cons.Request.Meaning != meaning {
		// Every signer signed the consent's meaning (the threshold signature
		// and each attestation cover it), so every listed signer differs.
		names := make([]string, len(signers))
		for i, s := range signers {
			names[i] = fmt.Sprintf("%s (party %d, %q)", s.Manifestation.PrintedName, s.Party, s.Manifestation.Meaning)
		}
		return fmt.Errorf("%w: %w: this needs signers meaning %q, but %s signed meaning %q",
			ErrConsentRefuse, ErrWrongMeaning, meaning, strings.Join(names, ", "), cons.Request.Meaning)
	}
	if block.Hash(cons.ID()) != cid { // the same bytes: cannot differ
		return fmt.Errorf("%w: consent id changed in verification", ErrConsentRefuse)
	}
	c.ov.Set(state.UsedConsentKey(cid), binary.BigEndian.AppendUint64(nil, c.height))
	c.events = append(c.events, block.Event{Type: "consent.used", Data: usedEvent(cid, id, cons.Request.Meaning, signers)})
	return nil
}

// usedEvent encodes a "consent.used" event: consent id 32 ‖ group id 32 ‖
// meaning string ‖ uvarint count ‖ per signer: party uvarint ‖ name string ‖
// printed name string ‖ time (Unix ms, 8).
func usedEvent(cid, gid block.Hash, meaning string, signers []consent.Signer) []byte {
	var w block.Writer
	w.Fixed(cid[:])
	w.Fixed(gid[:])
	w.String(meaning)
	w.Uvarint(uint64(len(signers)))
	for _, s := range signers {
		w.Uvarint(uint64(s.Party))
		w.String(s.Name)
		w.String(s.Manifestation.PrintedName)
		w.Int64(s.Manifestation.Time.UnixMilli())
	}
	return w.Bytes()
}

// stateKV adapts a state overlay to vm.KV.
type stateKV struct{ ov *state.Overlay }

func (s stateKV) Get(k []byte) ([]byte, bool, error) { return s.ov.Get(k) }
func (s stateKV) Set(k, v []byte) error              { s.ov.Set(k, v); return nil }
func (s stateKV) Delete(k []byte) error              { s.ov.Delete(k); return nil }

// Iterate implements vm.KV. It seeks to start (state.Seeker: the block's
// overlay, then Pebble), so a page of a scan costs the entries it returns,
// not the keys before it.
func (s stateKV) Iterate(prefix, start []byte, fn func(k, v []byte) bool) error {
	return s.ov.IterateFrom(prefix, start, fn)
}
