package model

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on free text, so that every record fits in a state value.
const (
	MaxID   = 64   // identifiers
	MaxName = 200  // names, labels, measures
	MaxText = 2000 // descriptions, reasons
	MaxList = 200  // list lengths (arms, fields, outcomes...)
)

// Signature is what the signer of an entry states (21 CFR 11.50): the
// printed name and the meaning of the signature ("author", "review",
// "approval", "responsibility"...). The contract adds the time (the block
// time, UTC) and the signer's key and organisation, which makes the
// Manifestation stored with the entry.
type Signature struct {
	PrintedName string `json:"printedName"`
	Meaning     string `json:"meaning"`
}

// Validate checks both parts are present.
func (s Signature) Validate() error {
	if err := text("signature.printedName", s.PrintedName, MaxName, true); err != nil {
		return err
	}
	return text("signature.meaning", s.Meaning, MaxName, true)
}

// Manifestation is the Part 11 manifestation stored with every entry.
type Manifestation struct {
	PrintedName string `json:"printedName"`
	Meaning     string `json:"meaning"`
	Time        string `json:"time"`   // RFC 3339 UTC: the block time
	Signer      string `json:"signer"` // hex ed25519 key of the transaction's sender
	Org         string `json:"org"`    // the sender's organisation
}

// Manifest completes s with the block time (Unix ms), signer key and org.
func Manifest(s Signature, blockMilli int64, signer [32]byte, org string) Manifestation {
	return Manifestation{PrintedName: s.PrintedName, Meaning: s.Meaning, Time: FormatMilli(blockMilli),
		Signer: hex.EncodeToString(signer[:]), Org: org}
}

// FormatMilli formats Unix milliseconds as RFC 3339 UTC with milliseconds.
// Years 1970 to 9999 are formatted by hand (every manifestation has a
// time: in a contract, time.Format is a tenth of a form submission's
// work); the same text as time.Format (TestFormatMilli).
func FormatMilli(ms int64) string {
	if ms < 0 || ms >= maxHandMilli {
		return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	days, rem := ms/86400000, ms%86400000
	// Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible
	// Low-Level Date Algorithms"), for non-negative days.
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
		y++
	}
	var b [24]byte
	put := func(i int, v int64, n int) {
		for j := i + n - 1; j >= i; j-- {
			b[j] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, y, 4)
	b[4] = '-'
	put(5, m, 2)
	b[7] = '-'
	put(8, d, 2)
	b[10] = 'T'
	put(11, rem/3600000, 2)
	b[13] = ':'
	put(14, rem/60000%60, 2)
	b[16] = ':'
	put(17, rem/1000%60, 2)
	b[19] = '.'
	put(20, rem%1000, 3)
	b[23] = 'Z'
	return string(b[:])
}

// maxHandMilli is 10000-01-01T00:00:00Z: FormatMilli formats earlier
// times (from 1970) by hand.
const maxHandMilli = 253402300800000

// ParseUTC parses an RFC 3339 time that must be in UTC ("Z"), returning
// Unix milliseconds.
func ParseUTC(field, s string) (int64, error) {
	if !strings.HasSuffix(s, "Z") {
		return 0, errf("invalid", "%s %q must be an RFC 3339 UTC time ending in Z, e.g. 2026-03-01T14:30:00Z", field, s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, errf("invalid", "%s %q is not an RFC 3339 UTC time, e.g. 2026-03-01T14:30:00Z", field, s)
	}
	return t.UnixMilli(), nil
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(field, s string) (time.Time, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return t, errf("invalid", "%s %q is not a date YYYY-MM-DD", field, s)
	}
	return t, nil
}

// Hash returns the SHA-256 of the JSON encoding of v as lowercase hex.
// JSON of Go structs has a fixed field order and maps are encoded with
// sorted keys, so the same value always gives the same hash on every side.
func Hash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("model: hash: " + err.Error()) // only plain data is hashed
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Digest is a domain-separated SHA-256: SHA-256(tag | 0x00 | parts joined
// by 0x00). It is what a consent signs (the action bytes passed to the
// consent check) for amendments, genome releases and surgical sign-offs.
func Digest(tag string, parts ...string) [32]byte {
	h := sha256.New()
	h.Write([]byte(tag))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// IsHash reports whether s is 64 lowercase hex digits.
func IsHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	return isLowerHex(s)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func hashField(field, s string, required bool) error {
	if s == "" && !required {
		return nil
	}
	if !IsHash(s) {
		return errf("invalid", "%s must be a SHA-256 as 64 lowercase hex digits, have %q", field, clip(s))
	}
	return nil
}

// text checks a free-text field: valid UTF-8, no control characters, at
// most max bytes, present if required.
func text(field, s string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return errf("invalid", "%s is required", field)
	case len(s) > max:
		return errf("invalid", "%s is %d bytes, at most %d allowed", field, len(s), max)
	case !utf8.ValidString(s):
		return errf("invalid", "%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return errf("invalid", "%s contains a control character", field)
		}
	}
	return nil
}

// plainText reports whether s passes text's checks for a value that is
// not required: at most max bytes of printable ASCII, tab or newline. (A
// false answer says nothing: text decides, with the field's name.)
func plainText(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}

// ident checks an identifier: 1..MaxID bytes of [A-Za-z0-9._:-] (no "/": ids are parts of state keys).
func ident(field, s string) error {
	if s == "" {
		return errf("invalid", "%s is required", field)
	}
	if len(s) > MaxID {
		return errf("invalid", "%s %q is longer than %d bytes", field, clip(s), MaxID)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._:-", c) >= 0) {
			return errf("invalid", "%s %q may contain only letters, digits and . _ : -", field, clip(s))
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// sortedKeys returns the keys of m in ascending order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Seq formats a sequence number as a fixed-width key part so that keys
// sort in sequence order.
func Seq(prefix string, n int64) string {
	if n < 0 || n > 999_999_999 {
		s := "000000000" + itoa(n)
		return prefix + s[len(s)-9:]
	}
	var d [9]byte
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	var b strings.Builder // one allocation: on every submission's path
	b.Grow(len(prefix) + len(d))
	b.WriteString(prefix)
	b.Write(d[:])
	return b.String()
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// groupField checks a consent group id: 64 lowercase hex digits (SHA-256
// of the group's canonical encoding, as the chain names groups).
func groupField(field, s string) error {
	if !IsHash(s) {
		return errf("invalid", "%s must be a consent group id (64 lowercase hex digits, see trialchain consent group register), have %q", field, clip(s))
	}
	return nil
}

// Ident checks an identifier as the contracts do: 1..MaxID bytes of
// [A-Za-z0-9._:-]; field names it in the error.
func Ident(field, s string) error { return ident(field, s) }
