package vm

import (
	"errors"
	"fmt"
)

// Limits bound the shape of a module (consensus). They are checked before
// any third-party decoder or compiler sees the code, each with its own
// error, so that the worst module a deploy can carry costs a known time
// and memory to validate and compile (see RATIONALE.md, "Bounded module
// shapes", for the measurements they are sized from).
type Limits struct {
	// MaxFunctions bounds the functions of a module, imported ones included.
	MaxFunctions uint32
	// MaxFunctionLocals bounds the locals (parameters included) of one function.
	MaxFunctionLocals uint32
	// MaxTotalLocals bounds the sum of all functions' locals.
	MaxTotalLocals uint64
	// MaxNesting bounds the control nesting depth (block, loop, if) of a function body.
	MaxNesting uint32
	// MaxBlocks bounds the block, loop and if instructions of one function.
	MaxBlocks uint32
	// MaxTableElems bounds the table's initial and maximum size.
	MaxTableElems uint32
	// MaxDataBytes bounds the total bytes of the data segments.
	MaxDataBytes uint32
	// MaxSectionEntries bounds the entries of the type, import, export,
	// global, element and data sections.
	MaxSectionEntries uint32
}

// DefaultLimits are sized from the example contracts (Go wasip1 modules of
// up to 4 MB) with a margin, and from the compile cost of the worst module
// at each edge (RATIONALE.md).
func DefaultLimits() Limits {
	return Limits{
		// Measured on the example contracts (4 MB trial-protocol): 2,543
		// functions, ≤ 21 locals, nesting ≤ 634, ≤ 879 blocks per function,
		// 12,986 locals in all, a table of 6,604, 1.1 MB of data in 43,771
		// segments.
		MaxFunctions:      3_072, // 8,192 empty functions took 2.6 s to compile (wazero's per-function cost)
		MaxFunctionLocals: 512,
		MaxTotalLocals:    131_072,
		MaxNesting:        1_024,
		MaxBlocks:         2_048,
		MaxTableElems:     16_384,
		MaxDataBytes:      4 << 20,
		MaxSectionEntries: 65_536,
	}
}

// Shape errors: each wraps ErrModuleShape, which wraps ErrInvalidModule.
var (
	ErrModuleShape      = fmt.Errorf("%w: module shape out of bounds", ErrInvalidModule)
	ErrTooManyFunctions = fmt.Errorf("%w: too many functions", ErrModuleShape)
	ErrTooManyLocals    = fmt.Errorf("%w: too many locals", ErrModuleShape)
	ErrNestingTooDeep   = fmt.Errorf("%w: control nesting too deep", ErrModuleShape)
	ErrTooManyBlocks    = fmt.Errorf("%w: too many blocks in a function", ErrModuleShape)
	ErrTableTooLarge    = fmt.Errorf("%w: table too large", ErrModuleShape)
	ErrDataTooLarge     = fmt.Errorf("%w: data segments too large", ErrModuleShape)
	ErrTooManyEntries   = fmt.Errorf("%w: too many section entries", ErrModuleShape)
)

func (l Limits) validate() error {
	if l.MaxFunctions == 0 || l.MaxFunctionLocals == 0 || l.MaxTotalLocals == 0 || l.MaxNesting == 0 ||
		l.MaxBlocks == 0 || l.MaxSectionEntries == 0 {
		return errors.New("vm: every module limit must be positive")
	}
	return nil
}
