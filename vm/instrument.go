package vm

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/tetratelabs/wabin/binary"
	"github.com/tetratelabs/wabin/wasm"

	"github.com/trialchain/trialchain/vm/abi"
)

// Names of the globals the instrumentation adds and exports. A module that
// already exports a name with this prefix is rejected.
const (
	reservedPrefix = "__tc_"
	exportGas      = "__tc_gas"
	exportDepth    = "__tc_depth"
	exportStatus   = "__tc_status"
	// exportGlobal+N names the module's own global N (every one is
	// exported, so an instance can be reset to a snapshot: see
	// RATIONALE.md, "Same cost in every position").
	exportGlobal = "__tc_g"
	// importRefill is the host function (module abi.Module, signature
	// (i64)->()) the instrumentation imports and calls when the gas global
	// cannot pay a charge: the host moves gas from the call's reserve into
	// the global, or fails the call out of gas (see RATIONALE.md, "How is
	// a guest stopped?"). A contract may not import it itself.
	importRefill = "__tc_refill"
)

// Values of the status global after a trap caused by instrumentation.
const (
	statusOK        = 0
	statusOutOfGas  = 1
	statusCallDepth = 2
)

// instrumenterVersion changes whenever the code the instrumenter emits
// changes; it is part of the instrumentation cache key.
const instrumenterVersion = 5

// instrumentConfig is what the instrumentation depends on.
type instrumentConfig struct {
	gas          GasTable
	maxCallDepth uint32
	initGas      uint64 // initial value of the gas global (start + _initialize budget)
	limits       Limits
}

// Errors returned by instrument, wrapped with detail. All are deploy-time
// rejections (see ErrInvalidModule).
var (
	errUnsupportedInstr = errors.New("unsupported instruction")
	errBadIndex         = errors.New("index out of range")
	errTruncated        = errors.New("truncated instruction")
	errLEBTooLong       = errors.New("LEB128 number too long")
	errAfterEnd         = errors.New("instructions after the final end")
)

// decodeFeatures are the features the decoder accepts; instructions of the
// reference-types and SIMD proposals are then refused by the body scanner.
const decodeFeatures = wasm.CoreFeaturesV2

// instrumented is the result of instrument.
type instrumented struct {
	code  []byte
	mod   *wasm.Module // the original, decoded
	shape moduleShape
}

// moduleShape is what the limits measure of an accepted module.
type moduleShape struct {
	Functions, MaxLocals, MaxNesting, MaxBlocks int
	TotalLocals                                 uint64
}

