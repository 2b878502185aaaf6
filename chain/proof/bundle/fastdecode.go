package bundle

import (
	"bytes"
	"runtime"
	"sync"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/proof"
)

// The canonical-form decoder. A bundle of 10^5 records is ~300 MB of
// JSON, 95% of it the records list; encoding/json reads it at ~50 MB/s
// per core (reflection, a scanner step per byte, a copy per string), and
// the reference decoder then re-encodes it all to check the canonical
// form. The parser below reads only the canonical form of a record — the
// bytes encodeRecord writes — so a record it accepts is canonical by
// construction and needs no re-encoding; the rest of the file (headers,
// record sets, payloads) is still decoded by encoding/json and compared
// with its re-encoding.
//
// It is an accelerator, not a second definition of the format: it returns
// ok only when the reference decoder would return the same bundle, and
// on anything else Decode falls back to decodeReference, which decides
// (and words the error). TestDecodeCanonicalDifferential and
// FuzzDecodeCanonical hold it to that.

// recordsOpen and recordsClose frame a non-empty records list in Encode's
// output. Strings in the canonical form never hold a raw newline, and only
// the bundle's own fields are indented by one space, so the first
// recordsOpen of a canonical bundle is its records list.
const (
	recordsOpen  = "\n \"records\": [\n  "
	recordsClose = "\n ],\n"
	recordsEmpty = "\n \"records\": [],\n"
	recordSep    = ",\n  "
	// recordBoundary is a record's end and the next one's start: a
	// record's own lines are indented by three spaces or more.
	recordBoundary = "\n  },\n  {\n"
)

// decodeCanonical decodes data if it is a canonical bundle with records;
// ok is false for anything else (the caller then uses decodeReference).
// The rest of the file is decoded and checked while the records are
// parsed.
func decodeCanonical(data []byte) (*Bundle, bool) {
	start := bytes.Index(data, []byte(recordsOpen))
	if start < 0 {
		return nil, false
	}
	region := data[start+len(recordsOpen):]
	// In a canonical bundle the records list ends at the first line that
	// closes a list at the bundle's own depth; the parser must end there.
	end := bytes.Index(region, []byte(recordsClose))
	if end < 0 {
		return nil, false
	}
	end += len(recordsClose)
	var (
		recs   []*recordJSON
		parsed int
		recsOK bool
		done   = make(chan struct{})
	)
	parse := func() {
		defer close(done)
		recs, parsed, recsOK = parseRecordList(region)
	}
	if len(region) < 1<<20 {
		// A small bundle: parse first, so that a damaged record (the
		// reference path will word why) costs no decoding of the head.
		if parse(); !recsOK {
			return nil, false
		}
	} else {
		go parse()
	}
	b, ok := decodeHead(data[:start], region[end:])
	<-done
	if !ok || !recsOK || parsed != end || len(recs) > MaxRecords {
		return nil, false
	}
	var err error
	if b.Records, err = recordsFromJSON(recs); err != nil {
		return nil, false
	}
	return b, true
}

// decodeHead decodes the bundle around its records list (before and
// after it, the list left empty) and checks that it re-encodes to exactly
// those bytes. The records are canonical by construction.
func decodeHead(before, after []byte) (*Bundle, bool) {
	head := make([]byte, 0, len(before)+len(recordsEmpty)+len(after))
	head = append(head, before...)
	head = append(head, recordsEmpty...)
	head = append(head, after...)
	j, raws, err := decodeTop(head)
	if err != nil || len(raws) != 0 {
		return nil, false
	}
	b, err := fromJSON(j)
	if err != nil || !bytes.Equal(b.Encode(), head) {
		return nil, false
	}
	return b, true
}

// parseRecordList parses the records of a list that recordsOpen opened,
// up to and including recordsClose, on every core: the region is cut at
// record boundaries and each piece must end exactly where the next
// begins. It returns the bytes consumed.
func parseRecordList(region []byte) ([]*recordJSON, int, bool) {
	workers := runtime.GOMAXPROCS(0)
	if len(region) < 1<<20 {
		workers = 1
	}
	// Piece k starts at cuts[k] (a record's "{"); the last piece runs to
	// the end of the list.
	cuts := []int{0}
	for k := 1; k < workers; k++ {
		from := max(len(region)*k/workers, cuts[len(cuts)-1]+1)
		if from >= len(region) {
			break
		}
		at := bytes.Index(region[from:], []byte(recordBoundary))
		if at < 0 {
			break
		}
		cuts = append(cuts, from+at+len(recordBoundary)-2) // at the "{"
	}
	type piece struct {
		recs []*recordJSON
		end  int
		ok   bool
	}
	pieces := make([]piece, len(cuts))
	var wg sync.WaitGroup
	for k := range cuts {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			p := &pieces[k]
			i := cuts[k]
			for {
				rj, next, ok := parseRecord(region, i)
				if !ok {
					return
				}
				p.recs = append(p.recs, rj)
				i = next
				if k+1 < len(cuts) && i+len(recordSep) == cuts[k+1] {
					if !bytes.HasPrefix(region[i:], []byte(recordSep)) {
						return
					}
					p.end, p.ok = i, true
					return
				}
				if k+1 < len(cuts) && i+len(recordSep) > cuts[k+1] {
					return // ran past the next piece's start
				}
				if bytes.HasPrefix(region[i:], []byte(recordSep)) {
					i += len(recordSep)
					continue
				}
				if k+1 == len(cuts) && bytes.HasPrefix(region[i:], []byte(recordsClose)) {
					p.end, p.ok = i+len(recordsClose), true
				}
				return
			}
		}(k)
	}
	wg.Wait()
	total := 0
	for _, p := range pieces {
		if !p.ok {
			return nil, 0, false
		}
		total += len(p.recs)
	}
	out := make([]*recordJSON, 0, total)
	for _, p := range pieces {
		out = append(out, p.recs...)
	}
	return out, pieces[len(pieces)-1].end, true
}

