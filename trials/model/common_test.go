package model

import (
	"strings"
	"testing"
)

// TestSeqAndPlainText: Seq is the fixed-width form of every sequence
// number (the hand-written path and the general one agree at the edges),
// and plainText never accepts what text refuses.
func TestSeqAndPlainText(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "crf-000000000"}, {1, "crf-000000001"}, {42, "crf-000000042"}, {999_999_999, "crf-999999999"}, {1_000_000_000, "crf-000000000"}} {
		if got := Seq("crf-", c.n); got != c.want {
			t.Errorf("Seq(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	for _, s := range []string{"", "120", "a\tb\nc", "x\x00", "\x7f", "é", "\xff", strings.Repeat("a", MaxText), strings.Repeat("a", MaxText+1), "\r"} {
		if plainText(s, MaxText) && text("field x", s, MaxText, false) != nil {
			t.Errorf("plainText accepts %q, which text refuses", s)
		}
	}
}