// instrument decodes code, checks it structurally, and returns an equivalent
// module that meters gas, caps call depth and canonicalises NaNs (see
// RATIONALE.md). It never panics on malformed input.
func instrument(code []byte, cfg instrumentConfig) (out *instrumented, err error) {
	defer func() {
		if r := recover(); r != nil { // the third-party decoder on hostile input
			out, err = nil, fmt.Errorf("decode: %v", r)
		}
	}()
	code, err = precheck(code, cfg.limits)
	if err != nil {
		return nil, err
	}
	m, err := binary.DecodeModule(code, decodeFeatures)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if len(m.FunctionSection) != len(m.CodeSection) {
		return nil, fmt.Errorf("decode: %d functions but %d bodies", len(m.FunctionSection), len(m.CodeSection))
	}
	var numImportedFuncs uint32
	for _, im := range m.ImportSection {
		if im.Type != wasm.ExternTypeFunc {
			return nil, fmt.Errorf("import %s.%s: only functions may be imported", im.Module, im.Name)
		}
		if int(im.DescFunc) >= len(m.TypeSection) {
			return nil, fmt.Errorf("import %s.%s: type %w", im.Module, im.Name, errBadIndex)
		}
		if im.Module == abi.Module && im.Name == importRefill {
			return nil, fmt.Errorf("import %s.%s is the instrumentation's own", im.Module, im.Name)
		}
		numImportedFuncs++
	}
	numFuncs := uint64(numImportedFuncs) + uint64(len(m.FunctionSection))
	numGlobals := uint32(len(m.GlobalSection)) // no imported globals
	for _, g := range m.GlobalSection {
		if g.Init == nil || g.Init.Opcode == wasm.OpcodeGlobalGet || g.Init.Opcode == wasm.OpcodeRefFunc {
			return nil, errors.New("global initialiser must be a constant")
		}
	}
	for _, ex := range m.ExportSection {
		if len(ex.Name) >= len(reservedPrefix) && ex.Name[:len(reservedPrefix)] == reservedPrefix {
			return nil, fmt.Errorf("export %q uses the reserved prefix %q", ex.Name, reservedPrefix)
		}
		if ex.Type == wasm.ExternTypeGlobal && ex.Index >= numGlobals {
			return nil, fmt.Errorf("export %q: global %w", ex.Name, errBadIndex)
		}
	}
	for _, seg := range m.DataSection {
		if seg.OffsetExpression != nil && seg.OffsetExpression.Opcode == wasm.OpcodeGlobalGet {
			return nil, errors.New("data segment offset must be a constant")
		}
	}
	for _, seg := range m.ElementSection {
		if seg.OffsetExpr != nil && seg.OffsetExpr.Opcode == wasm.OpcodeGlobalGet {
			return nil, errors.New("element segment offset must be a constant")
		}
	}

	gasIdx, depthIdx, statusIdx := numGlobals, numGlobals+1, numGlobals+2
	r := rewriter{
		cfg:          cfg,
		gasGlobal:    gasIdx,
		depthGlobal:  depthIdx,
		statusGlobal: statusIdx,
		numImported:  numImportedFuncs,
		numFuncs:     numFuncs,
		numGlobals:   numGlobals,
		refillFunc:   numImportedFuncs, // appended to the imports: defined functions shift by one
	}
	newCode := make([]*wasm.Code, len(m.CodeSection))
	for i, c := range m.CodeSection {
		ti := m.FunctionSection[i]
		if int(ti) >= len(m.TypeSection) {
			return nil, fmt.Errorf("function %d: type %w", i, errBadIndex)
		}
		nlocals := uint64(len(m.TypeSection[ti].Params)) + uint64(len(c.LocalTypes))
		body, extra, err := r.rewrite(c.Body, nlocals)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", uint64(numImportedFuncs)+uint64(i), err)
		}
		locals := c.LocalTypes
		if len(extra) > 0 {
			locals = append(append(make([]wasm.ValueType, 0, len(locals)+len(extra)), locals...), extra...)
		}
		newCode[i] = &wasm.Code{LocalTypes: locals, Body: body}
	}

	// Build the output module as a shallow copy sharing the unchanged sections.
	om := *m
	om.CodeSection = newCode
	om.NameSection = nil
	om.CustomSections = nil
	initGas := cfg.initGas
	om.GlobalSection = append(append([]*wasm.Global(nil), m.GlobalSection...),
		&wasm.Global{Type: &wasm.GlobalType{ValType: wasm.ValueTypeI64, Mutable: true},
			Init: &wasm.ConstantExpression{Opcode: wasm.OpcodeI64Const, Data: sleb64(int64(initGas))}},
		&wasm.Global{Type: &wasm.GlobalType{ValType: wasm.ValueTypeI32, Mutable: true},
			Init: &wasm.ConstantExpression{Opcode: wasm.OpcodeI32Const, Data: sleb64(0)}},
		&wasm.Global{Type: &wasm.GlobalType{ValType: wasm.ValueTypeI32, Mutable: true},
			Init: &wasm.ConstantExpression{Opcode: wasm.OpcodeI32Const, Data: sleb64(0)}},
	)
	// The refill import: a new type (i64)->() and an import after the
	// module's own, so every defined function's index grows by one (calls
	// are renumbered by the rewriter; exports, the start function and
	// element segments here).
	refillType := uint32(len(m.TypeSection))
	om.TypeSection = append(append([]*wasm.FunctionType(nil), m.TypeSection...),
		&wasm.FunctionType{Params: []wasm.ValueType{wasm.ValueTypeI64}})
	om.ImportSection = append(append([]*wasm.Import(nil), m.ImportSection...),
		&wasm.Import{Type: wasm.ExternTypeFunc, Module: abi.Module, Name: importRefill, DescFunc: refillType})
	shift := func(f uint32) uint32 {
		if f >= numImportedFuncs {
			return f + 1
		}
		return f
	}
	if m.StartSection != nil {
		st := shift(*m.StartSection)
		om.StartSection = &st
	}
	om.ElementSection = make([]*wasm.ElementSegment, len(m.ElementSection))
	for i, seg := range m.ElementSection {
		cp := *seg
		cp.Init = make([]*wasm.Index, len(seg.Init))
		for j, f := range seg.Init {
			if f != nil {
				v := shift(*f)
				cp.Init[j] = &v
			}
		}
		om.ElementSection[i] = &cp
	}
	om.ExportSection = make([]*wasm.Export, 0, len(m.ExportSection)+3+int(numGlobals))
	for _, ex := range m.ExportSection {
		cp := *ex
		if cp.Type == wasm.ExternTypeFunc {
			cp.Index = shift(cp.Index)
		}
		om.ExportSection = append(om.ExportSection, &cp)
	}
	om.ExportSection = append(om.ExportSection,
		&wasm.Export{Type: wasm.ExternTypeGlobal, Name: exportGas, Index: gasIdx},
		&wasm.Export{Type: wasm.ExternTypeGlobal, Name: exportDepth, Index: depthIdx},
		&wasm.Export{Type: wasm.ExternTypeGlobal, Name: exportStatus, Index: statusIdx},
	)
	for i := range numGlobals {
		om.ExportSection = append(om.ExportSection,
			&wasm.Export{Type: wasm.ExternTypeGlobal, Name: globalExportName(i), Index: i})
	}
	r.shape.Functions = int(numFuncs)
	return &instrumented{code: encodeModule(&om), mod: m, shape: r.shape}, nil
}

