package state

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/smt"
)

// Gas charged by the chain itself, before any contract runs.
const (
	GasBase       = 1000 // every transaction
	GasPerByte    = 8    // per payload byte
	GasPerStorage = 20   // per byte written to state by the chain
)

// IntrinsicGas is the gas a transaction costs before execution: admission
// refuses a gas limit below it, so system transactions never run out.
func IntrinsicGas(tx *block.Tx) uint64 {
	return GasBase + GasPerByte*uint64(len(tx.Payload))
}

// BlockContext is what execution may observe about the block: nothing
// else (no clock, no randomness, no node identity).
type BlockContext struct {
	Height        uint64
	TimeUnixMilli int64
	Proposer      uint64
}

// Contracts executes the kinds other than register and anchor (deploy,
// call, upgrade, consent-group); package chain/contracts implements it on
// the VM. A chain without one fails those transactions. Execute writes to
// ov only (dropped by Apply if it returns an error), must be deterministic,
// returns gasUsed <= gasLeft, and wraps ErrNodeFault for failures of the
// node rather than of the transaction.
type Contracts interface {
	Execute(bc BlockContext, ov *Overlay, tx *block.Tx, txHash block.Hash, sender *Member, gasLeft uint64) (result []byte, events []block.Event, gasUsed uint64, err error)
}

// BlockScoped is optionally implemented by a Contracts that keeps
// resources for the span of one block (the VM keeps one instance per
// contract per block). Apply calls BeginBlock before the block's first
// transaction, executes the block's contract transactions, in order, with
// the Contracts it returns, and calls end after the last one, so the
// lifetime of those resources is a function of the block alone. A
// Contracts that does not implement it is used as it is.
type BlockScoped interface {
	BeginBlock(bc BlockContext) (c Contracts, end func())
}

// ErrNodeFault marks an error of Contracts.Execute that is a failure of the
// node (a storage read error, a closed engine), not an outcome of the
// transaction: it would not happen on the other validators. Apply then
// fails the whole block instead of recording a failed receipt, and the
// caller must not commit it.
var ErrNodeFault = errors.New("state: node fault during execution")

// Executor applies blocks: the deterministic state transition. It does no
// I/O; the caller persists the result.
type Executor struct {
	Params    Params
	Contracts Contracts // may be nil
	// Cache, if set, remembers the stateless admission checks (a
	// transaction verified at admission or in a proposal is not verified
	// again when its block runs). It never changes a result.
	Cache *TxCache
	// Tree, if set, keeps the upper levels of the state tree in memory
	// between blocks (smt.Cache). It never changes a result.
	Tree *smt.Cache
}

// Committed is committed state: its key-value view and the nodes of its
// authenticated map (chain/smt), from which the next state root is
// computed. The node's store implements it; MemState does for tests and tools.
type Committed interface {
	Reader
	smt.NodeReader
}

// Result is the outcome of applying one block.
type Result struct {
	Writes    []Write // sorted by key
	Receipts  []*block.Receipt
	StateRoot block.Hash // root of the authenticated map after this block
	Nodes     []smt.Node // the map's new nodes, to store with the writes
}

// Apply executes b's transactions in order against base (the state after
// the previous block, whose root is prevRoot). A transaction that fails
// admission or execution gets a failed receipt and leaves no writes; the
// block goes on.
func (e *Executor) Apply(base Committed, prevRoot block.Hash, b *block.Block) (*Result, error) {
	bc := BlockContext{Height: b.Header.Height, TimeUnixMilli: b.Header.TimeUnixMilli, Proposer: b.Header.Proposer}
	blockOv := NewOverlay(base)
	res := &Result{Receipts: make([]*block.Receipt, 0, len(b.Txs))}
	contracts := e.Contracts
	if bs, ok := contracts.(BlockScoped); ok && len(b.Txs) > 0 {
		c, end := bs.BeginBlock(bc)
		defer end()
		contracts = c
	}
	// The stateless checks of all the transactions first: those this node
	// verified (a proposal it signed) come from the cache, the others (a
	// block fetched by catch-up) are verified in batches on every core. A
	// transaction that fails them (a quorum certified it anyway) is left
	// nil and checked again on its own below, for its receipt's error.
	checked, hashes, _, _ := e.Cache.CheckAll(e.Params, b.Txs, runtime.GOMAXPROCS(0))
	// One child overlay serves every transaction in turn (reset before
	// each): what a transaction wrote is merged into blockOv or dropped
	// before the next one runs.
	txOv := blockOv.Child()
	rcs := make([]block.Receipt, len(b.Txs)) // one allocation for the block's receipts
	evs := make([]block.Event, len(b.Txs))   // and for the anchors' events (one each)
	for i, raw := range b.Txs {
		rc := &rcs[i]
		*rc = block.Receipt{TxHash: hashes[i], Height: bc.Height, Index: uint64(i)}
		txOv.reset()
		tx, out, events, gas, err := e.applyTx(contracts, bc, blockOv, txOv, raw, rc.TxHash, uint64(i), checked[i], evs[i:i+1:i+1])
		if errors.Is(err, ErrNodeFault) {
			return nil, fmt.Errorf("state: block %d, transaction %d: %w", bc.Height, i, err)
		}
		if err != nil {
			rc.Status = block.StatusFailed
			rc.Error = truncate(err.Error(), block.MaxErrorBytes)
		} else {
			rc.Result, rc.Events = out, events
			blockOv.Merge(txOv)
		}
		// The record sets the transaction joined hold it, failed or not.
		if tx != nil && len(txOv.scopes) > 0 {
			scopeEvents, err := joinScopes(blockOv, txOv.scopes, tx, rc, bc)
			if err != nil {
				return nil, fmt.Errorf("state: block %d, transaction %d: %w", bc.Height, i, err)
			}
			rc.Events = append(rc.Events, scopeEvents...)
			// Charged within the limit: the VM already charged record_scope.
			gas = max(gas, min(gas+GasScopeJoin*uint64(len(scopeEvents)), tx.GasLimit))
		}
		rc.GasUsed = gas
		res.Receipts = append(res.Receipts, rc)
	}
	res.Writes = blockOv.Writes()
	root, nodes, err := nextRoot(base, e.Tree, prevRoot, res.Writes)
	if err != nil {
		return nil, fmt.Errorf("state: block %d: %w: %w", bc.Height, ErrNodeFault, err)
	}
	res.StateRoot, res.Nodes = root, nodes
	return res, nil
}

