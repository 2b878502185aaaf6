package vm

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/trialchain/trialchain/vm/abi"
)

// wasiModule is the import module name of WASI preview 1.
const wasiModule = "wasi_snapshot_preview1"

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// hostFunc is one host function: its signature and implementation.
type hostFunc struct {
	module, name    string
	params, results []api.ValueType
	fn              func(st *callState, mod api.Module, stack []uint64)
}

type signature struct{ params, results []api.ValueType }

func (s signature) matches(p, r []api.ValueType) bool {
	return string(s.params) == string(p) && string(s.results) == string(r)
}

func sigString(p, r []api.ValueType) string {
	name := func(ts []api.ValueType) string {
		var b strings.Builder
		for i, t := range ts {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(api.ValueTypeName(t))
		}
		return b.String()
	}
	return "(" + name(p) + ")->(" + name(r) + ")"
}

// allowedImports maps "module.name" to the signature, built from hostFuncs.
var allowedImports = func() map[string]signature {
	m := make(map[string]signature)
	for _, f := range hostFuncs() {
		m[f.module+"."+f.name] = signature{f.params, f.results}
	}
	return m
}()

// stateKey is the context key of the *callState during a call.
type stateKey struct{}

// callState is what host functions see of the running call. One exists per
// instance; it is reset for each call.
type callState struct {
	e    *Engine
	inst *instance
	init bool // instantiating: no call context, fixed clocks

	call       *Call
	block      BlockInfo
	kv         *Overlay
	stage      []byte
	output     []byte
	events     []Event
	eventBytes uint64          // topics and data of events, against abi.MaxEventBytes
	scopes     []string        // record sets joined (FnRecordScope), kept on failure
	failure    *CallError      // set by a host function before it panics
	reserve    uint64          // the call's gas not yet in the gas global (see gasSlice)
	stop       context.Context // a query's context: the call stops when it ends; nil in blocks
	nodeErr    error           // a KV failure: not a contract outcome
}

// fail records a deterministic failure of the call and unwinds the guest.
func (st *callState) fail(code Code, format string, args ...any) {
	st.failure = &CallError{Code: code, Message: fmt.Sprintf(format, args...)}
	panic(st.failure)
}

// nodeFail records a node failure (I/O) and unwinds the guest.
func (st *callState) nodeFail(err error) {
	st.nodeErr = err
	panic(err)
}

// charge takes n gas from the guest's gas global, refilled from the
// call's reserve when short.
func (st *callState) charge(n uint64) {
	if !st.take(n) {
		st.fail(CodeOutOfGas, "out of gas")
	}
}

// take takes n gas like charge, but reports false instead of failing the
// call when there is not enough (the gas is then all spent). A stopped
// call (its context ended: a query whose deadline passed or whose client
// went away) fails at once.
func (st *callState) take(n uint64) bool {
	st.checkStop()   // a long host function (a scan) stops at its next charge
	g := st.inst.gas // set before any host function runs, start section included
	if g == nil {    // only an unmetered instance (BenchmarkMetering)
		return true
	}
	left := g.Get()
	if left < n {
		if left+st.reserve < n { // both below 2^62: no overflow
			g.Set(0)
			st.reserve = 0
			return false
		}
		st.reserve -= n - left
		left = n
	}
	g.Set(left - n)
	return true
}

// gasSlice is the most gas the guest's gas global holds at once; the rest
// of a call's budget is its reserve (callState.reserve). When the global
// cannot pay a charge the guest calls the refill import, which returns to
// Go: so a guest in a loop returns to Go every gasSlice gas (tens of
// microseconds compiled, milliseconds interpreted), where the runtime can
// stop the world (a garbage collection waits for no guest longer than
// that) and a query's context is checked. A host call per slice costs
// well under 1% of the slice. It changes no gas figure: a call runs out of gas when the
// global and the reserve together cannot pay, as with one global.
const gasSlice = 100_000

