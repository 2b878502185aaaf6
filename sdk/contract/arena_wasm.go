//go:build wasm

package contract

import "github.com/trialchain/trialchain/sdk/jsonfast"

// arena is scratch memory for what a call receives from the host (state
// values, arguments) and the keys it builds: scratch hands out its bytes
// in order and never takes them back. The VM resets the instance's
// memory to its snapshot (taken after initialisation) after every call,
// so every call starts with the arena unused, and what a call was handed
// stays valid, unchanged by the SDK, until the call ends: decoded
// strings may share it (sdk/jsonfast). Compared with the heap, a buffer
// here costs no allocation, no zeroing and no new span per size class
// (fewer pages changed by a call, each of which the call pays for).
var (
	arena    [arenaSize]byte
	arenaOff int
)

// arenaSize is more than a submission of a form needs; beyond it,
// scratch allocates on the heap.
const arenaSize = 32 << 10

// scratch returns n bytes for the rest of the call, with any content:
// the caller overwrites them all.
func scratch(n int) []byte {
	if n <= len(arena)-arenaOff {
		b := arena[arenaOff : arenaOff+n : arenaOff+n]
		arenaOff += n
		return b
	}
	return make([]byte, n)
}

// decoders are the JSON decoders not in use: a contract runs on one
// thread, and a decoder is taken for one document and given back, so a
// call allocates one only for a document decoded inside another.
var decoders []*jsonfast.Decoder

func getDecoder() *jsonfast.Decoder {
	if n := len(decoders); n > 0 {
		d := decoders[n-1]
		decoders = decoders[:n-1]
		return d
	}
	return new(jsonfast.Decoder)
}

func putDecoder(d *jsonfast.Decoder) { decoders = append(decoders, d) }

func init() { putDecoder(new(jsonfast.Decoder)) } // in the snapshot
