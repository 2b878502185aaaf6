// Package transport carries every byte validators exchange: consensus
// messages, forwarded requests and block sync. It is quic-go's only
// importer in the tree (with its subpackage h3, the HTTP/3 client API).
//
// A [Mesh] links this node to every other validator over QUIC. Two kinds
// of traffic run on it:
//
//   - messages: [Mesh.Send] queues a frame for a peer and returns at once;
//     the peer's [Handler] receives it. Frames to one peer arrive in order
//     and at most once.
//   - requests: [Mesh.Request] sends one frame on a fresh stream and waits
//     for the peer's [RequestHandler] to answer with one frame (block
//     sync).
//
// [Network] is the interface both Mesh and the in-memory
// transport/memnet implement, so the consensus layer runs over either.
//
// # Usage
//
//	cfg := transport.DefaultConfig()
//	cfg.SelfID, cfg.Key = 1, nodeKey          // ed25519.PrivateKey
//	cfg.ListenAddr = ":7000"                  // or cfg.PacketConn, already bound
//	cfg.Peers = genesisValidators             // []transport.Peer{ID, Key, Addr}
//	m, err := transport.New(cfg, onMessage, onRequest) // no I/O yet
//	err = m.Start(ctx)                        // bind, accept, dial every peer
//	err = m.Send(2, frame)                    // non-blocking; ErrQueueFull when full
//	resp, err := m.Request(ctx, 2, req)       // ErrNotConnected if no link now
//	ids := m.Connected()                      // peers with a live outbound link
//	err = m.SetPeers(newSet)                  // the validator set changed: re-pin, live
//	err = m.Close()                           // stops everything, waits
//
// To learn addresses before building peer lists (tests on port 0), bind
// each node's socket first with net.ListenPacket("udp", "127.0.0.1:0"),
// build the peers from the LocalAddrs and pass each socket as
// Config.PacketConn; the Mesh takes ownership.
//
// # Topology and ordering
//
// Every node dials every other peer and sends only on that outbound
// connection, on one long-lived unidirectional stream: frames to one peer
// are written in Send order. It receives on the connections peers dialled
// to it. A pair of nodes thus has two connections and never needs to
// de-duplicate. Requests use a new bidirectional stream of the outbound
// connection. A newer inbound connection from the same peer replaces an
// older one (a restarted peer).
//
// Delivery is at most once: frames in flight when a link fails are lost,
// frames still queued are sent on the next link. Consensus retransmits.
//
// # Frames
//
// A frame is a 4-byte big-endian length and that many bytes ([ReadFrame],
// [WriteFrame]). Config.MaxFrameBytes (default 16 MiB) caps every message,
// request and response. Send and Request refuse larger frames with
// [ErrFrameTooLarge]. A received frame that announces more than the cap,
// or a stream that ends inside a frame, closes that connection (QUIC
// application error 1) and is counted in [Stats].BadFrames; the node
// carries on and the peer redials. Memory for a frame is allocated as its
// bytes arrive, not as its header claims. A request response is one
// status byte (0 ok, 1 error text) followed by a frame.
//
// # Goroutines and memory
//
// New starts nothing. Start starts one accept loop, one dialer/writer per
// peer, and per inbound connection a stream acceptor, a reader per message
// stream and one goroutine per request being served. Close cancels them
// all, closes every connection (peers see an orderly close), the listener
// and the socket, and returns only when every goroutine has ended —
// including Handler and RequestHandler calls in progress, which must
// therefore return.
//
// Each peer's send queue is bounded by Config.QueueMaxFrames and
// Config.QueueMaxBytes; when full, Send drops the frame and returns
// [ErrQueueFull]; it never blocks and never grows memory. A slow Handler
// back-pressures its sender through QUIC flow control into that sender's
// queue. Inbound concurrency is bounded by QUIC stream limits (64
// concurrent requests per peer). Send copies the frame; the Handler owns
// the frames it receives.
//
// Dial failures back off exponentially from BackoffMin to BackoffMax with
// jitter (uniform in [d/2, d)). Keep-alives every IdleTimeout/3 keep idle
// links open; a peer silent for IdleTimeout is considered dead and
// redialled.
//
// # Security
//
//   - TLS 1.3 only (QUIC requires it; both MinVersion and MaxVersion are
//     set and the negotiated version is checked), ALPN "trialchain/1".
//   - Mutual authentication by pinned ed25519 keys, no CA: each node
//     presents a self-signed certificate for its key, generated in memory
//     at New. TLS 1.3's CertificateVerify proves possession of the key.
//   - As a listener, a node requires a client certificate and accepts it
//     only if its key is pinned for a validator other than itself; the key
//     determines the peer ID. As a dialer, a node accepts the server only
//     if its key is exactly the one pinned for the peer it dialled. Anything
//     else fails inside the handshake (TLS alert bad_certificate) with
//     [ErrUnknownKey] or [ErrKeyMismatch] locally, is logged at warn level
//     and counted in [Stats].HandshakesRefused; no stream is ever opened.
//     Certificate validity dates are ignored: pins, not clocks, decide.
//   - Key exchange: Go's default, which prefers the hybrid post-quantum
//     X25519MLKEM768; CurvePreferences is deliberately left unset.
//
// # Changing the pinned set
//
// [Mesh.SetPeers] replaces the pinned peers while the mesh runs (a
// validator added or removed by a committed validator-set change): an
// added peer gets a link (dialled with its pinned key at its address) and
// its key is accepted from then on; a removed peer's link stops, its
// queued frames are dropped, its inbound connection is closed, and its key
// is refused in either direction like any stranger's. Peers whose key and
// address are unchanged keep their links. The pinned set is an immutable
// snapshot swapped atomically, so Send, Request and handshakes never see
// half of a change; an inbound link that finished its handshake just
// before its key was dropped is closed when it registers.
//
// Nothing here authenticates individual messages beyond the link: the
// consensus layer still verifies the signatures its protocol requires.
package transport
