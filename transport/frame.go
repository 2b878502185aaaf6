package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// FrameHeaderLen is the length of a frame header: the payload length as a
// 4-byte big-endian unsigned integer.
const FrameHeaderLen = 4

// readChunk is the largest allocation made ahead of received data. A frame
// header claiming a large length only costs memory as the bytes arrive.
const readChunk = 256 << 10

// ReadFrame reads one length-prefixed frame from r and returns its payload
// (a fresh slice the caller owns).
//
// # Errors
//
//   - io.EOF if r ends cleanly before the first header byte (no frame);
//   - [ErrFrameTooLarge] if the header announces more than limit bytes
//     (nothing more is read);
//   - [ErrTruncatedFrame] if r ends inside the header or the payload;
//   - any other error of r, wrapped.
func ReadFrame(r io.Reader, limit int) ([]byte, error) {
	var hdr [FrameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: header", ErrTruncatedFrame)
		}
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("transport: read frame header: %w", err)
	}
	n := uint64(binary.BigEndian.Uint32(hdr[:]))
	if limit < 0 || n > uint64(limit) {
		return nil, fmt.Errorf("%w: %d bytes announced, limit %d", ErrFrameTooLarge, n, limit)
	}
	size := int(n)
	buf := make([]byte, 0, min(size, readChunk))
	for len(buf) < size {
		if len(buf) == cap(buf) {
			// Double what has arrived, at least readChunk, at most the rest.
			buf = slices.Grow(buf, min(size-len(buf), max(len(buf), readChunk)))
		}
		end := min(size, cap(buf))
		k, err := io.ReadFull(r, buf[len(buf):end])
		buf = buf[:len(buf)+k]
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: %d of %d payload bytes", ErrTruncatedFrame, len(buf), size)
			}
			return nil, fmt.Errorf("transport: read frame payload: %w", err)
		}
	}
	return buf, nil
}

// WriteFrame writes payload to w as one length-prefixed frame.
//
// # Errors
//
// [ErrFrameTooLarge] if payload is longer than limit (nothing is written);
// otherwise the error of w, wrapped.
func WriteFrame(w io.Writer, payload []byte, limit int) error {
	if len(payload) > limit || uint64(len(payload)) > 1<<32-1 {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, len(payload), limit)
	}
	var hdr [FrameHeaderLen]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(payload)))
	if _, err := w.Write(hdr[:]); err != nil {
		return fmt.Errorf("transport: write frame header: %w", err)
	}
	if _, err := w.Write(payload); err != nil {
		return fmt.Errorf("transport: write frame payload: %w", err)
	}
	return nil
}