// globalExportName is the export name of the module's own global i.
func globalExportName(i uint32) string { return exportGlobal + strconv.FormatUint(uint64(i), 10) }

// rewriter rewrites function bodies.
type rewriter struct {
	cfg                                  instrumentConfig
	gasGlobal, depthGlobal, statusGlobal uint32
	numImported                          uint32
	numFuncs                             uint64
	numGlobals                           uint32
	refillFunc                           uint32 // index of the refill import in the output

	shape moduleShape

	// per function
	out, seg []byte
	segCost  uint64
	// temporaries appended to the function's locals (index, 0 = not yet)
	locI32, locI64, locF32, locF64 uint32
	locGas                         uint32 // the function's copy of the gas global (index, not +1)
	// frames has one entry per open control frame of the original body
	// (the function's first): the number of blocks the output wraps
	// around it (loopWrappers for a wrapped loop, else 0).
	frames  []uint8
	extra   []wasm.ValueType
	nlocals uint64
}

// loopWrappers is the number of blocks wrapped around a loop whose gas
// check leaves it to refill (see wrapLoop).
const loopWrappers = 3

// relabel maps the relative label l of a branch in the original body to
// the output's, which has wrappers around some frames: every frame the
// branch leaves adds its wrappers (the target's own wrappers are outside
// its label).
func (r *rewriter) relabel(l uint64) uint64 {
	out := l
	for i := uint64(0); i < l; i++ {
		out += uint64(r.frames[len(r.frames)-1-int(i)])
	}
	return out
}

func (r *rewriter) tmp(slot *uint32, vt wasm.ValueType) uint32 {
	if *slot == 0 {
		*slot = uint32(r.nlocals) + uint32(len(r.extra)) + 1 // +1 so 0 means unset
		r.extra = append(r.extra, vt)
	}
	return *slot - 1
}

