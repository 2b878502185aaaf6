package vm

import (
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero/api"
)

// dataSeg is an active data segment of memory 0 at a constant offset.
type dataSeg struct {
	offset uint32
	init   []byte
}

// stripData takes the active data segments out of a (validated by
// precheck, instrumented) module, so that wazero does not copy them into
// every new instance: an instance's memory is the snapshot anyway, taken
// after the host copied them into the first instance (applyData) and
// _initialize ran. A Go module has tens of thousands of segments (trial-
// protocol: 43,771), and applying them was most of a new instance's time.
//
// Without a data count section (which memory.init and data.drop require)
// the data section is dropped; with one, each active segment becomes a
// passive one with the same bytes: wazero keeps an active segment's bytes
// for memory.init after instantiation (the spec drops them), so this keeps
// its behaviour exactly, and a passive segment costs instantiation no
// copy and no offset evaluation. ok is false (code
// unchanged) when the module has a start section (it would run before the
// host could apply the data) or a segment whose offset is not an
// i32.const.
func stripData(code []byte) (out []byte, segs []dataSeg, ok bool) {
	if len(code) < 8 {
		return code, nil, false
	}
	var dataStart, dataEnd, dataBody int
	hasCount := false
	for pc := 8; pc < len(code); {
		start := pc
		id := code[pc]
		size, next, err := readU32(code, pc+1)
		if err != nil || next+int(size) > len(code) {
			return code, nil, false
		}
		pc = next + int(size)
		switch id {
		case 8: // start
			return code, nil, false
		case 11:
			if dataEnd != 0 { // two data sections: invalid, left to the compiler
				return code, nil, false
			}
			dataStart, dataBody, dataEnd = start, next, pc
		case 12:
			hasCount = true
		}
	}
	if dataEnd == 0 {
		return code, nil, true
	}
	sec := code[dataBody:dataEnd]
	n, pc, err := readU32(sec, 0)
	if err != nil {
		return code, nil, false
	}
	body := uleb(n)
	for i := uint64(0); i < n; i++ {
		flag, p, err := readU32(sec, pc)
		if err != nil {
			return code, nil, false
		}
		pc = p
		switch flag {
		case 0, 2:
			if flag == 2 { // explicit memory index: must be 0
				if pc >= len(sec) || sec[pc] != 0 {
					return code, nil, false
				}
				pc++
			}
			if pc >= len(sec) || sec[pc] != 0x41 { // i32.const
				return code, nil, false
			}
			off, p, err := readS32(sec, pc+1)
			if err != nil || p >= len(sec) || sec[p] != 0x0b { // end
				return code, nil, false
			}
			l, p2, err := readU32(sec, p+1)
			if err != nil || p2+int(l) > len(sec) {
				return code, nil, false
			}
			segs = append(segs, dataSeg{offset: uint32(off), init: sec[p2 : p2+int(l)]})
			body = append(body, 0x01) // the same bytes, passive
			body = append(body, sec[p+1:p2+int(l)]...)
			pc = p2 + int(l)
		case 1: // passive: kept as it is
			l, p2, err := readU32(sec, pc)
			if err != nil || p2+int(l) > len(sec) {
				return code, nil, false
			}
			body = append(body, sec[pc-1:p2+int(l)]...) // flag byte 0x01 included
			pc = p2 + int(l)
		default:
			return code, nil, false
		}
	}
	total := 0
	for _, d := range segs {
		total += len(d.init)
	}
	own := make([]byte, 0, total) // not a view of code, which is not kept
	for i := range segs {
		own = append(own, segs[i].init...)
		segs[i].init = own[len(own)-len(segs[i].init):]
	}
	out = make([]byte, 0, len(code)-(dataEnd-dataStart)+len(body)+6)
	out = append(out, code[:dataStart]...)
	if hasCount {
		out = append(out, 11)
		out = append(out, uleb(uint64(len(body)))...)
		out = append(out, body...)
	}
	out = append(out, code[dataEnd:]...)
	return out, segs, true
}

// readS32 reads a signed 32-bit LEB128 number.
func readS32(b []byte, pc int) (int32, int, error) {
	var v int64
	var shift uint
	for i := 0; i < 5; i++ {
		if pc >= len(b) {
			return 0, pc, errTruncated
		}
		c := b[pc]
		pc++
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			if v < -1<<31 || v > 1<<31-1 {
				return 0, pc, errors.New("s32 out of range")
			}
			return int32(v), pc, nil
		}
	}
	return 0, pc, errLEBTooLong
}

// applyData copies segs into mem in order, as instantiation would have
// (same bounds rule, same error).
func applyData(mem api.Memory, segs []dataSeg) error {
	for i, d := range segs {
		if uint64(d.offset)+uint64(len(d.init)) > uint64(mem.Size()) || !mem.Write(d.offset, d.init) {
			return fmt.Errorf("data[%d]: out of bounds memory access", i)
		}
	}
	return nil
}
