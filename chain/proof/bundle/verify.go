package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/proof"
)

// Event types the verifier reads from receipts. Only events with a zero
// source (emitted by the chain, not by a contract) count.
const (
	EventDeployed    = "contract.deployed" // address 32 ‖ code hash 32
	EventUpgraded    = "contract.upgraded" // address 32 ‖ old code hash 32 ‖ new code hash 32
	EventConsentUsed = "consent.used"      // consent id 32 ‖ group id 32 ‖ …
	EventGroup       = "consent.group"     // group id 32
)

// Result is what Verify established. Records lists only the records that
// passed every check; Failures every check that did not.
type Result struct {
	ChainID     string
	GenesisHash block.Hash
	Scope       string
	Checkpoints []CheckpointInfo // verified ones, ascending
	Records     []*Verified
	Contracts   []ContractVersion // code versions proven by deploy and upgrade records, in log order
	// SetChanges are the validator-set changes walked from the genesis
	// (valset.go), in chain order.
	SetChanges []SetChangeInfo
	// Complete is set when the bundle proved it holds every record of its
	// trial's record set, as of its latest checkpoint; nil otherwise.
	Complete *Completeness
	// Withheld are the trial's anchored documents the exporter declared it
	// could not include.
	Withheld []*Withheld
	Counts   Counts
	Failures Failures
}

// Counts summarises a verification.
type Counts struct {
	Records      int `json:"records"`      // in the bundle
	Verified     int `json:"verified"`     // passed every check
	Transactions int `json:"transactions"` // with their signed transaction
	ReceiptOnly  int `json:"receipt_only"` // contract versions shown by receipt alone (code left out)
	Calls        int `json:"calls"`        // contract calls with a proven code version
	Consents     int `json:"consents"`     // threshold consents re-verified
	Payloads     int `json:"payloads"`     // off-chain payloads re-hashed
	Redactions   int `json:"redactions"`   // redactions of documents the records commit to
	Checkpoints  int `json:"checkpoints"`  // certified checkpoints
}

// OK reports whether nothing failed.
func (r *Result) OK() bool { return len(r.Failures) == 0 }

// CheckpointInfo is a verified checkpoint.
type CheckpointInfo struct {
	Height        uint64     `json:"height"`
	BlockHash     block.Hash `json:"block_hash"`
	TimeUnixMilli int64      `json:"time_unix_ms"`
	LogSize       uint64     `json:"log_size"`
	LogRoot       block.Hash `json:"log_root"`
	StateRoot     block.Hash `json:"state_root"`
	Signers       []uint64   `json:"signers"` // validator ids in the certificate
}

// ContractVersion is a contract's code from a leaf of the log on.
type ContractVersion struct {
	Address  block.Hash `json:"address"`
	CodeHash block.Hash `json:"code_hash"`
	Leaf     uint64     `json:"leaf"`
	Height   uint64     `json:"height"`
	Upgrade  bool       `json:"upgrade"`
	CodeSeen bool       `json:"code_seen"` // the code itself was in the bundle and re-hashed
}

// Verified is a record that passed every check, decoded.
type Verified struct {
	Index    int       // position in the bundle
	Leaf     uint64    // leaf index in the record log
	Tx       *block.Tx // nil for a receipt-only contract version
	TxHash   block.Hash
	Receipt  *block.Receipt
	Call     *block.CallPayload // for a contract call
	Anchor   *block.AnchorPayload
	Redact   *block.RedactPayload // a redaction of off-chain documents
	CodeHash block.Hash           // for a call: the code that executed it
	Consents []VerifiedConsent
	Payloads []*Payload // off-chain payloads re-hashed against this record
	// Signer is the sender's membership at the record's height, proven by
	// the genesis and the key's record set (trial records only).
	Signer *Signer
}

// VerifiedConsent is a threshold consent re-verified against its group.
type VerifiedConsent struct {
	ID      block.Hash
	Group   block.Hash
	Meaning string
	Signers []consent.Signer
}

