package transport

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// ALPN is the application protocol negotiated on validator links. A node
// that does not offer it cannot complete a handshake.
const ALPN = "trialchain/1"

// Sentinel errors. Test with errors.Is; they may be wrapped.
var (
	// ErrQueueFull is returned by Send when the peer's send queue already
	// holds Config.QueueMaxFrames frames or Config.QueueMaxBytes bytes. The
	// frame is dropped.
	ErrQueueFull = errors.New("transport: send queue full")
	// ErrFrameTooLarge: a frame (message, request or response) exceeds
	// Config.MaxFrameBytes. Sending refuses it; receiving closes the link.
	ErrFrameTooLarge = errors.New("transport: frame too large")
	// ErrTruncatedFrame: the stream ended inside a frame. The link is closed.
	ErrTruncatedFrame = errors.New("transport: truncated frame")
	// ErrUnknownPeer: the destination is not a configured peer (or is self).
	ErrUnknownPeer = errors.New("transport: unknown peer")
	// ErrNotConnected: Request found no live link to the peer.
	ErrNotConnected = errors.New("transport: peer not connected")
	// ErrClosed: the network was closed.
	ErrClosed = errors.New("transport: closed")
	// ErrUnknownKey: a handshake presented a key that genesis does not pin
	// (or our own key). The handshake is refused.
	ErrUnknownKey = errors.New("transport: peer key not pinned")
	// ErrKeyMismatch: the peer we dialled presented a key other than the
	// one pinned for it. The handshake is refused.
	ErrKeyMismatch = errors.New("transport: peer key does not match the pinned key")
	// ErrBadCertificate: the peer's certificate is malformed, not ed25519,
	// not self-signed by its key, or not exactly one certificate.
	ErrBadCertificate = errors.New("transport: bad peer certificate")
)

// RemoteError is returned by Request when the peer's RequestHandler
// returned an error; Msg is that error's text.
type RemoteError struct {
	Peer uint64
	Msg  string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("transport: peer %d: request failed: %s", e.Peer, e.Msg)
}

// Handler is called for every message frame received, with the sender's
// ID. Calls for one sender are sequential and in the sender's order; calls
// for different senders may run concurrently. The handler owns frame. It
// must not block long: while it runs, that sender's link is not read and
// back-pressure eventually fills the sender's queue.
type Handler func(from uint64, frame []byte)

// RequestHandler answers a Request. ctx is cancelled when the requester
// gives up, the link closes, Config.RequestTimeout passes, or the network
// closes. The handler owns req. An error is returned to the requester as
// a *RemoteError carrying its text.
type RequestHandler func(ctx context.Context, from uint64, req []byte) ([]byte, error)

// Network is what the consensus layer programs against. *Mesh (QUIC) and
// *memnet.Endpoint (in-memory, for tests) implement it.
type Network interface {
	// Send queues frame for delivery to peer to and returns at once.
	// Delivery is best effort and in order per peer.
	Send(to uint64, frame []byte) error
	// Request sends req to peer to and waits for its response.
	Request(ctx context.Context, to uint64, req []byte) ([]byte, error)
	// Connected lists the peers currently reachable, sorted.
	Connected() []uint64
	// Close stops every goroutine the network started.
	Close() error
}

// Peer is one validator as pinned by genesis.
type Peer struct {
	ID   uint64
	Key  ed25519.PublicKey
	Addr string // UDP host:port to dial, e.g. "127.0.0.1:7000"
}