// rewrite returns the instrumented body and the extra locals it needs.
// nlocals is params + declared locals.
func (r *rewriter) rewrite(body []byte, nlocals uint64) ([]byte, []wasm.ValueType, error) {
	if nlocals > uint64(r.cfg.limits.MaxFunctionLocals) {
		return nil, nil, fmt.Errorf("%w: %d parameters and locals, limit %d", ErrTooManyLocals, nlocals, r.cfg.limits.MaxFunctionLocals)
	}
	r.out = make([]byte, 0, len(body)+len(body)/2+32)
	r.seg = r.seg[:0]
	r.segCost = 0
	r.locI32, r.locI64, r.locF32, r.locF64 = 0, 0, 0, 0
	r.extra = nil
	r.nlocals = nlocals
	g := &r.cfg.gas
	// Prologue: the function's gas local starts as the global.
	var slot uint32
	r.locGas = r.tmp(&slot, wasm.ValueTypeI64)
	r.out = append(r.out, wasm.OpcodeGlobalGet)
	r.out = append(r.out, uleb(uint64(r.gasGlobal))...)
	r.out = append(r.out, wasm.OpcodeLocalSet)
	r.out = append(r.out, uleb(uint64(r.locGas))...)

	depth := 1 // control nesting; the function body is one level
	r.frames = append(r.frames[:0], 0)
	blocks := uint32(0)
	maxDepth := 1
	pc := 0
	for pc < len(body) {
		if depth == 0 {
			return nil, nil, errAfterEnd
		}
		start := pc
		op := body[pc]
		pc++
		var err error
		cost := g.Instr
		endsSeg := false
		post := byte(0) // 1: canonicalise f32 result, 2: f64
		exit := false   // leaves the function (or may): check gas first
		switch {
		case op == wasm.OpcodeUnreachable:
			endsSeg = true
		case op == wasm.OpcodeNop:
			cost = 0
		case op == wasm.OpcodeBlock || op == wasm.OpcodeLoop || op == wasm.OpcodeIf:
			pc, err = skipBlockType(body, pc)
			// A loop whose block type is empty or one result (no
			// parameters: its head has an empty operand stack) is wrapped
			// so that its gas check calls the refill outside it (wrapLoop).
			if err == nil && op == wasm.OpcodeLoop && plainBlockType(body[start+1]) {
				r.frames = append(r.frames, loopWrappers)
				r.seg = append(r.seg, wasm.OpcodeBlock, body[start+1], wasm.OpcodeLoop, 0x40, wasm.OpcodeBlock, 0x40)
			} else {
				r.frames = append(r.frames, 0)
			}
			depth++
			blocks++
			maxDepth = max(maxDepth, depth)
			switch {
			case uint32(depth-1) > r.cfg.limits.MaxNesting:
				return nil, nil, fmt.Errorf("%w: deeper than %d", ErrNestingTooDeep, r.cfg.limits.MaxNesting)
			case blocks > r.cfg.limits.MaxBlocks:
				return nil, nil, fmt.Errorf("%w: more than %d", ErrTooManyBlocks, r.cfg.limits.MaxBlocks)
			}
			endsSeg = true
			if op != wasm.OpcodeIf {
				cost = 0
			}
		case op == wasm.OpcodeElse:
			cost, endsSeg = 0, true
		case op == wasm.OpcodeEnd:
			depth--
			cost, endsSeg = 0, true
			exit = depth == 0
			wrapped := r.frames[len(r.frames)-1] == loopWrappers
			r.frames = r.frames[:len(r.frames)-1]
			if wrapped {
				r.seg = append(r.seg, wasm.OpcodeEnd)
				r.closeLoopWrappers()
				r.flush()
				continue
			}
		case op == wasm.OpcodeBr || op == wasm.OpcodeBrIf:
			var l uint64
			l, pc, err = readU32(body, pc)
			if err == nil && l >= uint64(depth) {
				err = fmt.Errorf("branch label: %w", errBadIndex)
			}
			exit = l == uint64(depth-1)
			endsSeg = true
			if err == nil && r.relabel(l) != l {
				if exit {
					r.seg = r.appendCheck(r.seg)
				}
				r.seg = append(r.seg, op)
				r.seg = append(r.seg, uleb(r.relabel(l))...)
				r.segCost += cost
				r.flush()
				continue
			}
		case op == wasm.OpcodeBrTable:
			var n, l uint64
			n, pc, err = readU32(body, pc)
			for i := uint64(0); err == nil && i <= n; i++ {
				l, pc, err = readU32(body, pc)
				if err == nil && l >= uint64(depth) {
					err = fmt.Errorf("branch label: %w", errBadIndex)
				}
				exit = exit || l == uint64(depth-1)
			}
			endsSeg = true
			if err == nil && r.anyWrapped() { // re-encode with the output's labels
				if exit {
					r.seg = r.appendCheck(r.seg)
				}
				r.seg = append(r.seg, op)
				n, p, _ := readU32(body, start+1) // read without error above
				r.seg = append(r.seg, uleb(n)...)
				for range n + 1 {
					l, p, _ = readU32(body, p)
					r.seg = append(r.seg, uleb(r.relabel(l))...)
				}
				r.segCost += cost
				r.flush()
				continue
			}
		case op == wasm.OpcodeReturn:
			endsSeg, exit = true, true
		case op == wasm.OpcodeCall:
			var f uint64
			f, pc, err = readU32(body, pc)
			if err == nil && f >= r.numFuncs {
				err = fmt.Errorf("call: function %w", errBadIndex)
			}
			cost = g.Call
			if err == nil && f >= uint64(r.numImported) {
				r.seg = r.appendCheck(r.seg)
				r.emitDepthEnter()
				r.seg = append(r.seg, wasm.OpcodeCall)
				r.seg = append(r.seg, uleb(f+1)...) // after the refill import
				r.emitDepthLeave()
				r.emitReload()
				r.segCost += cost
				continue
			}
			if err == nil { // a host function: it charges the global
				r.seg = r.appendCheck(r.seg)
				r.seg = append(r.seg, body[start:pc]...)
				r.emitReload()
				r.segCost += cost
				continue
			}
		case op == wasm.OpcodeCallIndirect:
			_, pc, err = readU32(body, pc) // type index (validated by wazero)
			if err == nil {
				var t uint64
				t, pc, err = readU32(body, pc)
				if err == nil && t != 0 {
					err = fmt.Errorf("call_indirect: table %w", errBadIndex)
				}
			}
			if err == nil {
				r.seg = r.appendCheck(r.seg)
				r.emitDepthEnter()
				r.seg = append(r.seg, body[start:pc]...)
				r.emitDepthLeave()
				r.emitReload()
				r.segCost += g.CallIndirect
				continue
			}
		case op == wasm.OpcodeDrop || op == wasm.OpcodeSelect:
		case op == wasm.OpcodeTypedSelect:
			var n uint64
			n, pc, err = readU32(body, pc)
			if err == nil && n != 1 {
				err = fmt.Errorf("typed select arity %d: %w", n, errUnsupportedInstr)
			}
			if err == nil {
				if pc >= len(body) {
					err = errTruncated
				} else {
					switch body[pc] {
					case wasm.ValueTypeI32, wasm.ValueTypeI64, wasm.ValueTypeF32, wasm.ValueTypeF64:
					default:
						err = fmt.Errorf("typed select of 0x%x: %w", body[pc], errUnsupportedInstr)
					}
					pc++
				}
			}
		case op >= wasm.OpcodeLocalGet && op <= wasm.OpcodeLocalTee:
			var l uint64
			l, pc, err = readU32(body, pc)
			if err == nil && l >= nlocals {
				err = fmt.Errorf("local: %w", errBadIndex)
			}
		case op == wasm.OpcodeGlobalGet || op == wasm.OpcodeGlobalSet:
			var gi uint64
			gi, pc, err = readU32(body, pc)
			if err == nil && gi >= uint64(r.numGlobals) {
				err = fmt.Errorf("global: %w", errBadIndex)
			}
		case op >= wasm.OpcodeI32Load && op <= wasm.OpcodeI64Store32:
			if _, pc, err = readU32(body, pc); err == nil { // align
				_, pc, err = readU32(body, pc) // offset
			}
			if op <= wasm.OpcodeI64Load32U {
				cost = g.Load
			} else {
				cost = g.Store
			}
		case op == wasm.OpcodeMemorySize:
			pc, err = readZeroByte(body, pc)
		case op == wasm.OpcodeMemoryGrow:
			pc, err = readZeroByte(body, pc)
			if err == nil {
				r.emitDynamic(g.MemoryGrowPage, 0)
				r.seg = append(r.seg, body[start:pc]...)
				r.segCost += g.MemoryGrow
				continue
			}
		case op == wasm.OpcodeI32Const:
			_, pc, err = readLEB(body, pc, 5)
		case op == wasm.OpcodeI64Const:
			_, pc, err = readLEB(body, pc, 10)
		case op == wasm.OpcodeF32Const:
			pc += 4
		case op == wasm.OpcodeF64Const:
			pc += 8
		case op >= wasm.OpcodeI32Eqz && op <= wasm.OpcodeI64Extend32S:
			switch op {
			case wasm.OpcodeI32DivS, wasm.OpcodeI32DivU, wasm.OpcodeI32RemS, wasm.OpcodeI32RemU,
				wasm.OpcodeI64DivS, wasm.OpcodeI64DivU, wasm.OpcodeI64RemS, wasm.OpcodeI64RemU:
				cost = g.DivRem
			}
			switch {
			case op >= wasm.OpcodeF32Ceil && op <= wasm.OpcodeF32Max, op == wasm.OpcodeF32DemoteF64:
				post, cost = 1, g.Float
			case op >= wasm.OpcodeF64Ceil && op <= wasm.OpcodeF64Max, op == wasm.OpcodeF64PromoteF32:
				post, cost = 2, g.Float
			}
		case op == wasm.OpcodeMiscPrefix:
			var sub uint64
			sub, pc, err = readU32(body, pc)
			if err != nil {
				break
			}
			switch {
			case sub <= uint64(wasm.OpcodeMiscI64TruncSatF64U):
			case sub == uint64(wasm.OpcodeMiscMemoryInit):
				if _, pc, err = readU32(body, pc); err == nil {
					pc, err = readZeroByte(body, pc)
				}
			case sub == uint64(wasm.OpcodeMiscDataDrop):
				_, pc, err = readU32(body, pc)
			case sub == uint64(wasm.OpcodeMiscMemoryCopy):
				if pc, err = readZeroByte(body, pc); err == nil {
					pc, err = readZeroByte(body, pc)
				}
			case sub == uint64(wasm.OpcodeMiscMemoryFill):
				pc, err = readZeroByte(body, pc)
			default:
				err = fmt.Errorf("0xfc 0x%x: %w", sub, errUnsupportedInstr)
			}
			if err == nil && (sub == uint64(wasm.OpcodeMiscMemoryInit) || sub == uint64(wasm.OpcodeMiscMemoryCopy) ||
				sub == uint64(wasm.OpcodeMiscMemoryFill)) {
				r.emitDynamic(g.BulkPer64Bytes, 6)
				r.seg = append(r.seg, body[start:pc]...)
				r.segCost += g.Bulk
				continue
			}
		default:
			err = fmt.Errorf("opcode 0x%x: %w", op, errUnsupportedInstr)
		}
		if err == nil && pc > len(body) {
			err = errTruncated
		}
		if err != nil {
			return nil, nil, fmt.Errorf("at offset %d: %w", start, err)
		}
		if exit {
			r.seg = r.appendCheck(r.seg)
		}
		r.seg = append(r.seg, body[start:pc]...)
		r.segCost += cost
		switch post {
		case 1:
			r.emitCanonF32()
		case 2:
			r.emitCanonF64()
		}
		if endsSeg {
			r.flush()
		}
		if op == wasm.OpcodeLoop { // every iteration checks
			if r.frames[len(r.frames)-1] == loopWrappers {
				r.out = r.appendLoopCheck(r.out)
			} else {
				r.out = r.appendCheck(r.out)
			}
		}
	}
	if depth != 0 {
		return nil, nil, errTruncated
	}
	r.shape.MaxBlocks = max(r.shape.MaxBlocks, int(blocks))
	r.shape.MaxNesting = max(r.shape.MaxNesting, maxDepth-1)
	r.shape.MaxLocals = max(r.shape.MaxLocals, int(nlocals))
	r.shape.TotalLocals += nlocals
	r.flush()
	return r.out, r.extra, nil
}

