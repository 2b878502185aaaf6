package vm

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wabin/wasm"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Config configures an Engine. The fields marked (consensus) must be equal on
// every validator for the same height: they change gas use and outcomes.
type Config struct {
	// CacheDir, if not empty, holds wazero's on-disk compilation cache and the
	// instrumented modules, so a restarted node neither re-instruments nor
	// recompiles. It is created if missing. Empty: in-memory caches only.
	CacheDir string
	// MaxCodeBytes bounds the size of a module's original code (consensus).
	MaxCodeBytes int
	// MaxMemoryPages caps each instance's linear memory, in 64 KiB pages
	// (consensus). A Go contract starts at about 40 pages.
	MaxMemoryPages uint32
	// MaxCallDepth caps the wasm call depth, counted at call sites by the
	// instrumentation (consensus). It must stay below the interpreter's own
	// limit of 2000 frames so both engines fail the same way.
	MaxCallDepth uint32
	// InitGasLimit is the gas available to a module's start function and
	// _initialize export when an instance is created (consensus). A module
	// whose initialisation does not finish within it is refused at deploy.
	InitGasLimit uint64
	// Gas is the price table (consensus).
	Gas GasTable
	// Limits bound module shapes (consensus).
	Limits Limits
	// Compilers is how many background compilations (Prepare) may run at
	// once; 0 means 1.
	Compilers int
	// MaxDebugBytes is how much of what a contract writes to stdout/stderr is
	// kept (the tail of a Go panic message is reported in CallError.Message).
	MaxDebugBytes int
	// OnCompile, if set, is called with the duration of each successful
	// compilation (metrics; not consensus, never affects a result).
	OnCompile func(time.Duration)
	// Interpreter selects wazero's interpreter instead of its compiler. The
	// compiler is used by default where wazero supports it; results are the
	// same (tested), only speed differs.
	Interpreter bool
}

// DefaultConfig returns the defaults used by the chain.
func DefaultConfig() Config {
	return Config{
		MaxCodeBytes:   8 << 20,
		MaxMemoryPages: 512, // 32 MiB
		MaxCallDepth:   1000,
		InitGasLimit:   500_000_000,
		Gas:            DefaultGasTable(),
		Limits:         DefaultLimits(),
		MaxDebugBytes:  1024,
	}
}

// Validate reports whether the configuration is usable.
func (c Config) Validate() error {
	switch {
	case c.MaxCodeBytes <= 0:
		return errors.New("vm: MaxCodeBytes must be positive")
	case c.MaxMemoryPages == 0 || c.MaxMemoryPages > 65536:
		return errors.New("vm: MaxMemoryPages must be in 1..65536")
	case c.MaxCallDepth == 0 || c.MaxCallDepth >= 1900:
		return errors.New("vm: MaxCallDepth must be in 1..1899")
	case c.InitGasLimit == 0 || c.InitGasLimit > maxGasLimit:
		return fmt.Errorf("vm: InitGasLimit must be in 1..%d", uint64(maxGasLimit))
	case c.MaxDebugBytes < 0:
		return errors.New("vm: MaxDebugBytes must not be negative")
	}
	if err := c.Gas.validate(); err != nil {
		return fmt.Errorf("vm: %w", err)
	}
	return c.Limits.validate()
}

// maxGasLimit bounds every gas limit so the instrumented arithmetic on the
// (signed-encoded, unsigned-compared) gas global cannot wrap.
const maxGasLimit = 1 << 62

// Deploy-time errors. Engine.Compile wraps one of them with detail.
var (
	ErrCodeTooLarge    = errors.New("vm: module too large")
	ErrInvalidModule   = errors.New("vm: invalid module")
	ErrForbiddenImport = errors.New("vm: forbidden import")
	ErrNoMethods       = errors.New("vm: module exports no callable method")
	ErrInitFailed      = errors.New("vm: module initialisation did not finish")
	ErrClosed          = errors.New("vm: engine closed")
)

