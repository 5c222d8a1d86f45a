package hostmux

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/ice/v4"

	"github.com/kiroku-sfu/kiroku/memudp"
)

// DefaultRescan is how often a Mux looks for new local addresses when
// Config.Rescan is zero: an address that finished duplicate address
// detection (one to two seconds after it appeared) is in use within it.
const DefaultRescan = 2 * time.Second

// Config says where a Mux listens.
type Config struct {
	// Port is the UDP port on every address; 0 lets the kernel choose one
	// per address (tests).
	Port uint16
	// IPv4 and IPv6 choose the address families used.
	IPv4, IPv6 bool
	// Keep, if not nil, says whether a local address may be used.
	Keep func(netip.Addr) bool
	// Pinned are addresses (one per family at most) that, while they are
	// on an interface, are the only ones of their family used; while one
	// is not (an address behind 1:1 NAT, or one not assigned yet), every
	// address of its family is. Decided anew at every scan.
	Pinned []netip.Addr
	// Loopback uses loopback addresses too (tests on 127.0.0.1 and ::1).
	Loopback bool
	// BufferBytes, if positive, is the kernel buffer asked for each way
	// on every socket.
	BufferBytes int
	// Rescan is how often local addresses are looked at again; 0 means
	// DefaultRescan.
	Rescan time.Duration
	// Logger receives a line when an address cannot be bound (once per
	// address) and when it is bound late; nil discards them.
	Logger *slog.Logger
	// Addresses lists the host's addresses; nil means those of every
	// interface that is up.
	Addresses func() ([]netip.Addr, error)
	// Switch, if not nil, carries datagrams between the sockets and other
	// sockets of this process in memory (the built-in TURN server's
	// relays).
	Switch *memudp.Switch
	// Coalesce, if positive, reads each socket outside Go's poller, in
	// batches, letting arrivals gather for up to Coalesce while traffic
	// is heavy (memudp.Switch.AttachBatched); 0 reads through Go's
	// poller.
	Coalesce time.Duration
	// Tap, if not nil, gives the tap installed on each socket, which sees
	// every datagram before pion's UDP mux does (srtpout.Demux).
	Tap func(*memudp.Conn) memudp.Tap

	// listen binds one socket; nil means net.ListenUDP (tests replace it).
	listen func(network string, laddr *net.UDPAddr) (*net.UDPConn, error)
}

// Mux is an ice.UDPMux over one socket per local address. Its methods are
// safe for concurrent use; a rescan goroutine runs until Close.
type Mux struct {
	cfg Config
	log *slog.Logger

	mu      sync.RWMutex
	sockets []*socket // in the order they were bound
	waiting map[netip.Addr]bool
	scanErr string // the last address listing error, logged once

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// socket is one bound address.
type socket struct {
	addr    netip.Addr
	conn    *memudp.Conn
	mux     *ice.UDPMuxDefault
	present bool // the address was on an interface at the last scan
}

// New binds every usable address it can and starts looking for more.
// An address that cannot be bound yet (tentative) is skipped, and no
// usable address at all is only logged; any other error binding an
// address (the port is taken) fails.
func New(cfg Config) (*Mux, error) {
	if !cfg.IPv4 && !cfg.IPv6 {
		return nil, errors.New("hostmux: no address family enabled")
	}
	if cfg.Rescan <= 0 {
		cfg.Rescan = DefaultRescan
	}
	if cfg.Addresses == nil {
		cfg.Addresses = interfaceAddresses
	}
	if cfg.listen == nil {
		cfg.listen = net.ListenUDP
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m := &Mux{cfg: cfg, log: log, waiting: make(map[netip.Addr]bool),
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := m.scan(true); err != nil {
		close(m.done)
		return nil, errors.Join(err, m.Close())
	}
	if len(m.sockets) == 0 && len(m.waiting) == 0 {
		// At boot a host may have no usable address yet (only link-local
		// ones): media waits for one rather than the process failing.
		log.Warn("no local address usable for media yet; looking again until one is", "port", cfg.Port)
	}
	go m.rescanLoop()
	return m, nil
}

// rescanLoop looks for new addresses until Close.
func (m *Mux) rescanLoop() {
	defer close(m.done)
	t := time.NewTicker(m.cfg.Rescan)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			_ = m.scan(false) // later failures are logged, never fatal
		}
	}
}

// GetConn implements ice.UDPMux: the connection of ufrag on the socket
// bound to addr.
func (m *Mux) GetConn(ufrag string, addr net.Addr) (net.PacketConn, error) {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return nil, fmt.Errorf("hostmux: local address %s: %w", addr, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, s := range m.sockets {
		if s.conn.LocalAddr().(*net.UDPAddr).AddrPort() == ap {
			return s.mux.GetConn(ufrag, addr)
		}
	}
	return nil, fmt.Errorf("hostmux: no socket on %s", addr)
}

// RemoveConnByUfrag implements ice.UDPMux.
func (m *Mux) RemoveConnByUfrag(ufrag string) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, s := range m.sockets {
		s.mux.RemoveConnByUfrag(ufrag)
	}
}

// GetListenAddresses implements ice.UDPMux: the bound addresses still on
// an interface, in the order they were bound. A connection's host
// candidates are gathered from them.
func (m *Mux) GetListenAddresses() []net.Addr {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]net.Addr, 0, len(m.sockets))
	for _, s := range m.sockets {
		if s.present {
			out = append(out, s.conn.LocalAddr())
		}
	}
	return out
}

// Socket returns the socket a host candidate with address local sends
// from: the one bound to local or, when local is an announced address
// (1:1 NAT), the first present socket of its family, which is the one
// pion keeps among candidates that announce the same address. It returns
// nil when there is none.
func (m *Mux) Socket(local netip.Addr) *memudp.Conn {
	local = local.Unmap()
	m.mu.RLock()
	defer m.mu.RUnlock()
	var family *memudp.Conn
	for _, s := range m.sockets {
		if s.addr == local {
			return s.conn
		}
		if family == nil && s.present && s.addr.Is4() == local.Is4() {
			family = s.conn
		}
	}
	return family
}

// ReadStats sums the batched reading totals of the sockets bound now
// (zero without BatchReads).
func (m *Mux) ReadStats() memudp.ReadStats {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var sum memudp.ReadStats
	for _, s := range m.sockets {
		st := s.conn.ReadStats()
		sum.Reads += st.Reads
		sum.Datagrams += st.Datagrams
		sum.Waits += st.Waits
		sum.Polls += st.Polls
	}
	return sum
}

// Close stops the rescans and closes every socket. It is idempotent.
func (m *Mux) Close() error {
	m.closeOnce.Do(func() {
		close(m.stop)
		<-m.done
		m.mu.Lock()
		defer m.mu.Unlock()
		var errs []error
		for _, s := range m.sockets {
			if err := s.mux.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", s.addr, err))
			}
		}
		m.sockets = nil
		m.closeErr = errors.Join(errs...)
	})
	return m.closeErr
}