// Verify checks b against the genesis file's validator set, with no
// network. It is a pure function of its arguments and re-hashes
// everything from bytes:
//
//   - the bundle names this genesis (hash and chain id);
//   - its validator-set changes, walked from the genesis set (valset.go);
//   - each checkpoint's certificate holds a quorum of the validators in
//     force at its height over its header, and consecutive checkpoints are linked
//     by a consistency proof;
//   - each record: the receipt hashes to the leaf, the leaf and audit path
//     lead to a certified log root, the transaction's ed25519 signature
//     holds, its chain id is the genesis's, and its hash is the receipt's;
//   - each contract call ran under the code version the bundle claims, as
//     proven by the deploy and upgrade records before it in the log (and
//     their code, when included, hashes to the recorded code hash);
//   - each consent attached to a call verifies (threshold signature,
//     member attestations) against its group, whose registration is a
//     record of the bundle, is for that contract and method, and is the
//     one the receipt recorded as used;
//   - each off-chain payload hashes to the value its record commits to.
//
// The result lists what verified; err is nil only if everything did.
//
// # Notes
//
// Completeness is not proven: a bundle shows that its records are in the
// log, not that no other record of the trial exists. An upgrade left out
// between a deploy and a call is caught only if the call's claimed code
// hash is the upgraded one (state proofs would close this; see
// RATIONALE.md).
//
// # Errors
//
// A Failures value listing every failed check (at most 100), each an
// *Error naming the record and wrapping an Err… sentinel.
func Verify(b *Bundle, g *genesis.Genesis) (*Result, error) {
	return VerifyProgress(b, g, nil)
}

// Verify stages VerifyProgress reports.
const (
	StageSignatures = "signatures and proofs" // per record, on every core
	StageRecords    = "records"               // per record, in log order
)

// VerifyProgress is Verify that reports how far it is: progress, if not
// nil, is called with a stage (StageSignatures, StageRecords), the
// records done and their total, now and then (every few thousand
// records), possibly from several goroutines at once, and at the end of
// each stage. It changes nothing Verify checks.
func VerifyProgress(b *Bundle, g *genesis.Genesis, progress func(stage string, done, total uint64)) (*Result, error) {
	v := &verifier{b: b, g: g, progress: progress, res: &Result{ChainID: b.ChainID, GenesisHash: b.GenesisHash, Scope: b.Scope},
		roots: map[uint64]block.Hash{}, failedTx: map[block.Hash]bool{}, badSizes: map[uint64]bool{}, groups: map[block.Hash][]byte{}, versions: map[block.Hash][]ContractVersion{}}
	v.res.Counts.Records = len(b.Records)
	if v.genesis() {
		hist, pending, ok := v.walkSets()
		v.hist = hist
		v.checkpoints()
		if ok {
			v.setReceipts(pending)
		}
		v.records()
		v.scopes()
		v.payloads()
		v.documents()
	}
	if len(v.res.Failures) == 0 {
		v.res.Complete = v.complete
	}
	if len(v.res.Failures) > 0 {
		return v.res, v.res.Failures
	}
	return v.res, nil
}

type verifier struct {
	b        *Bundle
	g        *genesis.Genesis
	hist     *genesis.History // the validator sets walked from the genesis (walkSets)
	progress func(stage string, done, total uint64)
	progMu   sync.Mutex // serialises progress calls from precheck's workers
	res      *Result
	roots    map[uint64]block.Hash            // certified log size → root
	groups   map[block.Hash][]byte            // consent group id → encoding, from verified records
	versions map[block.Hash][]ContractVersion // contract → versions in leaf order
	byTx     map[block.Hash]*Verified
	failedTx map[block.Hash]bool // records that failed (payloads of theirs are not reported again)
	badSizes map[uint64]bool     // log sizes of checkpoints that failed

	pre       []checked           // per record, from precheck
	primaryTx map[block.Hash]bool // the trial's records, once its set is proven
	complete  *Completeness       // what holds if nothing fails
}