// Engine compiles and caches contract modules and runs them. Create one per
// node; it is safe for concurrent use. Close it to release the runtime.
type Engine struct {
	cfg     Config
	rt      wazero.Runtime
	cache   wazero.CompilationCache
	iconf   instrumentConfig
	cfgHash [32]byte // key of the instrumentation cache

	mu       sync.Mutex
	modules  map[[32]byte]*Module // by sha256 of the original code
	refused  map[[32]byte]error   // code that failed Compile for a reason of the code (remembered)
	checked  map[[32]byte]*Static // Check results (refusals are in refused)
	inflight map[[32]byte]*flight // compilations under way
	sem      chan struct{}        // background compiler slots
	closed   bool
	bg       sync.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc

	// copyReset makes instances reset by comparing and copying their
	// whole memory, as on systems without memfd and pagemap (tests:
	// both paths give the same gas).
	copyReset bool
}

// flight is one compilation under way; waiters block on done.
type flight struct {
	done chan struct{}
	m    *Module
	err  error
}

// maxRemembered bounds the refused and checked maps: when full, they are
// cleared (the outcome is a pure function of the code, so forgetting only
// costs time).
const maxRemembered = 4096

// Static is the outcome of Check: what is known of a module without
// compiling it.
type Static struct {
	Hash    [32]byte
	Size    int
	Methods []string // callable exports, sorted
}

// Module is a validated, instrumented and compiled contract module. It is
// immutable and shared by all sessions.
type Module struct {
	// Hash is the SHA-256 of the original code.
	Hash [32]byte
	// Size is the length of the original code.
	Size int
	// Methods are the callable exports, sorted.
	Methods []string
	// InitGas is the gas used by the start function and _initialize. It is a
	// pure function of the code and the Config.
	InitGas uint64
	// InstanceGas is the fixed part of what every call pays for its
	// instance: GasTable.Instantiate (a pure function of the Config). A
	// call adds GasTable.InstancePage per 64 KiB page it changed.
	InstanceGas uint64

	compiled       wazero.CompiledModule
	hasInitialize  bool
	instrumentedSz int
	data           []dataSeg // active data segments the host applies (see stripData); nil after the snapshot
	snap           *snapshot // the initialised state every call starts from
	idle           pool      // instances between sessions
}

// HasMethod reports whether name is a callable export.
func (m *Module) HasMethod(name string) bool {
	_, ok := slices.BinarySearch(m.Methods, name)
	return ok
}