// hostRefill is the refill import: the guest's gas global, read as a
// signed number (the instrumentation counts down past zero between checks:
// see RATIONALE.md, "Lazy gas checks"), is below need (0 from the
// instrumentation's checks). Move up to gasSlice (at least the deficit)
// from the reserve, or fail the call out of gas.
func hostRefill(st *callState, _ api.Module, s []uint64) {
	need := int64(s[0])
	st.checkStop()
	left := int64(st.inst.gas.Get())
	if left >= need { // cannot happen: the guest checked
		return
	}
	deficit := uint64(need - left) // both within ±2^62: no overflow
	if st.reserve < deficit {
		st.inst.gas.Set(0)
		st.reserve = 0
		st.fail(CodeOutOfGas, "out of gas")
	}
	add := min(st.reserve, max(gasSlice, deficit))
	st.reserve -= add
	st.inst.gas.Set(uint64(left + int64(add)))
}

// overdrawn reports whether the guest's charges since its last check
// exceed the gas global and the reserve together: a call that trapped
// then, before a check, ran out of gas first.
func (st *callState) overdrawn() bool {
	g := st.inst.gas
	if g == nil {
		return false
	}
	left := int64(g.Get())
	return left < 0 && st.reserve < uint64(-left)
}

// checkStop fails the call if its context ended (query sessions only). The
// failure's code does not matter: Session.Call reports the context's error.
func (st *callState) checkStop() {
	if st.stop != nil && st.stop.Err() != nil {
		st.fail(CodeOutOfGas, "stopped: the call's context ended")
	}
}

// read returns a view of guest memory [ptr, ptr+n); it traps the call if the
// range is out of bounds. The view is valid until the guest runs again.
func (st *callState) read(mod api.Module, ptr, n uint32, what string) []byte {
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		st.fail(CodeBadPointer, "%s: range [%d, +%d) is outside guest memory", what, ptr, n)
	}
	return b
}

// write copies b into guest memory at ptr, or traps the call.
func (st *callState) write(mod api.Module, ptr uint32, b []byte, what string) {
	if !mod.Memory().Write(ptr, b) {
		st.fail(CodeBadPointer, "%s: range [%d, +%d) is outside guest memory", what, ptr, len(b))
	}
}

// stageBytes stages b for FnTake and returns its length.
func (st *callState) stageBytes(b []byte) uint64 {
	st.stage = append(st.stage[:0], b...)
	return uint64(uint32(len(b)))
}

func (st *callState) needCall(name string) {
	if st.init {
		st.fail(CodeBadInput, "%s: not available during initialisation", name)
	}
}