// applyTx applies the transaction raw, of hash txHash; tx is raw already
// through CheckTx with e.Params, or nil to check it here. ev (length and
// capacity 1) is the transaction's own room for an outcome of one event.
func (e *Executor) applyTx(contracts Contracts, bc BlockContext, blockOv, ov *Overlay, raw []byte, txHash block.Hash, index uint64, tx *block.Tx, ev []block.Event) (*block.Tx, []byte, []block.Event, uint64, error) {
	if tx == nil {
		var err error
		if tx, err = e.Cache.CheckHashed(e.Params, txHash, raw); err != nil {
			return nil, nil, nil, 0, err
		}
	}
	// Verification refuses such a block; this keeps execution to the rule
	// should a quorum certify one anyway (the nonce is not consumed).
	if err := CheckValidUntil(tx, bc.TimeUnixMilli); err != nil {
		return nil, nil, nil, 0, err
	}
	// The kinds below that act on their sender's record get it decoded.
	needSender := tx.Kind != block.KindRegister && tx.Kind != block.KindAnchor
	sender, nonceKey, err := checkSender(ov, tx, needSender)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	gas := IntrinsicGas(tx)
	// The nonce is consumed by any admitted transaction, failed or not, so
	// the same signed bytes can never run twice. It is written to the block
	// overlay directly so that a failed execution does not undo it.
	blockOv.markOwned(nonceKey) // built for this transaction by checkSender
	switch tx.Kind {
	case block.KindRegister:
		p, _ := block.DecodeRegister(tx.Payload)
		events, err := applyRegisterTx(ov, p, bc.Height)
		if err != nil {
			return tx, nil, nil, gas, err
		}
		return tx, nil, events, gas, nil
	case block.KindAnchor:
		doc, label, scopeBytes, _ := block.ParseAnchor(tx.Payload) // checked at admission
		scope := string(scopeBytes)
		if scope != "" {
			if err := ValidScopeName(scope); err != nil {
				return tx, nil, nil, gas, err
			}
		}
		a := Anchor{Doc: doc, Label: string(label), Sender: tx.Sender, Height: bc.Height, Index: index, TimeUnixMilli: bc.TimeUnixMilli, TxHash: txHash, Scope: scope}
		// Key and value in one buffer, handed to the overlay.
		key := anchorKey(doc, bc.Height, index)
		kv := append(make([]byte, 0, len(key)+a.encodedSize()), key...)
		kv = a.appendEncode(kv)
		v := kv[len(key):len(kv):len(kv)]
		gas += GasPerStorage * uint64(len(v))
		if gas > tx.GasLimit {
			return tx, nil, nil, tx.GasLimit, fmt.Errorf("out of gas: anchoring needs %d, limit %d", gas, tx.GasLimit)
		}
		ov.setOwned(kv[:len(key):len(key)], v)
		if scope != "" {
			ov.JoinScope(scope)
		}
		ev[0] = block.Event{Type: "anchored", Data: tx.Payload}
		return tx, tx.Payload[:block.HashSize:block.HashSize], ev, gas, nil
	case block.KindRedact:
		events, err := applyRedact(ov, tx, sender, bc, txHash, index, &gas)
		if err != nil {
			return tx, nil, nil, min(gas, tx.GasLimit), err
		}
		return tx, nil, events, gas, nil
	case block.KindPin:
		events, err := applyPin(ov, tx, sender, bc, txHash, index, &gas)
		if err != nil {
			return tx, nil, nil, min(gas, tx.GasLimit), err
		}
		return tx, nil, events, gas, nil
	default:
		if contracts == nil {
			return tx, nil, nil, gas, fmt.Errorf("%s transactions are not enabled on this node's chain version", tx.Kind)
		}
		out, events, used, err := contracts.Execute(bc, ov, tx, txHash, sender, tx.GasLimit-gas)
		return tx, out, events, gas + used, err
	}
}