// NewEngine creates an engine: one wazero runtime with the host modules.
func NewEngine(ctx context.Context, cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var rc wazero.RuntimeConfig
	if cfg.Interpreter {
		rc = wazero.NewRuntimeConfigInterpreter()
	} else {
		rc = wazero.NewRuntimeConfig() // compiler where supported
	}
	rc = rc.WithCoreFeatures(api.CoreFeaturesV2).
		WithMemoryLimitPages(cfg.MaxMemoryPages).
		WithCloseOnContextDone(false). // gas bounds every call; see RATIONALE.md
		WithCustomSections(false).
		WithDebugInfoEnabled(false)
	e := &Engine{cfg: cfg, modules: make(map[[32]byte]*Module), refused: make(map[[32]byte]error),
		checked: make(map[[32]byte]*Static), inflight: make(map[[32]byte]*flight), sem: make(chan struct{}, max(cfg.Compilers, 1))}
	e.bgCtx, e.bgCancel = context.WithCancel(context.Background())
	if cfg.CacheDir != "" {
		dir := filepath.Join(cfg.CacheDir, "wazero")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("vm: cache dir: %w", err)
		}
		if err := os.MkdirAll(filepath.Join(cfg.CacheDir, "instrumented"), 0o755); err != nil {
			return nil, fmt.Errorf("vm: cache dir: %w", err)
		}
		c, err := wazero.NewCompilationCacheWithDir(dir)
		if err != nil {
			return nil, fmt.Errorf("vm: compilation cache: %w", err)
		}
		e.cache = c
		rc = rc.WithCompilationCache(c)
	}
	e.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	e.iconf = instrumentConfig{gas: cfg.Gas, maxCallDepth: cfg.MaxCallDepth, initGas: cfg.InitGasLimit, limits: cfg.Limits}
	h := sha256.New()
	fp := cfg.Gas.fingerprint()
	h.Write(fp[:])
	var b [8]byte
	l := cfg.Limits
	for _, v := range []uint64{instrumenterVersion, uint64(cfg.MaxCallDepth), cfg.InitGasLimit,
		uint64(l.MaxFunctions), uint64(l.MaxFunctionLocals), l.MaxTotalLocals, uint64(l.MaxNesting),
		uint64(l.MaxBlocks), uint64(l.MaxTableElems), uint64(l.MaxDataBytes), uint64(l.MaxSectionEntries)} {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	h.Sum(e.cfgHash[:0])
	if err := e.instantiateHostModules(ctx); err != nil {
		_ = e.rt.Close(ctx)
		return nil, err
	}
	return e, nil
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// Close releases the runtime and every compiled module. Sessions must be
// closed first.
func (e *Engine) Close(ctx context.Context) error {
	e.bgCancel()
	e.bg.Wait()
	e.mu.Lock()
	e.closed = true
	e.modules = nil
	e.mu.Unlock()
	err := e.rt.Close(ctx)
	if e.cache != nil {
		if cerr := e.cache.Close(ctx); err == nil {
			err = cerr
		}
	}
	return err
}

// Compile validates code and returns the compiled module, from the cache when
// the same code was compiled before. Deploying a contract calls Compile and
// stores the code only if it succeeds; loading a contract for execution
// calls it again (a cache hit after the first time).
//
// Checks, in order: size; decoding and instrumentation (every instruction of
// every body is scanned; SIMD, reference types, threads, tail calls,
// imported memories, tables and globals are refused); imports (only the host
// API and the deterministic WASI subset, with matching signatures); exports
// (a memory named "memory" and at least one method); compilation; and a trial
// instantiation, which must finish its start function and _initialize within
// Config.InitGasLimit.
//
// # Errors
//
// ErrCodeTooLarge, ErrInvalidModule, ErrForbiddenImport, ErrNoMethods,
// ErrInitFailed (wrapped with detail), ErrClosed, or a context error.
func (e *Engine) Compile(ctx context.Context, code []byte) (*Module, error) {
	return e.compileHash(ctx, code, sha256.Sum256(code))
}

func (e *Engine) compileHash(ctx context.Context, code []byte, hash [32]byte) (*Module, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	if m, ok := e.modules[hash]; ok {
		e.mu.Unlock()
		return m, nil
	}
	if err, ok := e.refused[hash]; ok {
		e.mu.Unlock()
		return nil, err
	}
	if f, ok := e.inflight[hash]; ok { // a background compilation: wait for it
		e.mu.Unlock()
		select {
		case <-f.done:
			if f.err != nil && !isCodeError(f.err) { // its context ended: try ourselves
				return e.compileHash(ctx, code, hash)
			}
			return f.m, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	e.inflight[hash] = f
	e.mu.Unlock()

	restore := func() {}
	if len(code) >= freeAfterCompileBytes {
		restore = lowerGCPercent()
	}
	m, err := e.compile(ctx, code, hash)
	restore()
	e.mu.Lock()
	delete(e.inflight, hash)
	switch {
	case err == nil && e.closed:
		_ = m.compiled.Close(ctx)
		m, err = nil, ErrClosed
	case err == nil:
		e.modules[hash] = m
	case isCodeError(err):
		if len(e.refused) >= maxRemembered {
			clear(e.refused)
		}
		e.refused[hash] = err
	}
	f.m, f.err = m, err
	close(f.done)
	e.mu.Unlock()
	return m, err
}

// freeAfterCompileBytes is the size of code from which a successful
// background compile (Prepare, which the node calls when a deploy is
// admitted) is followed, on the same goroutine, by debug.FreeOSMemory: a
// collection, then the free pages returned to the system at once. A
// Compile on a caller's goroutine does not wait for one.
//
// Compiling a Go contract allocates several times its size (decoding,
// instrumentation, wazero's compiler) while the deploy transaction's
// copies are live: trial-protocol (4.9 MB) took a validator's live heap
// from ~10 to ~100-120 MB for a few seconds, and the collections then
// set the Go heap goal to twice that. When the compile was over, the
// heap was collected only once it reached that goal, and its pages went
// back to the system through the background scavenger: after the CRF
// bench's deploy a validator stayed at 214-263 MiB RSS for some 20 s.
// With one forced collection at the compile's end it fell from 244 to
// 98 MiB at once. It costs a collection per contract compiled in the
// background. Test and hostile modules below this size
// leave too little garbage to be worth it.
const freeAfterCompileBytes = 1 << 20

// compileGCPercent is the Go collector's GOGC while a module of at
// least freeAfterCompileBytes compiles (unless it is lower already).
//
// With GOGC=100 the heap grows to twice what was live at the last
// collection, and while a Go contract compiles that is ~100-120 MB
// (the compile's own data and the deploy transaction's copies on their
// way through the pool, the proposal and the store), and that set a
// validator's peak RSS (228-308 MiB in the CRF bench). At 50 the heap
// grows by half of it between two collections: peak 216-230 MiB (3
// interleaved pairs), for 0.35 s more CPU per validator from the deploy
// to the end of the compile (3.18 → 3.53 s), paid once per contract and
// node start; the CPU per transaction after it did not change.
const compileGCPercent = 50

// compileGC counts the compiles under way that lowered GOGC, and keeps
// the setting to restore when the last one ends.
var compileGC struct {
	mu  sync.Mutex
	n   int
	old int
}

// lowerGCPercent sets GOGC to compileGCPercent, unless it is lower or
// off, until the returned function is called (by every compile that
// called it: the first one lowers it, the last one restores it).
func lowerGCPercent() (restore func()) {
	compileGC.mu.Lock()
	defer compileGC.mu.Unlock()
	if compileGC.n == 0 {
		compileGC.old = debug.SetGCPercent(compileGCPercent)
		if compileGC.old < compileGCPercent { // lower already, or off (-1): kept
			debug.SetGCPercent(compileGC.old)
		}
	}
	compileGC.n++
	return func() {
		compileGC.mu.Lock()
		defer compileGC.mu.Unlock()
		if compileGC.n--; compileGC.n == 0 {
			debug.SetGCPercent(compileGC.old)
		}
	}
}

// isCodeError reports whether err is a refusal of the code itself (a pure
// function of the code and the Config), not a failure of this node.
func isCodeError(err error) bool {
	for _, e := range []error{ErrCodeTooLarge, ErrInvalidModule, ErrForbiddenImport, ErrNoMethods, ErrInitFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Compiled reports whether code's module is compiled and cached (a call
// will not wait for a compiler), or refused.
func (e *Engine) Compiled(hash [32]byte) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.modules[hash]
	_, bad := e.refused[hash]
	return ok || bad
}

// Prepare starts compiling code in the background (at most
// Config.Compilers at once) unless it is compiled, refused or under way,
// and returns at once. A later Compile of the same code waits for it
// rather than compiling again. The node calls it when a deploy is admitted,
// proposed or executed, so that no block waits for a compiler.
func (e *Engine) Prepare(code []byte) {
	hash := sha256.Sum256(code)
	e.mu.Lock()
	_, have := e.modules[hash]
	_, bad := e.refused[hash]
	_, busy := e.inflight[hash]
	if have || bad || busy || e.closed {
		e.mu.Unlock()
		return
	}
	e.bg.Add(1)
	e.mu.Unlock()
	code = slices.Clone(code)
	go func() {
		defer e.bg.Done()
		select {
		case e.sem <- struct{}{}:
		case <-e.bgCtx.Done():
			return
		}
		defer func() { <-e.sem }()
		if _, err := e.compileHash(e.bgCtx, code, hash); err == nil && len(code) >= freeAfterCompileBytes {
			debug.FreeOSMemory()
		}
	}()
}

// Check validates code without compiling it: size, module shape (Limits),
// decoding, every instruction, imports and exports. It is deterministic
// and linear in the size of the code (no third-party compiler runs), so
// a block may run it; its outcome, refusals included, is remembered by
// hash. A module Check accepts can still be refused by Compile (wazero's
// type validation, or an initialisation that does not finish): then every
// call to it fails the same way on every node.
func (e *Engine) Check(code []byte) (*Static, error) {
	hash := sha256.Sum256(code)
	e.mu.Lock()
	if st, ok := e.checked[hash]; ok {
		e.mu.Unlock()
		return st, nil
	}
	if err, ok := e.refused[hash]; ok && !errors.Is(err, ErrInitFailed) && !errors.Is(err, errCompilerRefused) {
		e.mu.Unlock()
		return nil, err
	}
	e.mu.Unlock()
	st, err := e.check(code, hash)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		if len(e.refused) >= maxRemembered {
			clear(e.refused)
		}
		e.refused[hash] = err
		return nil, err
	}
	if len(e.checked) >= maxRemembered {
		clear(e.checked)
	}
	e.checked[hash] = st
	return st, nil
}

// errCompilerRefused marks a module wazero refused after Check accepted it.
var errCompilerRefused = errors.New("refused by the compiler's validation")

func (e *Engine) check(code []byte, hash [32]byte) (*Static, error) {
	if len(code) > e.cfg.MaxCodeBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrCodeTooLarge, len(code), e.cfg.MaxCodeBytes)
	}
	ins, err := instrument(code, e.iconf)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModule, err)
	}
	methods, err := staticExports(ins.mod)
	if err != nil {
		return nil, err
	}
	return &Static{Hash: hash, Size: len(code), Methods: methods}, nil
}

