package contract

import (
	"encoding/json"
	"testing"
)

// TestFastEncodings: what the SDK encodes without encoding/json is
// byte-identical to it, and what it cannot is left to it.
func TestFastEncodings(t *testing.T) {
	for _, v := range []any{int64(0), int64(-42), int64(1 << 62), "", "crf-000000001", "a<b", "é", "q\"", "\x7f",
		JSON(`{"a":1}`), JSON(nil), struct{ J JSON }{JSON(`[1]`)}, struct{ J JSON }{}} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := encodeFast(v); ok && string(got) != string(want) {
			t.Errorf("%#v: fast %s, encoding/json %s", v, got, want)
		}
		if got := mustJSON(v); string(got) != string(want) {
			t.Errorf("%#v: mustJSON %s, encoding/json %s", v, got, want)
		}
	}
	for _, doc := range []string{`0`, `-7`, `123456789012345678`, `1234567890123456789`, `1.5`, `1e3`, `01`, ` 5`, `null`, `"x"`,
		`"abc"`, `""`, `"a\"b"`, `"é"`, `"\u00e9"`, `5`, `"a`} {
		var i, iw int64
		ei, ew := unmarshal([]byte(doc), &i), json.Unmarshal([]byte(doc), &iw)
		if (ei == nil) != (ew == nil) || i != iw {
			t.Errorf("int64 %s: %d %v, encoding/json %d %v", doc, i, ei, iw, ew)
		}
		var s, sw string
		es, esw := unmarshal([]byte(doc), &s), json.Unmarshal([]byte(doc), &sw)
		if (es == nil) != (esw == nil) || s != sw {
			t.Errorf("string %s: %q %v, encoding/json %q %v", doc, s, es, sw, esw)
		}
	}
}