// applyRegisterTx executes a register transaction: a registration, a
// revocation, or a key rotation (Replaces). Each key it changes joins that
// key's record set, so a verifier can replay a key's whole history.
func applyRegisterTx(ov *Overlay, p *block.RegisterPayload, height uint64) ([]block.Event, error) {
	if len(p.Replaces) == 0 {
		applyRegister(ov, p, height)
		ov.JoinScope(MemberScope(p.Key))
		verb := "registered"
		if p.Revoke {
			verb = "revoked"
		}
		return []block.Event{{Type: "member." + verb, Data: p.Encode()}}, nil
	}
	old, ok, err := LookupMember(ov, p.Replaces)
	if err != nil {
		return nil, fmt.Errorf("%w: read member: %w", ErrNodeFault, err)
	}
	if !ok || old.Revoked {
		return nil, fmt.Errorf("%w: key rotation: %x is not an active member", ErrForbidden, []byte(p.Replaces))
	}
	if _, taken, err := LookupMember(ov, p.Key); err != nil {
		return nil, fmt.Errorf("%w: read member: %w", ErrNodeFault, err)
	} else if taken {
		return nil, fmt.Errorf("%w: key rotation: the new key %x is already registered", ErrForbidden, []byte(p.Key))
	}
	if p.Org != old.Org || p.Role != old.Role {
		return nil, fmt.Errorf("%w: key rotation keeps the organisation and role (%s, %s), the payload says (%s, %s)", ErrForbidden, old.Org, old.Role, p.Org, p.Role)
	}
	applyRegister(ov, p, height)
	old.Revoked, old.Since = true, height
	ov.Set(MemberKey(old.Key), old.Encode())
	ov.JoinScope(MemberScope(p.Replaces))
	ov.JoinScope(MemberScope(p.Key))
	return []block.Event{{Type: "member.rotated", Data: p.Encode()}}, nil
}

// joinScopes appends the transaction to the record sets scopes, in the
// block's overlay, and returns the receipt's events naming them.
func joinScopes(blockOv *Overlay, scopes []string, tx *block.Tx, rc *block.Receipt, bc BlockContext) ([]block.Event, error) {
	kind := tx.Kind.String()
	if tx.Kind == block.KindCall {
		if c, err := block.DecodeCall(tx.Payload); err == nil {
			kind = "call:" + c.Method
		}
	}
	entry := &ScopeEntry{TxHash: rc.TxHash, Height: bc.Height, Index: rc.Index, Kind: truncate(kind, MaxScopeKindBytes)}
	events := make([]block.Event, 0, len(scopes))
	for _, name := range scopes {
		if err := AppendScope(blockOv, name, entry); err != nil {
			return nil, err
		}
		events = append(events, block.Event{Type: EventScope, Data: []byte(name)})
	}
	return events, nil
}

func applyRegister(ov *Overlay, p *block.RegisterPayload, height uint64) {
	m := &Member{Key: p.Key, Org: p.Org, Name: p.Name, Role: p.Role, Revoked: p.Revoke, Since: height}
	ov.Set(MemberKey(p.Key), m.Encode())
}

// Genesis returns the writes that create the initial members.
func Genesis(members []Member) []Write {
	ov := NewOverlay(MemKV{})
	for _, m := range members {
		m := m
		ov.Set(MemberKey(m.Key), m.Encode())
	}
	return ov.Writes()
}

// NextRoot is the state commitment after a block: the root of the sparse
// Merkle tree (chain/smt) over every state key → value, after the block's
// sorted write set is applied to the tree with root prev. Equal roots mean
// equal state, and a node proves any key's value or absence at a height
// against the root a certified header carries. It returns the tree's new
// nodes for the caller to store with the writes.
func NextRoot(tree smt.NodeReader, prev block.Hash, ws []Write) (block.Hash, []smt.Node, error) {
	return nextRoot(tree, nil, prev, ws)
}

// nextRoot is NextRoot, through cache if it is not nil.
func nextRoot(tree smt.NodeReader, cache *smt.Cache, prev block.Hash, ws []Write) (block.Hash, []smt.Node, error) {
	ups := make([]smt.Update, len(ws))
	for i, w := range ws {
		ups[i] = smt.Update{Key: w.Key, Value: w.Value, Delete: w.Delete}
	}
	apply := smt.Apply
	if cache != nil {
		apply = cache.Apply
	}
	root, nodes, err := apply(tree, prev, ups)
	if err != nil {
		return block.Hash{}, nil, fmt.Errorf("state root: %w", err)
	}
	return root, nodes, nil
}

// GenesisRoot is the state root of the genesis writes, with the tree's nodes.
func GenesisRoot(ws []Write) (block.Hash, []smt.Node, error) {
	return NextRoot(smt.MemStore{}, smt.Empty, ws)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
