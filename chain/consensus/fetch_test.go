package consensus

import (
	"bytes"
	"testing"
)

func TestBlocksReplyRoundTrip(t *testing.T) {
	for _, raws := range [][][]byte{nil, {{1, 2, 3}}, {{}, bytes.Repeat([]byte{7}, 300), {9}}} {
		got, err := DecodeBlocksReply(EncodeBlocksReply(raws))
		if err != nil || len(got) != len(raws) {
			t.Fatalf("%v: got %v, %v", raws, got, err)
		}
		for i := range raws {
			if !bytes.Equal(got[i], raws[i]) {
				t.Fatalf("block %d: %x, want %x", i, got[i], raws[i])
			}
		}
	}
	for _, bad := range [][]byte{{}, {2, 1, 5}, append(EncodeBlocksReply([][]byte{{1}}), 0)} {
		if _, err := DecodeBlocksReply(bad); err == nil {
			t.Fatalf("%x decoded", bad)
		}
	}
}

// FuzzDecodeBlocksReply: a peer's reply never panics the decoder, and
// what decodes re-encodes to the same bytes (one encoding per value).
func FuzzDecodeBlocksReply(f *testing.F) {
	f.Add(EncodeBlocksReply([][]byte{{1, 2}, {3}}))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		raws, err := DecodeBlocksReply(b)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodeBlocksReply(raws), b) {
			t.Fatalf("%x decodes but re-encodes as %x", b, EncodeBlocksReply(raws))
		}
	})
}
