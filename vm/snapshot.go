package vm

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// snapshot is the state of an instance right after its initialisation
// (start function and _initialize): every byte of linear memory, every
// global of the module, and the host's monotonic clock. Every call starts
// from it, so a call's gas and outcome depend on the call alone, never on
// the calls that ran before it on the same instance (see RATIONALE.md,
// "Same cost in every position").
type snapshot struct {
	mem     []byte   // linear memory, len = pages × 64 KiB; read-only (on Linux a view of file)
	globals []uint64 // the module's own mutable globals, in index order
	mono    uint64
	file    *snapshotFile // mem in a memfd that instances map (Linux); nil: copy
}

// maxIdle bounds the idle instances kept per module for later sessions.
const maxIdle = 4

// pool keeps a module's idle instances between sessions. An instance's
// history never matters (each call restores the snapshot), so reusing one
// only saves the time of creating it.
type pool struct {
	mu   sync.Mutex
	idle []*instance
}

func (p *pool) get() *instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		in := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return in
	}
	return nil
}

// put keeps in for reuse, or closes it if the pool is full.
func (p *pool) put(ctx context.Context, in *instance) {
	p.mu.Lock()
	if len(p.idle) < maxIdle {
		p.idle = append(p.idle, in)
		in = nil
	}
	p.mu.Unlock()
	if in != nil {
		_ = in.close(ctx)
	}
}

// newInstance creates an instance of m: wazero instantiates the module
// (the start function if any, metered with the module's InitGasLimit;
// data segments only if stripData left them, see Compile), with its
// memory mapped (mappedMemory) unless the engine resets by copy, and the
// instance's globals are looked up. It does not run _initialize: setUp
// brings the instance to m's snapshot instead.
func (e *Engine) newInstance(ctx context.Context, m *Module) (*instance, error) {
	in := &instance{module: m, fns: make(map[string]api.Function), mono: monoStart}
	st := &callState{e: e, inst: in, init: true}
	in.st = st
	cctx := context.WithValue(ctx, stateKey{}, st)
	if !e.copyReset {
		cctx = experimental.WithMemoryAllocator(cctx, experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory {
			if lm := newMappedMemory(max); lm != nil {
				in.lm = lm
				return lm
			}
			return &heapMemory{max: max}
		}))
	}
	mod, err := e.rt.InstantiateModule(cctx, m.compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		if st.failure != nil {
			return nil, st.failure
		}
		return nil, errors.New(firstLine(err.Error()))
	}
	in.mod = mod
	in.gas = mod.ExportedGlobal(exportGas).(api.MutableGlobal)
	in.depth = mod.ExportedGlobal(exportDepth).(api.MutableGlobal)
	in.status = mod.ExportedGlobal(exportStatus).(api.MutableGlobal)
	for i := uint32(0); ; i++ {
		g := mod.ExportedGlobal(globalExportName(i))
		if g == nil {
			break
		}
		if mg, ok := g.(api.MutableGlobal); ok {
			in.globals = append(in.globals, mg)
		}
	}
	st.init = false
	return in, nil
}

// initialise runs in's _initialize (if any) and takes the module's
// snapshot from it. It returns the gas initialisation used. Compile calls
// it once per module, outside any block.
func (e *Engine) initialise(ctx context.Context, m *Module, in *instance) (uint64, error) {
	in.st.init = true
	defer func() { in.st.init = false }()
	if m.hasInitialize {
		cctx := context.WithValue(ctx, stateKey{}, in.st)
		if _, err := in.mod.ExportedFunction("_initialize").Call(cctx); err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, in.classify(err)
		}
	}
	used := e.cfg.InitGasLimit - in.gas.Get()
	mem := in.mod.Memory()
	b, ok := mem.Read(0, mem.Size())
	if !ok {
		return 0, errors.New("vm: reading the initialised memory")
	}
	snap := &snapshot{globals: make([]uint64, len(in.globals)), mono: in.mono}
	for i, g := range in.globals {
		snap.globals[i] = g.Get()
	}
	snap.file = newSnapshotFile(b)
	if v, ok := snap.file.view(snap); ok {
		snap.mem = v
	} else {
		snap.mem = append([]byte(nil), b...)
	}
	m.snap = snap
	return used, nil
}

