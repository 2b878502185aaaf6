package bundle

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"sync"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
	"github.com/trialchain/trialchain/chain/witness"
)

// Format names the file type in the "format" field.
const Format = "trialchain-bundle"

// Version is the version of the bundle JSON.
const Version = 1

// Limits a decoder enforces before it trusts anything.
const (
	// MaxBytes bounds a bundle file. Hex doubles the transaction bytes;
	// 1 GiB holds about 10^6 trial records, or a few hundred with code.
	MaxBytes = 1 << 30
	// MaxRecords bounds the records of one bundle.
	MaxRecords = 2_000_000
	// MaxCheckpoints bounds the certified checkpoints of one bundle.
	MaxCheckpoints = 1024
	// MaxConsents bounds the consents attached to one record.
	MaxConsents = 16
	// MaxPayloadBytes bounds one off-chain payload.
	MaxPayloadBytes = 64 << 20
	// MaxNameBytes bounds a payload name and the scope.
	MaxNameBytes = 256
)

// Bundle is a self-contained export: every byte a verifier needs, with
// nothing but the genesis file, to check that the records were committed,
// by whom, under which contract code, and that the log that holds them was
// certified by a quorum of the genesis validators.
//
// Hashes in the bundle are never trusted: Verify recomputes each from the
// bytes it commits to (transaction, receipt, leaf, root, code, payload).
type Bundle struct {
	ChainID     string     // must equal the genesis chain id
	GenesisHash block.Hash // must equal the genesis file's hash (genesis.Genesis.Hash)
	Scope       string     // what was exported, for people: "trial:ID" or "all"
	// Checkpoints are certified headers in ascending height; each record's
	// inclusion proof is for the log size of one of them.
	Checkpoints []*proof.Checkpoint
	// Consistency[i] proves the log of Checkpoints[i+1] extends the log of
	// Checkpoints[i]; len(Consistency) = len(Checkpoints) - 1.
	Consistency []*proof.ConsistencyProof
	Records     []*Record // in ascending leaf index, each leaf once
	Payloads    []*Payload
	// Scopes are the record sets the bundle proves complete at its latest
	// checkpoint (see scope.go): the trial's own set, named like Scope,
	// first; then the code history of each contract its records called and
	// the membership history of each key that signed one of them.
	Scopes []*Scope
	// Withheld are documents anchored by the trial's records that the
	// bundle does not carry, with the exporter's reason (ascending hash).
	// Verify refuses a trial bundle that lacks an anchored document it
	// neither carries, nor shows redacted, nor declares here; the report
	// lists what was withheld.
	Withheld []*Withheld
	// Witnesses are witness cosignatures of the latest checkpoint;
	// VerifyWitnesses (witness.go) checks them, Verify does not.
	Witnesses []*witness.Cosignature
	// SetChanges are the validator-set changes committed before the latest
	// checkpoint, in chain order, each proven by the set in force before
	// it (valset.go); Verify walks them from the genesis set and checks
	// every certificate against the set in force at its height. Empty on
	// a chain whose set never changed.
	SetChanges []*SetChange
	// ValidatorGroup is the encoding of the validator organisations'
	// consent group (the genesis names its id, params.validator_group):
	// each change's consent is re-verified against it. Set with
	// SetChanges.
	ValidatorGroup proof.HexBytes
}

// Withheld is a document the exporter did not include, and why.
type Withheld struct {
	SHA256 block.Hash
	Reason string
}

// Record is one committed transaction: its bytes, its receipt (the leaf
// data of the record log, inside Proof) and the inclusion proof.
type Record struct {
	// Tx is the canonical transaction (its ed25519 signature included). It
	// may be left out only for a deploy or upgrade whose receipt alone
	// shows the code hash (the code is large): then the record is evidence
	// of a contract version, not a trial record.
	Tx proof.HexBytes
	// Proof carries the receipt (Proof.Record) and its audit path to the
	// root of a checkpoint's log.
	Proof *proof.InclusionProof
	// CodeHash is, for a contract call, the SHA-256 of the code of the
	// contract version that executed it. Verify derives it from the
	// deploy and upgrade records in the bundle and refuses a mismatch.
	CodeHash block.Hash
	// Consents are the canonical encodings of the threshold consents the
	// call used (its receipt's "consent.used" events name them).
	Consents []proof.HexBytes
}

