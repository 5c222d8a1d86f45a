package sfu

import (
	"net"
	"net/netip"
)

// announcement is what ipv4_address and ipv6_address make of the host's
// addresses, one family at a time: while the family's address is on an
// interface, media of that family uses it alone; while it is not (1:1
// NAT, or not assigned yet), it is announced in place of every local
// address of the family; with no address, every local address of the
// family is used as it is. One family's setting never touches the other.
// Whether an address is local is looked at again as interfaces change.
type announcement struct {
	addrs    [2]netip.Addr // configured, by family (0: IPv4, 1: IPv6); invalid: none
	external []string      // every configured address, announced in place of local ones
	loopback bool          // a configured address is a loopback one
}

func newAnnouncement(cfg *Config) announcement {
	var a announcement
	for _, s := range []string{cfg.ICEAddress, cfg.IPv6Address} {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			continue // empty, or Validate reports it
		}
		ip = ip.Unmap()
		a.addrs[familyOf(ip)] = ip
		// Mapping an address of this host to itself changes nothing, so
		// the mapping holds whether the address is local or not.
		a.external = append(a.external, ip.String())
		a.loopback = a.loopback || ip.IsLoopback()
	}
	return a
}

func familyOf(ip netip.Addr) int {
	if ip.Is4() {
		return 0
	}
	return 1
}

// pinned lists the configured addresses, for the shared port's mux
// (hostmux.Config.Pinned), which pins to each while it is local.
func (a announcement) pinned() []netip.Addr {
	var out []netip.Addr
	for _, ip := range a.addrs {
		if ip.IsValid() {
			out = append(out, ip)
		}
	}
	return out
}

// keep reports whether media may use the local address ip, looking at
// the interfaces now; the per-connection ports (udp_port = 0) use it.
func (a announcement) keep(ip netip.Addr) bool {
	if ip.IsLinkLocalUnicast() {
		return false // never announced (RFC 8445 5.1.1.1); unreachable without a zone
	}
	want := a.addrs[familyOf(ip)]
	return !want.IsValid() || ip == want || !isLocalAddress(want)
}

// isLocalAddress reports whether ip is assigned to a local interface
// (tentative addresses included).
func isLocalAddress(ip netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if local, ok := netip.AddrFromSlice(n.IP); ok && local.Unmap() == ip {
				return true
			}
		}
	}
	return false
}
