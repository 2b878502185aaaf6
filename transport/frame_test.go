package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestReadFrame(t *testing.T) {
	hdr := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	big := bytes.Repeat([]byte{7}, 3*readChunk+5) // exercises buffer growth
	tests := []struct {
		name  string
		in    []byte
		limit int
		want  []byte
		err   error
	}{
		{"empty input", nil, 10, nil, io.EOF},
		{"empty frame", hdr(0), 10, []byte{}, nil},
		{"small", append(hdr(3), "abc"...), 10, []byte("abc"), nil},
		{"at limit", append(hdr(10), "0123456789"...), 10, []byte("0123456789"), nil},
		{"over limit", append(hdr(11), "0123456789a"...), 10, nil, ErrFrameTooLarge},
		{"max length", hdr(0xffffffff), 1 << 20, nil, ErrFrameTooLarge},
		{"short header", []byte{0, 0, 1}, 10, nil, ErrTruncatedFrame},
		{"short payload", append(hdr(5), "abc"...), 10, nil, ErrTruncatedFrame},
		{"large grows", append(hdr(uint32(len(big))), big...), len(big), big, nil},
		{"large truncated", append(hdr(uint32(len(big))), big[:2*readChunk]...), len(big), nil, ErrTruncatedFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{bytes.NewReader(tt.in), iotest.OneByteReader(bytes.NewReader(tt.in))} {
				got, err := ReadFrame(r, tt.limit)
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				if tt.err == nil && !bytes.Equal(got, tt.want) {
					t.Fatalf("payload = %q, want %q", got, tt.want)
				}
			}
		})
	}
	if _, err := ReadFrame(iotest.ErrReader(io.ErrClosedPipe), 10); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("reader error = %v, want it wrapped", err)
	}
}

func TestWriteFrame(t *testing.T) {
	var b bytes.Buffer
	if err := WriteFrame(&b, []byte("abc"), 3); err != nil {
		t.Fatal(err)
	}
	if want := []byte{0, 0, 0, 3, 'a', 'b', 'c'}; !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("wrote %x, want %x", b.Bytes(), want)
	}
	b.Reset()
	if err := WriteFrame(&b, []byte("abcd"), 3); !errors.Is(err, ErrFrameTooLarge) || b.Len() != 0 {
		t.Fatalf("over limit: err %v, wrote %d bytes; want ErrFrameTooLarge, nothing", err, b.Len())
	}
}

// FuzzReadFrame: the decoder never panics, never returns more than the
// limit, and what it accepts re-encodes to the bytes it consumed.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0}, uint16(16))
	f.Add([]byte{0, 0, 0, 3, 'a', 'b', 'c', 0, 0}, uint16(16))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, uint16(16))
	f.Add([]byte{0, 0, 0, 20, 1, 2}, uint16(16))
	f.Add([]byte{0, 0}, uint16(0))
	f.Fuzz(func(t *testing.T, in []byte, limit uint16) {
		r := bytes.NewReader(in)
		got, err := ReadFrame(r, int(limit))
		if err != nil {
			if got != nil {
				t.Fatal("payload returned with an error")
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, ErrFrameTooLarge) && !errors.Is(err, ErrTruncatedFrame) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if len(got) > int(limit) {
			t.Fatalf("payload of %d bytes over limit %d", len(got), limit)
		}
		var b bytes.Buffer
		if err := WriteFrame(&b, got, int(limit)); err != nil {
			t.Fatal(err)
		}
		if consumed := len(in) - r.Len(); !bytes.Equal(b.Bytes(), in[:consumed]) {
			t.Fatalf("re-encoding %x differs from input %x", b.Bytes(), in[:consumed])
		}
	})
}
