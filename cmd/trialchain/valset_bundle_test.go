package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/chain/node"
	"github.com/trialchain/trialchain/chain/proof/bundle"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/trials/testgroups"
)

// TestBundleAcrossValidatorRemoval is the regulator's flow on a real
// 4-node network whose set changes: the genesis names the validator
// organisations' group, the group is registered, validator 4 is removed
// with the group's threshold consent, the three others go on committing;
// `export` walks the set changes to verify the newest checkpoint (the
// genesis set alone does not certify it), the bundle carries the change,
// `verify` with the genesis file alone walks it and says so; the same
// bundle without the change fails naming the checkpoint.
func TestBundleAcrossValidatorRemoval(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node network")
	}
	dir := t.TempDir()
	net := filepath.Join(dir, "net")
	if out, errs, code := run(t, "testnet", "--validators", "4", "--out", net, "--base-port", "0"); code != 0 {
		t.Fatalf("testnet: %d %s %s", code, out, errs)
	}
	board := testgroups.MustLoad(testgroups.AmendmentBoard)
	gens, _ := filepath.Glob(filepath.Join(net, "*", "genesis.json"))
	gens = append(gens, filepath.Join(net, "genesis.json"))
	var g *genesis.Genesis
	for _, p := range gens {
		gg, err := genesis.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		gg.Params.ValidatorGroup = board.ID
		if err := gg.Save(p); err != nil {
			t.Fatal(err)
		}
		g = gg
	}
	urls := make([]string, 4)
	for i := range urls {
		home := filepath.Join(net, fmt.Sprintf("node%d", i))
		p := startNode(t, home)
		t.Cleanup(func() { _ = p.Process.Signal(syscall.SIGTERM); _ = p.Wait() })
		addr, err := node.APIAddr(home)
		if err != nil {
			t.Fatal(err)
		}
		urls[i] = "http://" + addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := waitHealthy(ctx, urls, time.Minute); err != nil {
		t.Fatal(err)
	}
	keyring := filepath.Join(net, "keys")
	admin, err := keys.Ring{Dir: keyring}.Get("admin")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(urls[0])
	submit := func(what string, tx *block.Tx) {
		t.Helper()
		res, err := c.Submit(ctx, tx, true)
		if err != nil || res.Receipt == nil || res.Receipt.Status != "ok" {
			if res != nil && res.Receipt != nil {
				t.Fatalf("%s: %s %s", what, res.Receipt.Status, res.Receipt.Error)
			}
			t.Fatalf("%s: %v %+v", what, err, res)
		}
	}
	for i, k := range board.Members { // the group's parties are members of the chain
		p := &block.RegisterPayload{Key: k.Public().(ed25519.PublicKey), Org: fmt.Sprintf("Validator org %d", i+1), Name: fmt.Sprintf("valorg%d", i+1), Role: block.RoleCommittee}
		submit("register a party of the group", client.Sign(admin.Private, g.ChainID, block.KindRegister, p.Encode(), 100_000))
	}
	submit("register the validator organisations' group", client.ConsentGroupTx(admin.Private, g.ChainID, board.Bin))
	home0 := filepath.Join(net, "node0")
	cpBefore := filepath.Join(dir, "before.cp.json") // certified by the genesis set
	if out, errs, code := run(t, "checkpoint", "--out", cpBefore, "--home", home0); code != 0 {
		t.Fatalf("checkpoint before: %d %s %s", code, out, errs)
	}
	last := g.Validators[len(g.Validators)-1].ID
	change := genesis.Change{Op: genesis.ChangeRemove, Validator: genesis.Validator{ID: last}}
	h := change.Hash()
	cons, err := board.Consent(rand.Reader, g.ChainID, consent.Action{Kind: consent.KindValidatorChange, Data: h[:]}, consent.MeaningApproveValidatorChange, time.Now(), 1, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	submit(fmt.Sprintf("remove validator %d", last), client.ValidatorTx(admin.Private, g.ChainID, change, cons))
	doc := filepath.Join(dir, "doc.txt")
	for i := range 2 { // the three go on committing
		os.WriteFile(doc, []byte(fmt.Sprint("after the removal ", i)), 0o644)
		if out, errs, code := run(t, "anchor", doc, "--label", "after", "--from", "sponsor", "--keyring", keyring, "--home", home0, "--wait"); code != 0 {
			t.Fatalf("anchor after the removal: %d %s %s", code, out, errs)
		}
	}
	// The regulator's other commands walk the change too: the log at the
	// newest checkpoint (certified by the three) extends the one saved
	// before the removal, and a checkpoint at a height after it verifies.
	if out, errs, code := run(t, "verify", "consistency", cpBefore, "--home", home0); code != 0 || !strings.Contains(out, "CONSISTENT") {
		t.Fatalf("verify consistency across the removal: %d %s %s", code, out, errs)
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out, errs, code := run(t, "checkpoint", "--height", fmt.Sprint(st.Height), "--out", filepath.Join(dir, "after.cp.json"), "--home", home0); code != 0 {
		t.Fatalf("checkpoint --height %d: %d %s %s", st.Height, code, out, errs)
	}
	bfile := filepath.Join(dir, "all.bundle.json")
	out, errs, code := run(t, "export", "--all", "--out", bfile, "--home", home0, "--seal", "sponsor", "--keyring", keyring, "--output", "json")
	var sum exportSummary
	if code != 0 || json.Unmarshal([]byte(out), &sum) != nil || !sum.Verified {
		t.Fatalf("export: %d %s %s", code, out, errs)
	}
	data, err := os.ReadFile(bfile)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.SetChanges) != 1 || b.Latest().Header.ValidatorsHash == g.ValidatorsHash() {
		t.Fatalf("the bundle carries %d set changes; its checkpoint's set is the genesis's: %v", len(b.SetChanges), b.Latest().Header.ValidatorsHash == g.ValidatorsHash())
	}
	gen := filepath.Join(net, "genesis.json")
	if out, errs, code := run(t, "verify", bfile, "--genesis", gen); code != 0 || !strings.Contains(out, "VERIFIED") || !strings.Contains(out, fmt.Sprintf("remove validator %d", last)) || !strings.Contains(out, "3 validators from block") {
		t.Fatalf("verify: %d %s %s", code, out, errs)
	} else {
		t.Log(out)
	}
	// Without the change, the newest checkpoint's set is not the genesis's.
	b.SetChanges, b.ValidatorGroup = nil, nil
	cut := filepath.Join(dir, "cut.bundle.json")
	os.WriteFile(cut, b.Encode(), 0o644)
	if out, errs, code := run(t, "verify", cut, "--genesis", gen); code != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(errs, fmt.Sprintf("checkpoint at block %d", b.Latest().Height())) {
		t.Fatalf("verify without the change: %d %s %s", code, out, errs)
	} else {
		t.Log(errs)
	}
}