func hostFuncs() []hostFunc {
	var none []api.ValueType
	p := func(ts ...api.ValueType) []api.ValueType { return ts }
	fs := []hostFunc{
		{abi.Module, abi.FnInputLen, none, p(i32), func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnInputLen)
			st.charge(st.e.cfg.Gas.HostCall)
			s[0] = st.stageBytes(st.call.Args)
		}},
		{abi.Module, abi.FnTake, p(i32), none, func(st *callState, mod api.Module, s []uint64) {
			st.charge(st.e.cfg.Gas.HostCall + st.e.cfg.Gas.HostPerByte*uint64(len(st.stage)))
			st.write(mod, uint32(s[0]), st.stage, abi.FnTake)
			st.stage = st.stage[:0]
		}},
		{abi.Module, abi.FnSetResult, p(i32, i32), none, func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnSetResult)
			n := uint32(s[1])
			if n > abi.MaxResultLen {
				st.fail(CodeLimit, "result of %d bytes exceeds %d", n, abi.MaxResultLen)
			}
			st.charge(st.e.cfg.Gas.HostCall + st.e.cfg.Gas.HostPerByte*uint64(n))
			st.output = append(st.output[:0], st.read(mod, uint32(s[0]), n, abi.FnSetResult)...)
		}},
		{abi.Module, abi.FnStateGet, p(i32, i32), p(i32), func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnStateGet)
			g := &st.e.cfg.Gas
			k := st.key(mod, s[0], s[1], abi.FnStateGet)
			st.charge(g.HostCall + g.StateRead + g.HostPerByte*uint64(len(k)))
			v, ok, err := st.kv.Get(k)
			if err != nil {
				st.nodeFail(err)
			}
			if !ok {
				s[0] = uint64(uint32(abi.Absent & 0xffffffff))
				return
			}
			st.charge(g.HostPerByte * uint64(len(v)))
			s[0] = st.stageBytes(v)
		}},
		{abi.Module, abi.FnStateSet, p(i32, i32, i32, i32), none, func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnStateSet)
			g := &st.e.cfg.Gas
			k := st.key(mod, s[0], s[1], abi.FnStateSet)
			n := uint32(s[3])
			if n > abi.MaxValueLen {
				st.fail(CodeLimit, "value of %d bytes exceeds %d", n, abi.MaxValueLen)
			}
			st.charge(g.HostCall + g.StateWrite + (g.HostPerByte+g.StateWritePerByte)*uint64(len(k)+int(n)))
			st.checkSealed(k, abi.FnStateSet)
			v := st.read(mod, uint32(s[2]), n, abi.FnStateSet)
			if err := st.kv.Set(k, v); err != nil { // the overlay copies
				st.nodeFail(err)
			}
		}},
		{abi.Module, abi.FnStateDelete, p(i32, i32), none, func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnStateDelete)
			g := &st.e.cfg.Gas
			k := st.key(mod, s[0], s[1], abi.FnStateDelete)
			st.charge(g.HostCall + g.StateDelete + g.HostPerByte*uint64(len(k)))
			st.checkSealed(k, abi.FnStateDelete)
			if err := st.kv.Delete(k); err != nil {
				st.nodeFail(err)
			}
		}},
		{abi.Module, abi.FnStateScan, p(i32, i32, i32, i32, i32), p(i32), hostStateScan},
		{abi.Module, abi.FnCaller, p(i32), none, func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnCaller)
			st.charge(st.e.cfg.Gas.HostCall + st.e.cfg.Gas.HostPerByte*abi.PublicKeyLen)
			var pk [abi.PublicKeyLen]byte
			copy(pk[:], st.call.Caller)
			st.write(mod, uint32(s[0]), pk[:], abi.FnCaller)
		}},
		{abi.Module, abi.FnCallerOrg, none, p(i32), func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnCallerOrg)
			st.charge(st.e.cfg.Gas.HostCall)
			s[0] = st.stageBytes([]byte(st.call.CallerOrg))
		}},
		{abi.Module, abi.FnCallerRole, none, p(i32), func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnCallerRole)
			st.charge(st.e.cfg.Gas.HostCall)
			s[0] = st.stageBytes([]byte(st.call.CallerRole))
		}},
		{abi.Module, abi.FnContract, p(i32), none, func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnContract)
			st.charge(st.e.cfg.Gas.HostCall + st.e.cfg.Gas.HostPerByte*abi.HashLen)
			st.write(mod, uint32(s[0]), st.call.Contract[:], abi.FnContract)
		}},
		{abi.Module, abi.FnBlockHeight, none, p(i64), func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnBlockHeight)
			st.charge(st.e.cfg.Gas.HostCall)
			s[0] = st.block.Height
		}},
		{abi.Module, abi.FnBlockTime, none, p(i64), func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnBlockTime)
			st.charge(st.e.cfg.Gas.HostCall)
			s[0] = uint64(st.block.TimeUnixMilli)
		}},
		{abi.Module, abi.FnTxHash, p(i32), none, func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnTxHash)
			st.charge(st.e.cfg.Gas.HostCall + st.e.cfg.Gas.HostPerByte*abi.HashLen)
			st.write(mod, uint32(s[0]), st.call.TxHash[:], abi.FnTxHash)
		}},
		{abi.Module, abi.FnEmitEvent, p(i32, i32, i32, i32), none, func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnEmitEvent)
			g := &st.e.cfg.Gas
			tl, dl := uint32(s[1]), uint32(s[3])
			switch {
			case tl > abi.MaxTopicLen:
				st.fail(CodeLimit, "event topic of %d bytes exceeds %d", tl, abi.MaxTopicLen)
			case dl > abi.MaxEventLen:
				st.fail(CodeLimit, "event data of %d bytes exceeds %d", dl, abi.MaxEventLen)
			case len(st.events) >= abi.MaxEvents:
				st.fail(CodeLimit, "more than %d events", abi.MaxEvents)
			case st.eventBytes+uint64(tl+dl) > abi.MaxEventBytes:
				st.fail(CodeLimit, "events of one call exceed %d bytes (topics and data)", abi.MaxEventBytes)
			}
			st.eventBytes += uint64(tl + dl)
			st.charge(g.HostCall + g.Event + (g.HostPerByte+g.EventPerByte)*uint64(tl+dl))
			t := st.read(mod, uint32(s[0]), tl, abi.FnEmitEvent)
			d := st.read(mod, uint32(s[2]), dl, abi.FnEmitEvent)
			st.events = append(st.events, Event{Topic: string(t), Data: append([]byte{}, d...)})
		}},
		{abi.Module, abi.FnSHA256, p(i32, i32, i32), none, func(st *callState, mod api.Module, s []uint64) {
			g := &st.e.cfg.Gas
			n := uint32(s[1])
			st.charge(g.HostCall + g.SHA256Per64Bytes*(uint64(n)/64+1) + g.HostPerByte*uint64(n))
			sum := sha256.Sum256(st.read(mod, uint32(s[0]), n, abi.FnSHA256))
			st.write(mod, uint32(s[2]), sum[:], abi.FnSHA256)
		}},
		{abi.Module, abi.FnEd25519Verify, p(i32, i32, i32, i32), p(i32), func(st *callState, mod api.Module, s []uint64) {
			g := &st.e.cfg.Gas
			n := uint32(s[2])
			st.charge(g.HostCall + g.Ed25519Verify + g.HostPerByte*uint64(n))
			pk := st.read(mod, uint32(s[0]), abi.PublicKeyLen, abi.FnEd25519Verify)
			msg := st.read(mod, uint32(s[1]), n, abi.FnEd25519Verify)
			sig := st.read(mod, uint32(s[3]), abi.SignatureLen, abi.FnEd25519Verify)
			s[0] = 0
			if ed25519.Verify(ed25519.PublicKey(pk), msg, sig) {
				s[0] = 1
			}
		}},
		{abi.Module, abi.FnConsentVerify, p(i32, i32, i32, i32, i32, i32, i32, i32), p(i32), hostConsentVerify},
		{abi.Module, abi.FnRecordScope, p(i32, i32), none, hostRecordScope},
		{abi.Module, importRefill, p(i64), none, hostRefill},
		{abi.Module, abi.FnAbort, p(i32, i32), none, func(st *callState, mod api.Module, s []uint64) {
			n := min(uint32(s[1]), abi.MaxAbortLen)
			msg := st.read(mod, uint32(s[0]), n, abi.FnAbort)
			st.fail(CodeAbort, "%s", string(msg))
		}},
	}
	fs = append(fs, sealHostFuncs()...)
	return append(fs, wasiFuncs()...)
}

