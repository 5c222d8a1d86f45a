package relay

import (
	"bufio"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// proxyHeaderTimeout bounds the wait for a connection's first bytes.
const proxyHeaderTimeout = 5 * time.Second

// proxyListener is the TURN-TCP listener behind a proxy that sends the
// PROXY protocol: a connection from a trusted source (the proxy) that
// starts with a header gets the client's address as its RemoteAddr, which
// the TURN server then logs, reports and checks permissions with. A
// header from any other source is read and ignored (and counted): a
// client cannot choose the address it is known by. Connections are read
// from in goroutines of their own, so a slow one holds up no other.
type proxyListener struct {
	inner   net.Listener
	trusted []*net.IPNet
	log     *slog.Logger

	conns chan net.Conn
	done  chan struct{}
	wg    sync.WaitGroup // the accept loop and every handshake

	ignored   atomic.Uint64 // headers from untrusted sources
	malformed atomic.Uint64 // trusted connections with a broken header, closed
	once      sync.Once
	closeErr  error
}

func newProxyListener(inner net.Listener, trusted []*net.IPNet, log *slog.Logger) *proxyListener {
	l := &proxyListener{inner: inner, trusted: trusted, log: log, conns: make(chan net.Conn), done: make(chan struct{})}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

// Accept returns the next connection whose header was read.
func (l *proxyListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Addr is the listening address.
func (l *proxyListener) Addr() net.Addr { return l.inner.Addr() }

// Close stops accepting and waits for the handshakes under way.
func (l *proxyListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.closeErr = l.inner.Close()
		l.wg.Wait()
	})
	return l.closeErr
}

func (l *proxyListener) acceptLoop() {
	defer l.wg.Done()
	for {
		c, err := l.inner.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		l.wg.Add(1)
		go l.handshake(c)
	}
}

// handshake reads a connection's PROXY header, if it has one, and hands
// the connection to Accept.
func (l *proxyListener) handshake(c net.Conn) {
	defer l.wg.Done()
	_ = c.SetReadDeadline(time.Now().Add(proxyHeaderTimeout))
	r := bufio.NewReader(c)
	h, err := readProxyHeader(r)
	_ = c.SetReadDeadline(time.Time{})
	trusted := l.isTrusted(c.RemoteAddr())
	switch {
	case errors.Is(err, errNoProxyHeader):
	case err != nil && trusted:
		l.malformed.Add(1)
		l.log.Warn("turn-tcp: bad PROXY header from the proxy", "from", c.RemoteAddr().String(), "err", err)
		_ = c.Close()
		return
	case err != nil:
		_ = c.Close() // a stranger's garbage or a silent connection
		return
	case !trusted:
		l.ignored.Add(1)
		l.log.Info("turn-tcp: PROXY header from an untrusted source ignored", "from", c.RemoteAddr().String())
	}
	conn := &proxiedConn{Conn: c, r: r, remote: c.RemoteAddr()}
	if err == nil && trusted && h.source != nil {
		conn.remote = h.source
	}
	select {
	case l.conns <- conn:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *proxyListener) isTrusted(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	for _, n := range l.trusted {
		if n.Contains(ta.IP) {
			return true
		}
	}
	return false
}

// proxiedConn is a connection whose first bytes (the header) were read:
// reads continue from r, and RemoteAddr is the client's.
type proxiedConn struct {
	net.Conn
	r      *bufio.Reader
	remote net.Addr
}

// Read reads the bytes after the header.
func (c *proxiedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// RemoteAddr is the client's address as the proxy named it.
func (c *proxiedConn) RemoteAddr() net.Addr { return c.remote }
