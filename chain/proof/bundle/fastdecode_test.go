package bundle

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
)

// sameDecode checks the canonical-form decoder against the reference on
// data: whatever it accepts, the reference accepts as the same bundle. It
// reports whether the canonical decoder accepted.
func sameDecode(t testing.TB, name string, data []byte) bool {
	t.Helper()
	fast, ok := decodeCanonical(data)
	if !ok {
		return false
	}
	ref, err := decodeReference(data)
	if err != nil {
		t.Fatalf("%s: the canonical decoder accepted what the reference refuses (%v)", name, err)
	}
	if !reflect.DeepEqual(fast, ref) {
		t.Fatalf("%s: the canonical decoder and the reference decode different bundles", name)
	}
	return true
}

// TestDecodeCanonicalDifferential: on real bundles (with and without
// code, consents, payloads, record sets, null and empty proof paths, a
// zero-length consent) the canonical decoder accepts and decodes what the
// reference decodes; on each of many edits of the records' bytes it
// either steps aside or agrees with the reference.
func TestDecodeCanonicalDifferential(t *testing.T) {
	cf := newCompleteFixture(t)
	full, err := Decode(cf.good)
	if err != nil {
		t.Fatal(err)
	}
	edges := *full
	edges.Records = nil
	for i, r := range full.Records {
		c := *r
		p := *r.Proof
		c.Proof = &p
		switch i % 3 {
		case 0:
			p.Hashes = nil // "hashes": null
		case 1:
			p.Hashes = []block.Hash{} // "hashes": []
		}
		if len(c.Consents) > 0 {
			c.Consents = append(c.Consents, []byte{}) // "": an empty consent
		}
		edges.Records = append(edges.Records, &c)
	}
	small := newTrialFixture(t, 2, 0)
	valid := map[string][]byte{
		"complete":             cf.good,
		"complete T2":          cf.t2,
		"1500 records, code":   newTrialFixture(t, 3, 1500).export(t, true).Encode(),
		"receipt-only deploys": small.export(t, false).Encode(),
		"null and empty paths": edges.Encode(),
	}
	for name, data := range valid {
		if !sameDecode(t, name, data) {
			t.Errorf("%s: the canonical decoder steps aside on a canonical bundle", name)
		}
	}

	// Edits of the records list, each of which the reference refuses or
	// reads differently.
	enc := cf.good
	open := bytes.Index(enc, []byte(recordsOpen))
	edits := map[string]func(string) string{
		"upper-case hex": func(s string) string { return upperValue(s, `"leaf": "`) },
		"empty tx":       func(s string) string { return strings.Replace(s, `"tx": "`, `"tx": "",   "x": "`, 1) },
		"tab":            func(s string) string { return strings.Replace(s, "\n   \"proof\"", "\n\t\"proof\"", 1) },
		"leading zero":   func(s string) string { return strings.Replace(s, `"leaf_index": 1,`, `"leaf_index": 01,`, 1) },
		"huge number":    func(s string) string { return strings.Replace(s, `"size": `, `"size": 99999999999999999999`, 1) },
		"max uint64": func(s string) string {
			return strings.Replace(s, `"leaf_index": 1,`, `"leaf_index": 18446744073709551615,`, 1)
		},
		"zero code hash":    func(s string) string { return replaceValue(s, `"code_hash": "`, strings.Repeat("0", 64)) },
		"short hash":        func(s string) string { return replaceValue(s, `"leaf": "`, "ab") },
		"odd hex":           func(s string) string { return replaceValue(s, `"record": "`, "abc") },
		"escaped hex":       func(s string) string { return replaceValue(s, `"record": "`, `\u0030\u0030`) },
		"empty consents":    func(s string) string { return cutList(s, `"consents": [`) },
		"null proof":        func(s string) string { return strings.Replace(s, "\"proof\": {", "\"proof\": null, \"p\": {", 1) },
		"no record":         func(s string) string { return strings.Replace(s, `"record": "`, `"recorb": "`, 1) },
		"unknown field":     func(s string) string { return strings.Replace(s, `"code_hash"`, `"code_hasj"`, 1) },
		"records reordered": func(s string) string { return strings.Replace(s, `"leaf_index": 1,`, `"leaf_index": 0,`, 1) },
		"trailing comma":    func(s string) string { return strings.Replace(s, "\n ],\n \"payloads\"", ",\n ],\n \"payloads\"", 1) },
		"list ends early":   func(s string) string { return strings.Replace(s, "\n  },\n  {\n", "\n  }\n ],\n \"x\": [{\n", 1) },
		"second records key": func(s string) string {
			return strings.Replace(s, "\n \"payloads\"", "\n \"records\": [\n  {}\n ],\n \"payloads\"", 1)
		},
	}
	for name, edit := range edits {
		mut := []byte(edit(string(enc)))
		if bytes.Equal(mut, enc) {
			t.Errorf("%s: the edit changed nothing", name)
			continue
		}
		if sameDecode(t, name, mut) {
			t.Errorf("%s: accepted an edited bundle", name)
		}
	}

	// Bytes of the records list flipped (one in 23, three ways in turn):
	// the canonical decoder accepts exactly the edits that leave it
	// canonical (a hex digit for another), and then agrees with the
	// reference.
	end := open + bytes.Index(enc[open:], []byte(recordsClose)) + len(recordsClose)
	accepted, stride := 0, 23
	if testing.Short() {
		stride = 67
	}
	for at := open; at < end; at += stride {
		mut := bytes.Clone(enc)
		mut[at] ^= []byte{0x01, 0x20, 0x04}[at%3]
		if sameDecode(t, "flip", mut) {
			accepted++
		}
	}
	if accepted == 0 {
		t.Fatal("no hex-digit edit was decoded: the canonical path never ran")
	}
}

// replaceValue replaces the first string value after key.
func replaceValue(s, key, v string) string {
	at := strings.Index(s, key)
	if at < 0 {
		return s
	}
	at += len(key)
	end := at + strings.IndexByte(s[at:], '"')
	return s[:at] + v + s[end:]
}

// upperValue writes the first string value after key in upper case.
func upperValue(s, key string) string {
	at := strings.Index(s, key)
	if at < 0 {
		return s
	}
	at += len(key)
	end := at + strings.IndexByte(s[at:], '"')
	return s[:at] + strings.ToUpper(s[at:end]) + s[end:]
}

// cutList empties the first list after key.
func cutList(s, key string) string {
	at := strings.Index(s, key)
	if at < 0 {
		return s
	}
	at += len(key)
	end := at + strings.IndexByte(s[at:], ']')
	return s[:at] + s[end:]
}

// FuzzDecodeCanonical: whatever the canonical-form decoder accepts, the
// reference decoder accepts as the same bundle.
func FuzzDecodeCanonical(f *testing.F) {
	fx := newTrialFixture(f, 1, 3)
	f.Add(fx.export(f, false).Encode())
	f.Add([]byte("{\n \"records\": [\n  {\n   \"proof\": {\n    \"leaf_index\": 0,\n    \"size\": 1,\n    \"leaf\": \"\",\n    \"hashes\": null\n   }\n  }\n ],\n}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameDecode(t, "fuzz input", data)
	})
}
