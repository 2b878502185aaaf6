package block

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Decoding errors. Every decoder in this package returns one of these,
// wrapped with the field that failed.
var (
	ErrTruncated    = errors.New("block: truncated input")
	ErrTrailing     = errors.New("block: trailing bytes")
	ErrNonMinimal   = errors.New("block: non-minimal varint")
	ErrTooLarge     = errors.New("block: size over limit")
	ErrUnknownKind  = errors.New("block: unknown kind")
	ErrBadVersion   = errors.New("block: unsupported version")
	ErrBadSignature = errors.New("block: bad signature")
)

// Writer appends canonical encodings to a byte slice. The zero value is ready.
type Writer struct{ buf []byte }

// NewWriter returns a Writer that appends to b.
func NewWriter(b []byte) *Writer { return &Writer{buf: b} }

// Grow makes room for n more bytes, so that writing up to n bytes
// allocates at most once (here).
func (w *Writer) Grow(n int) { w.buf = slices.Grow(w.buf, n) }

// Bytes returns the encoding written so far.
func (w *Writer) Bytes() []byte { return w.buf }

// Byte writes one byte.
func (w *Writer) Byte(b byte) { w.buf = append(w.buf, b) }

// Uvarint writes v as an unsigned LEB128 varint (always minimal).
func (w *Writer) Uvarint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }

// Uint64 writes v as 8 bytes big-endian.
func (w *Writer) Uint64(v uint64) { w.buf = binary.BigEndian.AppendUint64(w.buf, v) }

// Int64 writes v as 8 bytes big-endian two's complement.
func (w *Writer) Int64(v int64) { w.Uint64(uint64(v)) }

// Fixed writes b without a length (the reader knows the size).
func (w *Writer) Fixed(b []byte) { w.buf = append(w.buf, b...) }

// Bytes writes a length-prefixed byte string.
func (w *Writer) VarBytes(b []byte) {
	w.Uvarint(uint64(len(b)))
	w.buf = append(w.buf, b...)
}

// String writes a length-prefixed UTF-8 string.
func (w *Writer) String(s string) {
	w.Uvarint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

// Reader consumes a canonical encoding. The first error sticks: later reads
// return zero values, and Err reports the first failure with its field.
type Reader struct {
	buf   []byte
	err   error
	alias bool // VarBytes returns slices of buf instead of copies
}

// NewReader reads b.
func NewReader(b []byte) *Reader { return &Reader{buf: b} }

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Fail records err (if none is recorded yet).
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Len returns the bytes left.
func (r *Reader) Len() int { return len(r.buf) }

// Done fails with ErrTrailing if bytes remain, and returns Err.
func (r *Reader) Done() error {
	if r.err == nil && len(r.buf) != 0 {
		r.err = fmt.Errorf("%d bytes after the value: %w", len(r.buf), ErrTrailing)
	}
	return r.err
}

func (r *Reader) take(n int, field string) []byte { return r.takeNamed(n, field, "", -1) }

// fieldName is the name a decoding error gives a field: field, then
// suffix, then " idx" if idx >= 0. It is built only for an error, so that
// a successful decoding formats no names.
func fieldName(field, suffix string, idx int) string {
	if idx >= 0 {
		field = fmt.Sprintf("%s %d", field, idx)
	}
	return field + suffix
}

// takeNamed is take for the field fieldName(field, suffix, idx).
func (r *Reader) takeNamed(n int, field, suffix string, idx int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.buf) < n {
		r.err = fmt.Errorf("%s: need %d bytes, have %d: %w", fieldName(field, suffix, idx), n, len(r.buf), ErrTruncated)
		return nil
	}
	b := r.buf[:n:n]
	r.buf = r.buf[n:]
	return b
}

// Byte reads one byte.
func (r *Reader) Byte(field string) byte {
	b := r.take(1, field)
	if b == nil {
		return 0
	}
	return b[0]
}

// Bool reads a byte that must be 0 or 1.
func (r *Reader) Bool(field string) bool {
	b := r.Byte(field)
	if b > 1 && r.err == nil {
		r.err = fmt.Errorf("%s: boolean byte %d: %w", field, b, ErrUnknownKind)
	}
	return b == 1
}

// Uvarint reads a minimal unsigned varint.
func (r *Reader) Uvarint(field string) uint64 { return r.uvarint(field, "", -1) }

// uvarint is Uvarint for the field fieldName(field, suffix, idx).
func (r *Reader) uvarint(field, suffix string, idx int) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf)
	switch {
	case n == 0:
		r.err = fmt.Errorf("%s: %w", fieldName(field, suffix, idx), ErrTruncated)
		return 0
	case n < 0:
		r.err = fmt.Errorf("%s: varint overflows 64 bits: %w", fieldName(field, suffix, idx), ErrTooLarge)
		return 0
	case n > 1 && r.buf[n-1] == 0:
		// The last byte carries no bits: a shorter encoding exists.
		r.err = fmt.Errorf("%s: %w", fieldName(field, suffix, idx), ErrNonMinimal)
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// Uint64 reads 8 bytes big-endian.
func (r *Reader) Uint64(field string) uint64 {
	b := r.take(8, field)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// Int64 reads 8 bytes big-endian two's complement.
func (r *Reader) Int64(field string) int64 { return int64(r.Uint64(field)) }

// Fixed reads exactly n bytes (aliasing the input).
func (r *Reader) Fixed(n int, field string) []byte { return r.take(n, field) }

// Hash reads a 32-byte hash.
func (r *Reader) Hash(field string) (h Hash) {
	copy(h[:], r.take(HashSize, field))
	return h
}

// VarBytes reads a length-prefixed byte string of at most max bytes. The
// result is a copy, so decoded values never alias the input buffer
// (except through DecodeCommittedShared, which says so).
func (r *Reader) VarBytes(max int, field string) []byte {
	b := r.varBytes(max, field, -1)
	if b == nil || r.alias {
		return b
	}
	return append([]byte(nil), b...)
}

// varBytes reads a length-prefixed byte string of at most max bytes,
// named fieldName(field, "", idx), and returns it aliasing the input.
func (r *Reader) varBytes(max int, field string, idx int) []byte {
	n := r.uvarint(field, " length", idx)
	if r.err != nil {
		return nil
	}
	if n > uint64(max) || n > math.MaxInt32 {
		r.err = fmt.Errorf("%s: %d bytes, limit %d: %w", fieldName(field, "", idx), n, max, ErrTooLarge)
		return nil
	}
	return r.takeNamed(int(n), field, "", idx)
}

// VarBytesAt is VarBytes for the element idx of a list named field:
// errors name it "field idx", a name formatted only for an error.
func (r *Reader) VarBytesAt(max int, field string, idx int) []byte {
	return r.varBytesAt(max, field, idx)
}

func (r *Reader) varBytesAt(max int, field string, idx int) []byte {
	b := r.varBytes(max, field, idx)
	if b == nil || r.alias {
		return b
	}
	return append([]byte(nil), b...)
}

// String reads a length-prefixed string of at most max bytes.
func (r *Reader) String(max int, field string) string {
	return string(r.varBytes(max, field, -1))
}

// Count reads a list length of at most max elements.
func (r *Reader) Count(max int, field string) int {
	n := r.uvarint(field, " count", -1)
	if r.err == nil && n > uint64(max) {
		r.err = fmt.Errorf("%s: %d elements, limit %d: %w", field, n, max, ErrTooLarge)
	}
	if r.err != nil {
		return 0
	}
	return int(n)
}
