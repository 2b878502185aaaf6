package node

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trialchain/trialchain/chain/block"
	"github.com/trialchain/trialchain/chain/consent"
	"github.com/trialchain/trialchain/chain/contracts"
	"github.com/trialchain/trialchain/chain/genesis"
	"github.com/trialchain/trialchain/chain/keys"
	"github.com/trialchain/trialchain/sdk/client"
	"github.com/trialchain/trialchain/transport"
)

// validatorOrgs is the validator organisations' consent group: one party
// per organisation, its member key the organisation's key in the
// testnet's keyring, threshold 3 of 4.
type validatorOrgs struct {
	group  *consent.Group
	bin    []byte
	shares []*consent.KeyShare
	keys   []*keys.Key
}

// dealValidatorOrgs deals the group from the public test key (as
// 'trialchain consent group new --dealer-key' does: the safe-prime search
// of a real ceremony takes minutes).
func dealValidatorOrgs(t *testing.T, ring keys.Ring, names ...string) *validatorOrgs {
	t.Helper()
	pemBytes, err := os.ReadFile("../consent/testdata/testkey-2048.pem")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemBytes)
	rk, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	o := &validatorOrgs{}
	spec := consent.GroupSpec{Name: "validator-organisations", Threshold: 3}
	for _, name := range names {
		k, err := ring.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		o.keys = append(o.keys, k)
		spec.Parties = append(spec.Parties, consent.PartySpec{Name: name, Role: "validator organisation", MemberKey: k.Public()})
	}
	g, sealed, err := consent.DealWithKey(rand.Reader, spec, (*rsa.PrivateKey)(rk))
	if err != nil {
		t.Fatal(err)
	}
	o.group = g
	if o.bin, err = g.MarshalBinary(); err != nil {
		t.Fatal(err)
	}
	for i, s := range sealed {
		ks, err := consent.OpenShare(g, s, o.keys[i].Private)
		if err != nil {
			t.Fatal(err)
		}
		o.shares = append(o.shares, ks)
	}
	return o
}

