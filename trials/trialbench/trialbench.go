// Package trialbench is the benchmark workload of case-report forms
// submitted through the deployed trial-protocol contract
// (chain/bench.Workload; `trialchain bench --workload crf`).
//
// # Usage
//
//	w := trialbench.CRF() // pass to bench.Config.Workloads
//
// Its first Prepare, unmeasured, registers the public TEST amendment
// board (trials/testgroups) as a consent group, deploys trial-protocol
// from Env.Contracts (make contracts), registers and activates a trial
// built on the default protocol template with the testnet's site
// organisation as its site, and every Prepare enrols enough subjects
// (one site-signed enrolment call each) for its transactions. The i-th
// transaction is a site-signed vitals form (three fields) of subject i/3
// at visit i%3 (screening, day1, day8): every form is a first
// submission the contract accepts, as the contract benchmark's
// (chain/contracts BenchmarkCRFSubmit) is, and each is prepared — built
// and signed — before the phase that sends it.
package trialbench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/trialchain/trialchain/chain/bench"
	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials"
	"github.com/trialchain/trialchain/trials/model"
	"github.com/trialchain/trialchain/trials/testgroups"
)

// Gas is the gas limit of each contract call (the demo's).
const Gas = 200_000_000

// CRF returns the workload. It prepares at most limit transactions per
// phase (0: no limit): each 3 need an enrolment before the phase, as
// slow as a form, so a closed loop's --txs would otherwise enrol
// subjects for forms the phase never sends.
func CRF(limit int) bench.Workload { return &crf{limit: limit} }

type crf struct {
	limit    int
	mu       sync.RWMutex
	txs      []*block.Tx
	subjects []string
	set      bool
	prepared int // the start of the next phase's indexes
	sponsor  ed25519.PrivateKey
	site     ed25519.PrivateKey
	addr     block.Hash
	p        model.Protocol
}

// visits collect the vitals form in the default template.
var visits = []string{"screening", "day1", "day8"}

func (w *crf) Name() string { return "crf" }

func (w *crf) Tx(i int) *block.Tx {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.txs[i]
}

func (w *crf) Prepare(ctx context.Context, env *bench.Env, n int) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.set {
		if err := w.setup(ctx, env); err != nil {
			return 0, err
		}
		w.set = true
	}
	if w.limit > 0 && n > w.prepared+w.limit {
		n = w.prepared + w.limit
	}
	w.prepared = n
	need := (n + len(visits) - 1) / len(visits)
	if k := need - len(w.subjects); k > 0 {
		env.Log("enrolling %d subjects", k)
		start := time.Now()
		if err := w.enrol(ctx, env, k); err != nil {
			return 0, err
		}
		env.Log("%d subjects enrolled in %.1fs", k, time.Since(start).Seconds())
	}
	sig := model.Signature{PrintedName: "Dr. Bench Site", Meaning: "author"}
	for i := len(w.txs); i < n; i++ {
		rec, err := trials.NewRecord(rand.Reader, w.p.ID, w.subjects[i/len(visits)], visits[i%len(visits)], "vitals",
			map[string]model.FieldValue{"SYSBP": {Value: "120", Unit: "mm[Hg]"}, "DIABP": {Value: "80", Unit: "mm[Hg]"}, "HR": {Value: "70", Unit: "/min"}})
		if err != nil {
			return 0, err
		}
		call, err := trials.SubmitCall(&w.p, rec, sig)
		if err != nil {
			return 0, err
		}
		w.txs = append(w.txs, client.CallTx(w.site, env.ChainID, w.addr, call.Method, call.Args, Gas))
	}
	return n, nil
}

