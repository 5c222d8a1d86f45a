package hostmux

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/kiroku-sfu/kiroku/memudp"
	"github.com/pion/ice/v4"
)

// scan lists the local addresses, marks which bound ones are still there
// and binds the usable ones not bound yet. On the first scan (initial) an
// address that is only not ready (tentative) waits for a later scan and
// any other failure is returned; later scans log failures, once per
// address, and never fail.
func (m *Mux) scan(initial bool) error {
	addrs, err := m.cfg.Addresses()
	if err != nil {
		err = fmt.Errorf("hostmux: list local addresses: %w", err)
		if initial {
			return err
		}
		m.noteScanError(err)
		return nil
	}
	m.noteScanError(nil)
	pins := m.presentPins(addrs)
	usable := make(map[netip.Addr]bool, len(addrs))
	for _, a := range addrs {
		if a = a.Unmap(); m.usable(a, pins) {
			usable[a] = true
		}
	}
	m.markPresent(usable)
	for _, a := range addrs {
		a = a.Unmap()
		if !usable[a] || m.bound(a) {
			continue
		}
		if err := m.bind(a, initial); err != nil {
			return err
		}
	}
	return nil
}

// Deprecated IPv6 blocks RFC 8445 keeps out of candidates.
var (
	ipv4Compatible = netip.MustParsePrefix("::/96")
	siteLocal      = netip.MustParsePrefix("fec0::/10")
)

// presentPins returns the pinned addresses found among addrs, by family
// (index 0: IPv4, 1: IPv6).
func (m *Mux) presentPins(addrs []netip.Addr) [2]netip.Addr {
	var pins [2]netip.Addr
	for _, p := range m.cfg.Pinned {
		p = p.Unmap()
		for _, a := range addrs {
			if a.Unmap() == p {
				pins[family(p)] = p
			}
		}
	}
	return pins
}

func family(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

// usable reports whether a is an address media may use, given the
// pinned addresses on an interface.
func (m *Mux) usable(a netip.Addr, pins [2]netip.Addr) bool {
	switch {
	case !a.IsValid() || a.IsUnspecified() || a.IsMulticast() || a.IsLinkLocalUnicast():
		return false
	case a.Is4() && !m.cfg.IPv4, a.Is6() && !m.cfg.IPv6:
		return false
	case a.IsLoopback():
		if !m.cfg.Loopback {
			return false
		}
	case a.Is6() && (ipv4Compatible.Contains(a) || siteLocal.Contains(a)):
		return false // never candidates (RFC 8445 5.1.1.1)
	}
	if pin := pins[family(a)]; pin.IsValid() && a != pin {
		return false
	}
	return m.cfg.Keep == nil || m.cfg.Keep(a)
}

// markPresent notes which bound addresses are still on an interface, and
// forgets waiting addresses that left (one that comes back is reported
// again).
func (m *Mux) markPresent(usable map[netip.Addr]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.sockets {
		s.present = usable[s.addr]
	}
	for a := range m.waiting {
		if !usable[a] {
			delete(m.waiting, a)
		}
	}
}

// bound reports whether a has a socket.
func (m *Mux) bound(a netip.Addr) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, s := range m.sockets {
		if s.addr == a {
			return true
		}
	}
	return false
}

// bind listens on a. See scan for what a failure does.
func (m *Mux) bind(a netip.Addr, initial bool) error {
	network := "udp6"
	if a.Is4() {
		network = "udp4"
	}
	conn, err := m.cfg.listen(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, m.cfg.Port)))
	if err != nil {
		err = fmt.Errorf("hostmux: listen on %s port %d: %w", a, m.cfg.Port, err)
		if initial && !notReady(err) {
			return err
		}
		m.mu.Lock()
		first := !m.waiting[a]
		m.waiting[a] = true
		m.mu.Unlock()
		if first {
			m.log.Warn("local address not usable for media yet; trying again until it is", "address", a.String(), "err", err)
		}
		return nil
	}
	if m.cfg.BufferBytes > 0 {
		_ = conn.SetReadBuffer(m.cfg.BufferBytes)
		_ = conn.SetWriteBuffer(m.cfg.BufferBytes)
	}
	attach := m.cfg.Switch.Attach
	if m.cfg.Coalesce > 0 {
		attach = func(conn *net.UDPConn) (*memudp.Conn, error) { return m.cfg.Switch.AttachBatched(conn, m.cfg.Coalesce) }
	}
	attached, err := attach(conn)
	if err != nil {
		return errors.Join(fmt.Errorf("hostmux: %s: %w", a, err), conn.Close())
	}
	if m.cfg.Tap != nil {
		attached.SetTap(m.cfg.Tap(attached))
	}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: attached})
	m.mu.Lock()
	late := m.waiting[a] || !initial
	delete(m.waiting, a)
	m.sockets = append(m.sockets, &socket{addr: a, conn: attached, mux: mux, present: true})
	m.mu.Unlock()
	if late {
		m.log.Info("local address now used for media", "address", conn.LocalAddr().String())
	}
	return nil
}

// notReady reports whether a bind failed only because the address is not
// usable yet: the kernel refuses to bind an IPv6 address while duplicate
// address detection has it tentative.
func notReady(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL)
}

// noteScanError logs a failure to list addresses once, until a listing
// works again.
func (m *Mux) noteScanError(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case err == nil:
		m.scanErr = ""
	case err.Error() != m.scanErr:
		m.scanErr = err.Error()
		m.log.Warn("cannot list local addresses; trying again", "err", err)
	}
}

// Waiting returns the usable addresses that could not be bound yet.
func (m *Mux) Waiting() []netip.Addr {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]netip.Addr, 0, len(m.waiting))
	for a := range m.waiting {
		out = append(out, a)
	}
	return out
}
