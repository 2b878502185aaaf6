package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/trials/testgroups"
)

// fakeChain is a certified chain built in memory: real headers, receipts,
// record log and commit certificates of a 4-validator genesis, without
// consensus or execution (receipts are written as the chain would). It
// implements Source.
type fakeChain struct {
	g       *genesis.Genesis
	valKeys []ed25519.PrivateKey
	signers []uint64 // validators that sign certificates
	member  ed25519.PrivateKey
	nonce   uint64

	blocks   []*block.Committed // height h at index h-1
	receipts map[block.Hash]*block.Receipt
	logStart []uint64 // log size before block h, at index h-1
	log      proof.Frontier
	nodes    map[[2]uint64]block.Hash

	pending   [][]byte
	pendingRc []*block.Receipt
	now       int64

	// State: the record sets the chain keeps (nothing else), with a real
	// state root in each header.
	st    *state.MemState
	ov    *state.Overlay // the pending block's writes
	roots []block.Hash   // state root after block h at index h (0: genesis)

	anchorScope map[block.Hash]string // document → the set its anchor joined

	// hist, if set, names the validator set of each header (a chain whose
	// set changes, valset_test.go); nil: the genesis set throughout.
	hist *genesis.History
}

func newFakeChain(t testing.TB, seed byte) *fakeChain {
	t.Helper()
	fc := &fakeChain{g: &genesis.Genesis{ChainID: "bundle-test", Time: time.UnixMilli(1_760_000_000_000).UTC(), Params: genesis.DefaultParams()},
		receipts: map[block.Hash]*block.Receipt{}, nodes: map[[2]uint64]block.Hash{}, anchorScope: map[block.Hash]string{}, signers: []uint64{1, 2, 4}, now: 1_760_000_000_000}
	for i := 0; i < 4; i++ {
		k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed, byte(i)}, 16))
		fc.valKeys = append(fc.valKeys, k)
		fc.g.Validators = append(fc.g.Validators, genesis.Validator{ID: uint64(i + 1), Name: fmt.Sprint("node", i),
			Key: genesis.Key(k.Public().(ed25519.PublicKey)), Addr: fmt.Sprintf("127.0.0.1:%d", 26600+i)})
	}
	fc.member = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed, 0xee}, 16))
	fc.g.Members = []genesis.Member{{Name: "sponsor", Org: "Sponsor Inc", Role: block.RoleSponsor, Key: genesis.Key(fc.member.Public().(ed25519.PublicKey))},
		{Name: "admin", Org: "Net", Role: block.RoleAdmin, Key: genesis.Key(fc.valKeys[0].Public().(ed25519.PublicKey))}}
	if err := fc.g.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := state.NewMemState(nil)
	if err != nil {
		t.Fatal(err)
	}
	fc.st, fc.ov, fc.roots = st, state.NewOverlay(st), []block.Hash{st.Root}
	return fc
}

// scopesOf names the record sets the chain would put tx in: a call of a
// trial (its contract's record_scope), a scoped anchor, a contract's
// versions, a member's registrations.
func (fc *fakeChain) scopesOf(tx *block.Tx, status block.Status) []string {
	switch tx.Kind {
	case block.KindRedact:
		var out []string
		if p, err := block.DecodeRedact(tx.Payload); err == nil && status == block.StatusOK {
			for _, t := range p.Targets {
				if s := fc.anchorScope[t]; s != "" {
					out = append(out, s)
				}
			}
		}
		return out
	case block.KindCall:
		c, err := block.DecodeCall(tx.Payload)
		if err != nil {
			return nil
		}
		var a struct {
			Trial    string `json:"trial"`
			Protocol struct {
				ID string `json:"id"`
			} `json:"protocol"`
		}
		if json.Unmarshal(c.Args, &a) != nil {
			return nil
		}
		if a.Trial != "" {
			return []string{state.TrialScope(a.Trial)}
		}
		if a.Protocol.ID != "" {
			return []string{state.TrialScope(a.Protocol.ID)}
		}
	case block.KindAnchor:
		if a, err := block.DecodeAnchor(tx.Payload); err == nil && a.Scope != "" {
			fc.anchorScope[a.Hash] = a.Scope
			return []string{a.Scope}
		}
	case block.KindDeploy:
		if status == block.StatusOK {
			return []string{state.CodeScope(block.ContractAddress(tx.Sender, tx.Nonce))}
		}
	case block.KindUpgrade:
		if p, err := block.DecodeUpgrade(tx.Payload); err == nil && status == block.StatusOK {
			return []string{state.CodeScope(p.Contract)}
		}
	case block.KindRegister:
		if p, err := block.DecodeRegister(tx.Payload); err == nil {
			out := []string{state.MemberScope(p.Key)}
			if len(p.Replaces) > 0 {
				out = []string{state.MemberScope(p.Replaces), state.MemberScope(p.Key)}
			}
			return out
		}
	}
	return nil
}

