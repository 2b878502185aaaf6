package consent

import (
	"encoding/binary"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// The canonical binary encoding shared by every format of this package:
//
//   - integers are fixed-size big-endian (u16, u32, i64);
//   - byte strings and text are a minimal unsigned LEB128 (uvarint) length
//     followed by the bytes; a non-minimal length is rejected;
//   - fixed-size values (ids, keys, ed25519 signatures) have no prefix;
//   - every top-level encoding starts with a domain tag (a length-prefixed
//     ASCII string such as "trialchain/consent/group/v1"), so no encoding of
//     one kind can be read as another, nor signed as another;
//   - fields come in a fixed order, sequences in a fixed order, there are no
//     optional fields and no maps; the decoder rejects trailing bytes.
//
// So each value has exactly one encoding and the decoder accepts exactly
// the encoder's output.

// Domain tags.
const (
	tagGroup       = "trialchain/consent/group/v1"
	tagSealedShare = "trialchain/consent/sealed-share/v1"
	tagShareInfo   = "trialchain/consent/share-hpke/v1"
	tagSignedShare = "trialchain/consent/signed-share/v1"
	tagConsent     = "trialchain/consent/consent/v1"
	tagMessage     = "trialchain/consent/message/v1"
	tagAttest      = "trialchain/consent/attestation/v1"
	tagPSSSalt     = "trialchain/consent/pss-salt/v1"
)

// Limits. They bound every decoder's allocations and the work of Verify.
const (
	// MaxParties is the largest consent group.
	MaxParties = 64
	// MinKeyBits and MaxKeyBits bound the RSA modulus size.
	MinKeyBits = 2048
	MaxKeyBits = 4096

	maxNameLen     = 64
	maxTextLen     = 256
	maxChainIDLen  = 128
	maxKindLen     = 64
	maxActionData  = 64 << 10
	maxSealedBytes = 4096
	maxModBytes    = MaxKeyBits / 8
	minModBytes    = MinKeyBits / 8
)

type encoder struct{ buf []byte }

func (e *encoder) u16(v uint16)   { e.buf = binary.BigEndian.AppendUint16(e.buf, v) }
func (e *encoder) u32(v uint32)   { e.buf = binary.BigEndian.AppendUint32(e.buf, v) }
func (e *encoder) i64(v int64)    { e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v)) }
func (e *encoder) fixed(p []byte) { e.buf = append(e.buf, p...) }
func (e *encoder) bytes(p []byte) {
	e.buf = binary.AppendUvarint(e.buf, uint64(len(p)))
	e.buf = append(e.buf, p...)
}
func (e *encoder) str(s string) {
	e.buf = binary.AppendUvarint(e.buf, uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// decoder reads the canonical encoding. The first error sticks; later
// reads return zero values.
type decoder struct {
	b    []byte
	what string
	err  error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = malformed(d.what, format, args...)
	}
}

func (d *decoder) take(field string, n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b) < n {
		d.fail("%s: truncated", field)
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u16(field string) uint16 {
	p := d.take(field, 2)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint16(p)
}

func (d *decoder) u32(field string) uint32 {
	p := d.take(field, 4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (d *decoder) i64(field string) int64 {
	p := d.take(field, 8)
	if p == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(p))
}

// length reads a minimal uvarint no larger than max.
func (d *decoder) length(field string, max int) int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("%s: bad length", field)
		return 0
	}
	if n != len(binary.AppendUvarint(nil, v)) {
		d.fail("%s: non-minimal length", field)
		return 0
	}
	if v > uint64(max) {
		d.fail("%s: length %d exceeds %d", field, v, max)
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

// bytes reads a length-prefixed byte string of min..max bytes and copies it.
func (d *decoder) bytes(field string, min, max int) []byte {
	n := d.length(field, max)
	if d.err == nil && n < min {
		d.fail("%s: length %d below %d", field, n, min)
	}
	p := d.take(field, n)
	if p == nil {
		return nil
	}
	return append([]byte(nil), p...)
}

// fixed reads exactly n bytes and copies them.
func (d *decoder) fixed(field string, n int) []byte {
	p := d.take(field, n)
	if p == nil {
		return nil
	}
	return append([]byte(nil), p...)
}

// str reads a length-prefixed string and checks it with check.
func (d *decoder) str(field string, max int, check func(string) error) string {
	n := d.length(field, max)
	p := d.take(field, n)
	if d.err != nil {
		return ""
	}
	s := string(p)
	if err := check(s); err != nil {
		d.fail("%s: %v", field, err)
		return ""
	}
	return s
}

func (d *decoder) tag(want string) {
	got := d.str("tag", 64, func(string) error { return nil })
	if d.err == nil && got != want {
		d.fail("domain tag %q, want %q", got, want)
	}
}

// finish reports the first error or trailing bytes.
func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return d.err
}

// checkName accepts identifiers: 1..64 bytes of [A-Za-z0-9._-], not
// starting with '-' or '.' (they become file names and CLI arguments).
func checkName(s string) error {
	if len(s) == 0 || len(s) > maxNameLen {
		return fmt.Errorf("name must be 1..%d bytes", maxNameLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok || i == 0 && (c == '-' || c == '.') {
			return fmt.Errorf("name %q: only letters, digits, '.', '_' and '-' allowed, not leading '-' or '.'", s)
		}
	}
	return nil
}

// checkText accepts human-readable text: valid UTF-8 without control
// characters and without leading or trailing spaces, 0..max bytes (1..max
// unless allowEmpty). Text is compared byte for byte: no Unicode
// normalisation is applied, so the signer's software must send the same
// bytes the verifier expects.
func checkText(s string, max int, allowEmpty bool) error {
	if len(s) > max {
		return fmt.Errorf("text longer than %d bytes", max)
	}
	if len(s) == 0 {
		if allowEmpty {
			return nil
		}
		return fmt.Errorf("text must not be empty")
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("text is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return fmt.Errorf("text contains control character %U", r)
		}
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return fmt.Errorf("text has leading or trailing spaces")
	}
	return nil
}

// checkKind accepts action kinds: 1..64 bytes of [a-z0-9./_-].
func checkKind(s string) error {
	if len(s) == 0 || len(s) > maxKindLen {
		return fmt.Errorf("kind must be 1..%d bytes", maxKindLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '/' || c == '_' || c == '-') {
			return fmt.Errorf("kind %q: only a-z, 0-9, '.', '/', '_' and '-' allowed", s)
		}
	}
	return nil
}
