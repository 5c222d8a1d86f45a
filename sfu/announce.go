package sfu

import (
	"net"
	"net/netip"
)

// announcement is what ipv4_address and ipv6_address make of the host's
// addresses, one family at a time: an address of this host pins media of
// its family to it; another address (1:1 NAT) is announced in place of
// every local address of its family; no address uses every local address
// of the family as it is. One family's setting never touches the other.
type announcement struct {
	pinned4, pinned6 netip.Addr // invalid: not pinned
	external         []string   // announced in place of local addresses, one per family at most
	loopback         bool       // a pinned address is a loopback one
}

func newAnnouncement(cfg *Config) announcement {
	var a announcement
	for _, s := range []string{cfg.ICEAddress, cfg.IPv6Address} {
		if s == "" {
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			continue // Validate reports it
		}
		ip = ip.Unmap()
		switch {
		case !isLocalAddress(ip):
			a.external = append(a.external, ip.String())
		case ip.Is4():
			a.pinned4 = ip
		default:
			a.pinned6 = ip
		}
		a.loopback = a.loopback || (isLocalAddress(ip) && ip.IsLoopback())
	}
	return a
}

// keep reports whether media may use the local address ip.
func (a announcement) keep(ip netip.Addr) bool {
	if ip.IsLinkLocalUnicast() {
		return false // never announced (RFC 8445 5.1.1.1); unreachable without a zone
	}
	if ip.Is4() && a.pinned4.IsValid() {
		return ip == a.pinned4
	}
	if ip.Is6() && a.pinned6.IsValid() {
		return ip == a.pinned6
	}
	return true
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