func (fc *fakeChain) StateProof(_ context.Context, key []byte, height uint64) (*smt.Proof, bool, []byte, error) {
	if height >= uint64(len(fc.roots)) {
		return nil, false, nil, fmt.Errorf("no state after block %d", height)
	}
	p, v, found, err := smt.Prove(fc.st.MemStore, fc.roots[height], key)
	return p, found, v, err
}

func (fc *fakeChain) ScopeEntries(_ context.Context, name string, n uint64) ([]*state.ScopeEntry, error) {
	return state.ScopeEntries(fc.st.MemKV, name, 0, n)
}

func (fc *fakeChain) LogNode(level uint, index uint64) (block.Hash, error) {
	h, ok := fc.nodes[[2]uint64{uint64(level), index}]
	if !ok {
		return h, fmt.Errorf("no node (%d, %d)", level, index)
	}
	return h, nil
}

// fixtureValidUntil is the ValidUntil of the transactions fakeChain.tx
// signs (0: none, version 1 encodings).
var fixtureValidUntil uint64

// tx signs and queues a transaction with the receipt fields the chain would
// produce (status, result, events); it returns the transaction.
func (fc *fakeChain) tx(kind block.Kind, payload []byte, status block.Status, result []byte, events ...block.Event) *block.Tx {
	fc.nonce++
	tx := &block.Tx{ChainID: fc.g.ChainID, Nonce: fc.nonce, Kind: kind, GasLimit: 1_000_000, Payload: payload, ValidUntil: fixtureValidUntil}
	tx.Sign(fc.member)
	fc.queue(tx.Encode(), status, result, events...)
	return tx
}

func (fc *fakeChain) queue(raw []byte, status block.Status, result []byte, events ...block.Event) {
	rc := &block.Receipt{TxHash: block.Sum(raw), Height: uint64(len(fc.blocks) + 1), Index: uint64(len(fc.pending)),
		Status: status, GasUsed: 1000, Result: result, Events: events}
	if tx, err := block.DecodeTx(raw); err == nil {
		kind := tx.Kind.String()
		if c, err := block.DecodeCall(tx.Payload); err == nil && tx.Kind == block.KindCall {
			kind = "call:" + c.Method
		}
		for _, name := range fc.scopesOf(tx, status) {
			if err := state.AppendScope(fc.ov, name, &state.ScopeEntry{TxHash: rc.TxHash, Height: rc.Height, Index: rc.Index, Kind: kind}); err != nil {
				panic(err)
			}
			rc.Events = append(rc.Events, block.Event{Type: state.EventScope, Data: []byte(name)})
		}
	}
	fc.pending = append(fc.pending, raw)
	fc.pendingRc = append(fc.pendingRc, rc)
}