// hostRecordScope implements abi.FnRecordScope. The chain appends the
// transaction to each set after the call (chain/state), so the price is
// that of two state writes (the set's head and its entry).
func hostRecordScope(st *callState, mod api.Module, s []uint64) {
	st.needCall(abi.FnRecordScope)
	g := &st.e.cfg.Gas
	n := uint32(s[1])
	if n > abi.MaxScopeLen {
		st.fail(CodeLimit, "record_scope: name of %d bytes exceeds %d", n, abi.MaxScopeLen)
	}
	st.charge(g.HostCall + 2*g.StateWrite + (g.HostPerByte+g.StateWritePerByte)*uint64(n+64))
	name := string(st.read(mod, uint32(s[0]), n, abi.FnRecordScope))
	if why := abi.ValidScopeName(name); why != "" {
		st.fail(CodeBadInput, "record_scope %q: %s", name, why)
	}
	for _, have := range st.scopes {
		if have == name {
			return
		}
	}
	if len(st.scopes) >= abi.MaxScopes {
		st.fail(CodeLimit, "record_scope: a call joins at most %d record sets", abi.MaxScopes)
	}
	st.scopes = append(st.scopes, name)
}

// hostConsentVerify is consent_verify(group, meaning, msg, sig) -> 1 | 0.
func hostConsentVerify(st *callState, mod api.Module, s []uint64) {
	st.needCall(abi.FnConsentVerify)
	g := &st.e.cfg.Gas
	gl, nl, ml, sl := uint32(s[1]), uint32(s[3]), uint32(s[5]), uint32(s[7])
	switch {
	case gl > abi.MaxGroupLen:
		st.fail(CodeLimit, "consent group of %d bytes exceeds %d", gl, abi.MaxGroupLen)
	case nl > abi.MaxMeaningLen:
		st.fail(CodeLimit, "consent meaning of %d bytes exceeds %d", nl, abi.MaxMeaningLen)
	case sl > abi.MaxConsentSig:
		st.fail(CodeLimit, "consent signature of %d bytes exceeds %d", sl, abi.MaxConsentSig)
	case st.call.ConsentVerify == nil:
		st.fail(CodeUnsupported, "consent_verify is not available")
	}
	st.charge(g.HostCall + g.ConsentVerify + g.HostPerByte*uint64(gl+nl+ml+sl))
	grp := string(st.read(mod, uint32(s[0]), gl, abi.FnConsentVerify))
	meaning := string(st.read(mod, uint32(s[2]), nl, abi.FnConsentVerify))
	msg := append([]byte{}, st.read(mod, uint32(s[4]), ml, abi.FnConsentVerify)...)
	sig := append([]byte{}, st.read(mod, uint32(s[6]), sl, abi.FnConsentVerify)...)
	s[0] = 0
	outOfGas := false
	charge := func(n uint64) bool {
		if outOfGas || !st.take(n) {
			outOfGas = true
			return false
		}
		return true
	}
	err := st.call.ConsentVerify(grp, meaning, msg, sig, charge)
	if outOfGas {
		st.fail(CodeOutOfGas, "out of gas verifying a consent")
	}
	if err == nil {
		s[0] = 1
	}
}

