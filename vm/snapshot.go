package vm

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// snapshot is the state of an instance right after its initialisation
// (start function and _initialize): every byte of linear memory, every
// global of the module, and the host's monotonic clock. Every call starts
// from it, so a call's gas and outcome depend on the call alone, never on
// the calls that ran before it on the same instance (see RATIONALE.md,
// "Same cost in every position").
type snapshot struct {
	mem     []byte   // linear memory, len = pages × 64 KiB
	globals []uint64 // the module's own mutable globals, in index order
	mono    uint64
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
// (data segments, and the start function if any, metered with the
// module's InitGasLimit), and the instance's globals are looked up. It
// does not run _initialize: the instance is reset to m's snapshot before
// each call instead.
func (e *Engine) newInstance(ctx context.Context, m *Module) (*instance, error) {
	in := &instance{module: m, fns: make(map[string]api.Function), mono: monoStart}
	st := &callState{e: e, inst: in, init: true}
	in.st = st
	cctx := context.WithValue(ctx, stateKey{}, st)
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
	snap := &snapshot{mem: append([]byte(nil), b...), globals: make([]uint64, len(in.globals)), mono: in.mono}
	for i, g := range in.globals {
		snap.globals[i] = g.Get()
	}
	m.snap = snap
	return used, nil
}

// restore resets in to its module's snapshot: memory, globals, clock.
// It fails (the instance must then be replaced) only if in's memory is
// larger than the snapshot's: wasm memory cannot shrink.
func (in *instance) restore() error {
	snap := in.module.snap
	mem := in.mod.Memory()
	size := uint64(mem.Size())
	want := uint64(len(snap.mem))
	if size > want {
		return fmt.Errorf("vm: instance memory of %d bytes exceeds the snapshot's %d", size, want)
	}
	if size < want { // a new instance: grow to the initialised size
		if _, ok := mem.Grow(uint32((want - size) / pageSize)); !ok {
			return errors.New("vm: growing a new instance to its snapshot's size")
		}
	}
	for off := uint64(0); off < want; off += 1 << 30 { // a view's length is a uint32
		n := min(want-off, 1<<30)
		b, ok := mem.Read(uint32(off), uint32(n))
		if !ok {
			return errors.New("vm: instance memory view")
		}
		copy(b, snap.mem[off:off+n])
	}
	for i, g := range in.globals {
		g.Set(snap.globals[i])
	}
	in.mono = snap.mono
	return nil
}

// reusable reports whether in can serve another call after restore.
func (in *instance) reusable() bool {
	return !in.mod.IsClosed() && uint64(in.mod.Memory().Size()) == uint64(len(in.module.snap.mem))
}

// pageSize is a wasm page.
const pageSize = 65536