// flush emits the charge for the pending segment, then the segment.
func (r *rewriter) flush() {
	if r.segCost > 0 {
		r.emitCharge(r.segCost)
	}
	r.out = append(r.out, r.seg...)
	r.seg = r.seg[:0]
	r.segCost = 0
}

// trapWith appends: i32.const status; global.set status; unreachable.
func trapWith(b []byte, statusGlobal uint32, status int64) []byte {
	b = append(b, wasm.OpcodeI32Const)
	b = append(b, sleb64(status)...)
	b = append(b, wasm.OpcodeGlobalSet)
	b = append(b, uleb(uint64(statusGlobal))...)
	return append(b, wasm.OpcodeUnreachable)
}

// emitCharge appends the static charge of cost gas to out: the gas is
// counted down in the function's local (a register in compiled code) and
// written through to the global, which the host reads; no check here (see
// RATIONALE.md, "Lazy gas checks"):
//
//	local.get $g; i64.const cost; i64.sub; local.tee $g; global.set $gas
func (r *rewriter) emitCharge(cost uint64) {
	b := append(r.out, wasm.OpcodeLocalGet)
	b = append(b, uleb(uint64(r.locGas))...)
	b = append(b, wasm.OpcodeI64Const)
	b = append(b, sleb64(int64(cost))...)
	b = append(b, wasm.OpcodeI64Sub, wasm.OpcodeLocalTee)
	b = append(b, uleb(uint64(r.locGas))...)
	b = append(b, wasm.OpcodeGlobalSet)
	b = append(b, uleb(uint64(r.gasGlobal))...)
	r.out = b
}

