package contracts_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/internal/cputime"
	"github.com/trialchain/trialchain/chain/state"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
	"github.com/trialchain/trialchain/vm"
)

// BenchmarkCRFSubmit is a case-report form submitted through
// trial-protocol (a registered, active trial; a freshly enrolled subject;
// a signed form of three vital signs), run on the VM as a block runs it,
// against a copy of the contract's state and seals (its sealed prefixes
// loaded once, as a block loads them):
//
//   - warm: the call again and again in one session (one block);
//   - first-in-block: each call in a new session (a new block);
//
// Both report the call's gas (equal: a call's gas does not depend on its
// position), its time and the process's CPU time per call (which other
// processes sharing the machine inflate less than wall time), each the
// mean over four placements of the compiled code in memory. Instance creation alone is vm's
// BenchmarkInstantiate; metering overhead is vm's BenchmarkMetering.
//
//	go test -run '^$' -bench CRFSubmit -benchtime 200x ./chain/contracts
func BenchmarkCRFSubmit(b *testing.B) {
	ctx := context.Background()
	e := newEngine(b, false)
	c := newLocalChain(b, e)
	r := setupTrial(b, c)

	// A new subject, enrolled; its first form is the benchmark's call.
	subj, _ := trials.NewSubjectID(rand.Reader)
	enr, _ := trials.EnrollCall(r.trial, subj, trials.HashBytes([]byte("consent")), 1, r.p.Arms[0].ID, model.Signature{PrintedName: "Dr. Site", Meaning: "enrolment"})
	r.s.ok(b, r.call("site", enr))
	rec, err := trials.NewRecord(rand.Reader, r.trial, subj, "day1", "vitals", map[string]model.FieldValue{
		"SYSBP": {Value: "120", Unit: "mm[Hg]"}, "DIABP": {Value: "80", Unit: "mm[Hg]"}, "HR": {Value: "70", Unit: "/min"}})
	if err != nil {
		b.Fatal(err)
	}
	sub, err := trials.SubmitCall(&r.p, rec, model.Signature{PrintedName: "Dr. Site", Meaning: "author"})
	if err != nil {
		b.Fatal(err)
	}

	// The contract's state and seals as the chain holds them.
	copyPrefix := func(prefix []byte) *vm.Overlay {
		kv := vm.NewMemKV()
		err := c.State().Iterate(prefix, func(k, v []byte) bool {
			_ = kv.Set(append([]byte(nil), k[len(prefix):]...), append([]byte(nil), v...))
			return true
		})
		if err != nil {
			b.Fatal(err)
		}
		return kv
	}
	storage, seals := copyPrefix(state.StoragePrefix(r.tp)), copyPrefix(state.SealPrefix(r.tp))
	rec2, err := contractsLookup(c, r.tp)
	if err != nil {
		b.Fatal(err)
	}
	// Where wazero's compiled code and the instance land in memory moves a
	// call's time by up to ~40% from one compilation to the next (the same
	// code, the same gas; branch-predictor and cache aliasing by address),
	// so the benchmark spreads its calls over several engines, each loading
	// the compiled module from the shared cache into its own memory, and
	// reports the mean (as vm's BenchmarkMeteringRatio averages over code
	// placements).
	const placements = 4
	engines := []*vm.Engine{e}
	for len(engines) < placements {
		engines = append(engines, newEngine(b, false))
	}
	mods := make([]*vm.Module, len(engines))
	for i, pe := range engines {
		if mods[i], err = pe.Compile(ctx, rec2); err != nil {
			b.Fatal(err)
		}
	}
	m := mods[0]
	b.Logf("trial-protocol: %d bytes, initialisation %d gas, instance %d gas per call", m.Size, m.InitGas, m.InstanceGas)
	site, _, err := state.LookupMember(c.State(), c.Key("site").Public().(ed25519.PublicKey))
	if err != nil || site == nil {
		b.Fatalf("site member: %v", err)
	}
	info := vm.BlockInfo{Height: c.height + 1, TimeUnixMilli: c.time(c.height + 1)}
	// The sealed prefixes, as a block loads them once per contract.
	prefixes, err := vm.LoadPrefixSeals(seals, 256)
	if err != nil {
		b.Fatal(err)
	}
	call := func() *vm.Call {
		return &vm.Call{Contract: r.tp, Caller: c.Key("site").Public().(ed25519.PublicKey), CallerOrg: site.Org,
			CallerRole: site.Role.String(), TxHash: block.Sum([]byte("bench")), Method: sub.Method, Args: sub.Args,
			GasLimit: 1_000_000_000, KV: vm.NewOverlay(storage), Seals: vm.NewSealStore(vm.NewOverlay(seals), info.Height).WithPrefixes(prefixes)}
	}
	// The calls are built before the timer starts (each has its own
	// overlays), so the timed loop is Session.Call alone, without a
	// StopTimer/StartTimer pair (each reads the memory statistics,
	// stopping the world) per iteration.
	calls := func(n int) []*vm.Call {
		cs := make([]*vm.Call, n)
		for i := range cs {
			cs[i] = call()
		}
		return cs
	}
	run := func(b *testing.B, s *vm.Session, m *vm.Module, cl *vm.Call) uint64 {
		res, err := s.Call(ctx, m, cl)
		if err != nil || res.Err != nil {
			b.Fatal(err, res.Err)
		}
		return res.GasUsed
	}
	// share is placement k's part of n calls.
	share := func(n, k int) (from, to int) { return n * k / placements, n * (k + 1) / placements }
	b.Run("warm", func(b *testing.B) {
		cs := calls(b.N)
		var gas uint64
		var cpu time.Duration
		b.ResetTimer()
		for k, pe := range engines {
			b.StopTimer()
			s := pe.NewSession(info)
			run(b, s, mods[k], call()) // the session's instance exists
			b.StartTimer()
			from, to := share(b.N, k)
			start := cputime.Process()
			for i := from; i < to; i++ {
				gas = run(b, s, mods[k], cs[i])
			}
			cpu += cputime.Process() - start
			b.StopTimer()
			_ = s.Close(ctx)
			b.StartTimer()
		}
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(gas), "gas/op")
	})
	b.Run("first-in-block", func(b *testing.B) {
		cs := calls(b.N)
		var gas uint64
		b.ResetTimer()
		start := cputime.Process()
		for k, pe := range engines {
			from, to := share(b.N, k)
			for i := from; i < to; i++ {
				s := pe.NewSession(info)
				gas = run(b, s, mods[k], cs[i])
				_ = s.Close(ctx)
			}
		}
		b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(gas), "gas/op")
	})
}

// contractsLookup returns the code the contract at addr runs.
func contractsLookup(c *localChain, addr block.Hash) ([]byte, error) {
	rec, err := contracts.Lookup(c.State(), addr)
	if err != nil {
		return nil, err
	}
	return contracts.Code(c.State(), rec)
}
