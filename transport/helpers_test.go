package transport

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := checkNoLeaks(5 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// checkNoLeaks waits until no goroutine runs code of quic-go or of this
// package other than the test runner's own.
func checkNoLeaks(wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		leaked := leakedGoroutines()
		if len(leaked) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("leaked goroutines:\n%s", strings.Join(leaked, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func leakedGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "leakedGoroutines") || strings.Contains(g, "testing.tRunner") || strings.Contains(g, "testing.(*M)") {
			continue
		}
		if strings.Contains(g, "github.com/quic-go/quic-go") || strings.Contains(g, "github.com/trialchain/trialchain/transport") {
			out = append(out, g)
		}
	}
	return out
}

// eventually polls cond every 5 ms for up to 15 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

func bindUDP(t testing.TB) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

// testConfig has timings suited to tests on loopback.
func testConfig(id uint64, key ed25519.PrivateKey, peers []Peer) Config {
	return Config{
		SelfID:      id,
		Key:         key,
		Peers:       peers,
		DialTimeout: 2 * time.Second,
		BackoffMin:  10 * time.Millisecond,
		BackoffMax:  200 * time.Millisecond,
		IdleTimeout: 5 * time.Second,
	}
}

// recorder collects message frames per sender.
type recorder struct {
	mu   sync.Mutex
	got  map[uint64][][]byte
	size map[uint64]int
}

func newRecorder() *recorder {
	return &recorder{got: map[uint64][][]byte{}, size: map[uint64]int{}}
}

func (r *recorder) handle(from uint64, frame []byte) {
	r.mu.Lock()
	r.got[from] = append(r.got[from], frame)
	r.size[from] += len(frame)
	r.mu.Unlock()
}

func (r *recorder) count(from uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got[from])
}

func (r *recorder) frames(from uint64) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.got[from]...)
}

// cluster is n meshes on 127.0.0.1 with IDs 1..n.
type cluster struct {
	keys   []ed25519.PrivateKey
	peers  []Peer
	meshes []*Mesh
	recs   []*recorder
}

// newCluster binds n sockets, builds the pinned peer list from their real
// addresses and starts a mesh on each. opt may adjust each config.
func newCluster(t testing.TB, n int, onRequest RequestHandler, opt func(i int, c *Config)) *cluster {
	t.Helper()
	c := &cluster{}
	var conns []net.PacketConn
	for i := range n {
		k := newKey(t)
		pc := bindUDP(t)
		conns = append(conns, pc)
		c.keys = append(c.keys, k)
		c.peers = append(c.peers, Peer{ID: uint64(i + 1), Key: pub(k), Addr: pc.LocalAddr().String()})
	}
	for i := range n {
		cfg := testConfig(uint64(i+1), c.keys[i], c.peers)
		cfg.PacketConn = conns[i]
		if opt != nil {
			opt(i, &cfg)
		}
		rec := newRecorder()
		m, err := New(cfg, rec.handle, onRequest)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		c.meshes = append(c.meshes, m)
		c.recs = append(c.recs, rec)
	}
	return c
}

// waitConnected waits until every mesh has a live link to every other.
func (c *cluster) waitConnected(t testing.TB) {
	t.Helper()
	eventually(t, "full mesh", func() bool {
		for _, m := range c.meshes {
			if len(m.Connected()) != len(c.meshes)-1 {
				return false
			}
		}
		return true
	})
}

func seqFrame(from uint64, seq, size int) []byte {
	b := make([]byte, max(size, 16))
	binary.BigEndian.PutUint64(b, from)
	binary.BigEndian.PutUint64(b[8:], uint64(seq))
	for i := 16; i < len(b); i++ {
		b[i] = byte(seq + i)
	}
	return b
}