// appendCheck appends the gas check, stack-neutral: if the gas local is
// negative (charges ran past what the global holds), the refill import
// moves gas from the call's reserve or fails the call out of gas:
//
//	local.get $g; i64.const 0; i64.lt_s
//	if; i64.const 0; call $refill; global.get $gas; local.set $g; end
func (r *rewriter) appendCheck(b []byte) []byte {
	li := uleb(uint64(r.locGas))
	b = append(b, wasm.OpcodeLocalGet)
	b = append(b, li...)
	b = append(b, wasm.OpcodeI64Const, 0, wasm.OpcodeI64LtS, wasm.OpcodeIf, 0x40, wasm.OpcodeI64Const, 0, wasm.OpcodeCall)
	b = append(b, uleb(uint64(r.refillFunc))...)
	b = append(b, wasm.OpcodeGlobalGet)
	b = append(b, uleb(uint64(r.gasGlobal))...)
	b = append(b, wasm.OpcodeLocalSet)
	b = append(b, li...)
	return append(b, wasm.OpcodeEnd)
}

// anyWrapped reports whether an open frame has wrappers (so labels change).
func (r *rewriter) anyWrapped() bool {
	for _, f := range r.frames {
		if f != 0 {
			return true
		}
	}
	return false
}

// A loop's gas check calls the refill import when the gas local is
// negative. wazero's compiler treats every register as caller-saved and
// stores a value live across a call at its definition: a call inside a
// loop, even on a path never taken, makes every value the loop carries (a
// Go function's whole dispatch loop) go through memory on every iteration.
// So the check leaves the loop instead, and the refill is called outside
// it (see RATIONALE.md, "The refill outside the loop"):
//
//	block <loop's type>        ;; $exit
//	  loop                     ;; $retry
//	    block                  ;; $refill
//	      loop <loop's type>   ;; the original loop, its label unchanged
//	        local.get $g; i64.const 0; i64.lt_s; br_if $refill
//	        ...body...
//	      end
//	      br $exit             ;; the loop's fall-through, with its results
//	    end
//	    i64.const 0; call $refill; global.get $gas; local.set $g
//	    br $retry              ;; back to the loop's head: the same state
//	  end
//	  unreachable              ;; ($retry never falls through)
//	end
//
// At the loop's head the operand stack inside it is empty (no parameters)
// and everything else is in locals, so leaving and re-entering there is
// the same as continuing; the refill leaves the gas non-negative, so the
// check then passes. Branches leaving the loop get loopWrappers added to
// their label (relabel).

