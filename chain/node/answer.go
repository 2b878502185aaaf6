package node

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/trialchain/trialchain/chain/view"
)

// The answer of POST /v1/tx is the API's most frequent one. writeJSON
// (encoding/json with a two-space indent) spends more on it than on
// everything else the handler does but the signature check: reflection,
// then a second pass to indent. appendSubmitted writes the same bytes
// directly; answer_test.go checks it against writeJSON on a table and a
// fuzz target.

// answerBufs recycles the buffers answers are built in.
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// writeSubmitted answers s with status code: the bytes writeJSON(w, code, s)
// writes, in one Write.
func writeSubmitted(w http.ResponseWriter, code int, s *view.Submitted) {
	bp := answerBufs.Get().(*[]byte)
	b := appendSubmitted((*bp)[:0], s)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
	if cap(b) <= 64<<10 { // a receipt with large results or events is not kept
		*bp = b
		answerBufs.Put(bp)
	}
}

// appendSubmitted appends the JSON of s as json.Encoder with
// SetIndent("", "  ") writes it, final newline included.
func appendSubmitted(b []byte, s *view.Submitted) []byte {
	b = append(b, "{\n  \"hash\": \""...)
	b = hex.AppendEncode(b, s.Hash[:])
	b = append(b, '"')
	if rc := s.Receipt; rc != nil {
		b = append(b, ",\n  \"receipt\": "...)
		b = appendReceipt(b, rc, "  ")
	}
	if s.Pending != "" {
		b = append(b, ",\n  \"pending\": "...)
		b = appendJSONString(b, s.Pending)
	}
	return append(b, "\n}\n"...)
}

// appendReceipt appends the JSON object of rc as json.Encoder with
// SetIndent("", "  ") writes it at indentation in (the line of its key).
func appendReceipt(b []byte, rc *view.Receipt, in string) []byte {
	b = append(b, "{\n"...)
	b = append(b, in...)
	b = append(b, "  \"tx_hash\": \""...)
	b = hex.AppendEncode(b, rc.TxHash[:])
	b = appendKey(b, "\",", in, "height")
	b = strconv.AppendUint(b, rc.Height, 10)
	b = appendKey(b, ",", in, "index")
	b = strconv.AppendUint(b, rc.Index, 10)
	b = appendKey(b, ",", in, "status")
	b = appendJSONString(b, rc.Status)
	b = appendKey(b, ",", in, "gas_used")
	b = strconv.AppendUint(b, rc.GasUsed, 10)
	if rc.Result != "" {
		b = appendKey(b, ",", in, "result")
		b = appendJSONString(b, rc.Result)
	}
	if rc.Error != "" {
		b = appendKey(b, ",", in, "error")
		b = appendJSONString(b, rc.Error)
	}
	if len(rc.Events) > 0 {
		b = appendKey(b, ",", in, "events")
		b = append(b, '[')
		for i, e := range rc.Events {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			b = append(b, in...)
			b = append(b, "    {\n"...)
			b = append(b, in...)
			b = append(b, "      "...)
			if e.Source != "" {
				b = append(b, "\"source\": "...)
				b = appendJSONString(b, e.Source)
				b = append(b, ",\n"...)
				b = append(b, in...)
				b = append(b, "      "...)
			}
			b = append(b, "\"type\": "...)
			b = appendJSONString(b, e.Type)
			b = append(b, ",\n"...)
			b = append(b, in...)
			b = append(b, "      \"data\": "...)
			b = appendJSONString(b, e.Data)
			b = append(b, '\n')
			b = append(b, in...)
			b = append(b, "    }"...)
		}
		b = append(b, '\n')
		b = append(b, in...)
		b = append(b, "  ]"...)
	}
	b = append(b, '\n')
	b = append(b, in...)
	return append(b, '}')
}

// appendKey appends end (what closes the previous value), a new line at
// indentation in plus two spaces, and "key": .
func appendKey(b []byte, end, in, key string) []byte {
	b = append(b, end...)
	b = append(b, '\n')
	b = append(b, in...)
	b = append(b, "  \""...)
	b = append(b, key...)
	return append(b, "\": "...)
}

// writeSubmittedBatch answers sb with 200: the bytes writeJSON writes, in
// one Write (writeJSON itself for an answer with an expired result, rare).
func writeSubmittedBatch(w http.ResponseWriter, sb *view.SubmittedBatch) {
	for _, r := range sb.Results {
		if r.Expired != nil {
			writeJSON(w, http.StatusOK, sb)
			return
		}
	}
	bp := answerBufs.Get().(*[]byte)
	b := appendSubmittedBatch((*bp)[:0], sb)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	if cap(b) <= 64<<10 {
		*bp = b
		answerBufs.Put(bp)
	}
}

// appendSubmittedBatch appends the JSON of sb, whose results have no
// Expired, as json.Encoder with SetIndent("", "  ") writes it.
func appendSubmittedBatch(b []byte, sb *view.SubmittedBatch) []byte {
	if sb.Results == nil {
		return append(b, "{\n  \"results\": null\n}\n"...)
	}
	if len(sb.Results) == 0 {
		return append(b, "{\n  \"results\": []\n}\n"...)
	}
	b = append(b, "{\n  \"results\": ["...)
	for i := range sb.Results {
		r := &sb.Results[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    {\n      \"status\": "...)
		b = strconv.AppendInt(b, int64(r.Status), 10)
		b = append(b, ",\n      \"hash\": \""...)
		b = hex.AppendEncode(b, r.Hash[:])
		b = append(b, '"')
		if r.Code != "" {
			b = append(b, ",\n      \"code\": "...)
			b = appendJSONString(b, r.Code)
		}
		if r.Error != "" {
			b = append(b, ",\n      \"error\": "...)
			b = appendJSONString(b, r.Error)
		}
		if r.Receipt != nil {
			b = append(b, ",\n      \"receipt\": "...)
			b = appendReceipt(b, r.Receipt, "      ")
		}
		if r.Pending != "" {
			b = append(b, ",\n      \"pending\": "...)
			b = appendJSONString(b, r.Pending)
		}
		b = append(b, "\n    }"...)
	}
	return append(b, "\n  ]\n}\n"...)
}

// appendJSONString appends s as encoding/json quotes it (HTML-safe): a
// string of printable ASCII needing no escape is copied, any other is
// left to encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil { // a string always encodes
				panic("node: encoding a string as JSON: " + err.Error())
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