// Payload is an off-chain document (an encrypted-at-rest case-report
// record, a consent document, an analysis dataset...) the exporter chose
// to include, with where the chain commits to its hash.
type Payload struct {
	Name string     // file name, for people
	Tx   block.Hash // the record that commits to it
	// Field locates the commitment: "anchor" for an anchor transaction's
	// document hash, or an RFC 6901 JSON pointer into a call's JSON
	// arguments whose value is the hex SHA-256 (e.g. "/recordHash").
	Field  string
	SHA256 block.Hash // SHA-256 of Data; recomputed by Verify
	Data   proof.HexBytes
}

// FieldAnchor is the Payload.Field of an anchored document.
const FieldAnchor = "anchor"

type bundleJSON struct {
	Format      string                    `json:"format"`
	Version     int                       `json:"version"`
	ChainID     string                    `json:"chain_id"`
	GenesisHash block.Hash                `json:"genesis_hash"`
	Scope       string                    `json:"scope"`
	Checkpoints []*proof.Checkpoint       `json:"checkpoints"`
	Consistency []*proof.ConsistencyProof `json:"consistency"`
	Records     []*recordJSON             `json:"records"`
	Payloads    []*payloadJSON            `json:"payloads"`
	Scopes      []*scopeJSON              `json:"scopes"`
	Withheld    []*withheldJSON           `json:"withheld"`
	Witnesses   []*witness.Cosignature    `json:"witnesses,omitempty"`
	// Last, and left out when empty: a bundle of a chain whose set never
	// changed is byte for byte what it was before set changes existed.
	SetChanges     []*setChangeJSON `json:"set_changes,omitempty"`
	ValidatorGroup proof.HexBytes   `json:"validator_group,omitempty"`
}

type withheldJSON struct {
	SHA256 block.Hash `json:"sha256"`
	Reason string     `json:"reason"`
}

type recordJSON struct {
	Tx       proof.HexBytes        `json:"tx,omitempty"`
	Proof    *proof.InclusionProof `json:"proof"`
	CodeHash *block.Hash           `json:"code_hash,omitempty"`
	Consents []proof.HexBytes      `json:"consents,omitempty"`
}

type payloadJSON struct {
	Name   string         `json:"name"`
	Tx     block.Hash     `json:"tx"`
	Field  string         `json:"field"`
	SHA256 block.Hash     `json:"sha256"`
	Data   proof.HexBytes `json:"data"`
}

// Encode returns the bundle file: indented JSON, one byte string per
// bundle (Decode refuses any other form).
func (b *Bundle) Encode() []byte {
	j := bundleJSON{Format: Format, Version: Version, ChainID: b.ChainID, GenesisHash: b.GenesisHash, Scope: b.Scope,
		Checkpoints: b.Checkpoints, Consistency: b.Consistency, Records: []*recordJSON{}, Payloads: []*payloadJSON{}, Scopes: encodeScopes(b.Scopes), Withheld: []*withheldJSON{}, Witnesses: b.Witnesses,
		SetChanges: encodeSetChanges(b.SetChanges), ValidatorGroup: b.ValidatorGroup}
	for _, w := range b.Withheld {
		j.Withheld = append(j.Withheld, &withheldJSON{SHA256: w.SHA256, Reason: w.Reason})
	}
	if j.Checkpoints == nil {
		j.Checkpoints = []*proof.Checkpoint{}
	}
	if j.Consistency == nil {
		j.Consistency = []*proof.ConsistencyProof{}
	}
	for _, p := range b.Payloads {
		j.Payloads = append(j.Payloads, &payloadJSON{Name: p.Name, Tx: p.Tx, Field: p.Field, SHA256: p.SHA256, Data: p.Data})
	}
	out, err := json.MarshalIndent(j, "", " ")
	if err != nil {
		panic(fmt.Sprintf("bundle: encode: %v", err)) // only hashes, numbers, strings and byte strings
	}
	if len(b.Records) == 0 {
		return append(out, '\n')
	}
	// The records are most of a bundle: they are encoded on every core and
	// spliced in where the (empty) list stands. Each is indented as
	// MarshalIndent indents an element of a list at depth 1, so the result
	// is byte for byte json.MarshalIndent of the whole (TestEncodeReference).
	const empty = "\n \"records\": [],\n"
	at := bytes.Index(out, []byte(empty))
	if at < 0 {
		panic("bundle: encode: no records list") // the field is always there
	}
	recs := encodeRecords(b.Records)
	size := len(out) + 16
	for _, r := range recs {
		size += len(r) + 4
	}
	buf := make([]byte, 0, size)
	buf = append(buf, out[:at]...)
	buf = append(buf, "\n \"records\": [\n  "...)
	for i, r := range recs {
		if i > 0 {
			buf = append(buf, ",\n  "...)
		}
		buf = append(buf, r...)
	}
	buf = append(buf, "\n ],\n"...)
	buf = append(buf, out[at+len(empty):]...)
	return append(buf, '\n')
}