// commit certifies the queued transactions as the next block and appends
// their receipts to the log.
func (fc *fakeChain) commit(t testing.TB) *block.Committed {
	t.Helper()
	h := uint64(len(fc.blocks) + 1)
	fc.now += 1000
	hdr := block.Header{ChainID: fc.g.ChainID, Height: h, Proposer: 1, TimeUnixMilli: fc.now, TxCount: uint64(len(fc.pending)),
		TxRoot: block.TxRoot(fc.pending), StateRoot: fc.st.Root, LogSize: fc.log.Size, LogRoot: fc.log.Root(),
		ValidatorsHash: fc.g.ValidatorsHash()}
	if fc.hist != nil {
		hdr.ValidatorsHash = fc.hist.ValidatorsHashAt(h)
	}
	if h > 1 {
		hdr.PrevHash = fc.blocks[h-2].Block.Hash()
	}
	c := &block.Committed{Block: block.Block{Header: hdr, Txs: fc.pending}, Metadata: []byte(fmt.Sprint("view 0 seq ", h)), VerSeq: 1}
	fc.sign(c, fc.valKeys, fc.signers)
	var leaves []block.Hash
	for _, rc := range fc.pendingRc {
		fc.receipts[rc.TxHash] = rc
		leaves = append(leaves, proof.RecordLeaf(rc))
	}
	fc.logStart = append(fc.logStart, fc.log.Size)
	var err error
	fc.log, err = fc.log.Append(leaves, func(level uint, index uint64, hh block.Hash) {
		fc.nodes[[2]uint64{uint64(level), index}] = hh
	})
	if err != nil {
		t.Fatal(err)
	}
	fc.blocks = append(fc.blocks, c)
	fc.pending, fc.pendingRc = nil, nil
	ws := fc.ov.Writes()
	root, nodes, err := state.NextRoot(fc.st, fc.st.Root, ws)
	if err != nil {
		t.Fatal(err)
	}
	fc.st.Commit(&state.Result{Writes: ws, StateRoot: root, Nodes: nodes})
	fc.ov = state.NewOverlay(fc.st)
	fc.roots = append(fc.roots, root)
	return c
}

func (fc *fakeChain) sign(c *block.Committed, keys []ed25519.PrivateKey, ids []uint64) {
	c.Cert.Sigs = nil
	for _, id := range ids {
		v := block.Vote{ChainID: c.Block.Header.ChainID, Height: c.Block.Header.Height, BlockHash: c.Block.Hash(), MetadataHash: block.Sum(c.Metadata), VerSeq: c.VerSeq}
		msg := v.Encode()
		c.Cert.Sigs = append(c.Cert.Sigs, block.CommitSig{Validator: id, Msg: msg, Sig: ed25519.Sign(keys[id-1], msg)})
	}
}

func (fc *fakeChain) Checkpoint(_ context.Context, height uint64) (*proof.Checkpoint, error) {
	if height == 0 {
		height = uint64(len(fc.blocks))
	}
	if height == 0 || height > uint64(len(fc.blocks)) {
		return nil, fmt.Errorf("no block %d", height)
	}
	return proof.CheckpointOf(fc.blocks[height-1]), nil
}

func (fc *fakeChain) Block(_ context.Context, height uint64) (*block.Committed, error) {
	if height == 0 || height > uint64(len(fc.blocks)) {
		return nil, fmt.Errorf("no block %d", height)
	}
	return fc.blocks[height-1], nil
}

func (fc *fakeChain) InclusionProof(_ context.Context, tx block.Hash, size uint64) (*proof.InclusionProof, error) {
	rc, ok := fc.receipts[tx]
	if !ok {
		return nil, fmt.Errorf("no tx %s", tx)
	}
	index := fc.logStart[rc.Height-1] + rc.Index
	hs, err := proof.Inclusion(fc, index, size)
	if err != nil {
		return nil, err
	}
	rec := rc.Encode()
	return &proof.InclusionProof{LeafIndex: index, Size: size, Leaf: proof.LeafHash(rec), Record: rec, Hashes: hs}, nil
}