// staticExports checks imports and exports on the decoded module, as
// checkImportsExports does on the compiled one, and returns the methods.
func staticExports(m *wasm.Module) ([]string, error) {
	vt := func(ts []wasm.ValueType) []api.ValueType { return ts }
	var nImported uint32
	for _, im := range m.ImportSection {
		ft := m.TypeSection[im.DescFunc] // index checked by instrument
		sig, ok := allowedImports[im.Module+"."+im.Name]
		if !ok || im.Name == importRefill { // the refill is the instrumentation's own
			return nil, fmt.Errorf("%w: %s.%s", ErrForbiddenImport, im.Module, im.Name)
		}
		if !sig.matches(vt(ft.Params), vt(ft.Results)) {
			return nil, fmt.Errorf("%w: %s.%s has signature %s, want %s", ErrForbiddenImport, im.Module, im.Name,
				sigString(ft.Params, ft.Results), sigString(sig.params, sig.results))
		}
		nImported++
	}
	hasMemory := false
	var methods []string
	for _, ex := range m.ExportSection {
		switch ex.Type {
		case wasm.ExternTypeMemory:
			hasMemory = hasMemory || ex.Name == "memory"
		case wasm.ExternTypeFunc:
			if ex.Index < nImported || int(ex.Index-nImported) >= len(m.FunctionSection) {
				continue // an import re-exported, or an index wazero will refuse
			}
			ti := m.FunctionSection[ex.Index-nImported]
			if int(ti) >= len(m.TypeSection) {
				return nil, fmt.Errorf("%w: export %q: type index out of range", ErrInvalidModule, ex.Name)
			}
			ft := m.TypeSection[ti]
			switch {
			case ex.Name == "_initialize":
				if len(ft.Params) != 0 || len(ft.Results) != 0 {
					return nil, fmt.Errorf("%w: _initialize must take and return nothing", ErrInvalidModule)
				}
			case ex.Name == "_start" || strings.HasPrefix(ex.Name, reservedPrefix):
			case len(ft.Params) == 0 && len(ft.Results) == 0 && ex.Name != "" && len(ex.Name) <= maxMethodLen:
				methods = append(methods, ex.Name)
			}
		}
	}
	if !hasMemory {
		return nil, fmt.Errorf("%w: no exported memory named \"memory\"", ErrInvalidModule)
	}
	if len(methods) == 0 {
		return nil, ErrNoMethods
	}
	slices.Sort(methods)
	return slices.Compact(methods), nil
}