// decodeRecords decodes each record strictly (unknown fields refused), in
// parallel; the first error in bundle order is returned.
func decodeRecords(raws []json.RawMessage) ([]*recordJSON, error) {
	out := make([]*recordJSON, len(raws))
	errs := make([]error, len(raws))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(raws)/512))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(raws); i += workers {
				dec := json.NewDecoder(bytes.NewReader(raws[i]))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&out[i]); err != nil {
					errs[i] = fmt.Errorf("%w: record %d: %w", ErrMalformed, i, err)
				}
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// encodeRecord writes r as json.MarshalIndent(recordJSON, "  ", " ")
// does (an element of the records list), without reflection: the records
// are most of a bundle's bytes, and Decode re-encodes every one to check
// the canonical form. TestEncodeReference holds it to MarshalIndent.
func encodeRecord(r *Record) []byte {
	p := r.Proof
	if p == nil {
		rj := &recordJSON{Tx: r.Tx, Proof: r.Proof, Consents: r.Consents}
		if !r.CodeHash.IsZero() {
			h := r.CodeHash
			rj.CodeHash = &h
		}
		b, err := json.MarshalIndent(rj, "  ", " ")
		if err != nil {
			panic(fmt.Sprintf("bundle: encode record: %v", err))
		}
		return b
	}
	n := 2*len(r.Tx) + 2*len(p.Record) + 70*len(p.Hashes) + 70*len(r.Consents) + 256
	for _, c := range r.Consents {
		n += 2 * len(c)
	}
	b := make([]byte, 0, n)
	hexStr := func(b []byte, v []byte) []byte {
		b = append(b, '"')
		b = hex.AppendEncode(b, v)
		return append(b, '"')
	}
	b = append(b, '{')
	sep := "\n   "
	if len(r.Tx) > 0 {
		b = append(b, sep+`"tx": `...)
		b = hexStr(b, r.Tx)
		sep = ",\n   "
	}
	b = append(b, sep+`"proof": {`...)
	b = append(b, "\n    \"leaf_index\": "...)
	b = strconv.AppendUint(b, p.LeafIndex, 10)
	b = append(b, ",\n    \"size\": "...)
	b = strconv.AppendUint(b, p.Size, 10)
	b = append(b, ",\n    \"leaf\": "...)
	b = hexStr(b, p.Leaf[:])
	if len(p.Record) > 0 {
		b = append(b, ",\n    \"record\": "...)
		b = hexStr(b, p.Record)
	}
	b = append(b, ",\n    \"hashes\": "...)
	switch {
	case p.Hashes == nil:
		b = append(b, "null"...)
	case len(p.Hashes) == 0:
		b = append(b, "[]"...)
	default:
		b = append(b, '[')
		for k, h := range p.Hashes {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n     "...)
			b = hexStr(b, h[:])
		}
		b = append(b, "\n    ]"...)
	}
	b = append(b, "\n   }"...)
	if !r.CodeHash.IsZero() {
		b = append(b, ",\n   \"code_hash\": "...)
		b = hexStr(b, r.CodeHash[:])
	}
	if len(r.Consents) > 0 {
		b = append(b, ",\n   \"consents\": ["...)
		for k, c := range r.Consents {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n    "...)
			b = hexStr(b, c)
		}
		b = append(b, "\n   ]"...)
	}
	return append(b, "\n  }"...)
}

// encodeRecords is each record's JSON as an element of the bundle's
// records list (indented for depth 2), encoded in parallel.
func encodeRecords(rs []*Record) [][]byte {
	out := make([][]byte, len(rs))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(rs)/512))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(rs); i += workers {
				out[i] = encodeRecord(rs[i])
			}
		}(w)
	}
	wg.Wait()
	return out
}

// Decode reads a bundle file strictly: unknown fields, trailing data, a
// wrong format or version, out-of-order or duplicate records, every length
// over the limits and any byte string other than Encode's (canonical form)
// are refused. It checks structure only: call
// Verify.
//
// # Errors
//
// Wraps ErrMalformed, naming the field (and the record's position).
//
// # Notes
//
// The records, nearly all of a bundle's bytes, are first read by a parser
// of their canonical form alone (decodeCanonical, fastdecode.go), on every
// core and without reflection. Anything it does not accept, and any
// bundle it accepts that fails a check, is decoded again by the reference
// path (decodeReference: encoding/json, then re-encode and compare), so
// that the two paths accept the same files and refuse with the same
// errors (TestDecodeCanonicalDifferential, FuzzDecodeCanonical).
func Decode(data []byte) (*Bundle, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(data), MaxBytes)
	}
	if b, ok := decodeCanonical(data); ok {
		return b, nil
	}
	return decodeReference(data)
}

