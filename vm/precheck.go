package vm

import (
	"errors"
	"fmt"
)

// precheck walks the section headers before the third-party decoder runs,
// so a declared vector count can never make it allocate more than the
// input could hold: every top-level vector count must not exceed its
// section's size, and each function's locals are bounded. It returns the
// code without custom sections (which we drop anyway and do not decode).
// It also enforces the section-level Limits: function count, locals per
// function and in total, table size, data bytes, entries per section.
func precheck(code []byte, lim Limits) ([]byte, error) {
	if len(code) < 8 {
		return nil, errors.New("decode: too short for a module")
	}
	out := make([]byte, 0, len(code))
	out = append(out, code[:8]...)
	pc := 8
	var funcs uint64
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
			switch id {
			case 2, 3:
				funcs += n // imports other than functions are refused later
				if funcs > uint64(lim.MaxFunctions) {
					return nil, fmt.Errorf("%w: more than %d", ErrTooManyFunctions, lim.MaxFunctions)
				}
			case 4:
				if err := checkTables(sec[p:], n, lim); err != nil {
					return nil, err
				}
			case 10:
				if err := checkLocals(sec[p:], n, lim); err != nil {
					return nil, err
				}
			case 11:
				if uint64(len(sec)) > uint64(lim.MaxDataBytes)+uint64(n)*16+8 {
					return nil, fmt.Errorf("%w: %d bytes of data segments, limit %d", ErrDataTooLarge, len(sec), lim.MaxDataBytes)
				}
			}
			if id != 3 && id != 10 && id != 4 && id != 5 && n > uint64(lim.MaxSectionEntries) {
				return nil, fmt.Errorf("%w: section %d declares %d entries, limit %d", ErrTooManyEntries, id, n, lim.MaxSectionEntries)
			}
		}
		out = append(out, code[start:end]...)
		pc = end
	}
	return out, nil
}

// checkTables bounds each table's declared sizes.
func checkTables(b []byte, n uint64, lim Limits) error {
	pc := 0
	for i := uint64(0); i < n; i++ {
		if pc+2 > len(b) {
			return fmt.Errorf("decode: table %d: %w", i, errTruncated)
		}
		flags := b[pc+1]
		pc += 2
		lo, next, err := readU32(b, pc)
		if err != nil {
			return fmt.Errorf("decode: table %d: %w", i, err)
		}
		pc = next
		hi := lo
		if flags&1 != 0 {
			if hi, pc, err = readU32(b, pc); err != nil {
				return fmt.Errorf("decode: table %d: %w", i, err)
			}
		}
		if lo > uint64(lim.MaxTableElems) || hi > uint64(lim.MaxTableElems) {
			return fmt.Errorf("%w: table %d declares %d..%d elements, limit %d", ErrTableTooLarge, i, lo, hi, lim.MaxTableElems)
		}
	}
	return nil
}

func checkLocals(b []byte, n uint64, lim Limits) error {
	pc := 0
	var all uint64
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
			if total > uint64(lim.MaxFunctionLocals) {
				return fmt.Errorf("%w: function %d declares more than %d locals", ErrTooManyLocals, i, lim.MaxFunctionLocals)
			}
		}
		all += total
		if all > lim.MaxTotalLocals {
			return fmt.Errorf("%w: the module declares more than %d locals in total", ErrTooManyLocals, lim.MaxTotalLocals)
		}
		pc = end
	}
	return nil
}
