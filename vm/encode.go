package vm

import (
	"encoding/binary"

	wbinary "github.com/tetratelabs/wabin/binary"
	"github.com/tetratelabs/wabin/wasm"
)

// wasmHeader is the length of a module's magic number and version, which
// wabin's EncodeModule writes first.
const wasmHeader = 8

// encodeModule is wabin's binary.EncodeModule, byte for byte (tested),
// with the code section written once into a buffer of its final size.
//
// wabin encodes each function body into its own slice, appends them to a
// growing section, then copies the section twice more (size prefix,
// section id) and once more into the module: for trial-protocol (a 4.9
// MB Go contract) that was 38 MB of a validator's 113 MB live heap in
// the middle of its compile (heap profile of the CRF bench), and what is
// live during the compile sets the Go heap goal (twice it at GOGC=100),
// hence the validator's peak RSS. Here the sections before the code are
// still wabin's (small), the code section is sized first and then
// written, and the data section (after it) is wabin's again.
func encodeModule(m *wasm.Module) []byte {
	if len(m.CodeSection) == 0 || m.NameSection != nil || len(m.CustomSections) > 0 {
		return wbinary.EncodeModule(m) // custom sections follow the data: not worth a second path
	}
	head := *m
	head.CodeSection, head.DataSection = nil, nil
	hb := wbinary.EncodeModule(&head)
	var db []byte
	if len(m.DataSection) > 0 {
		db = wbinary.EncodeModule(&wasm.Module{DataSection: m.DataSection})[wasmHeader:]
	}
	contents := uvarintLen(uint64(len(m.CodeSection)))
	for _, c := range m.CodeSection {
		n := localsLen(c.LocalTypes) + len(c.Body)
		contents += uvarintLen(uint64(n)) + n
	}
	out := make([]byte, 0, len(hb)+1+uvarintLen(uint64(contents))+contents+len(db))
	out = append(out, hb...)
	out = append(out, wasm.SectionIDCode)
	out = binary.AppendUvarint(out, uint64(contents))
	out = binary.AppendUvarint(out, uint64(len(m.CodeSection)))
	for _, c := range m.CodeSection {
		out = binary.AppendUvarint(out, uint64(localsLen(c.LocalTypes)+len(c.Body)))
		out = appendLocals(out, c.LocalTypes)
		out = append(out, c.Body...)
	}
	return append(out, db...)
}

// appendLocals appends a body's local declarations: the number of runs of
// one type, then each run's length and type, in index order (LEB128, as
// Go's uvarint).
func appendLocals(b []byte, types []wasm.ValueType) []byte {
	b = binary.AppendUvarint(b, uint64(localRuns(types)))
	for i := 0; i < len(types); {
		j := i + 1
		for j < len(types) && types[j] == types[i] {
			j++
		}
		b = binary.AppendUvarint(b, uint64(j-i))
		b = binary.AppendUvarint(b, uint64(types[i]))
		i = j
	}
	return b
}

// localsLen is the length appendLocals writes.
func localsLen(types []wasm.ValueType) int {
	n := uvarintLen(uint64(localRuns(types)))
	for i := 0; i < len(types); {
		j := i + 1
		for j < len(types) && types[j] == types[i] {
			j++
		}
		n += uvarintLen(uint64(j-i)) + uvarintLen(uint64(types[i]))
		i = j
	}
	return n
}

// localRuns is the number of runs of one type in types.
func localRuns(types []wasm.ValueType) int {
	n := 0
	for i := range types {
		if i == 0 || types[i] != types[i-1] {
			n++
		}
	}
	return n
}

// uvarintLen is the length of v in LEB128.
func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}
