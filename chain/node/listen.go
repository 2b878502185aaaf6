package node

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// The client API's TCP port serves TLS (any address) and, on a loopback
// address when the config allows it, plain HTTP. Both share one port: the
// first byte of a connection tells them apart (0x16 opens every TLS
// handshake; no HTTP method starts with it).

const tlsHandshakeByte = 0x16

// splitListener sorts the connections of one TCP listener into a TLS
// listener and a plain one (nil: plain connections are answered with a
// one-line refusal and closed).
type splitListener struct {
	ln      net.Listener
	timeout time.Duration
	tls     *chanListener
	plain   *chanListener // nil when plain HTTP is off
	wg      sync.WaitGroup
}

func newSplitListener(ln net.Listener, sniffTimeout time.Duration, plain bool) *splitListener {
	s := &splitListener{ln: ln, timeout: sniffTimeout, tls: newChanListener(ln.Addr())}
	if plain {
		s.plain = newChanListener(ln.Addr())
	}
	s.wg.Add(1)
	go s.run()
	return s
}

func (s *splitListener) run() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.tls.close()
			if s.plain != nil {
				s.plain.close()
			}
			return
		}
		// One goroutine per accepted connection for at most timeout: the
		// listener below caps how many connections exist at all.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.sort(c)
		}()
	}
}

func (s *splitListener) sort(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(s.timeout))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		_ = c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	pc := &prefixConn{Conn: c, first: b[0], has: true}
	switch {
	case b[0] == tlsHandshakeByte:
		s.tls.push(pc)
	case s.plain != nil:
		s.plain.push(pc)
	default:
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"+
			"this node serves its API over TLS only: use https:// with the node's key pinned from the genesis\n")
		_ = c.Close()
	}
}

// Close closes the TCP listener and waits for the sorting goroutines.
func (s *splitListener) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

// prefixConn gives back the byte the sorter read.
type prefixConn struct {
	net.Conn
	first byte
	has   bool
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if p.has && len(b) > 0 {
		b[0] = p.first
		p.has = false
		return 1, nil
	}
	return p.Conn.Read(b)
}

// chanListener is a net.Listener fed by splitListener.
type chanListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) push(c net.Conn) {
	select {
	case l.ch <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *chanListener) close() { l.once.Do(func() { close(l.done) }) }

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error   { l.close(); return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

var errNoAPI = errors.New("node: no client API address")
