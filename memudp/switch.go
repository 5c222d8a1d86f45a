package memudp

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// bufferBytes is the size of the pooled buffers datagrams are copied
// into: more than a relayed RTP packet (pion/turn reads 1,600 bytes). A
// larger datagram gets a buffer of its own.
const bufferBytes = 2048

// Switch connects the Conns attached to it. It is safe for concurrent
// use; the zero value is not: use NewSwitch.
type Switch struct {
	mu    sync.Mutex                               // serialises attach and detach
	conns atomic.Pointer[map[netip.AddrPort]*Conn] // replaced, never changed in place

	buffers sync.Pool // *[]byte of bufferBytes

	handed  atomic.Uint64
	dropped atomic.Uint64
}

// NewSwitch returns a switch with nothing attached.
func NewSwitch() *Switch {
	s := &Switch{}
	s.buffers.New = func() any {
		b := make([]byte, bufferBytes)
		return &b
	}
	empty := map[netip.AddrPort]*Conn{}
	s.conns.Store(&empty)
	return s
}

// Stats are a switch's totals since it was made.
type Stats struct {
	// Handed counts the datagrams handed over in memory.
	Handed uint64
	// Dropped counts those dropped because the receiving Conn's queue
	// was full, as a full socket buffer drops them.
	Dropped uint64
}

// Stats returns the switch's totals; a nil switch has none.
func (s *Switch) Stats() Stats {
	if s == nil {
		return Stats{}
	}
	return Stats{Handed: s.handed.Load(), Dropped: s.dropped.Load()}
}

// Attach wraps conn in a Conn on s, reachable in memory at conn's local
// address. conn must be bound to a specific address (an unspecified one
// names no single destination). A nil Switch gives a Conn that only
// uses its socket.
func (s *Switch) Attach(conn *net.UDPConn) (*Conn, error) {
	sio, err := newSocketIO(conn)
	if err != nil {
		return nil, fmt.Errorf("memudp: attach: %w", err)
	}
	c := &Conn{udp: conn, io: sio, localAddr: conn.LocalAddr(), sw: s}
	if s == nil {
		return c, nil
	}
	udpAddr, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok {
		return nil, fmt.Errorf("memudp: attach: local address %v is not UDP", conn.LocalAddr())
	}
	local := canonical(udpAddr.AddrPort())
	if local.Addr().IsUnspecified() {
		return nil, fmt.Errorf("memudp: attach %s: an unspecified address names no destination", local)
	}
	c.local = local
	c.inbox.init(inboxDatagrams)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.conns.Load()
	if _, taken := old[local]; taken {
		return nil, fmt.Errorf("memudp: attach %s: already attached", local)
	}
	next := make(map[netip.AddrPort]*Conn, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[local] = c
	s.conns.Store(&next)
	return c, nil
}

// detach removes c, so datagrams to its address take the network again.
func (s *Switch) detach(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.conns.Load()
	if old[c.local] != c {
		return
	}
	next := make(map[netip.AddrPort]*Conn, len(old))
	for k, v := range old {
		if v != c {
			next[k] = v
		}
	}
	s.conns.Store(&next)
}

// lookup returns the Conn attached at addr, or nil.
func (s *Switch) lookup(addr netip.AddrPort) *Conn {
	if s == nil {
		return nil
	}
	return (*s.conns.Load())[canonical(addr)]
}

// buffer returns a buffer holding a copy of p.
func (s *Switch) buffer(p []byte) *[]byte {
	if len(p) > bufferBytes {
		b := make([]byte, len(p))
		copy(b, p)
		return &b
	}
	b := s.buffers.Get().(*[]byte)
	*b = (*b)[:len(p)]
	copy(*b, p)
	return b
}

// release returns a buffer from buffer.
func (s *Switch) release(b *[]byte) {
	if cap(*b) == bufferBytes {
		*b = (*b)[:bufferBytes]
		s.buffers.Put(b)
	}
}

// canonical unmaps IPv4-mapped IPv6 addresses, so both spellings of an
// IPv4 address find the same Conn.
func canonical(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}