// plainBlockType reports whether bt (a block type's first byte) is empty or
// one value type, not a type index (which may take parameters).
func plainBlockType(bt byte) bool {
	switch bt {
	case 0x40, wasm.ValueTypeI32, wasm.ValueTypeI64, wasm.ValueTypeF32, wasm.ValueTypeF64:
		return true
	}
	return false
}

// appendLoopCheck appends the head check of a wrapped loop:
//
//	local.get $g; i64.const 0; i64.lt_s; br_if $refill
func (r *rewriter) appendLoopCheck(b []byte) []byte {
	b = append(b, wasm.OpcodeLocalGet)
	b = append(b, uleb(uint64(r.locGas))...)
	return append(b, wasm.OpcodeI64Const, 0, wasm.OpcodeI64LtS, wasm.OpcodeBrIf, 1)
}

// closeLoopWrappers appends, to the segment, after a wrapped loop's end,
// the rest of its wrappers (see appendLoopCheck).
func (r *rewriter) closeLoopWrappers() {
	b := append(r.seg, wasm.OpcodeBr, 2, wasm.OpcodeEnd, wasm.OpcodeI64Const, 0, wasm.OpcodeCall)
	b = append(b, uleb(uint64(r.refillFunc))...)
	b = append(b, wasm.OpcodeGlobalGet)
	b = append(b, uleb(uint64(r.gasGlobal))...)
	b = append(b, wasm.OpcodeLocalSet)
	b = append(b, uleb(uint64(r.locGas))...)
	// $retry never falls through; the unreachable types $exit's end.
	r.seg = append(b, wasm.OpcodeBr, 0, wasm.OpcodeEnd, wasm.OpcodeUnreachable, wasm.OpcodeEnd)
}

// emitReload appends, to the segment, the reload of the gas local from the
// global after a call (the callee, the host or the refill changed it).
func (r *rewriter) emitReload() {
	b := r.seg
	b = append(b, wasm.OpcodeGlobalGet)
	b = append(b, uleb(uint64(r.gasGlobal))...)
	b = append(b, wasm.OpcodeLocalSet)
	b = append(b, uleb(uint64(r.locGas))...)
	r.seg = b
}

// emitDynamic appends, to the segment, a charge of (n >> shift) * price where
// n is the i32 on top of the stack (left in place), and a check.
func (r *rewriter) emitDynamic(price uint64, shift int64) {
	if price == 0 {
		return
	}
	t32 := uleb(uint64(r.tmp(&r.locI32, wasm.ValueTypeI32)))
	t64 := uleb(uint64(r.tmp(&r.locI64, wasm.ValueTypeI64)))
	gi := uleb(uint64(r.gasGlobal))
	li := uleb(uint64(r.locGas))
	b := r.seg
	b = append(b, wasm.OpcodeLocalTee)
	b = append(b, t32...)
	b = append(b, wasm.OpcodeLocalGet)
	b = append(b, t32...)
	b = append(b, wasm.OpcodeI64ExtendI32U)
	if shift > 0 {
		b = append(b, wasm.OpcodeI64Const)
		b = append(b, sleb64(shift)...)
		b = append(b, wasm.OpcodeI64ShrU)
	}
	b = append(b, wasm.OpcodeI64Const)
	b = append(b, sleb64(int64(price))...)
	b = append(b, wasm.OpcodeI64Mul, wasm.OpcodeLocalSet)
	b = append(b, t64...)
	b = append(b, wasm.OpcodeLocalGet)
	b = append(b, li...)
	b = append(b, wasm.OpcodeLocalGet)
	b = append(b, t64...)
	b = append(b, wasm.OpcodeI64Sub, wasm.OpcodeLocalTee)
	b = append(b, li...)
	b = append(b, wasm.OpcodeGlobalSet)
	b = append(b, gi...)
	r.seg = r.appendCheck(b)
}

