package node

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/view"
)

// reference is the answer writeJSON, the literal encoding/json one,
// writes for s.
func reference(t testing.TB, code int, s *view.Submitted) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	writeJSON(w, code, s)
	return w
}

// TestWriteSubmittedMatchesEncodingJSON: writeSubmitted answers the
// bytes, status and headers writeJSON does, on answers with and without a
// receipt, with every optional field, and with strings encoding/json
// escapes (quotes, HTML, control characters, non-ASCII, invalid UTF-8).
func TestWriteSubmittedMatchesEncodingJSON(t *testing.T) {
	h := block.Sum([]byte("tx"))
	src := block.Sum([]byte("contract"))
	tests := []struct {
		name string
		code int
		s    view.Submitted
	}{
		{"no wait", http.StatusOK, view.Submitted{Hash: h}},
		{"zero hash", http.StatusOK, view.Submitted{}},
		{"receipt", http.StatusOK, view.Submitted{Hash: h, Receipt: &view.Receipt{TxHash: h, Height: 7, Index: 3, Status: "ok", GasUsed: 21_000}}},
		{"receipt, max integers", http.StatusOK, view.Submitted{Hash: h, Receipt: &view.Receipt{TxHash: h, Height: 1<<64 - 1, Index: 1<<64 - 1, Status: "ok", GasUsed: 1<<64 - 1}}},
		{"failed with error", http.StatusOK, view.Submitted{Hash: h, Receipt: &view.Receipt{TxHash: h, Height: 1, Status: "failed", GasUsed: 5,
			Error: `vm: trap "unreachable" at <func 3> & more` + "\n\ttab\x01\x7f"}}},
		{"result and events", http.StatusOK, view.Submitted{Hash: h, Receipt: &view.Receipt{TxHash: h, Height: 9, Index: 0, Status: "ok", GasUsed: 9, Result: "00ff",
			Events: []view.Event{{Source: src.String(), Type: "transfer", Data: "abcd"}, {Type: "scope", Data: ""}, {Source: "x", Type: "ünïcode \u2028\u2029", Data: "\xff\xfe"}}}}},
		{"empty events", http.StatusOK, view.Submitted{Hash: h, Receipt: &view.Receipt{TxHash: h, Status: "ok", Events: []view.Event{}}}},
		{"pending", http.StatusAccepted, view.Submitted{Hash: h, Pending: "submitted but not committed within 1m0s: waiting for transaction " + h.String() + ": context deadline exceeded; ask again with GET /v1/tx/" + h.String()}},
		{"pending with receipt", http.StatusAccepted, view.Submitted{Hash: h, Receipt: &view.Receipt{Status: "ok"}, Pending: "<&>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := reference(t, tt.code, &tt.s)
			got := httptest.NewRecorder()
			writeSubmitted(got, tt.code, &tt.s)
			if got.Code != want.Code {
				t.Errorf("status %d, want %d", got.Code, want.Code)
			}
			if g, w := got.Header().Get("Content-Type"), want.Header().Get("Content-Type"); g != w {
				t.Errorf("Content-Type %q, want %q", g, w)
			}
			if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				t.Errorf("body\n%s\nwant\n%s", got.Body.Bytes(), want.Body.Bytes())
			}
		})
	}
}

// FuzzAppendSubmitted: for any answer, appendSubmitted writes exactly the
// bytes of encoding/json. The fields come from the fuzzer's strings; the
// events from splitting ev on '|' (source, type, data per event).
func FuzzAppendSubmitted(f *testing.F) {
	f.Add([]byte("hash"), uint64(1), uint64(0), "ok", uint64(100), "", "", "", "", true)
	f.Add([]byte{}, uint64(1<<63), uint64(5), "failed", uint64(0), "00", "out of gas <\"&\">", "a|b|c|d|e|f", "", true)
	f.Add([]byte{0xff}, uint64(0), uint64(0), "", uint64(0), "", "", "", "not committed \x00\xc3\x28", false)
	f.Add([]byte("x"), uint64(2), uint64(3), "ok", uint64(4), "\u2028", "\t\n\r\b\f", "|||", "é", true)
	f.Fuzz(func(t *testing.T, hash []byte, height, index uint64, status string, gas uint64, result, errMsg, ev, pending string, withReceipt bool) {
		s := view.Submitted{Hash: block.Sum(hash), Pending: pending}
		if withReceipt {
			rc := &view.Receipt{TxHash: block.Sum(binary.BigEndian.AppendUint64(hash, height)), Height: height, Index: index,
				Status: status, GasUsed: gas, Result: result, Error: errMsg}
			if ev != "" {
				parts := strings.Split(ev, "|")
				for i := 0; i < len(parts); i += 3 {
					e := view.Event{Source: parts[i]}
					if i+1 < len(parts) {
						e.Type = parts[i+1]
					}
					if i+2 < len(parts) {
						e.Data = parts[i+2]
					}
					rc.Events = append(rc.Events, e)
				}
			}
			s.Receipt = rc
		}
		want := reference(t, http.StatusOK, &s).Body.Bytes()
		if got := appendSubmitted(nil, &s); !bytes.Equal(got, want) {
			t.Fatalf("appendSubmitted\n%q\nencoding/json\n%q", got, want)
		}
	})
}