// heapMemory is a linear memory on the Go heap, as wazero's own: used when
// a mapping cannot be made.
type heapMemory struct {
	buf []byte
	max uint64
}

func (h *heapMemory) Reallocate(size uint64) []byte {
	if size > h.max {
		return nil
	}
	if size > uint64(cap(h.buf)) {
		nb := make([]byte, size, max(size, min(h.max, 2*uint64(cap(h.buf)))))
		copy(nb, h.buf)
		h.buf = nb
	}
	h.buf = h.buf[:size]
	return h.buf
}

func (h *heapMemory) Free() { h.buf = nil }

// setUp brings a new instance to its module's snapshot: its memory grown
// to the snapshot's size, then (on Linux) the snapshot file mapped over
// it, or else the snapshot copied into it; globals and clock restored.
func (in *instance) setUp() error {
	snap := in.module.snap
	mem := in.mod.Memory()
	size, want := uint64(mem.Size()), uint64(len(snap.mem))
	if size > want {
		return fmt.Errorf("vm: new instance memory of %d bytes exceeds the snapshot's %d", size, want)
	}
	if size < want {
		if _, ok := mem.Grow(uint32((want - size) / pageSize)); !ok {
			return errors.New("vm: growing a new instance to its snapshot's size")
		}
	}
	if in.lm != nil && snap.file != nil {
		if err := in.lm.mapSnapshot(snap.file); err != nil {
			return err
		}
	} else {
		for off := uint64(0); off < want; off += 1 << 30 { // a view's length is a uint32
			n := min(want-off, 1<<30)
			b, ok := mem.Read(uint32(off), uint32(n))
			if !ok {
				return errors.New("vm: instance memory view")
			}
			copy(b, snap.mem[off:off+n])
		}
	}
	in.restoreGlobals()
	return nil
}

// reset brings in back to its module's snapshot after a call and returns
// the number of 64 KiB pages of the snapshot's range whose content the
// call changed (the call pays GasTable.InstancePage for each: a pure
// function of what the call did, whichever path runs). On Linux only the
// pages the kernel reports as written are compared and copied back; else
// the whole memory is compared, and changed pages copied. A memory grown
// past the snapshot's cannot shrink: reset still counts and restores the
// snapshot's range, and reusable then reports false.
func (in *instance) reset() (uint64, error) {
	snap := in.module.snap
	mem := in.mod.Memory()
	size, want := uint64(mem.Size()), uint64(len(snap.mem))
	if size < want {
		return 0, fmt.Errorf("vm: instance memory of %d bytes below the snapshot's %d", size, want)
	}
	var changed uint64
	if in.lm != nil && snap.file != nil {
		var err error
		if changed, err = in.lm.resetMapped(snap.mem, &in.pm); err != nil {
			return 0, err
		}
	} else {
		for off := uint64(0); off < want; off += pageSize {
			b, ok := mem.Read(uint32(off), pageSize)
			if !ok {
				return 0, errors.New("vm: instance memory view")
			}
			if s := snap.mem[off : off+pageSize]; string(b) != string(s) {
				copy(b, s)
				changed++
			}
		}
	}
	in.restoreGlobals()
	return changed, nil
}

func (in *instance) restoreGlobals() {
	snap := in.module.snap
	for i, g := range in.globals {
		g.Set(snap.globals[i])
	}
	in.mono = snap.mono
}

// reusable reports whether in can serve another call after reset.
func (in *instance) reusable() bool {
	return !in.mod.IsClosed() && uint64(in.mod.Memory().Size()) == uint64(len(in.module.snap.mem))
}

// pageSize is a wasm page.
const pageSize = 65536