// checkSealed fails the call with CodeSealed if key is sealed (charging a
// SealCheck per lookup first). Without a seal store nothing is sealed.
func (st *callState) checkSealed(key []byte, what string) {
	if st.call.Seals == nil {
		return
	}
	st.charge(st.e.cfg.Gas.SealCheck * sealLookups(key))
	sealed, by, err := st.call.Seals.Sealed(key)
	if err != nil {
		st.nodeFail(err)
	}
	if sealed {
		if by == string(key) {
			st.fail(CodeSealed, "%s: key %q is sealed (write-once): it can never be changed or deleted; append a correction that references it", what, key)
		}
		st.fail(CodeSealed, "%s: key %q is under the sealed prefix %q (write-once): it can never be written or deleted; append a correction that references it", what, key, by)
	}
}

// sealHostFuncs are the write-once and governance host functions.
func sealHostFuncs() []hostFunc {
	p := func(ts ...api.ValueType) []api.ValueType { return ts }
	var none []api.ValueType
	return []hostFunc{
		{abi.Module, abi.FnStateSeal, p(i32, i32, i32), none, func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnStateSeal)
			g := &st.e.cfg.Gas
			k := st.key(mod, s[0], s[1], abi.FnStateSeal)
			if st.call.Seals == nil {
				st.fail(CodeUnsupported, "state_seal is not available")
			}
			st.charge(g.HostCall + g.Seal + (g.HostPerByte+g.StateWritePerByte)*uint64(len(k)))
			prefix := uint32(s[2]) != 0
			if prefix && (len(k) == 0 || k[len(k)-1] != abi.SealSep) {
				st.fail(CodeBadInput, "state_seal: a sealed prefix must end with %q, have %q", abi.SealSep, k)
			}
			if err := st.call.Seals.Seal(append([]byte{}, k...), prefix); err != nil {
				st.nodeFail(err)
			}
		}},
		{abi.Module, abi.FnGovern, p(i32, i32), none, func(st *callState, mod api.Module, s []uint64) {
			st.needCall(abi.FnGovern)
			g := &st.e.cfg.Gas
			n := uint32(s[1])
			if n > abi.MaxGroupLen {
				st.fail(CodeLimit, "govern: group of %d bytes exceeds %d", n, abi.MaxGroupLen)
			}
			if st.call.Govern == nil {
				st.fail(CodeUnsupported, "govern is not available")
			}
			st.charge(g.HostCall + g.StateRead + g.StateWrite + g.HostPerByte*uint64(n))
			grp := string(st.read(mod, uint32(s[0]), n, abi.FnGovern))
			if err := st.call.Govern(grp); err != nil {
				st.fail(CodeDenied, "govern: %v", err)
			}
		}},
	}
}