// decodeReference is Decode by encoding/json alone, then a re-encoding
// compared with data.
func decodeReference(data []byte) (*Bundle, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(data), MaxBytes)
	}
	j, raws, err := decodeTop(data)
	if err != nil {
		return nil, err
	}
	if j.Records, err = decodeRecords(raws); err != nil {
		return nil, err
	}
	b, err := fromJSON(j)
	if err != nil {
		return nil, err
	}
	if enc := b.Encode(); !bytes.Equal(enc, data) {
		at := 0
		for at < len(enc) && at < len(data) && enc[at] == data[at] {
			at++
		}
		return nil, fmt.Errorf("%w: not in canonical form (the bundle re-encodes differently from byte %d on; upper-case hex, reordered fields or changed spacing are refused so that every bundle has one byte string)", ErrMalformed, at)
	}
	return b, nil
}

// decodeTop decodes the bundle JSON strictly, leaving each record raw.
func decodeTop(data []byte) (*bundleJSON, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w struct {
		bundleJSON
		Records []json.RawMessage `json:"records"`
	}
	if err := dec.Decode(&w); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("%w: trailing data after the bundle", ErrMalformed)
	}
	if len(w.Records) > MaxRecords {
		return nil, nil, fmt.Errorf("%w: %d records, limit %d", ErrMalformed, len(w.Records), MaxRecords)
	}
	return &w.bundleJSON, w.Records, nil
}

// fromJSON checks the decoded structure and builds the bundle.
func fromJSON(j *bundleJSON) (*Bundle, error) {
	switch {
	case j.Format != Format:
		return nil, fmt.Errorf("%w: format %q, want %q", ErrMalformed, j.Format, Format)
	case j.Version != Version:
		return nil, fmt.Errorf("%w: version %d, want %d", ErrMalformed, j.Version, Version)
	case j.ChainID == "" || len(j.ChainID) > block.MaxChainIDBytes:
		return nil, fmt.Errorf("%w: chain_id must be 1..%d bytes", ErrMalformed, block.MaxChainIDBytes)
	case len(j.Scope) > MaxNameBytes:
		return nil, fmt.Errorf("%w: scope of %d bytes", ErrMalformed, len(j.Scope))
	case len(j.Checkpoints) == 0 || len(j.Checkpoints) > MaxCheckpoints:
		return nil, fmt.Errorf("%w: %d checkpoints, want 1..%d", ErrMalformed, len(j.Checkpoints), MaxCheckpoints)
	case len(j.Consistency) != len(j.Checkpoints)-1:
		return nil, fmt.Errorf("%w: %d consistency proofs for %d checkpoints, want %d", ErrMalformed, len(j.Consistency), len(j.Checkpoints), len(j.Checkpoints)-1)
	case len(j.Records) > MaxRecords:
		return nil, fmt.Errorf("%w: %d records, limit %d", ErrMalformed, len(j.Records), MaxRecords)
	case len(j.Payloads) > MaxRecords:
		return nil, fmt.Errorf("%w: %d payloads, limit %d", ErrMalformed, len(j.Payloads), MaxRecords)
	}
	if err := checkWitnesses(j.Witnesses); err != nil {
		return nil, err
	}
	b := &Bundle{ChainID: j.ChainID, GenesisHash: j.GenesisHash, Scope: j.Scope, Checkpoints: j.Checkpoints, Consistency: j.Consistency, Witnesses: j.Witnesses}
	changes, err := decodeSetChanges(j.SetChanges, j.ValidatorGroup)
	if err != nil {
		return nil, err
	}
	b.SetChanges, b.ValidatorGroup = changes, j.ValidatorGroup
	scopes, err := decodeScopes(j.Scopes)
	if err != nil {
		return nil, err
	}
	b.Scopes = scopes
	if len(j.Withheld) > MaxRecords {
		return nil, fmt.Errorf("%w: %d withheld documents, limit %d", ErrMalformed, len(j.Withheld), MaxRecords)
	}
	for i, w := range j.Withheld {
		switch {
		case w == nil || len(w.Reason) > MaxNameBytes:
			return nil, fmt.Errorf("%w: withheld document %d is null or its reason over %d bytes", ErrMalformed, i, MaxNameBytes)
		case i > 0 && bytes.Compare(w.SHA256[:], j.Withheld[i-1].SHA256[:]) <= 0:
			return nil, fmt.Errorf("%w: withheld documents must be in ascending hash order, each once", ErrMalformed)
		}
		b.Withheld = append(b.Withheld, &Withheld{SHA256: w.SHA256, Reason: w.Reason})
	}
	for i, cp := range j.Checkpoints {
		if cp == nil {
			return nil, fmt.Errorf("%w: checkpoint %d is null", ErrMalformed, i)
		}
		if i > 0 && cp.Height() <= j.Checkpoints[i-1].Height() {
			return nil, fmt.Errorf("%w: checkpoint %d (height %d) is not above checkpoint %d (height %d)", ErrMalformed, i, cp.Height(), i-1, j.Checkpoints[i-1].Height())
		}
	}
	for i, p := range j.Consistency {
		if p == nil || len(p.Hashes) > proof.MaxProofHashes {
			return nil, fmt.Errorf("%w: consistency proof %d is null or too long", ErrMalformed, i)
		}
	}
	if b.Records, err = recordsFromJSON(j.Records); err != nil {
		return nil, err
	}
	for i, pj := range j.Payloads {
		switch {
		case pj == nil:
			return nil, fmt.Errorf("%w: payload %d is null", ErrMalformed, i)
		case len(pj.Name) > MaxNameBytes:
			return nil, fmt.Errorf("%w: payload %d: name of %d bytes", ErrMalformed, i, len(pj.Name))
		case len(pj.Field) > 1024 || pj.Field == "":
			return nil, fmt.Errorf("%w: payload %d (%s): field must be \"anchor\" or a JSON pointer of at most 1024 bytes", ErrMalformed, i, pj.Name)
		case len(pj.Data) > MaxPayloadBytes:
			return nil, fmt.Errorf("%w: payload %d (%s): %d bytes, limit %d", ErrMalformed, i, pj.Name, len(pj.Data), MaxPayloadBytes)
		}
		b.Payloads = append(b.Payloads, &Payload{Name: pj.Name, Tx: pj.Tx, Field: pj.Field, SHA256: pj.SHA256, Data: pj.Data})
	}
	return b, nil
}