func (v *verifier) fail(rec int, txh block.Hash, leaf uint64, part string, sentinel error, format string, args ...any) {
	if len(v.res.Failures) >= maxFailures {
		return
	}
	if rec >= 0 && !txh.IsZero() {
		v.failedTx[txh] = true
	}
	err := fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
	v.res.Failures = append(v.res.Failures, &Error{Record: rec, TxHash: txh, Leaf: leaf, Part: part, Err: err})
}

func (v *verifier) genesis() bool {
	if h := v.g.Hash(); h != v.b.GenesisHash {
		v.fail(-1, block.Hash{}, 0, "genesis", ErrGenesis, "the bundle names genesis %s, the genesis file hashes to %s", v.b.GenesisHash, h)
		return false
	}
	if v.b.ChainID != v.g.ChainID {
		v.fail(-1, block.Hash{}, 0, "genesis", ErrGenesis, "the bundle is for chain %q, the genesis file for %q", v.b.ChainID, v.g.ChainID)
		return false
	}
	return true
}

func (v *verifier) checkpoints() {
	var prev *proof.Checkpoint
	for i, cp := range v.b.Checkpoints {
		part := fmt.Sprintf("checkpoint %d (height %d)", i, cp.Height())
		ok := true
		if cp.Header.ChainID != v.g.ChainID {
			v.fail(-1, block.Hash{}, 0, part, ErrCheckpoint, "header is for chain %q, not %q", cp.Header.ChainID, v.g.ChainID)
			ok = false
		} else if len(v.b.SetChanges) == 0 {
			if err := cp.Verify(v.g); err != nil { // the genesis set, as ever
				v.fail(-1, block.Hash{}, 0, part, ErrCheckpoint, "%w", err)
				ok = false
			}
		} else if set := v.hist.At(cp.Height()); cp.Header.ValidatorsHash != set.Hash() {
			v.fail(-1, block.Hash{}, 0, part, ErrCheckpoint, "block %d names validator set %s, but the set in force at that height, walked from the genesis through the bundle's %d set changes, is %s (validators %v from height %d): a set change before it is missing or forged",
				cp.Height(), cp.Header.ValidatorsHash, len(v.b.SetChanges), set.Hash(), set.IDs(), set.From)
			ok = false
		} else if err := cp.Verify(v.hist); err != nil {
			v.fail(-1, block.Hash{}, 0, part, ErrCheckpoint, "%w (the set in force at height %d: validators %v)", err, cp.Height(), set.IDs())
			ok = false
		}
		if i > 0 {
			p := v.b.Consistency[i-1]
			err := p.Verify(prev.Header.LogSize, prev.Header.LogRoot, cp.Header.LogSize, cp.Header.LogRoot)
			if err == nil && prev.Header.LogSize > cp.Header.LogSize {
				err = fmt.Errorf("log shrank from %d to %d records", prev.Header.LogSize, cp.Header.LogSize)
			}
			if err != nil {
				v.fail(-1, block.Hash{}, 0, fmt.Sprintf("checkpoints %d → %d (heights %d → %d)", i-1, i, prev.Height(), cp.Height()), ErrConsistency, "%w", err)
				ok = false
			}
		}
		prev = cp
		if !ok {
			v.badSizes[cp.Header.LogSize] = true
			continue
		}
		if r, dup := v.roots[cp.Header.LogSize]; dup && r != cp.Header.LogRoot {
			v.fail(-1, block.Hash{}, 0, part, ErrConsistency, "two certified roots for log size %d: %s and %s", cp.Header.LogSize, r, cp.Header.LogRoot)
			continue
		}
		v.roots[cp.Header.LogSize] = cp.Header.LogRoot
		info := CheckpointInfo{Height: cp.Height(), BlockHash: cp.Hash(), TimeUnixMilli: cp.Header.TimeUnixMilli,
			LogSize: cp.Header.LogSize, LogRoot: cp.Header.LogRoot, StateRoot: cp.Header.StateRoot}
		for _, s := range cp.Cert.Sigs {
			info.Signers = append(info.Signers, s.Validator)
		}
		v.res.Checkpoints = append(v.res.Checkpoints, info)
	}
	v.res.Counts.Checkpoints = len(v.res.Checkpoints)
}

