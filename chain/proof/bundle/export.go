package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/smt"
	"github.com/trialchain/trialchain/chain/state"
)

// Source is what Export reads from: a node (sdk/client behind an adapter)
// or a store. Nothing it returns is trusted; Verify checks the result.
type Source interface {
	// Checkpoint returns the checkpoint at height (0: the latest).
	Checkpoint(ctx context.Context, height uint64) (*proof.Checkpoint, error)
	// Block returns the committed block at height (≥ 1).
	Block(ctx context.Context, height uint64) (*block.Committed, error)
	// InclusionProof returns the receipt and inclusion proof of a
	// transaction in the log of size.
	InclusionProof(ctx context.Context, tx block.Hash, size uint64) (*proof.InclusionProof, error)
	// StateProof returns the proof of key's value (found) or absence in
	// the state after block height, whose root header height+1 carries.
	StateProof(ctx context.Context, key []byte, height uint64) (p *smt.Proof, found bool, value []byte, err error)
	// ScopeEntries returns the first n entries of the record set name.
	ScopeEntries(ctx context.Context, name string, n uint64) ([]*state.ScopeEntry, error)
}

// Selector picks the transactions to export; the domain (e.g. trials/audit)
// decides what belongs to a trial.
type Selector func(tx *block.Tx) bool

// File is an off-chain document offered for inclusion.
type File struct {
	Name     string
	Data     []byte
	Optional bool // skip it, rather than fail, if no exported record commits to it
}

// Options of Export.
type Options struct {
	// Scope is "trial:ID" (the trial's record set: Select is not used, the
	// records are exactly the set's, proven complete) or "all" (or any
	// other label: the records Select picks, completeness not claimed).
	Scope    string
	Select   Selector // nil: every transaction
	WithCode bool     // include deploy and upgrade transactions with their code (large)
	// Payloads are offered off-chain documents: each is included with the
	// first exported record that commits to its SHA-256 (an anchor's
	// document hash, or a hex string anywhere in a call's JSON arguments).
	Payloads []File
	// Fetch, if set, is asked for every document hash an exported record
	// commits to that no offered file covers, in ascending hash order; it
	// returns the document (nil: not available to the exporter, skip it).
	// What it returns is attached like an offered file and re-hashed by
	// Verify, so a wrong answer cannot pass.
	Fetch func(ctx context.Context, h block.Hash) (*File, error)
	// Progress, if set, is called after each block scanned and each proof
	// fetched.
	Progress func(stage string, done, total uint64)
}

// ErrNothing is returned when no committed record matches the selection.
var ErrNothing = errors.New("bundle: no certified record matches the selection")

