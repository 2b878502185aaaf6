package vm

import (
	"errors"
	"fmt"
)

// maxLocals bounds the locals of one function (wazero and Go use far fewer).
const maxLocals = 50_000

// precheck walks the section headers before the third-party decoder runs,
// so a declared vector count can never make it allocate more than the
// input could hold: every top-level vector count must not exceed its
// section's size, and each function's locals are bounded. It returns the
// code without custom sections (which we drop anyway and do not decode).
func precheck(code []byte) ([]byte, error) {
	if len(code) < 8 {
		return nil, errors.New("decode: too short for a module")
	}
	out := make([]byte, 0, len(code))
	out = append(out, code[:8]...)
	pc := 8
	for pc < len(code) {
		start := pc
		id := code[pc]
		pc++
		size, next, err := readU32(code, pc)
		if err != nil {
			return nil, fmt.Errorf("decode: section header: %w", err)
		}
		pc = next
		end := pc + int(size)
		if end > len(code) || end < pc {
			return nil, fmt.Errorf("decode: section %d overruns the module", id)
		}
		sec := code[pc:end]
		switch id {
		case 0: // custom: dropped
			pc = end
			continue
		case 1, 2, 3, 4, 5, 6, 7, 9, 10, 11:
			n, p, err := readU32(sec, 0)
			if err != nil {
				return nil, fmt.Errorf("decode: section %d count: %w", id, err)
			}
			if n > uint64(len(sec)) {
				return nil, fmt.Errorf("decode: section %d declares %d entries in %d bytes", id, n, len(sec))
			}
			if id == 10 {
				if err := checkLocals(sec[p:], n); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, code[start:end]...)
		pc = end
	}
	return out, nil
}

func checkLocals(b []byte, n uint64) error {
	pc := 0
	for i := uint64(0); i < n; i++ {
		size, p, err := readU32(b, pc)
		if err != nil {
			return fmt.Errorf("decode: code entry %d: %w", i, err)
		}
		end := p + int(size)
		if end > len(b) {
			return fmt.Errorf("decode: code entry %d overruns the section", i)
		}
		body := b[p:end]
		groups, q, err := readU32(body, 0)
		if err != nil {
			return fmt.Errorf("decode: code entry %d: %w", i, err)
		}
		if groups > uint64(len(body)) {
			return fmt.Errorf("decode: code entry %d declares %d local groups", i, groups)
		}
		var total uint64
		for g := uint64(0); g < groups; g++ {
			var c uint64
			c, q, err = readU32(body, q)
			if err != nil {
				return fmt.Errorf("decode: code entry %d: %w", i, err)
			}
			q++ // value type
			total += c
			if total > maxLocals {
				return fmt.Errorf("decode: function %d declares more than %d locals", i, maxLocals)
			}
		}
		pc = end
	}
	return nil
}