// chainEvent returns the data of the first event of type typ emitted by the
// chain itself (zero source) with at least n bytes.
func chainEvents(rc *block.Receipt, typ string, n int) [][]byte {
	var out [][]byte
	for _, e := range rc.Events {
		if e.Source.IsZero() && e.Type == typ && len(e.Data) >= n {
			out = append(out, e.Data)
		}
	}
	return out
}

// checked is the outcome of a record's expensive, independent checks
// (decoding, inclusion proof, signature), computed in parallel before the
// records are checked in log order.
type checked struct {
	rc      *block.Receipt
	rcErr   error
	hasRoot bool
	inclErr error
	tx      *block.Tx
	txErr   error
	txHash  block.Hash // of the transaction bytes
	sigErr  error
}

// precheck runs checked for every record on all cores. It reads only the
// bundle and v.roots (fixed after checkpoints), so workers share nothing
// but the counter that hands out runs of records. Each worker takes runs
// of neighbouring records, so that its inclusion verifier (one per log
// size) joins most proofs to the path it verified last.
func (v *verifier) precheck() []checked {
	out := make([]checked, len(v.b.Records))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(out)/256))
	const run = 256
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			incl := map[uint64]*proof.InclusionVerifier{}
			for {
				from := int(next.Add(run)) - run
				if from >= len(out) {
					return
				}
				if v.progress != nil && from > 0 && from%(16*run) == 0 {
					v.progMu.Lock()
					v.progress(StageSignatures, uint64(from), uint64(len(out)))
					v.progMu.Unlock()
				}
				for i := from; i < min(from+run, len(out)); i++ {
					r, c := v.b.Records[i], &out[i]
					c.rc, c.rcErr = r.Proof.Receipt()
					if c.rcErr != nil {
						continue
					}
					var root block.Hash
					if root, c.hasRoot = v.roots[r.Proof.Size]; c.hasRoot {
						iv := incl[r.Proof.Size]
						if iv == nil {
							iv = proof.NewInclusionVerifier(r.Proof.Size, root)
							incl[r.Proof.Size] = iv
						}
						c.inclErr = iv.Verify(r.Proof)
					}
					if len(r.Tx) == 0 {
						continue
					}
					c.txHash = block.Sum(r.Tx)
					if c.tx, c.txErr = block.DecodeTx(r.Tx); c.txErr == nil {
						c.sigErr = c.tx.VerifySignature()
					}
				}
			}
		}()
	}
	wg.Wait()
	return out
}

func (v *verifier) records() {
	v.byTx = map[block.Hash]*Verified{}
	v.pre = v.precheck()
	n := uint64(len(v.b.Records))
	if v.progress != nil {
		v.progress(StageSignatures, n, n)
	}
	for i, r := range v.b.Records {
		if v.progress != nil && i > 0 && i%4096 == 0 {
			v.progress(StageRecords, uint64(i), n)
		}
		if vr := v.record(i, r); vr != nil {
			v.res.Records = append(v.res.Records, vr)
			v.byTx[vr.TxHash] = vr
		}
	}
	v.res.Counts.Verified = len(v.res.Records)
	if v.progress != nil {
		v.progress(StageRecords, n, n)
	}
}