// emitDepthEnter appends the call-depth check and increment before a call:
//
//	global.get $depth; i32.const max; i32.ge_u
//	if; i32.const 2; global.set $status; unreachable; end
//	global.get $depth; i32.const 1; i32.add; global.set $depth
func (r *rewriter) emitDepthEnter() {
	di := uleb(uint64(r.depthGlobal))
	b := r.seg
	b = append(b, wasm.OpcodeGlobalGet)
	b = append(b, di...)
	b = append(b, wasm.OpcodeI32Const)
	b = append(b, sleb64(int64(r.cfg.maxCallDepth))...)
	b = append(b, wasm.OpcodeI32GeU, wasm.OpcodeIf, 0x40)
	b = trapWith(b, r.statusGlobal, statusCallDepth)
	b = append(b, wasm.OpcodeEnd, wasm.OpcodeGlobalGet)
	b = append(b, di...)
	b = append(b, wasm.OpcodeI32Const, 1, wasm.OpcodeI32Add, wasm.OpcodeGlobalSet)
	b = append(b, di...)
	r.seg = b
}

// emitDepthLeave appends the decrement after a call returns.
func (r *rewriter) emitDepthLeave() {
	di := uleb(uint64(r.depthGlobal))
	b := r.seg
	b = append(b, wasm.OpcodeGlobalGet)
	b = append(b, di...)
	b = append(b, wasm.OpcodeI32Const, 1, wasm.OpcodeI32Sub, wasm.OpcodeGlobalSet)
	b = append(b, di...)
	r.seg = b
}

// emitCanonF32 replaces the f32 on top of the stack by the canonical NaN if it
// is a NaN: local.tee t; f32.const nan; local.get t; local.get t; f32.eq; select.
func (r *rewriter) emitCanonF32() {
	t := uleb(uint64(r.tmp(&r.locF32, wasm.ValueTypeF32)))
	b := r.seg
	b = append(b, wasm.OpcodeLocalTee)
	b = append(b, t...)
	b = append(b, wasm.OpcodeF32Const, 0x00, 0x00, 0xc0, 0x7f, wasm.OpcodeLocalGet)
	b = append(b, t...)
	b = append(b, wasm.OpcodeLocalGet)
	b = append(b, t...)
	b = append(b, wasm.OpcodeF32Eq, wasm.OpcodeSelect)
	r.seg = b
}

// emitCanonF64 is emitCanonF32 for f64.
func (r *rewriter) emitCanonF64() {
	t := uleb(uint64(r.tmp(&r.locF64, wasm.ValueTypeF64)))
	b := r.seg
	b = append(b, wasm.OpcodeLocalTee)
	b = append(b, t...)
	b = append(b, wasm.OpcodeF64Const, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, wasm.OpcodeLocalGet)
	b = append(b, t...)
	b = append(b, wasm.OpcodeLocalGet)
	b = append(b, t...)
	b = append(b, wasm.OpcodeF64Eq, wasm.OpcodeSelect)
	r.seg = b
}

// readLEB reads a LEB128 number of at most maxBytes bytes and returns its
// unsigned value (meaningful only for unsigned encodings).
func readLEB(b []byte, pc, maxBytes int) (uint64, int, error) {
	var v uint64
	for i := 0; i < maxBytes; i++ {
		if pc >= len(b) {
			return 0, pc, errTruncated
		}
		c := b[pc]
		pc++
		v |= uint64(c&0x7f) << (7 * uint(i))
		if c&0x80 == 0 {
			return v, pc, nil
		}
	}
	return 0, pc, errLEBTooLong
}

// readU32 reads an unsigned 32-bit LEB128 number.
func readU32(b []byte, pc int) (uint64, int, error) {
	v, pc, err := readLEB(b, pc, 5)
	if err == nil && v > math.MaxUint32 {
		return 0, pc, errors.New("u32 out of range")
	}
	return v, pc, err
}

// readZeroByte reads the reserved memory-index byte, which must be 0.
func readZeroByte(b []byte, pc int) (int, error) {
	if pc >= len(b) {
		return pc, errTruncated
	}
	if b[pc] != 0 {
		return pc, fmt.Errorf("memory index %d: %w", b[pc], errBadIndex)
	}
	return pc + 1, nil
}

// skipBlockType skips a block type: 0x40, a value type, or an s33 type index.
func skipBlockType(b []byte, pc int) (int, error) {
	if pc >= len(b) {
		return pc, errTruncated
	}
	switch b[pc] {
	case 0x40, wasm.ValueTypeI32, wasm.ValueTypeI64, wasm.ValueTypeF32, wasm.ValueTypeF64:
		return pc + 1, nil
	case wasm.ValueTypeV128, wasm.ValueTypeFuncref, wasm.ValueTypeExternref:
		return pc, fmt.Errorf("block type 0x%x: %w", b[pc], errUnsupportedInstr)
	}
	// A type index: s33, non-negative (validated against the type section by wazero).
	_, pc, err := readLEB(b, pc, 5)
	return pc, err
}

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb64(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
