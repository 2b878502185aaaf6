package transport_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"time"

	"github.com/trialchain/trialchain/transport"
)

// Two validators on loopback: bind the sockets first so the pinned peer
// list can carry the real addresses, then start both meshes, send a
// message and make a request.
func Example() {
	type node struct {
		key  ed25519.PrivateKey
		conn net.PacketConn
	}
	var nodes []node
	var peers []transport.Peer // in a real chain: from the genesis file
	for id := uint64(1); id <= 2; id++ {
		_, key, _ := ed25519.GenerateKey(nil)
		conn, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		nodes = append(nodes, node{key, conn})
		peers = append(peers, transport.Peer{ID: id, Key: key.Public().(ed25519.PublicKey), Addr: conn.LocalAddr().String()})
	}

	got := make(chan string, 1)
	meshes := make([]*transport.Mesh, 2)
	for i, n := range nodes {
		cfg := transport.DefaultConfig()
		cfg.SelfID, cfg.Key, cfg.PacketConn, cfg.Peers = uint64(i+1), n.key, n.conn, peers
		cfg.BackoffMin = 10 * time.Millisecond
		onMessage := func(from uint64, frame []byte) { got <- fmt.Sprintf("%d says %s", from, frame) }
		onRequest := func(_ context.Context, from uint64, req []byte) ([]byte, error) {
			return []byte("block #" + string(req)), nil
		}
		m, err := transport.New(cfg, onMessage, onRequest)
		if err != nil {
			panic(err)
		}
		if err := m.Start(context.Background()); err != nil {
			panic(err)
		}
		defer m.Close()
		meshes[i] = m
	}

	// Send queues and returns at once; the frame goes out when the link is up.
	if err := meshes[0].Send(2, []byte("hello")); err != nil {
		panic(err)
	}
	fmt.Println(<-got)

	// Request needs a live link: wait for it (a real caller would retry or
	// pick another peer on ErrNotConnected).
	for len(meshes[1].Connected()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := meshes[1].Request(ctx, 1, []byte("42"))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(resp))
	// Output:
	// 1 says hello
	// block #42
}