// record checks one record; it returns nil (and has reported why) if any
// check failed.
func (v *verifier) record(i int, r *Record) *Verified {
	p := r.Proof
	leaf := p.LeafIndex
	pre := &v.pre[i]
	rc, err := pre.rc, pre.rcErr
	if err != nil {
		var txh block.Hash // name the record by its transaction, if it has one
		if len(r.Tx) > 0 {
			txh = block.Sum(r.Tx)
		}
		v.fail(i, txh, leaf, "receipt", ErrInclusion, "%w", err)
		return nil
	}
	txh := rc.TxHash
	fail := func(part string, sentinel error, format string, args ...any) *Verified {
		v.fail(i, txh, leaf, part, sentinel, format, args...)
		return nil
	}
	ok := pre.hasRoot
	if !ok && v.badSizes[p.Size] {
		v.failedTx[txh] = true // its checkpoint's failure says why
		return nil
	}
	if !ok {
		return fail("inclusion proof", ErrInclusion, "proof is for log size %d, which no certified checkpoint of the bundle has", p.Size)
	}
	if err := pre.inclErr; err != nil {
		return fail("inclusion proof", ErrInclusion, "%w", err)
	}
	vr := &Verified{Index: i, Leaf: leaf, TxHash: txh, Receipt: rc}
	if len(r.Tx) == 0 {
		// A contract version shown by its receipt alone.
		if rc.Status != block.StatusOK || (len(chainEvents(rc, EventDeployed, 64)) == 0 && len(chainEvents(rc, EventUpgraded, 96)) == 0) {
			return fail("transaction", ErrTx, "missing; only a deploy or upgrade record may leave its transaction (code) out")
		}
		if len(r.Consents) > 0 || !r.CodeHash.IsZero() {
			return fail("transaction", ErrTx, "missing, but the record claims a code version or consents that need it")
		}
		if !v.version(i, vr, nil) {
			return nil
		}
		v.res.Counts.ReceiptOnly++
		return vr
	}
	tx, err := pre.tx, pre.txErr
	if err != nil {
		return fail("transaction", ErrTx, "%w", err)
	}
	if got := pre.txHash; got != txh {
		return fail("receipt", ErrReceipt, "the transaction hashes to %s, the receipt is of %s", got, txh)
	}
	if tx.ChainID != v.g.ChainID {
		return fail("transaction", ErrTx, "signed for chain %q, not %q", tx.ChainID, v.g.ChainID)
	}
	if err := pre.sigErr; err != nil {
		return fail("transaction signature", ErrSignature, "sender %x: %w", []byte(tx.Sender), err)
	}
	vr.Tx = tx
	v.res.Counts.Transactions++
	switch tx.Kind {
	case block.KindDeploy, block.KindUpgrade:
		if rc.Status == block.StatusOK && !v.version(i, vr, tx) {
			return nil
		}
	case block.KindConsentGroup:
		if rc.Status == block.StatusOK {
			id := block.Sum(tx.Payload)
			if !bytes.Equal(rc.Result, id[:]) {
				return fail("consent group", ErrConsent, "the group encoding hashes to %s, the receipt registered %x", id, rc.Result)
			}
			v.groups[id] = tx.Payload
		}
	case block.KindAnchor:
		a, err := block.DecodeAnchor(tx.Payload)
		if err != nil {
			return fail("transaction", ErrTx, "%w", err)
		}
		vr.Anchor = a
	case block.KindRedact:
		p, err := block.DecodeRedact(tx.Payload)
		if err != nil {
			return fail("transaction", ErrTx, "%w", err)
		}
		vr.Redact = p
		if rc.Status == block.StatusOK {
			v.res.Counts.Redactions++
		}
	case block.KindCall:
		c, err := block.DecodeCall(tx.Payload)
		if err != nil {
			return fail("transaction", ErrTx, "%w", err)
		}
		vr.Call = c
		if !v.callVersion(i, vr, r.CodeHash) || !v.consents(i, vr, r.Consents) {
			return nil
		}
	}
	if tx.Kind != block.KindCall && (!r.CodeHash.IsZero() || len(r.Consents) > 0) {
		return fail("transaction", ErrTx, "a %s transaction has no code version or consents, the record claims some", tx.Kind)
	}
	return vr
}