func (e *Engine) compile(ctx context.Context, code []byte, hash [32]byte) (*Module, error) {
	if e.cfg.OnCompile != nil {
		start := time.Now()
		m, err := e.compileTimed(ctx, code, hash)
		if err == nil {
			e.cfg.OnCompile(time.Since(start))
		}
		return m, err
	}
	return e.compileTimed(ctx, code, hash)
}

func (e *Engine) compileTimed(ctx context.Context, code []byte, hash [32]byte) (*Module, error) {
	if len(code) > e.cfg.MaxCodeBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrCodeTooLarge, len(code), e.cfg.MaxCodeBytes)
	}
	icode, err := e.instrumentCached(code, hash)
	if err != nil {
		return nil, err
	}
	isz := len(icode)
	icode, data, _ := stripData(icode) // applied by the host to the first instance only
	compiled, err := e.rt.CompileModule(ctx, icode)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %w: %v", ErrInvalidModule, errCompilerRefused, firstLine(err.Error()))
	}
	m := &Module{Hash: hash, Size: len(code), compiled: compiled, instrumentedSz: isz, data: data}
	if err := e.checkImportsExports(compiled, m); err != nil {
		_ = compiled.Close(ctx)
		return nil, err
	}
	initGas, err := e.trialInstantiate(ctx, m)
	m.data = nil // in the snapshot now: every later instance starts from it
	if err != nil {
		_ = compiled.Close(ctx)
		return nil, err
	}
	m.InitGas = initGas
	m.InstanceGas = e.cfg.Gas.Instantiate
	return m, nil
}

