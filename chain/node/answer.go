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
		b = append(b, ",\n  \"receipt\": {\n    \"tx_hash\": \""...)
		b = hex.AppendEncode(b, rc.TxHash[:])
		b = append(b, "\",\n    \"height\": "...)
		b = strconv.AppendUint(b, rc.Height, 10)
		b = append(b, ",\n    \"index\": "...)
		b = strconv.AppendUint(b, rc.Index, 10)
		b = append(b, ",\n    \"status\": "...)
		b = appendJSONString(b, rc.Status)
		b = append(b, ",\n    \"gas_used\": "...)
		b = strconv.AppendUint(b, rc.GasUsed, 10)
		if rc.Result != "" {
			b = append(b, ",\n    \"result\": "...)
			b = appendJSONString(b, rc.Result)
		}
		if rc.Error != "" {
			b = append(b, ",\n    \"error\": "...)
			b = appendJSONString(b, rc.Error)
		}
		if len(rc.Events) > 0 {
			b = append(b, ",\n    \"events\": ["...)
			for i, e := range rc.Events {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, "\n      {\n        "...)
				if e.Source != "" {
					b = append(b, "\"source\": "...)
					b = appendJSONString(b, e.Source)
					b = append(b, ",\n        "...)
				}
				b = append(b, "\"type\": "...)
				b = appendJSONString(b, e.Type)
				b = append(b, ",\n        \"data\": "...)
				b = appendJSONString(b, e.Data)
				b = append(b, "\n      }"...)
			}
			b = append(b, "\n    ]"...)
		}
		b = append(b, "\n  }"...)
	}
	if s.Pending != "" {
		b = append(b, ",\n  \"pending\": "...)
		b = appendJSONString(b, s.Pending)
	}
	return append(b, "\n}\n"...)
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