// version records the contract version a deploy or upgrade record proves;
// with its transaction, the code is re-hashed against the receipt.
func (v *verifier) version(i int, vr *Verified, tx *block.Tx) bool {
	rc := vr.Receipt
	fail := func(format string, args ...any) bool {
		v.fail(i, vr.TxHash, vr.Leaf, "contract code", ErrCodeHash, format, args...)
		return false
	}
	var cv ContractVersion
	if d := chainEvents(rc, EventDeployed, 64); len(d) == 1 && len(d[0]) == 64 {
		copy(cv.Address[:], d[0][:32])
		copy(cv.CodeHash[:], d[0][32:])
	} else if u := chainEvents(rc, EventUpgraded, 96); len(u) == 1 && len(u[0]) == 96 {
		copy(cv.Address[:], u[0][:32])
		copy(cv.CodeHash[:], u[0][64:])
		cv.Upgrade = true
	} else {
		return fail("the receipt records no single %s or %s event", EventDeployed, EventUpgraded)
	}
	cv.Leaf, cv.Height = vr.Leaf, rc.Height
	if tx != nil {
		var code []byte
		switch tx.Kind {
		case block.KindDeploy:
			p, err := block.DecodeDeploy(tx.Payload)
			if err != nil {
				return fail("deploy payload: %v", err)
			}
			if a := block.ContractAddress(tx.Sender, tx.Nonce); a != cv.Address {
				return fail("the deploy creates contract %s, the receipt names %s", a, cv.Address)
			}
			code = p.Code
		case block.KindUpgrade:
			p, err := block.DecodeUpgrade(tx.Payload)
			if err != nil {
				return fail("upgrade payload: %v", err)
			}
			if p.Contract != cv.Address {
				return fail("the upgrade is of contract %s, the receipt names %s", p.Contract, cv.Address)
			}
			code = p.Code
		default:
			return fail("a %s transaction cannot create a contract version", tx.Kind)
		}
		if h := block.Sum(code); h != cv.CodeHash {
			return fail("the code hashes to %s, the receipt recorded %s", h, cv.CodeHash)
		}
		cv.CodeSeen = true
	}
	vs := v.versions[cv.Address]
	if cv.Upgrade && len(vs) == 0 {
		return fail("upgrade of contract %s, whose deploy is not in the bundle", cv.Address)
	}
	if !cv.Upgrade && len(vs) > 0 {
		return fail("second deploy of contract %s", cv.Address)
	}
	v.versions[cv.Address] = append(vs, cv)
	v.res.Contracts = append(v.res.Contracts, cv)
	return true
}

// callVersion checks the code version claimed for a call against the
// versions proven before it in the log.
func (v *verifier) callVersion(i int, vr *Verified, claimed block.Hash) bool {
	addr := vr.Call.Contract
	var cur *ContractVersion
	vs := v.versions[addr]
	for k := range vs {
		if vs[k].Leaf < vr.Leaf {
			cur = &vs[k]
		}
	}
	switch {
	case cur == nil && vr.Receipt.Status != block.StatusOK && claimed.IsZero():
		// A refused call to an address with no contract: nothing ran.
		return true
	case cur == nil:
		v.fail(i, vr.TxHash, vr.Leaf, "contract code", ErrCodeHash, "call of contract %s, whose deploy record is not in the bundle before leaf %d", addr, vr.Leaf)
		return false
	case claimed != cur.CodeHash:
		v.fail(i, vr.TxHash, vr.Leaf, "contract code", ErrCodeHash, "the record claims code %s, but contract %s ran code %s (deployed or upgraded at leaf %d)", claimed, addr, cur.CodeHash, cur.Leaf)
		return false
	}
	vr.CodeHash = cur.CodeHash
	v.res.Counts.Calls++
	return true
}