func (w *crf) setup(ctx context.Context, env *bench.Env) error {
	var admin ed25519.PrivateKey
	for name, k := range map[string]*ed25519.PrivateKey{"sponsor": &w.sponsor, "site": &w.site, "admin": &admin} {
		m, err := env.Keyring.Get(name)
		if err != nil {
			return fmt.Errorf("trialbench: %s key: %w", name, err)
		}
		*k = m.Private
	}
	siteOrg := ""
	for _, m := range env.Genesis.Members {
		if ed25519.PublicKey(m.Key).Equal(w.site.Public()) {
			siteOrg = m.Org
		}
	}
	if siteOrg == "" {
		return errors.New("trialbench: the site key is not a genesis member")
	}
	g, err := testgroups.Load(testgroups.AmendmentBoard)
	if err != nil {
		return fmt.Errorf("trialbench: %w", err)
	}
	// The group's parties must be members before the group goes on chain.
	var regs []*block.Tx
	for i, p := range g.Group.Parties {
		rp := &block.RegisterPayload{Key: g.Members[i].Public().(ed25519.PublicKey), Org: "board " + p.Name, Name: "bench " + p.Name, Role: block.RoleCommittee}
		regs = append(regs, client.Sign(admin, env.ChainID, block.KindRegister, rp.Encode(), 100_000))
	}
	if err := submitAll(ctx, env, regs); err != nil {
		return fmt.Errorf("trialbench: registering the board's members: %w", err)
	}
	code, err := os.ReadFile(filepath.Join(env.Contracts, trials.TrialProtocol+".wasm"))
	if err != nil {
		return fmt.Errorf("trialbench: %w (run 'make contracts', or pass --contracts DIR)", err)
	}
	deploy := client.DeployTx(w.sponsor, env.ChainID, code, block.PolicyOwner, nil, trials.TrialProtocol)
	w.addr = client.ContractAddress(deploy)
	env.Log("deploying %s (%d bytes) and the TEST amendment board's consent group", trials.TrialProtocol, len(code))
	start := time.Now()
	if err := submitAll(ctx, env, []*block.Tx{client.ConsentGroupTx(w.sponsor, env.ChainID, g.Bin), deploy}); err != nil {
		return err
	}
	// Every node compiles it; one that has not stored the deployment's
	// block yet answers not found.
	for _, c := range env.Clients {
		for {
			err := c.WaitActive(ctx, w.addr)
			if err == nil {
				break
			}
			if !errors.Is(err, client.ErrNotFound) {
				return fmt.Errorf("trialbench: %s not active on %s: %w", trials.TrialProtocol, c.Base, err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("trialbench: %s not active on %s: %w", trials.TrialProtocol, c.Base, ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	env.Log("%s active in %.1fs", trials.TrialProtocol, time.Since(start).Seconds())

	p := trials.DefaultTemplate()
	p.ID = fmt.Sprintf("BENCH-%d", client.Nonce()%1_000_000)
	p.Title = "Benchmark trial: vitals forms through trial-protocol"
	p.Sites = []string{siteOrg}
	p.ConsentGroup = g.ID
	w.p = p
	reg, err := trials.RegisterCall(p, model.Signature{PrintedName: "Dr. Bench Sponsor", Meaning: "registration"})
	if err != nil {
		return fmt.Errorf("trialbench: %w", err)
	}
	if err := submitAll(ctx, env, []*block.Tx{client.CallTx(w.sponsor, env.ChainID, w.addr, reg.Method, reg.Args, Gas)}); err != nil {
		return fmt.Errorf("trialbench: register: %w", err)
	}
	act := trials.ActivateCall(p.ID, model.Signature{PrintedName: "Dr. Bench Sponsor", Meaning: "activation"})
	if err := submitAll(ctx, env, []*block.Tx{client.CallTx(w.sponsor, env.ChainID, w.addr, act.Method, act.Args, Gas)}); err != nil {
		return fmt.Errorf("trialbench: activate: %w", err)
	}
	env.Log("trial %s registered and active", p.ID)
	return nil
}

func (w *crf) enrol(ctx context.Context, env *bench.Env, k int) error {
	sig := model.Signature{PrintedName: "Dr. Bench Site", Meaning: "enrolment"}
	txs := make([]*block.Tx, 0, k)
	subjects := make([]string, 0, k)
	for range k {
		s, err := trials.NewSubjectID(rand.Reader)
		if err != nil {
			return err
		}
		call, err := trials.EnrollCall(w.p.ID, s, trials.HashBytes([]byte("signed consent form of "+s)), 1, w.p.Arms[0].ID, sig)
		if err != nil {
			return fmt.Errorf("trialbench: %w", err)
		}
		subjects = append(subjects, s)
		txs = append(txs, client.CallTx(w.site, env.ChainID, w.addr, call.Method, call.Args, Gas))
	}
	if err := submitAll(ctx, env, txs); err != nil {
		return fmt.Errorf("trialbench: enrolment: %w", err)
	}
	w.subjects = append(w.subjects, subjects...)
	return nil
}

// submitAll submits txs, 128 at a time spread over the nodes, and waits
// until each has an ok receipt.
func submitAll(ctx context.Context, env *bench.Env, txs []*block.Tx) error {
	errs := make([]error, len(txs))
	sem := make(chan struct{}, 128)
	var wg sync.WaitGroup
	for i, tx := range txs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = commit(ctx, env.Clients[i%len(env.Clients)], tx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// commit submits tx and waits (asking again after the node's own wait
// ran out) for an ok receipt.
func commit(ctx context.Context, c *client.Client, tx *block.Tx) error {
	res, err := c.Submit(ctx, tx, true)
	if err != nil {
		return err
	}
	rc := res.Receipt
	for rc == nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
		t, err := c.Tx(ctx, res.Hash)
		if err == nil {
			rc = t.Receipt
		} else if !errors.Is(err, client.ErrNotFound) {
			return err
		}
	}
	if rc.Status != "ok" {
		return fmt.Errorf("tx %s: %s: %s", res.Hash, rc.Status, rc.Error)
	}
	return nil
}