// BenchmarkSubmittedAnswer writes the answer of POST /v1/tx?wait=1 (an
// anchor's receipt) with encoding/json (writeJSON) and with
// writeSubmitted.
//
//	go test -run '^$' -bench SubmittedAnswer -benchmem ./chain/node
func BenchmarkSubmittedAnswer(b *testing.B) {
	h := block.Sum([]byte("tx"))
	s := &view.Submitted{Hash: h, Receipt: &view.Receipt{TxHash: h, Height: 1234, Index: 56, Status: "ok", GasUsed: 2_300}}
	for _, bb := range []struct {
		name  string
		write func(http.ResponseWriter, int, *view.Submitted)
	}{
		{"encoding-json", func(w http.ResponseWriter, code int, s *view.Submitted) { writeJSON(w, code, s) }},
		{"append", writeSubmitted},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := &discardWriter{h: http.Header{}}
				bb.write(w, http.StatusOK, s)
				if w.n < 100 {
					b.Fatalf("%d bytes", w.n)
				}
			}
		})
	}
}

// TestWriteSubmittedBatchMatchesEncodingJSON: the answer of POST /v1/txs
// is the bytes writeJSON writes, with every kind of result.
func TestWriteSubmittedBatchMatchesEncodingJSON(t *testing.T) {
	h := block.Sum([]byte("tx"))
	rc := &view.Receipt{TxHash: h, Height: 7, Index: 3, Status: "ok", GasUsed: 21_000, Result: "00ff",
		Events: []view.Event{{Source: "s", Type: "t<", Data: "d"}, {Type: "x", Data: "\xff"}}}
	for _, tc := range []struct {
		name string
		sb   view.SubmittedBatch
	}{
		{"nil", view.SubmittedBatch{}},
		{"empty", view.SubmittedBatch{Results: []view.BatchResult{}}},
		{"one accepted", view.SubmittedBatch{Results: []view.BatchResult{{Status: 200, Hash: h}}}},
		{"mixed", view.SubmittedBatch{Results: []view.BatchResult{
			{Status: 200, Hash: h, Receipt: rc},
			{Status: 401, Hash: h, Code: "bad_signature", Error: `state: bad signature "x" & <y>`},
			{Status: 202, Hash: h, Pending: "submitted but not committed within 1m0s\n"},
			{Status: 429, Hash: h, Code: "busy", Error: "not taken"},
			{Status: 200, Hash: h, Receipt: &view.Receipt{Status: "failed", Error: "vm: trap", Events: []view.Event{}}},
		}}},
		{"expired (encoding/json)", view.SubmittedBatch{Results: []view.BatchResult{
			{Status: 410, Hash: h, Code: "expired", Error: "gone", Expired: &view.TxExpired{Code: "expired", Status: "expired", Hash: h, ValidUntil: 5}},
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := httptest.NewRecorder()
			writeJSON(want, http.StatusOK, &tc.sb)
			got := httptest.NewRecorder()
			writeSubmittedBatch(got, &tc.sb)
			if got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
				t.Errorf("status %d %q, want %d %q", got.Code, got.Header().Get("Content-Type"), want.Code, want.Header().Get("Content-Type"))
			}
			if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				t.Errorf("body\n%s\nwant\n%s", got.Body.Bytes(), want.Body.Bytes())
			}
		})
	}
}

// FuzzAppendSubmittedBatch: for any results (n of them, each built from
// the fuzzer's values), appendSubmittedBatch writes exactly the bytes of
// encoding/json.
func FuzzAppendSubmittedBatch(f *testing.F) {
	f.Add(uint8(2), 200, "", "", uint64(1), "ok", "", "a|b|c", "")
	f.Add(uint8(1), 429, "busy", "not taken <&>", uint64(0), "", "", "", "")
	f.Add(uint8(3), 202, "", "", uint64(9), "failed", "trap\x00", "", "pending \u2028")
	f.Fuzz(func(t *testing.T, n uint8, status int, code, errMsg string, height uint64, rstatus, rerr, ev, pending string) {
		var sb view.SubmittedBatch
		for i := range int(n % 8) {
			r := view.BatchResult{Status: status + i, Hash: block.Sum([]byte{byte(i)}), Code: code, Error: errMsg, Pending: pending}
			if rstatus != "" || i%2 == 1 {
				rc := &view.Receipt{TxHash: r.Hash, Height: height, Index: uint64(i), Status: rstatus, Error: rerr}
				if ev != "" {
					parts := strings.Split(ev, "|")
					for j := 0; j < len(parts); j += 2 {
						e := view.Event{Type: parts[j]}
						if j+1 < len(parts) {
							e.Source, e.Data = parts[j+1], parts[j+1]
						}
						rc.Events = append(rc.Events, e)
					}
				}
				r.Receipt = rc
			}
			sb.Results = append(sb.Results, r)
		}
		want := httptest.NewRecorder()
		writeJSON(want, http.StatusOK, &sb)
		if got := appendSubmittedBatch(nil, &sb); !bytes.Equal(got, want.Body.Bytes()) {
			t.Fatalf("appendSubmittedBatch\n%q\nencoding/json\n%q", got, want.Body.Bytes())
		}
	})
}