// Export assembles a bundle from src: it scans the blocks the latest
// checkpoint covers, keeps the selected transactions, the deploy and
// upgrade records of every contract they call, the registration of every
// consent group whose consent they used and the redaction of every
// document they commit to, fetches each record's
// receipt and inclusion proof for the checkpoint's log size, attaches the
// consents found in the calls' arguments and the offered payloads.
//
// The records of the newest block are not covered by any checkpoint yet
// (a header commits to the log after the previous block); they are left
// out: commit another block first (e.g. an anchor) to include them.
//
// Every scanned block must chain to the checkpoint src names: its
// transactions match its header's root, and its header hash is the
// previous-block hash of the header above it, down from the checkpoint
// (ErrChain otherwise), so a source cannot leave a transaction out of the
// scan. Export does not check the checkpoint's certificate or the proofs:
// call Verify with the genesis before trusting or writing the bundle (or
// give a source that verifies its checkpoint, like sdk/client's).
func Export(ctx context.Context, src Source, chainID string, genesisHash block.Hash, opt Options) (*Bundle, error) {
	cp, err := src.Checkpoint(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("bundle: checkpoint: %w", err)
	}
	size := cp.Header.LogSize
	var sets setLoader
	sets.init(ctx, src, cp)
	var want map[block.Hash]bool // the trial's records, when Scope names its set
	if strings.HasPrefix(opt.Scope, "trial:") {
		s, err := sets.load(opt.Scope)
		if err != nil {
			return nil, err
		}
		want = map[block.Hash]bool{}
		for _, e := range s.Entries {
			want[e.TxHash] = true
		}
	}
	progress := func(stage string, done, total uint64) {
		if opt.Progress != nil {
			opt.Progress(stage, done, total)
		}
	}
	var (
		selected   []txRef
		deploys    = map[block.Hash][]txRef{} // contract → deploy and upgrades, in order
		groups     = map[block.Hash]txRef{}   // group id → registration
		redactions []txRef                    // every redaction, with its targets
		targets    [][]block.Hash
		registers  = map[block.Hash]txRef{} // member registrations by hash
		changes    []*SetChange             // validator transactions, in chain order
	)
	// Blocks 1 .. cp.Height-1 are those whose records the checkpoint's log
	// covers. Each must be the block the checkpoint's hash chain names
	// (header h+1's previous-block hash, down from the certified header)
	// with the body its header commits to: a source that leaves a
	// transaction out, even with the header recomputed, is refused.
	last := cp.Height() - 1
	links := make([]link, 0, last)
	for h := uint64(1); h <= last; h++ {
		c, err := src.Block(ctx, h)
		if err != nil {
			return nil, fmt.Errorf("bundle: block %d: %w", h, err)
		}
		if c.Block.Header.Height != h {
			return nil, fmt.Errorf("%w: asked for block %d, the source sent block %d", ErrChain, h, c.Block.Header.Height)
		}
		if err := c.Block.CheckBody(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrChain, err)
		}
		links = append(links, link{hash: c.Block.Hash(), prev: c.Block.Header.PrevHash})
		var leaves []block.Hash // the block's transaction hashes, for a set change's path
		for k, raw := range c.Block.Txs {
			tx, err := block.DecodeTx(raw)
			if err != nil {
				return nil, fmt.Errorf("bundle: block %d: %w", h, err)
			}
			if tx.Kind == block.KindValidator {
				if leaves == nil {
					for _, r := range c.Block.Txs {
						leaves = append(leaves, block.Sum(r))
					}
				}
				changes = append(changes, &SetChange{Block: proof.CheckpointOf(c), TxIndex: uint64(k), TxPath: txPath(leaves, k), Tx: raw})
			}
			ref := txRef{hash: block.Sum(raw), height: h}
			if tx.Kind == block.KindRegister {
				registers[ref.hash] = txRef{hash: ref.hash, height: h, raw: raw}
			}
			switch tx.Kind {
			case block.KindDeploy:
				addr := block.ContractAddress(tx.Sender, tx.Nonce)
				if opt.WithCode {
					ref.raw = raw
				}
				deploys[addr] = append(deploys[addr], ref)
			case block.KindUpgrade:
				if p, err := block.DecodeUpgrade(tx.Payload); err == nil {
					if opt.WithCode {
						ref.raw = raw
					}
					deploys[p.Contract] = append(deploys[p.Contract], ref)
				}
			case block.KindConsentGroup:
				ref.raw = raw
				if _, ok := groups[block.Sum(tx.Payload)]; !ok {
					groups[block.Sum(tx.Payload)] = ref
				}
			case block.KindRedact:
				if p, err := block.DecodeRedact(tx.Payload); err == nil {
					ref.raw = raw
					redactions, targets = append(redactions, ref), append(targets, p.Targets)
				}
			}
			if want[ref.hash] || (want == nil && (opt.Select == nil || opt.Select(tx))) {
				ref.raw = raw
				selected = append(selected, ref)
			}
		}
		progress("scan", h, last)
	}
	if err := checkChain(links, cp); err != nil {
		return nil, err
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("%w (blocks 1..%d, certified by the checkpoint at height %d)", ErrNothing, last, cp.Height())
	}
	if want != nil && len(selected) != len(want) {
		return nil, fmt.Errorf("bundle: the certified record set of %s has %d records, the node's blocks 1..%d hold %d of them", opt.Scope, len(want), last, len(selected))
	}
	b := &Bundle{ChainID: chainID, GenesisHash: genesisHash, Scope: opt.Scope, Checkpoints: []*proof.Checkpoint{cp}, Consistency: []*proof.ConsistencyProof{}}
	if err := addSetChanges(ctx, src, b, changes, groups, size); err != nil {
		return nil, err
	}
	have := map[block.Hash]*Record{}
	var fetched uint64
	add := func(ref txRef) (*Record, error) {
		if r, ok := have[ref.hash]; ok {
			if r.Tx == nil && ref.raw != nil {
				r.Tx = ref.raw
			}
			return r, nil
		}
		p, err := src.InclusionProof(ctx, ref.hash, size)
		if err != nil {
			return nil, fmt.Errorf("bundle: inclusion proof of tx %s (block %d): %w", ref.hash, ref.height, err)
		}
		r := &Record{Tx: ref.raw, Proof: p}
		have[ref.hash] = r
		b.Records = append(b.Records, r)
		fetched++
		progress("proofs", fetched, uint64(len(selected)))
		return r, nil
	}
	contracts := map[block.Hash]bool{}
	usedGroups := map[block.Hash]bool{}
	for _, ref := range selected {
		r, err := add(ref)
		if err != nil {
			return nil, err
		}
		tx, _ := block.DecodeTx(ref.raw)
		if tx.Kind != block.KindCall {
			continue
		}
		if call, err := block.DecodeCall(tx.Payload); err == nil {
			contracts[call.Contract] = true
		}
		if rc, err := r.Proof.Receipt(); err == nil {
			for _, d := range chainEvents(rc, EventConsentUsed, 64) {
				usedGroups[block.Hash(d[32:64])] = true
			}
		}
	}
	if want != nil {
		// The trial's contracts' code histories and its signers' membership
		// histories, each a certified record set.
		if err := addSets(&sets, contracts, deploys, selected, registers, add); err != nil {
			return nil, err
		}
	} else {
		for addr := range contracts {
			for _, ref := range deploys[addr] {
				if _, err := add(ref); err != nil {
					return nil, err
				}
			}
		}
	}
	for id := range usedGroups {
		if ref, ok := groups[id]; ok {
			if _, err := add(ref); err != nil {
				return nil, err
			}
		}
	}
	// The redaction of a document a record commits to belongs with it:
	// the evidence says who destroyed the document, when and why.
	committed := map[block.Hash]bool{}
	for _, h := range Commitments(b) {
		committed[h] = true
	}
	for i, ref := range redactions {
		if want != nil {
			break // a trial's redactions are in its record set
		}
		for _, t := range targets[i] {
			if committed[t] {
				if _, err := add(ref); err != nil {
					return nil, err
				}
				break
			}
		}
	}
	b.Sort()
	// Drop deploys and upgrades that failed (they created no version);
	// the receipt tells.
	kept := b.Records[:0]
	for _, r := range b.Records {
		if rc, err := r.Proof.Receipt(); err == nil && len(r.Tx) == 0 && rc.Status != block.StatusOK {
			continue
		}
		kept = append(kept, r)
	}
	b.Records = kept
	b.Scopes = sets.loaded
	annotate(b)
	files := opt.Payloads
	if opt.Fetch != nil {
		offered := map[block.Hash]bool{}
		for _, f := range files {
			offered[sha256.Sum256(f.Data)] = true
		}
		for _, h := range Commitments(b) {
			if offered[h] {
				continue
			}
			f, err := opt.Fetch(ctx, h)
			if err != nil {
				return nil, fmt.Errorf("bundle: fetch document %s: %w", h, err)
			}
			if f == nil {
				continue
			}
			if got := block.Hash(sha256.Sum256(f.Data)); got != h {
				return nil, fmt.Errorf("bundle: fetch document %s: got data hashing to %s", h, got)
			}
			f.Optional = false // a record commits to it
			files = append(files, *f)
		}
	}
	if err := attachPayloads(b, files); err != nil {
		return nil, err
	}
	if want != nil {
		withhold(b, want)
	}
	return b, nil
}