// key reads and bounds-checks a state key.
func (st *callState) key(mod api.Module, ptr, n uint64, what string) []byte {
	if uint32(n) > abi.MaxKeyLen {
		st.fail(CodeLimit, "%s: key of %d bytes exceeds %d", what, uint32(n), abi.MaxKeyLen)
	}
	return st.read(mod, uint32(ptr), uint32(n), what)
}

// maxScanEntries bounds the entries of one scan page.
const maxScanEntries = 1024

func hostStateScan(st *callState, mod api.Module, s []uint64) {
	st.needCall(abi.FnStateScan)
	g := &st.e.cfg.Gas
	prefix := append([]byte{}, st.key(mod, s[0], s[1], abi.FnStateScan)...)
	after := st.key(mod, s[2], s[3], abi.FnStateScan)
	max := int(min(uint32(s[4]), maxScanEntries))
	// Every scan merges the call's buffered writes (sorted per scan): each
	// is paid for, or 10,000 buffered writes make every page cost ms.
	st.charge(g.HostCall + g.StateRead + g.HostPerByte*uint64(len(prefix)+len(after)) + g.ScanEntry*uint64(st.kv.Len()))
	var start []byte
	if len(after) > 0 {
		start = append(append([]byte{}, after...), 0) // the successor of after
	}
	page := st.stage[:0]
	n := 0
	var lenBuf [4]byte
	err := st.kv.Iterate(prefix, start, func(k, v []byte) bool {
		if n >= max || len(page)+8+len(k)+len(v) > abi.MaxScanBytes {
			return false
		}
		binary.LittleEndian.PutUint32(lenBuf[:], uint32(len(k)))
		page = append(append(page, lenBuf[:]...), k...)
		binary.LittleEndian.PutUint32(lenBuf[:], uint32(len(v)))
		page = append(append(page, lenBuf[:]...), v...)
		n++
		return true
	})
	st.stage = page
	if err != nil {
		st.nodeFail(err)
	}
	st.charge(g.ScanEntry*uint64(n) + g.HostPerByte*uint64(len(page)))
	s[0] = uint64(uint32(len(page)))
}

// errAbortInit is returned when a host function is misused in _initialize.
var errAbortInit = errors.New("vm: host call during initialisation")

// instantiateHostModules registers the host API and the WASI subset.
func (e *Engine) instantiateHostModules(ctx context.Context) error {
	byMod := map[string][]hostFunc{}
	var order []string
	for _, f := range hostFuncs() {
		if _, ok := byMod[f.module]; !ok {
			order = append(order, f.module)
		}
		byMod[f.module] = append(byMod[f.module], f)
	}
	for _, name := range order {
		b := e.rt.NewHostModuleBuilder(name)
		for _, f := range byMod[name] {
			fn := f.fn
			b.NewFunctionBuilder().
				WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
					st, _ := ctx.Value(stateKey{}).(*callState)
					if st == nil {
						panic(errAbortInit) // not called through a Session: internal misuse
					}
					if st.inst.gas == nil && !st.inst.unmetered { // the start section runs before instantiate returns: meter it too
						g, ok := mod.ExportedGlobal(exportGas).(api.MutableGlobal)
						if !ok {
							panic(errAbortInit) // every instrumented module exports it
						}
						st.inst.gas = g
					}
					fn(st, mod, stack)
				}), f.params, f.results).
				Export(f.name)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return fmt.Errorf("vm: host module %s: %w", name, err)
		}
	}
	return nil
}