// instrumentCached instruments code, using the on-disk cache when configured.
func (e *Engine) instrumentCached(code []byte, hash [32]byte) ([]byte, error) {
	var path string
	if e.cfg.CacheDir != "" {
		k := sha256.New()
		k.Write(hash[:])
		k.Write(e.cfgHash[:])
		path = filepath.Join(e.cfg.CacheDir, "instrumented", hex.EncodeToString(k.Sum(nil))+".wasm")
		if b, err := os.ReadFile(path); err == nil {
			return b, nil
		}
	}
	ins, err := instrument(code, e.iconf)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModule, err)
	}
	if path != "" { // best effort: a failure only costs time on the next start
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, ins.code, 0o644); err == nil {
			_ = os.Rename(tmp, path)
		}
	}
	return ins.code, nil
}

func (e *Engine) checkImportsExports(c wazero.CompiledModule, m *Module) error {
	for _, f := range c.ImportedFunctions() {
		mod, name, _ := f.Import()
		sig, ok := allowedImports[mod+"."+name]
		if !ok {
			return fmt.Errorf("%w: %s.%s", ErrForbiddenImport, mod, name)
		}
		if !sig.matches(f.ParamTypes(), f.ResultTypes()) {
			return fmt.Errorf("%w: %s.%s has signature %s, want %s", ErrForbiddenImport, mod, name,
				sigString(f.ParamTypes(), f.ResultTypes()), sigString(sig.params, sig.results))
		}
	}
	if len(c.ImportedMemories()) != 0 {
		return fmt.Errorf("%w: imported memory", ErrInvalidModule)
	}
	if _, ok := c.ExportedMemories()["memory"]; !ok {
		return fmt.Errorf("%w: no exported memory named \"memory\"", ErrInvalidModule)
	}
	var methods []string
	for name, f := range c.ExportedFunctions() { // map: sorted below
		switch {
		case name == "_initialize":
			if len(f.ParamTypes()) != 0 || len(f.ResultTypes()) != 0 {
				return fmt.Errorf("%w: _initialize must take and return nothing", ErrInvalidModule)
			}
			m.hasInitialize = true
		case name == "_start" || strings.HasPrefix(name, reservedPrefix):
		case len(f.ParamTypes()) == 0 && len(f.ResultTypes()) == 0 && name != "" && len(name) <= maxMethodLen:
			methods = append(methods, name)
		}
	}
	if len(methods) == 0 {
		return ErrNoMethods
	}
	slices.Sort(methods)
	m.Methods = methods
	return nil
}

// maxMethodLen bounds a method name.
const maxMethodLen = 128

// trialInstantiate instantiates m once, outside any block, to prove its
// initialisation finishes, measures its gas and takes the snapshot every
// call starts from. The instance is kept for the first session.
func (e *Engine) trialInstantiate(ctx context.Context, m *Module) (uint64, error) {
	in, err := e.newInstance(ctx, m)
	if err == nil && m.data != nil {
		if err = applyData(in.mod.Memory(), m.data); err != nil {
			_ = in.close(ctx)
		}
	}
	if err == nil {
		var initGas uint64
		if initGas, err = e.initialise(ctx, m, in); err == nil {
			if err = in.setUp(); err == nil { // maps the snapshot (Linux)
				m.idle.put(ctx, in)
				return initGas, nil
			}
		}
		_ = in.close(ctx)
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return 0, fmt.Errorf("%w: %v", ErrInitFailed, err)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