// addSetChanges keeps the validator transactions that succeeded (their
// receipts, in the log of size, say so), with the validator
// organisations' group their consents name: what a verifier walks from
// the genesis set to the set that certified the checkpoint.
func addSetChanges(ctx context.Context, src Source, b *Bundle, changes []*SetChange, groups map[block.Hash]txRef, size uint64) error {
	for _, sc := range changes {
		txh := block.Sum(sc.Tx)
		p, err := src.InclusionProof(ctx, txh, size)
		if err != nil {
			return fmt.Errorf("bundle: receipt of validator change %s (block %d): %w", txh, sc.Height(), err)
		}
		rc, err := p.Receipt()
		if err != nil {
			return fmt.Errorf("bundle: receipt of validator change %s (block %d): %w", txh, sc.Height(), err)
		}
		if rc.Status != block.StatusOK {
			continue // it changed nothing
		}
		sc.Receipt = p
		if b.ValidatorGroup == nil {
			tx, _ := block.DecodeTx(sc.Tx) // decoded by the scan
			vp, err := block.DecodeValidator(tx.Payload)
			if err != nil {
				return fmt.Errorf("bundle: validator change %s (block %d): %w", txh, sc.Height(), err)
			}
			c, err := consent.ParseConsent(vp.Consent)
			if err != nil {
				return fmt.Errorf("bundle: validator change %s (block %d): %w", txh, sc.Height(), err)
			}
			ref, ok := groups[block.Hash(c.GroupID)]
			if !ok {
				return fmt.Errorf("bundle: validator change %s (block %d): its consent's group %x is not registered in blocks before it", txh, sc.Height(), c.GroupID)
			}
			gtx, err := block.DecodeTx(ref.raw)
			if err != nil {
				return fmt.Errorf("bundle: validator group %x: %w", c.GroupID, err)
			}
			b.ValidatorGroup = gtx.Payload
		}
		b.SetChanges = append(b.SetChanges, sc)
	}
	return nil
}