// approve is 'validator add|remove --action-out', 'consent sign' by each
// of parties (0-based) and 'consent combine': the combined consent of
// those organisations to exactly change ch.
func (o *validatorOrgs) approve(t *testing.T, chainID string, ch genesis.Change, parties ...int) []byte {
	t.Helper()
	req := consent.Request{ChainID: chainID, Action: contracts.ValidatorChangeAction(ch), Meaning: consent.MeaningApproveValidatorChange}
	var signed []*consent.SignedShare
	for _, p := range parties {
		m := consent.Manifestation{PrintedName: "Officer of " + o.keys[p].Name, Time: time.Now().UTC(), Meaning: req.Meaning}
		ss, err := consent.SignShare(rand.Reader, o.group, o.shares[p], o.keys[p].Private, chainID, req.Action, m)
		if err != nil {
			t.Fatal(err)
		}
		signed = append(signed, ss)
	}
	c, err := consent.Combine(o.group, req, signed...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// send submits tx through the node's client API and waits for its
// receipt (what the CLI's commands do), failing unless it succeeded.
func sendOK(t *testing.T, n *Node, tx *block.Tx) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := client.New(n.APIURL()).Submit(ctx, tx, true)
	if err != nil {
		t.Fatalf("node %d: submit %s: %v", n.cfg.ID, tx.Kind, err)
	}
	if res.Receipt == nil || res.Receipt.Status != block.StatusOK.String() {
		t.Fatalf("node %d: %s: %+v (pending %q)", n.cfg.ID, tx.Kind, res.Receipt, res.Pending)
	}
}

// load submits one anchor transaction every period, alternately to the
// nodes given, until stop; it tracks the nonces sent.
type load struct {
	c     *cluster
	nodes []*Node
	mu    sync.Mutex
	sent  []uint64
	fails atomic.Int64
	quit  chan struct{}
	done  chan struct{}
}

func startLoad(c *cluster, period time.Duration, nodes ...*Node) *load {
	l := &load{c: c, nodes: nodes, quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for nonce := uint64(1_000_000); ; nonce++ {
			select {
			case <-l.quit:
				return
			case <-tick.C:
			}
			n := l.nodes[int(nonce)%len(l.nodes)]
			raw := c.anchorTx(nonce)
			if _, err := n.Admit(raw); err != nil {
				l.fails.Add(1)
				continue
			}
			if err := n.replica.Submit(raw); err != nil {
				l.fails.Add(1)
				continue
			}
			l.mu.Lock()
			l.sent = append(l.sent, nonce)
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *load) stop() {
	select {
	case <-l.quit:
	default:
		close(l.quit)
	}
	<-l.done
}

func (l *load) last() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.sent) == 0 {
		return 0
	}
	return l.sent[len(l.sent)-1]
}

// waitNext waits until a load transaction sent from now on is committed
// on every node given: the chain commits now, with these nodes.
func (l *load) waitNext(t *testing.T, d time.Duration, nodes ...*Node) {
	t.Helper()
	after := l.last()
	deadline := time.Now().Add(d)
	for l.last() <= after {
		if time.Now().After(deadline) {
			t.Fatal("the load sends nothing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	h := block.Sum(l.c.anchorTx(l.last()))
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	for _, n := range nodes {
		if _, err := n.ledger.WaitReceipt(ctx, h); err != nil {
			t.Fatalf("node %d (head %d): a transaction sent now is not committed: %v", n.cfg.ID, n.ledger.Head().Height, err)
		}
	}
}

// gapWatch records the longest time node n's head stood still.
type gapWatch struct {
	max  atomic.Int64 // ns
	quit chan struct{}
	done chan struct{}
}

func watchGaps(n *Node) *gapWatch {
	w := &gapWatch{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		last, since := n.ledger.Head().Height, time.Now()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.quit:
				return
			case <-tick.C:
			}
			if h := n.ledger.Head().Height; h != last {
				last, since = h, time.Now()
			}
			if g := int64(time.Since(since)); g > w.max.Load() {
				w.max.Store(g)
			}
		}
	}()
	return w
}

func (w *gapWatch) stop() time.Duration { close(w.quit); <-w.done; return time.Duration(w.max.Load()) }

// TestValidatorJoinsAndLeaves: four validators on real QUIC and Pebble,
// with a steady load committing throughout. The validator organisations
// (3 of 4) add a fifth validator by the real validator transaction; it
// starts from the genesis and its own key, catches up checking every
// certificate against the set in force at its height, and takes part:
// with one of the original four stopped the quorum (4 of 5) needs it, and
// the chain keeps committing. Then the organisations remove validator 4:
// the chain keeps committing with the other four, and the mesh refuses
// validator 4's key. Every node of the set holds identical blocks whose
// certificates verify against the set in force at their height.
func TestValidatorJoinsAndLeaves(t *testing.T) {
	dir := t.TempDir()
	tn, err := NewTestnet(dir, TestnetOptions{Validators: 4, Params: testParams()})
	if err != nil {
		t.Fatal(err)
	}
	ring := keys.Ring{Dir: tn.Keyring}
	orgs := dealValidatorOrgs(t, ring, "sponsor", "site", "regulator", "committee")
	// The genesis names the validator organisations' group (a consortium's
	// genesis is written so; the testnet's is rewritten before any start).
	id := orgs.group.ID()
	tn.Genesis.Params.ValidatorGroup = hex.EncodeToString(id[:])
	for _, p := range append([]string{dir}, tn.Homes...) {
		if err := tn.Genesis.Save(filepath.Join(p, "genesis.json")); err != nil {
			t.Fatal(err)
		}
	}
	site, err := ring.Get("site")
	if err != nil {
		t.Fatal(err)
	}
	committee, err := ring.Get("committee")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, tn: tn, nodes: make([]*Node, 5), site: site.Private}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.stop(i)
		}
	})
	for i := range 4 {
		c.start(i)
	}
	n1, n2 := c.nodes[0], c.nodes[1]
	chainID := tn.Genesis.ChainID
	sendOK(t, n1, client.ConsentGroupTx(committee.Private, chainID, orgs.bin))

	ld := startLoad(c, 50*time.Millisecond, n1, n2)
	defer ld.stop()
	gaps := watchGaps(n1)
	ld.waitNext(t, 30*time.Second, c.live()...)

	// A hospital's validator joins: its home (its own key, the genesis, a
	// config naming id 5 and its addresses, bound now so the transaction
	// names real ones) is written as 'trialchain validator init' does.
	pc5, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api5, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	j, err := NewJoiningHome(JoinOptions{Home: filepath.Join(dir, "hospital-c"), Genesis: filepath.Join(dir, "genesis.json"),
		ID: 5, Name: "hospital-c", Addr: pc5.LocalAddr().String(), API: api5.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	add := j.Change
	// The organisations' consent is to exactly this change: one to the
	// same validator at another address does not add it.
	ctx := context.Background()
	other := add
	other.Validator.Addr = "127.0.0.1:1"
	res, err := client.New(n2.APIURL()).Submit(ctx, client.ValidatorTx(site.Private, chainID, add, orgs.approve(t, chainID, other, 0, 1, 2)), true)
	if err != nil || res.Receipt == nil || res.Receipt.Status == block.StatusOK.String() {
		t.Fatalf("a validator change consented for another change: %v %+v", err, res)
	}
	sendOK(t, n2, client.ValidatorTx(site.Private, chainID, add, orgs.approve(t, chainID, add, 0, 2, 3)))
	for _, n := range c.live() {
		eventuallyT(t, fmt.Sprintf("node %d pins validator 5", n.cfg.ID), 10*time.Second, func() bool {
			return slices.ContainsFunc(n.mesh.Peers(), func(p transport.Peer) bool { return p.ID == 5 })
		})
	}

	cfg5, err := LoadConfig(j.Home)
	if err != nil {
		t.Fatal(err)
	}
	off := false
	cfg5.HTTP3 = &off
	n5, err := New(cfg5, Options{Logger: testLogger(), PacketConn: pc5, APIListener: api5})
	if err != nil {
		t.Fatal(err)
	}
	joinedAt := n1.ledger.Head().Height
	if err := n5.Start(ctx); err != nil { // catches up through its joining first
		n5.Stop()
		t.Fatal(err)
	}
	c.mu.Lock()
	c.nodes[4] = n5
	c.mu.Unlock()
	if h := n5.ledger.Head().Height; h < joinedAt {
		t.Fatalf("validator 5 started at height %d, before its joining (%d)", h, joinedAt)
	}
	ld.waitNext(t, 60*time.Second, c.live()...)
	// It takes part: its signature is in a certificate (a quorum is 4 of
	// the 5). Only then is one of the others stopped: stopping one while
	// it still catches up would make two of five absent, more than the
	// set tolerates.
	signedBy5 := func(from uint64) bool {
		for h := from; h <= n1.ledger.Head().Height; h++ {
			b, err := n1.store.Block(h)
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(b.Cert.Sigs, func(s block.CommitSig) bool { return s.Validator == 5 }) {
				return true
			}
		}
		return false
	}
	eventuallyT(t, "validator 5 signs a block", 60*time.Second, func() bool { return signedBy5(joinedAt + 1) })

	// With validator 3 stopped, a quorum of the five (4) needs validator
	// 5: the chain commits on, and validator 5 signs.
	leader, _ := n1.replica.Leader()
	stopIdx := 2
	if leader == 3 {
		stopIdx = 3
	}
	stopped := c.nodes[stopIdx].cfg.ID
	c.stop(stopIdx)
	before := n1.ledger.Head().Height
	ld.waitNext(t, 60*time.Second, c.live()...)
	signed5 := false
	for h := before + 1; h <= n1.ledger.Head().Height; h++ {
		b, err := n1.store.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range b.Cert.Sigs {
			if s.Validator == 5 {
				signed5 = true
			}
			if s.Validator == stopped {
				t.Fatalf("block %d signed by stopped validator %d", h, stopped)
			}
		}
	}
	if !signed5 {
		t.Fatal("validator 5 signed no block while the quorum needed it")
	}
	// Restarted after the set changed, it finds its store sound (each
	// certificate checked against the set in force at its height) and
	// takes part again.
	c.start(stopIdx)
	if d := c.nodes[stopIdx].Damage(); len(d) > 0 {
		t.Fatalf("validator %d restarted after a set change finds its store damaged: %v", stopped, d)
	}
	ld.waitNext(t, 60*time.Second, c.live()...)

	// Validator 4 leaves (the organisations approve, 3 of 4 again).
	rmIdx := 3
	if stopped == 4 {
		rmIdx = 2
	}
	removed := c.nodes[rmIdx]
	rm := genesis.Change{Op: genesis.ChangeRemove, Validator: genesis.Validator{ID: removed.cfg.ID}}
	sendOK(t, n1, client.ValidatorTx(site.Private, chainID, rm, orgs.approve(t, chainID, rm, 1, 2, 3)))
	var rest []*Node
	for _, n := range c.live() {
		if n != removed {
			rest = append(rest, n)
		}
	}
	for _, n := range rest {
		eventuallyT(t, fmt.Sprintf("node %d drops validator %d", n.cfg.ID, removed.cfg.ID), 10*time.Second, func() bool {
			return !slices.ContainsFunc(n.mesh.Peers(), func(p transport.Peer) bool { return p.ID == removed.cfg.ID }) &&
				!slices.Contains(n.mesh.Connected(), removed.cfg.ID)
		})
	}
	ld.waitNext(t, 60*time.Second, rest...)
	var watched []uint64 // the peers validator 1's metrics and readiness follow
	for _, p := range n1.peers() {
		watched = append(watched, p.ID)
	}
	if want := []uint64{2, 3, 4, 5}; !slices.Equal(watched, slices.DeleteFunc(want, func(id uint64) bool { return id == removed.cfg.ID })) {
		t.Fatalf("validator 1's metrics follow peers %v", watched)
	}
	// The removed validator's key is refused: its own mesh still dials
	// the others, and their handshakes refuse it; no request of its
	// reaches their handlers.
	refused := n1.mesh.Stats().HandshakesRefused
	eventuallyT(t, "validator 1 refuses the removed validator's key", 20*time.Second, func() bool {
		return n1.mesh.Stats().HandshakesRefused > refused
	})
	for range 5 {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := removed.mesh.Request(rctx, 1, []byte{'H'})
		cancel()
		var re *transport.RemoteError
		if err == nil || errors.As(err, &re) {
			t.Fatalf("a request of the removed validator reached validator 1: %v", err)
		}
	}
	ld.waitNext(t, 60*time.Second, rest...)
	ld.stop()
	maxGap := gaps.stop()

	// Identical blocks on every node of the set (and on the removed one
	// up to its head), each certificate checked against the set in force
	// at its height, walked from the genesis.
	eventuallyT(t, "the set's nodes at one head", 30*time.Second, func() bool {
		for _, n := range rest[1:] {
			if n.ledger.Head().Hash != rest[0].ledger.Head().Hash {
				return false
			}
		}
		return true
	})
	head := rest[0].ledger.Head().Height
	hist := genesis.NewHistory(tn.Genesis)
	for h := uint64(1); h <= head; h++ {
		b, err := n1.store.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := hist.ApplyCertified(b, n1.ledger.SetChanges(b)); err != nil {
			t.Fatal(err)
		}
		for _, n := range c.live() {
			if n == removed && h > n.ledger.Head().Height {
				continue
			}
			o, err := n.store.Block(h)
			if err != nil {
				t.Fatalf("node %d block %d: %v", n.cfg.ID, h, err)
			}
			if o.Block.Hash() != b.Block.Hash() {
				t.Fatalf("node %d block %d differs from node 1's", n.cfg.ID, h)
			}
		}
	}
	sets := hist.Sets()
	if len(sets) != 3 || fmt.Sprint(sets[1].IDs()) != "[1 2 3 4 5]" || slices.Contains(sets[2].IDs(), removed.cfg.ID) || len(sets[2].IDs()) != 4 {
		t.Fatalf("validator sets walked from the genesis: %v %v", sets[1].IDs(), sets[len(sets)-1].IDs())
	}
	if maxGap > 30*time.Second {
		t.Fatalf("commits stood still for %v", maxGap)
	}
	t.Logf("%d blocks; validator 5 in force from %d, validator %d out from %d; longest pause between commits %v; %d load transactions refused or busy",
		head, sets[1].From, removed.cfg.ID, sets[2].From, maxGap.Round(time.Millisecond), ld.fails.Load())
}

func eventuallyT(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