// parseRecord parses the record at b[i:] in exactly the form encodeRecord
// writes it and returns the offset after its closing brace. Every value
// is what encoding/json would decode from the same bytes.
func parseRecord(b []byte, i int) (*recordJSON, int, bool) {
	lit := func(s string) bool {
		if i+len(s) <= len(b) && string(b[i:i+len(s)]) == s {
			i += len(s)
			return true
		}
		return false
	}
	// str returns the hex string's bytes at b[i:] (after its opening
	// quote) and moves past the closing quote.
	str := func() ([]byte, bool) {
		n := bytes.IndexByte(b[i:], '"')
		if n < 0 {
			return nil, false
		}
		s := b[i : i+n]
		i += n + 1
		return s, true
	}
	hash := func(h *block.Hash) bool {
		s, ok := str()
		return ok && len(s) == 2*len(h) && decodeLowerHex(h[:], s)
	}
	bytesVal := func(nonEmpty bool) ([]byte, bool) {
		s, ok := str()
		if !ok || len(s)%2 != 0 || (nonEmpty && len(s) == 0) {
			return nil, false
		}
		v := make([]byte, len(s)/2)
		return v, decodeLowerHex(v, s)
	}
	uint := func() (uint64, bool) {
		var v uint64
		k := i
		for k < len(b) && b[k] >= '0' && b[k] <= '9' {
			d := uint64(b[k] - '0')
			if v > (1<<64-1-d)/10 {
				return 0, false // overflows uint64
			}
			v = v*10 + d
			k++
		}
		if k == i || (b[i] == '0' && k > i+1) {
			return 0, false // no digits, or a leading zero
		}
		i = k
		return v, true
	}

	rj := &recordJSON{Proof: &proof.InclusionProof{}}
	p := rj.Proof
	var ok bool
	if !lit("{\n   ") {
		return nil, 0, false
	}
	if lit(`"tx": "`) {
		if rj.Tx, ok = bytesVal(true); !ok || !lit(",\n   ") {
			return nil, 0, false
		}
	}
	if !lit("\"proof\": {\n    \"leaf_index\": ") {
		return nil, 0, false
	}
	if p.LeafIndex, ok = uint(); !ok || !lit(",\n    \"size\": ") {
		return nil, 0, false
	}
	if p.Size, ok = uint(); !ok || !lit(",\n    \"leaf\": \"") || !hash(&p.Leaf) {
		return nil, 0, false
	}
	if lit(",\n    \"record\": \"") {
		if p.Record, ok = bytesVal(true); !ok {
			return nil, 0, false
		}
	}
	if !lit(",\n    \"hashes\": ") {
		return nil, 0, false
	}
	switch {
	case lit("null"):
	case lit("[]"):
		p.Hashes = []block.Hash{}
	case lit("["):
		// Count the hashes first: one allocation, the size encoding/json
		// would not guess.
		const lead, stride = "\n     \"", len("\n     \"") + 64 + 2 // `\n     "HASH",`
		n := 0
		for k := i; k+stride <= len(b) && string(b[k:k+len(lead)]) == lead; k += stride {
			n++
			if b[k+stride-1] != ',' {
				break
			}
		}
		if n == 0 || n > proof.MaxProofHashes {
			return nil, 0, false
		}
		p.Hashes = make([]block.Hash, n)
		for k := range p.Hashes {
			if k > 0 && !lit(",") {
				return nil, 0, false
			}
			if !lit("\n     \"") || !hash(&p.Hashes[k]) {
				return nil, 0, false
			}
		}
		if !lit("\n    ]") {
			return nil, 0, false
		}
	default:
		return nil, 0, false
	}
	if !lit("\n   }") {
		return nil, 0, false
	}
	if lit(",\n   \"code_hash\": \"") {
		rj.CodeHash = new(block.Hash)
		if !hash(rj.CodeHash) || rj.CodeHash.IsZero() {
			return nil, 0, false // a zero code_hash is refused by the reference path
		}
	}
	if lit(",\n   \"consents\": [") {
		for k := 0; ; k++ {
			if k == MaxConsents {
				return nil, 0, false
			}
			if !lit("\n    \"") {
				return nil, 0, false
			}
			c, ok := bytesVal(false)
			if !ok {
				return nil, 0, false
			}
			rj.Consents = append(rj.Consents, c)
			if !lit(",") {
				break
			}
		}
		if !lit("\n   ]") {
			return nil, 0, false
		}
	}
	if !lit("\n  }") {
		return nil, 0, false
	}
	return rj, i, true
}

// unhex maps a lower-case hex digit to its value and every other byte to
// 0xff.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
	}
	return t
}()

// decodeLowerHex decodes s (lower-case hex, len(s) = 2*len(dst)) into dst.
func decodeLowerHex(dst, s []byte) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for k := range dst {
		hi, lo := unhex[s[2*k]], unhex[s[2*k+1]]
		if hi > 15 || lo > 15 {
			return false
		}
		dst[k] = hi<<4 | lo
	}
	return true
}