func (fc *fakeChain) consistency(t testing.TB, from, to uint64) *proof.ConsistencyProof {
	hs, err := proof.Consistency(fc, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return &proof.ConsistencyProof{From: from, To: to, Hashes: hs}
}

// trialFixture is a small trial on a fake chain: a deployed contract, a
// registration, a submission with an off-chain record, a correction, a
// refused submission, an anchored document, an amendment with a real
// threshold consent of the test amendment board, and an upgrade.
type trialFixture struct {
	fc       *fakeChain
	contract block.Hash
	code     []byte
	code2    []byte
	record   []byte // off-chain CRF record (its SHA-256 is the submission's recordHash)
	doc      []byte // anchored document
	amendTx  *block.Tx
	callTxs  []*block.Tx
}

func manifestation(name, meaning string, ms int64) map[string]any {
	return map[string]any{"printedName": name, "meaning": meaning, "time": time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"), "org": "Site A"}
}

func jsonOf(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func hexSum(b []byte) string { h := sha256.Sum256(b); return fmt.Sprintf("%x", h) }

func newTrialFixture(t testing.TB, seed byte, extraCalls int) *trialFixture {
	t.Helper()
	fc := newFakeChain(t, seed)
	f := &trialFixture{fc: fc, code: []byte("\x00asm fake contract v1"), code2: []byte("\x00asm fake contract v2"),
		record: []byte(`{"trial":"T1","subject":"0123456789abcdef0123456789abcdef","visit":"V1","form":"VITALS","fields":{"SYSBP":{"value":"128"}}}`),
		doc:    []byte("statistical analysis plan v1\n")}
	// Block 1: deploy.
	dep := fc.tx(block.KindDeploy, (&block.DeployPayload{Code: f.code, Policy: block.PolicyOwner, Label: "trial-protocol"}).Encode(), block.StatusOK, nil)
	f.contract = block.ContractAddress(dep.Sender, dep.Nonce)
	codeHash := block.Sum(f.code)
	fc.pendingRc[0].Result = f.contract[:]
	fc.pendingRc[0].Events = append([]block.Event{{Type: EventDeployed, Data: append(append([]byte(nil), f.contract[:]...), codeHash[:]...)}}, fc.pendingRc[0].Events...)
	// Consent group registration.
	board := testgroups.MustLoad(testgroups.AmendmentBoard)
	gid := block.Sum(board.Bin)
	fc.tx(block.KindConsentGroup, board.Bin, block.StatusOK, gid[:], block.Event{Type: EventGroup, Data: gid[:]})
	fc.commit(t)
	call := func(method string, args any, status block.Status, result any, errText string, events ...block.Event) *block.Tx {
		a := jsonOf(args)
		var res []byte
		if result != nil {
			res = jsonOf(result)
		}
		tx := fc.tx(block.KindCall, (&block.CallPayload{Contract: f.contract, Method: method, Args: a}).Encode(), status, res, events...)
		if errText != "" {
			fc.pendingRc[len(fc.pendingRc)-1].Error = errText
		}
		f.callTxs = append(f.callTxs, tx)
		return tx
	}
	ms := fc.now + 1000
	// Block 2: register, submit, refused submit, anchor.
	call("register", map[string]any{"protocol": map[string]any{"id": "T1", "title": "Trial one"}, "signature": map[string]any{"printedName": "Dr. Ada Sponsor", "meaning": "author"}},
		block.StatusOK, map[string]any{"protocol": map[string]any{"id": "T1"}, "registered": manifestation("Dr. Ada Sponsor", "author", ms)}, "")
	call("submit", map[string]any{"trial": "T1", "subject": "0123456789abcdef0123456789abcdef", "visit": "V1", "form": "VITALS",
		"fields": map[string]any{"SYSBP": map[string]any{"value": "182"}}, "recordHash": hexSum(f.record), "signature": map[string]any{"printedName": "Dr. Sam Site", "meaning": "author"}},
		block.StatusOK, map[string]any{"id": "crf-000000001", "kind": "submission", "trial": "T1", "manifestation": manifestation("Dr. Sam Site", "author", ms)}, "",
		block.Event{Source: f.contract, Type: "crf.submitted", Data: jsonOf(map[string]any{"trial": "T1", "entry": "crf-000000001"})})
	call("submit", map[string]any{"trial": "T1", "subject": "0123456789abcdef0123456789abcdef", "visit": "V1", "form": "VITALS", "signature": map[string]any{"printedName": "Dr. Sam Site", "meaning": "author"}},
		block.StatusFailed, nil, "contract: out-of-range: SYSBP 999 above 300")
	docHash := block.Sum(f.doc)
	fc.tx(block.KindAnchor, (&block.AnchorPayload{Hash: docHash, Label: "T1 SAP v1", Scope: "trial:T1"}).Encode(), block.StatusOK, docHash[:])
	fc.commit(t)
	for i := 0; i < extraCalls; i++ {
		call("submit", map[string]any{"trial": "T1", "subject": fmt.Sprintf("%032x", i+1), "visit": "V1", "form": "VITALS",
			"fields": map[string]any{"SYSBP": map[string]any{"value": "120"}}, "recordHash": hexSum([]byte(fmt.Sprint("rec", i))), "signature": map[string]any{"printedName": "Dr. Sam Site", "meaning": "author"}},
			block.StatusOK, map[string]any{"id": fmt.Sprintf("crf-%09d", i+2), "kind": "submission", "trial": "T1", "manifestation": manifestation("Dr. Sam Site", "author", ms)}, "")
		if len(fc.pending) == 500 {
			fc.commit(t)
		}
	}
	// Next block: correction and an amendment with the board's consent.
	call("correct", map[string]any{"trial": "T1", "entry": "crf-000000001", "fields": map[string]any{"SYSBP": map[string]any{"value": "128"}},
		"recordHash": hexSum(f.record), "reason": "transcription error", "signature": map[string]any{"printedName": "Dr. Sam Site", "meaning": "author"}},
		block.StatusOK, map[string]any{"id": "crf-000000002", "kind": "correction", "corrects": "crf-000000001", "reason": "transcription error", "manifestation": manifestation("Dr. Sam Site", "author", ms)}, "")
	digest := sha256.Sum256([]byte("amendment T1 v2"))
	action := testgroups.Action(f.contract, "amend", digest)
	cons, err := board.Consent(deterministicRand{}, fc.g.ChainID, action, "approve amendment", time.UnixMilli(ms).UTC(), 1, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseConsentID(cons)
	if err != nil {
		t.Fatal(err)
	}
	used := append(append(c[:], gid[:]...), []byte("rest of the event")...)
	f.amendTx = call("amend", map[string]any{"trial": "T1", "version": 2, "reason": "add a secondary outcome", "consent": cons, "signature": map[string]any{"printedName": "Dr. Ada Sponsor", "meaning": "approval"}},
		block.StatusOK, map[string]any{"trial": "T1", "version": 2, "manifestation": manifestation("Dr. Ada Sponsor", "approval", ms)}, "",
		block.Event{Type: EventConsentUsed, Data: used})
	fc.commit(t)
	// Upgrade, then a call under the new code.
	up := fc.tx(block.KindUpgrade, (&block.UpgradePayload{Contract: f.contract, Code: f.code2}).Encode(), block.StatusOK, nil)
	_ = up
	oldH, newH := block.Sum(f.code), block.Sum(f.code2)
	upRc := fc.pendingRc[len(fc.pendingRc)-1]
	upRc.Events = append([]block.Event{{Type: EventUpgraded, Data: append(append(append([]byte(nil), f.contract[:]...), oldH[:]...), newH[:]...)}}, upRc.Events...)
	call("lock", map[string]any{"trial": "T1", "signature": map[string]any{"printedName": "Dr. Ada Sponsor", "meaning": "approval"}},
		block.StatusOK, map[string]any{"status": "locked", "lock": map[string]any{"manifestation": manifestation("Dr. Ada Sponsor", "approval", ms)}}, "")
	fc.commit(t)
	// A last block so that everything above is certified.
	fc.tx(block.KindAnchor, (&block.AnchorPayload{Hash: block.Sum([]byte("seal")), Label: "seal"}).Encode(), block.StatusOK, nil)
	fc.commit(t)
	return f
}

func parseConsentID(b []byte) (block.Hash, error) {
	c, err := consent.ParseConsent(b)
	if err != nil {
		return block.Hash{}, err
	}
	return block.Hash(c.ID()), nil
}

// deterministicRand is a fixed stream for the consent's PSS salt and the
// share proofs: tests are reproducible.
type deterministicRand struct{}

func (deterministicRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*7 + 3)
	}
	return len(p), nil
}

// export makes the fixture's bundle of everything, with code and the
// off-chain payloads.
func (f *trialFixture) export(t testing.TB, withCode bool) *Bundle {
	t.Helper()
	b, err := Export(context.Background(), f.fc, f.fc.g.ChainID, f.fc.g.Hash(), Options{Scope: "trial:T1", WithCode: withCode,
		Select:   func(tx *block.Tx) bool { return tx.Kind == block.KindCall || tx.Kind == block.KindAnchor },
		Payloads: []File{{Name: "crf-V1.json", Data: f.record}, {Name: "sap-v1.txt", Data: f.doc}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