// txRef is a transaction found by the block scan.
type txRef struct {
	hash   block.Hash
	raw    []byte
	height uint64
}

// setLoader fetches record sets at the export's checkpoint and checks
// each against its head (a wrong answer is refused here; Verify checks
// the proof again).
type setLoader struct {
	ctx    context.Context
	src    Source
	cp     *proof.Checkpoint
	loaded []*Scope
	byName map[string]*Scope
}

func (l *setLoader) init(ctx context.Context, src Source, cp *proof.Checkpoint) {
	l.ctx, l.src, l.cp, l.byName = ctx, src, cp, map[string]*Scope{}
}

func (l *setLoader) load(name string) (*Scope, error) {
	if s, ok := l.byName[name]; ok {
		return s, nil
	}
	key := state.ScopeKey(name)
	p, found, value, err := l.src.StateProof(l.ctx, key, l.cp.Height()-1)
	if err != nil {
		return nil, fmt.Errorf("bundle: record set %q: state proof: %w", name, err)
	}
	s := &Scope{Name: name, Proof: p}
	if found {
		head, err := state.DecodeScopeHead(value)
		if err != nil {
			return nil, fmt.Errorf("bundle: record set %q: %w", name, err)
		}
		if err := p.VerifyValue(l.cp.Header.StateRoot, key, value); err != nil {
			return nil, fmt.Errorf("bundle: record set %q: the node's proof does not reach the checkpoint's state root: %w", name, err)
		}
		if s.Entries, err = l.src.ScopeEntries(l.ctx, name, head.Count); err != nil {
			return nil, fmt.Errorf("bundle: record set %q: %w", name, err)
		}
		if got := state.HeadOf(s.Entries); got != head {
			return nil, fmt.Errorf("bundle: record set %q: the node's %d entries do not hash to the certified head (%d entries)", name, len(s.Entries), head.Count)
		}
	} else if err := p.VerifyAbsent(l.cp.Header.StateRoot, key); err != nil {
		return nil, fmt.Errorf("bundle: record set %q: the node's proof of absence does not reach the checkpoint's state root: %w", name, err)
	}
	l.byName[name] = s
	l.loaded = append(l.loaded, s)
	return s, nil
}