// consents re-verifies each consent attached to a call.
func (v *verifier) consents(i int, vr *Verified, cs []proof.HexBytes) bool {
	used := map[block.Hash]bool{}
	for _, d := range chainEvents(vr.Receipt, EventConsentUsed, 64) {
		used[block.Hash(d[:32])] = true
	}
	attached := map[block.Hash]int{}
	for k, cb := range cs {
		part := fmt.Sprintf("consent %d", k)
		fail := func(format string, args ...any) bool {
			v.fail(i, vr.TxHash, vr.Leaf, part, ErrConsent, format, args...)
			return false
		}
		c, err := consent.ParseConsent(cb)
		if err != nil {
			return fail("%w", err)
		}
		gb, ok := v.groups[c.GroupID]
		if !ok {
			return fail("group %x is not registered by a record of the bundle before this one", c.GroupID)
		}
		// The action must be a call of this contract and method (the last
		// 32 bytes are the hash of the message the contract chose).
		want := consent.CallAction(vr.Call.Contract[:], vr.Call.Method, nil)
		a := c.Request.Action
		if a.Kind != want.Kind || len(a.Data) != len(want.Data) || !bytes.Equal(a.Data[:len(a.Data)-32], want.Data[:len(want.Data)-32]) {
			return fail("consent is for action %s, not for a call of %s on contract %s", a.Kind, vr.Call.Method, vr.Call.Contract)
		}
		_, signers, err := consent.VerifyEncoded(gb, v.g.ChainID, a, cb)
		if err != nil {
			return fail("%w", err)
		}
		id := block.Hash(c.ID())
		if !used[id] {
			return fail("consent %s is not the one the receipt recorded as used", id)
		}
		if first, dup := attached[id]; dup {
			return fail("consent %s is attached twice (as consent %d and %d): one consent counts once", id, first, k)
		}
		attached[id] = k
		vr.Consents = append(vr.Consents, VerifiedConsent{ID: id, Group: c.GroupID, Meaning: c.Request.Meaning, Signers: signers})
		v.res.Counts.Consents++
	}
	return true
}

func (v *verifier) payloads() {
	for k, p := range v.b.Payloads {
		part := fmt.Sprintf("payload %d %q", k, p.Name)
		vr, ok := v.byTx[p.Tx]
		if !ok && v.failedTx[p.Tx] {
			continue // its record's failure says why
		}
		if !ok {
			v.fail(-1, p.Tx, 0, part, ErrPayload, "its record (tx %s) is not a verified record of the bundle", p.Tx)
			continue
		}
		fail := func(format string, args ...any) {
			v.fail(vr.Index, vr.TxHash, vr.Leaf, part, ErrPayload, format, args...)
		}
		h := block.Hash(sha256.Sum256(p.Data))
		if h != p.SHA256 {
			fail("the data hashes to %s, the bundle lists %s", h, p.SHA256)
			continue
		}
		committed, err := commitment(vr, p.Field)
		if err != nil {
			fail("%v", err)
			continue
		}
		if committed != h {
			fail("the data hashes to %s, the record commits to %s at %s", h, committed, p.Field)
			continue
		}
		vr.Payloads = append(vr.Payloads, p)
		v.res.Counts.Payloads++
	}
}

// commitment reads the hash a verified record commits to at field.
func commitment(vr *Verified, field string) (block.Hash, error) {
	if field == FieldAnchor {
		if vr.Anchor == nil {
			return block.Hash{}, errors.New("field \"anchor\" of a record that is not an anchor")
		}
		return vr.Anchor.Hash, nil
	}
	if vr.Call == nil {
		return block.Hash{}, fmt.Errorf("field %q of a record that is not a contract call", field)
	}
	val, err := Pointer(vr.Call.Args, field)
	if err != nil {
		return block.Hash{}, err
	}
	s, ok := val.(string)
	if !ok {
		return block.Hash{}, fmt.Errorf("the call's argument at %s is not a string", field)
	}
	h, err := block.ParseHash(s)
	if err != nil || hex.EncodeToString(h[:]) != s {
		return block.Hash{}, fmt.Errorf("the call's argument at %s is not a lowercase hex SHA-256", field)
	}
	return h, nil
}

// Pointer resolves an RFC 6901 JSON pointer in a JSON document.
func Pointer(doc []byte, ptr string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var cur any
	if err := dec.Decode(&cur); err != nil {
		return nil, fmt.Errorf("the call's arguments are not JSON: %w", err)
	}
	if ptr == "" {
		return cur, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("field %q is not a JSON pointer (it starts with /)", ptr)
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("the call's arguments have nothing at %s", ptr)
			}
			cur = v
		case []any:
			n, err := strconv.Atoi(tok)
			if err != nil || n < 0 || n >= len(c) || strconv.Itoa(n) != tok {
				return nil, fmt.Errorf("the call's arguments have nothing at %s", ptr)
			}
			cur = c[n]
		default:
			return nil, fmt.Errorf("the call's arguments have nothing at %s", ptr)
		}
	}
	return cur, nil
}
