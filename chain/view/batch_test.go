package view

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestSplitTxBatch(t *testing.T) {
	two := AppendTxBatch(nil, []byte("first"), []byte("second tx"))
	raws, err := SplitTxBatch(two)
	if err != nil || len(raws) != 2 || string(raws[0]) != "first" || string(raws[1]) != "second tx" {
		t.Fatalf("SplitTxBatch = %q, %v", raws, err)
	}
	// A returned transaction cannot grow into its neighbour's bytes.
	if cap(raws[0]) != len(raws[0]) {
		t.Errorf("cap %d beyond the transaction's %d bytes", cap(raws[0]), len(raws[0]))
	}
	var many []byte
	for range MaxBatchTxs {
		many = AppendTxBatch(many, []byte{1})
	}
	if raws, err := SplitTxBatch(many); err != nil || len(raws) != MaxBatchTxs {
		t.Fatalf("%d transactions: %d, %v", MaxBatchTxs, len(raws), err)
	}
	huge := binary.BigEndian.AppendUint32(nil, 1<<31)
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"short length", []byte{0, 0, 1}},
		{"length past the end", append(binary.BigEndian.AppendUint32(nil, 6), "12345"...)},
		{"huge length", append(huge, 1, 2, 3)},
		{"empty transaction", binary.BigEndian.AppendUint32(nil, 0)},
		{"trailing bytes", append(AppendTxBatch(nil, []byte("a")), 0, 0)},
		{"too many", AppendTxBatch(many, []byte{1})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if raws, err := SplitTxBatch(tc.body); !errors.Is(err, ErrBadBatch) {
				t.Fatalf("SplitTxBatch = %d transactions, %v; want ErrBadBatch", len(raws), err)
			}
		})
	}
}

// Whatever the body, SplitTxBatch either refuses it or returns
// transactions that frame back into exactly that body.
func FuzzSplitTxBatch(f *testing.F) {
	f.Add(AppendTxBatch(nil, []byte("first"), []byte("second")))
	f.Add([]byte{0, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		raws, err := SplitTxBatch(body)
		if err != nil {
			return
		}
		if len(raws) == 0 || len(raws) > MaxBatchTxs {
			t.Fatalf("%d transactions", len(raws))
		}
		if again := AppendTxBatch(nil, raws...); !bytes.Equal(again, body) {
			t.Fatalf("reframed %x, body %x", again, body)
		}
	})
}
