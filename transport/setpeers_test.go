package transport

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestSetPeersFollowsTheSet: a running mesh admits a peer added to its
// pinned set (both directions, frames queued before flow after) and
// drops a removed one: its links close, sends to it fail, and its key is
// refused from then on, without restarting any mesh.
func TestSetPeersFollowsTheSet(t *testing.T) {
	c := newCluster(t, 3, nil, nil)
	c.waitConnected(t)

	// A fourth validator starts pinned to all four; the three refuse it.
	k4 := newKey(t)
	pc4 := bindUDP(t)
	p4 := Peer{ID: 4, Key: pub(k4), Addr: pc4.LocalAddr().String()}
	all := append(slices.Clone(c.peers), p4)
	cfg := testConfig(4, k4, all)
	cfg.PacketConn = pc4
	rec4 := newRecorder()
	m4, err := New(cfg, rec4.handle, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m4.Close() })
	if err := m4.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the unpinned validator refused", func() bool { return c.meshes[0].Stats().HandshakesRefused > 0 })
	// (Its own side may see a link for a moment: TLS 1.3 completes the
	// client's handshake before the server checks its certificate.)
	if err := m4.Send(1, seqFrame(4, 0, 32)); err != nil {
		t.Fatal(err)
	}
	refused0 := c.meshes[0].Stats().HandshakesRefused
	eventually(t, "the unpinned validator refused again", func() bool { return c.meshes[0].Stats().HandshakesRefused > refused0 })
	if n := c.recs[0].count(4); n != 0 {
		t.Fatalf("%d frames delivered from a validator not pinned", n)
	}
	if err := c.meshes[0].Send(4, []byte("x")); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("send to a peer not yet pinned = %v, want ErrUnknownPeer", err)
	}

	// Added: every mesh links to it, both ways.
	for _, m := range c.meshes {
		if err := m.SetPeers(all); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the added validator linked both ways", func() bool {
		for _, m := range c.meshes {
			if !slices.Contains(m.Connected(), 4) {
				return false
			}
		}
		return len(m4.Connected()) == 3
	})
	if err := m4.Send(1, seqFrame(4, 1, 32)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a frame from the added validator", func() bool { return c.recs[0].count(4) >= 1 })
	if err := c.meshes[1].Send(4, seqFrame(2, 0, 32)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a frame to the added validator", func() bool { return rec4.count(2) == 1 })

	// Validator 3 removed from the set of 1, 2 and 4 (3 itself is not told).
	without3 := []Peer{c.peers[0], c.peers[1], p4}
	for _, m := range []*Mesh{c.meshes[0], c.meshes[1], m4} {
		if err := m.SetPeers(without3); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.meshes[0].Send(3, []byte("x")); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("send to a removed peer = %v, want ErrUnknownPeer", err)
	}
	if _, err := c.meshes[0].Request(context.Background(), 3, []byte("x")); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("request to a removed peer = %v, want ErrUnknownPeer", err)
	}
	m3 := c.meshes[2]
	eventually(t, "the removed validator cut off", func() bool { return len(m3.Connected()) == 0 })
	refused := c.meshes[0].Stats().HandshakesRefused
	eventually(t, "the removed validator's redials refused", func() bool { return c.meshes[0].Stats().HandshakesRefused > refused })
	got3 := c.recs[0].count(3)
	for i := range 20 {
		_ = m3.Send(1, seqFrame(3, i, 32))
	}
	if err := c.meshes[1].Send(1, seqFrame(2, 1, 32)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the remaining validators still linked", func() bool { return c.recs[0].count(2) == 1 })
	if n := c.recs[0].count(3); n != got3 {
		t.Fatalf("%d frames from a removed validator delivered", n-got3)
	}
	if got := c.meshes[0].Connected(); !slices.Equal(got, []uint64{2, 4}) {
		t.Fatalf("Connected() = %v, want [2 4]", got)
	}
	if got := len(c.meshes[0].Peers()); got != 2 {
		t.Fatalf("Peers() has %d entries, want 2", got)
	}
}

// TestSetPeersRefusesBadSets: a bad peer list changes nothing.
func TestSetPeersRefusesBadSets(t *testing.T) {
	c := newCluster(t, 2, nil, nil)
	other := newKey(t)
	tests := []struct {
		name  string
		peers []Peer
	}{
		{"id twice", []Peer{c.peers[0], c.peers[1], {ID: 2, Key: pub(other), Addr: "127.0.0.1:1"}}},
		{"key twice", []Peer{c.peers[0], c.peers[1], {ID: 3, Key: c.peers[1].Key, Addr: "127.0.0.1:1"}}},
		{"self with another key", []Peer{{ID: 1, Key: pub(other), Addr: "127.0.0.1:1"}, c.peers[1]}},
		{"no address", []Peer{c.peers[0], {ID: 3, Key: pub(other)}}},
		{"short key", []Peer{c.peers[0], {ID: 3, Key: pub(other)[:31], Addr: "127.0.0.1:1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.meshes[0].SetPeers(tt.peers); err == nil {
				t.Fatal("accepted")
			}
			if got := c.meshes[0].Peers(); len(got) != 1 || got[0].ID != 2 {
				t.Fatalf("peers changed to %v", got)
			}
		})
	}
	_ = c.meshes[0].Close()
	if err := c.meshes[0].SetPeers(c.peers); !errors.Is(err, ErrClosed) {
		t.Fatalf("SetPeers after Close = %v, want ErrClosed", err)
	}
}