// Config configures a Mesh. Zero durations and sizes take the defaults of
// DefaultConfig.
type Config struct {
	// SelfID and Key are this node's identity; Key's public half must be
	// the key pinned for SelfID if Peers lists it.
	SelfID uint64
	Key    ed25519.PrivateKey

	// ListenAddr is the UDP address to listen on (":7000",
	// "127.0.0.1:0"). Ignored if PacketConn is set.
	ListenAddr string
	// PacketConn, if set, is used instead of binding ListenAddr. The Mesh
	// takes ownership and closes it. Useful when addresses must be known
	// before the peer lists are built (tests with port 0).
	PacketConn net.PacketConn

	// Peers are all validators; an entry for SelfID is ignored. IDs and
	// keys must be unique.
	Peers []Peer

	// MaxFrameBytes caps a message, request or response payload, in both
	// directions. Default 16 MiB: a contract deploy is ~2 MB and block
	// sync responses carry whole blocks.
	MaxFrameBytes int
	// QueueMaxFrames and QueueMaxBytes bound each peer's send queue.
	// Defaults 4096 frames and 64 MiB; QueueMaxBytes must be at least
	// MaxFrameBytes so that any legal frame can be queued.
	QueueMaxFrames int
	QueueMaxBytes  int

	// DialTimeout bounds one dial including the handshake. Default 5 s.
	DialTimeout time.Duration
	// BackoffMin and BackoffMax bound the delay between dial attempts to
	// a peer; it doubles per failure, with jitter. Defaults 100 ms, 5 s.
	BackoffMin, BackoffMax time.Duration
	// IdleTimeout closes a link that received nothing for this long;
	// keep-alives are sent every IdleTimeout/3, so only dead peers time
	// out. Default 15 s.
	IdleTimeout time.Duration
	// RequestTimeout bounds how long the serving side reads a request and
	// runs the RequestHandler. Default 30 s.
	RequestTimeout time.Duration

	// MaxHandshakes caps inbound handshakes in progress (connections not
	// yet authenticated as a pinned peer). Every new source address is
	// validated with a QUIC Retry first. Default 64.
	MaxHandshakes int

	// Logger receives link events (debug) and refusals (warn, with the
	// remote address, rate-limited). Default: discard.
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every default filled in and no
// identity, address or peers.
func DefaultConfig() Config {
	return Config{
		MaxFrameBytes:  16 << 20,
		QueueMaxFrames: 4096,
		QueueMaxBytes:  64 << 20,
		DialTimeout:    5 * time.Second,
		BackoffMin:     100 * time.Millisecond,
		BackoffMax:     5 * time.Second,
		IdleTimeout:    15 * time.Second,
		RequestTimeout: 30 * time.Second,
		MaxHandshakes:  64,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxFrameBytes == 0 {
		c.MaxFrameBytes = d.MaxFrameBytes
	}
	if c.QueueMaxFrames == 0 {
		c.QueueMaxFrames = d.QueueMaxFrames
	}
	if c.QueueMaxBytes == 0 {
		c.QueueMaxBytes = max(d.QueueMaxBytes, c.MaxFrameBytes)
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = d.DialTimeout
	}
	if c.BackoffMin == 0 {
		c.BackoffMin = d.BackoffMin
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = max(d.BackoffMax, c.BackoffMin)
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = d.RequestTimeout
	}
	if c.MaxHandshakes <= 0 {
		c.MaxHandshakes = d.MaxHandshakes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first problem of c after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case len(c.Key) != ed25519.PrivateKeySize:
		return errors.New("transport: config: Key is not an ed25519 private key")
	case c.ListenAddr == "" && c.PacketConn == nil:
		return errors.New("transport: config: ListenAddr or PacketConn is required")
	case c.MaxFrameBytes < 1 || uint64(c.MaxFrameBytes) > 1<<32-1:
		return fmt.Errorf("transport: config: MaxFrameBytes %d out of range", c.MaxFrameBytes)
	case c.QueueMaxFrames < 1:
		return fmt.Errorf("transport: config: QueueMaxFrames %d < 1", c.QueueMaxFrames)
	case c.QueueMaxBytes < c.MaxFrameBytes:
		return fmt.Errorf("transport: config: QueueMaxBytes %d < MaxFrameBytes %d", c.QueueMaxBytes, c.MaxFrameBytes)
	case c.DialTimeout < 0 || c.BackoffMin < 0 || c.IdleTimeout < 0 || c.RequestTimeout < 0:
		return errors.New("transport: config: negative duration")
	case c.BackoffMax < c.BackoffMin:
		return fmt.Errorf("transport: config: BackoffMax %v < BackoffMin %v", c.BackoffMax, c.BackoffMin)
	}
	return validatePeers(c.SelfID, c.Key, c.Peers)
}

// validatePeers checks a pinned peer list: ed25519 keys, unique ids and
// keys, self (if listed) with our own key, an address for every other.
func validatePeers(selfID uint64, key ed25519.PrivateKey, peers []Peer) error {
	self := key.Public().(ed25519.PublicKey)
	ids := make(map[uint64]bool, len(peers))
	keys := make(map[string]bool, len(peers))
	for _, p := range peers {
		if len(p.Key) != ed25519.PublicKeySize {
			return fmt.Errorf("transport: config: peer %d: key is not an ed25519 public key", p.ID)
		}
		if ids[p.ID] {
			return fmt.Errorf("transport: config: peer %d listed twice", p.ID)
		}
		if keys[string(p.Key)] {
			return fmt.Errorf("transport: config: peer %d: key listed twice", p.ID)
		}
		ids[p.ID], keys[string(p.Key)] = true, true
		if p.ID == selfID {
			if !p.Key.Equal(self) {
				return fmt.Errorf("transport: config: peer %d is self but its key is not Key's", p.ID)
			}
			continue
		}
		if p.Key.Equal(self) {
			return fmt.Errorf("transport: config: peer %d has our own key", p.ID)
		}
		if p.Addr == "" {
			return fmt.Errorf("transport: config: peer %d: no address", p.ID)
		}
	}
	return nil
}

// Stats are monotonic counters of a Mesh since New.
type Stats struct {
	HandshakesRefused uint64 // handshakes refused by the key pin check, either direction
	BadFrames         uint64 // links closed for an oversized, truncated or unreadable frame
	Dials             uint64 // outbound links established
	DialFailures      uint64 // outbound dial or handshake attempts that failed
	QueueDrops        uint64 // frames refused by Send with ErrQueueFull
	FramesSent        uint64 // message frames written to a link
	FramesReceived    uint64 // message frames handed to the Handler
}
