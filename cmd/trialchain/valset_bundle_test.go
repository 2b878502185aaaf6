package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	"github.com/trialchain/trialchain/chain/view"
	"github.com/trialchain/trialchain/chain/witness"
	"github.com/trialchain/trialchain/chain/witness/witnessd"
	"github.com/trialchain/trialchain/chain/witness/witnesstest"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/sdk/client/clienttest"
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
	// A witness following the chain cosigns a checkpoint of the genesis set now,
	// and one of the set after the removal later (consistent with the first).
	follower := followingWitness(t, g)
	follower.Once(ctx)
	wBefore := follower.Witness().Latest()
	if wBefore == nil {
		t.Fatal("the following witness cosigned nothing before the removal")
	}
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
	var anchorTx string
	var anchorHeight uint64
	for i := range 2 { // the three go on committing
		os.WriteFile(doc, []byte(fmt.Sprint("after the removal ", i)), 0o644)
		out, errs, code := run(t, "anchor", doc, "--label", "after", "--from", "sponsor", "--keyring", keyring, "--home", home0, "--wait", "--output", "json")
		var s view.Submitted
		if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s.Receipt == nil {
			t.Fatalf("anchor after the removal: %d %s %s", code, out, errs)
		}
		if i == 0 { // the next block's checkpoint covers its receipt
			anchorTx, anchorHeight = s.Hash.String(), s.Receipt.Height
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
	afterRemoval(t, ctx, follower, wBefore, net, admin.Private.Public().(ed25519.PublicKey), anchorTx, anchorHeight, st.Height)
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

// followingWitness is a witness (its home in a temp dir) for g's chain
// with a follower that reaches the validators over plain HTTP.
func followingWitness(t *testing.T, g *genesis.Genesis) *witnessd.Follower {
	t.Helper()
	home := filepath.Join(t.TempDir(), "witness")
	if _, err := witness.Init(home, "regulator"); err != nil {
		t.Fatal(err)
	}
	key, pk, err := witness.LoadKey(home)
	if err != nil {
		t.Fatal(err)
	}
	st, err := witness.Open(home, pk)
	if err != nil {
		t.Fatal(err)
	}
	w, err := witness.New(st, key, pk.Name, g, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return witnessd.NewFollower(w, 15*time.Second, "http", t.Logf)
}

// afterRemoval checks the client's reads at heights after validator 4 was
// removed (the newest block, height, is certified by the three left):
// block get, tx get, state prove and contract pins --prove verify against
// the set in force, and the witness following the chain cosigns a
// checkpoint of that set, consistent with the one it cosigned before.
// Then, through a lying proxy in front of node0, each read is refused
// when the removed validator's signature stands in a certificate after
// its removal.
func afterRemoval(t *testing.T, ctx context.Context, f *witnessd.Follower, before *witness.Cosignature, net string, admin ed25519.PublicKey, anchorTx string, anchorHeight, height uint64) {
	gen, home0 := filepath.Join(net, "genesis.json"), filepath.Join(net, "node0")
	member := hex.EncodeToString(admin)
	reads := []struct {
		name string
		args []string
		code int    // a pin proven absent is exit 1, its absence verified
		want string // on stdout
	}{
		{"block get", []string{"block", "get", fmt.Sprint(height)}, 0, "commit certificate verified against the validators in force at its height"},
		{"tx get", []string{"tx", "get", anchorTx}, 0, "its receipt is proven in the record log"},
		{"state prove", []string{"state", "prove", "--member", member}, 0, "VERIFIED: key"},
		{"contract pins --prove", []string{"contract", "pins", "trial-protocol", "--prove"}, 1, "VERIFIED: \"trial-protocol\" is NOT pinned"},
	}
	for _, r := range reads {
		t.Run(r.name+" after the removal", func(t *testing.T) {
			out, errs, code := run(t, append(r.args, "--home", home0, "--genesis", gen)...)
			if code != r.code || !strings.Contains(out, r.want) {
				t.Fatalf("%s: exit %d (want %d), want %q\n%s\n%s", strings.Join(r.args, " "), code, r.code, r.want, out, errs)
			}
		})
	}
	t.Run("witness follows across the removal", func(t *testing.T) {
		if vs := f.Validators(); len(vs) != 4 {
			t.Fatalf("before walking the removal, the follower asks %d validators, want the genesis's 4", len(vs))
		}
		f.Once(ctx)
		after := f.Witness().Latest()
		if after == nil || after.Height < height || after.Height <= before.Height || after.LogSize < before.LogSize {
			t.Fatalf("the witness cosigned %+v after the removal (before: block %d)", after, before.Height)
		}
		var ids []uint64
		for _, v := range f.Validators() {
			ids = append(ids, v.ID)
		}
		if !slices.Equal(ids, []uint64{1, 2, 3}) {
			t.Fatalf("the follower asks validators %v, want 1, 2, 3", ids)
		}
	})

	var vk []ed25519.PrivateKey // validator i+1's key is node i's
	for i := range 4 {
		k, err := keys.Load(filepath.Join(net, fmt.Sprintf("node%d", i), "node.key"))
		if err != nil {
			t.Fatal(err)
		}
		vk = append(vk, k.Private)
	}
	addr, err := node.APIAddr(home0)
	if err != nil {
		t.Fatal(err)
	}
	liar := clienttest.NewLiar(t, "http://"+addr)
	byRemoved := func(c *block.Committed) { witnesstest.Certify(c, vk, 1, 2, 4) } // the genuine header, validator 4 among the signers
	const bySigner4 = "signer 4 is not a validator"
	blockGet := []string{"block", "get", fmt.Sprint(height)}
	tampered := []struct {
		name string
		lie  clienttest.Lie
		args []string
		want string // on stderr
	}{
		{"block get signed by the removed validator", clienttest.AlterBlock(height, byRemoved), blockGet, bySigner4},
		{"tx get signed by the removed validator", clienttest.AlterBlock(anchorHeight, byRemoved), []string{"tx", "get", anchorTx}, bySigner4},
		{"state prove signed by the removed validator", clienttest.AlterCheckpoint(0, clienttest.Resign(vk, 1, 2, 4)), []string{"state", "prove", "--member", member}, bySigner4},
		{"contract pins --prove signed by the removed validator", clienttest.AlterCheckpoint(0, clienttest.Resign(vk, 1, 2, 4)), []string{"contract", "pins", "trial-protocol", "--prove"}, bySigner4},
		// The walk: a change hidden leaves the genesis set, which the next
		// certified header does not name; another group cannot consent.
		{"block get, the removal said to have failed", clienttest.AlterJSON("/v1/tx/", func(v *view.TxWithReceipt) {
			if v.Tx.Kind == block.KindValidator.String() {
				v.Receipt.Status = "failed"
			}
		}), blockGet, "the set in force from height 1 is"},
		{"block get, another validator group", clienttest.AlterJSON("/v1/consent-groups/", func(v *view.ConsentGroup) { v.Raw = "00" + v.Raw }),
			blockGet, "the node's copy of the validator organisations' group is not"},
	}
	for _, tc := range tampered {
		t.Run(tc.name, func(t *testing.T) {
			liar.Set(tc.lie)
			defer liar.Set(nil)
			out, errs, code := run(t, append(tc.args, "--node", liar.URL(), "--genesis", gen)...)
			if code != 1 || !strings.Contains(errs, tc.want) {
				t.Fatalf("%s through the liar: exit %d, want 1 with %q\n%s\n%s", strings.Join(tc.args, " "), code, tc.want, out, errs)
			}
		})
	}
}