// recordsFromJSON checks the decoded records and builds them.
func recordsFromJSON(rjs []*recordJSON) ([]*Record, error) {
	var out []*Record
	if len(rjs) > 0 {
		out = make([]*Record, 0, len(rjs))
	}
	for i, rj := range rjs {
		switch {
		case rj == nil || rj.Proof == nil:
			return nil, fmt.Errorf("%w: record %d: no inclusion proof", ErrMalformed, i)
		case len(rj.Proof.Record) == 0:
			return nil, fmt.Errorf("%w: record %d: the proof carries no receipt", ErrMalformed, i)
		case len(rj.Proof.Hashes) > proof.MaxProofHashes:
			return nil, fmt.Errorf("%w: record %d: %d proof hashes", ErrMalformed, i, len(rj.Proof.Hashes))
		case len(rj.Tx) > block.MaxTxBytes:
			return nil, fmt.Errorf("%w: record %d: transaction of %d bytes", ErrMalformed, i, len(rj.Tx))
		case len(rj.Consents) > MaxConsents:
			return nil, fmt.Errorf("%w: record %d: %d consents, limit %d", ErrMalformed, i, len(rj.Consents), MaxConsents)
		case i > 0 && rj.Proof.LeafIndex <= rjs[i-1].Proof.LeafIndex:
			return nil, fmt.Errorf("%w: record %d (leaf %d) is not after record %d (leaf %d): records must be in ascending leaf order, each once",
				ErrMalformed, i, rj.Proof.LeafIndex, i-1, rjs[i-1].Proof.LeafIndex)
		case rj.CodeHash != nil && rj.CodeHash.IsZero():
			return nil, fmt.Errorf("%w: record %d: zero code_hash (leave it out)", ErrMalformed, i)
		}
		r := &Record{Tx: rj.Tx, Proof: rj.Proof, Consents: rj.Consents}
		if rj.CodeHash != nil {
			r.CodeHash = *rj.CodeHash
		}
		out = append(out, r)
	}
	return out, nil
}

// Sort puts the records in ascending leaf order (what Encode expects and
// Decode requires).
func (b *Bundle) Sort() {
	sort.Slice(b.Records, func(i, k int) bool { return b.Records[i].Proof.LeafIndex < b.Records[k].Proof.LeafIndex })
}

// Latest is the highest checkpoint.
func (b *Bundle) Latest() *proof.Checkpoint {
	if len(b.Checkpoints) == 0 {
		return nil
	}
	return b.Checkpoints[len(b.Checkpoints)-1]
}