// addSets adds the code history of each contract and the membership
// history of each sender of the selected records.
func addSets(sets *setLoader, contracts map[block.Hash]bool, deploys map[block.Hash][]txRef, selected []txRef, registers map[block.Hash]txRef, add func(txRef) (*Record, error)) error {
	for _, addr := range sortedHashes(contracts) {
		if len(deploys[addr]) == 0 {
			continue // a call of an address with no contract: nothing ran
		}
		s, err := sets.load(state.CodeScope(addr))
		if err != nil {
			return err
		}
		byHash := map[block.Hash]txRef{}
		for _, ref := range deploys[addr] {
			byHash[ref.hash] = ref
		}
		for _, e := range s.Entries {
			ref, ok := byHash[e.TxHash]
			if !ok {
				return fmt.Errorf("bundle: contract %s: version %s (block %d) is not in the node's blocks", addr, e.TxHash, e.Height)
			}
			if _, err := add(ref); err != nil {
				return err
			}
		}
	}
	senders := map[string]ed25519.PublicKey{}
	for _, ref := range selected {
		if tx, err := block.DecodeTx(ref.raw); err == nil {
			senders[string(tx.Sender)] = tx.Sender
		}
	}
	keys := make([]string, 0, len(senders))
	for k := range senders {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, err := sets.load(state.MemberScope(senders[k]))
		if err != nil {
			return err
		}
		for _, e := range s.Entries {
			ref, ok := registers[e.TxHash]
			if !ok {
				return fmt.Errorf("bundle: member %x: registration %s (block %d) is not in the node's blocks", []byte(senders[k]), e.TxHash, e.Height)
			}
			if _, err := add(ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrChain is returned by Export when a block the source sent is not the
// one the certified checkpoint's header hash chain names.
var ErrChain = errors.New("bundle: block does not chain to the certified checkpoint")

// link is a scanned block's hash and the previous-block hash its header names.
type link struct{ hash, prev block.Hash }

// checkChain checks that links[i] is block i+1 of the chain that ends in
// cp: walking down from the certified header, each block must hash to
// the previous-block hash its successor's header names.
func checkChain(links []link, cp *proof.Checkpoint) error {
	if uint64(len(links)) != cp.Height()-1 {
		return fmt.Errorf("%w: %d blocks scanned below the checkpoint at height %d", ErrChain, len(links), cp.Height())
	}
	want := cp.Header.PrevHash
	for h := len(links); h >= 1; h-- {
		if links[h-1].hash != want {
			return fmt.Errorf("%w: block %d hashes to %s, but the certified chain (down from block %d) names %s: the source left out, added or changed something in it",
				ErrChain, h, links[h-1].hash, cp.Height(), want)
		}
		want = links[h-1].prev
	}
	return nil
}

// Commitments returns, in ascending order and once each, the document
// hashes the bundle's records commit to: the hash of each anchor and every
// 64-hex-digit string in a call's JSON arguments (a record hash, a consent
// document's hash, an analysis plan's hash). Not every such string names a
// document; those nothing is found for are simply not attached.
func Commitments(b *Bundle) []block.Hash {
	seen := map[block.Hash]bool{}
	var out []block.Hash
	for _, c := range commitments(b) {
		if !seen[c.hash] {
			seen[c.hash] = true
			out = append(out, c.hash)
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out
}

// annotate fills each call's code version (from the deploy and upgrade
// records before it) and the consents found in its arguments.
func annotate(b *Bundle) {
	versions := map[block.Hash]block.Hash{}
	for _, r := range b.Records {
		rc, err := r.Proof.Receipt()
		if err != nil {
			continue
		}
		if rc.Status == block.StatusOK {
			for _, d := range chainEvents(rc, EventDeployed, 64) {
				versions[block.Hash(d[:32])] = block.Hash(d[32:64])
			}
			for _, d := range chainEvents(rc, EventUpgraded, 96) {
				versions[block.Hash(d[:32])] = block.Hash(d[64:96])
			}
		}
		if len(r.Tx) == 0 {
			continue
		}
		tx, err := block.DecodeTx(r.Tx)
		if err != nil || tx.Kind != block.KindCall {
			continue
		}
		call, err := block.DecodeCall(tx.Payload)
		if err != nil {
			continue
		}
		r.CodeHash = versions[call.Contract]
		used := map[block.Hash]bool{}
		for _, d := range chainEvents(rc, EventConsentUsed, 64) {
			used[block.Hash(d[:32])] = true
		}
		if len(used) > 0 {
			r.Consents = findConsents(call.Args, used)
		}
	}
}

// findConsents returns the consents among the base64 strings of a call's
// JSON arguments whose ids are in used (what the trial contracts pass:
// a "consent" field, base64 in JSON).
func findConsents(args []byte, used map[block.Hash]bool) []proof.HexBytes {
	var doc any
	if json.Unmarshal(args, &doc) != nil {
		return nil
	}
	var out []proof.HexBytes
	walkStrings(doc, "", func(_ string, s string) bool {
		if len(s) < 64 || len(out) >= MaxConsents {
			return true
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return true
		}
		c, err := consent.ParseConsent(raw)
		if err != nil || !used[block.Hash(c.ID())] {
			return true
		}
		out = append(out, raw)
		return true
	})
	return out
}

// walkStrings visits every string of a decoded JSON value with its JSON
// pointer, objects in sorted key order; fn returns false to stop.
func walkStrings(v any, ptr string, fn func(ptr, s string) bool) bool {
	switch x := v.(type) {
	case string:
		return fn(ptr, x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			esc := strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
			if !walkStrings(x[k], ptr+"/"+esc, fn) {
				return false
			}
		}
	case []any:
		for i, e := range x {
			if !walkStrings(e, fmt.Sprintf("%s/%d", ptr, i), fn) {
				return false
			}
		}
	}
	return true
}

// attachPayloads finds, for each offered file, the first record that
// commits to its hash.
func attachPayloads(b *Bundle, files []File) error {
	cs := commitments(b)
	for _, f := range files {
		h := block.Hash(sha256.Sum256(f.Data))
		var found *Payload
		for _, c := range cs {
			if c.hash == h {
				found = &Payload{Tx: c.tx, Field: c.field}
				break
			}
		}
		if found == nil && f.Optional {
			continue
		}
		if found == nil {
			return fmt.Errorf("bundle: payload %s: no exported record commits to its SHA-256 %x", f.Name, h[:])
		}
		found.Name, found.SHA256, found.Data = f.Name, h, f.Data
		for _, c := range cs {
			if c.hash == h && c.tx == found.Tx && c.field == FieldAnchor && c.label != "" {
				found.Name = c.label // an anchored document carries its label on chain
			}
		}
		b.Payloads = append(b.Payloads, found)
	}
	return nil
}

// withhold lists the trial's anchored documents the bundle does not carry
// (and no redaction in it explains), so that Verify can tell a document
// the exporter could not include from one deleted by hand.
func withhold(b *Bundle, trialTx map[block.Hash]bool) {
	have := map[block.Hash]bool{}
	for _, p := range b.Payloads {
		have[p.SHA256] = true
	}
	redacted := map[block.Hash]bool{}
	var anchors []docRef
	for _, r := range b.Records {
		tx, err := block.DecodeTx(r.Tx)
		if len(r.Tx) == 0 || err != nil {
			continue
		}
		switch tx.Kind {
		case block.KindRedact:
			if p, err := block.DecodeRedact(tx.Payload); err == nil {
				for _, t := range p.Targets {
					redacted[t] = true
				}
			}
		case block.KindAnchor:
			if a, err := block.DecodeAnchor(tx.Payload); err == nil && trialTx[tx.Hash()] {
				anchors = append(anchors, docRef{hash: a.Hash, tx: tx.Hash(), label: a.Label})
			}
		}
	}
	seen := map[block.Hash]bool{}
	for _, a := range anchors {
		if have[a.hash] || redacted[a.hash] || seen[a.hash] {
			continue
		}
		seen[a.hash] = true
		b.Withheld = append(b.Withheld, &Withheld{SHA256: a.hash, Reason: "not available to the exporter"})
	}
	sort.Slice(b.Withheld, func(i, k int) bool { return bytes.Compare(b.Withheld[i].SHA256[:], b.Withheld[k].SHA256[:]) < 0 })
}

// docRef is a document hash a record holds, and where.
type docRef struct {
	hash  block.Hash
	tx    block.Hash
	field string // FieldAnchor, or the JSON pointer into the call's arguments
	label string // the anchor's label
}

// commitments lists, in record order, the document hashes the records
// commit to: each anchor's hash and every 64-lowercase-hex-digit string in
// a call's JSON arguments.
func commitments(b *Bundle) []docRef {
	var out []docRef
	for _, r := range b.Records {
		if len(r.Tx) == 0 {
			continue
		}
		tx, err := block.DecodeTx(r.Tx)
		if err != nil {
			continue
		}
		switch tx.Kind {
		case block.KindAnchor:
			if a, err := block.DecodeAnchor(tx.Payload); err == nil {
				out = append(out, docRef{hash: a.Hash, tx: tx.Hash(), field: FieldAnchor, label: a.Label})
			}
		case block.KindCall:
			call, err := block.DecodeCall(tx.Payload)
			if err != nil {
				continue
			}
			var doc any
			if json.Unmarshal(call.Args, &doc) != nil {
				continue
			}
			walkStrings(doc, "", func(ptr, s string) bool {
				if h, err := block.ParseHash(s); err == nil && s == strings.ToLower(s) {
					out = append(out, docRef{hash: h, tx: tx.Hash(), field: ptr})
				}
				return true
			})
		}
	}
	return out
}
