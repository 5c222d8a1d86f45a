package hostmux

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"
)

// interfaceAddresses lists the addresses of every interface that is up
// with two kernel dumps (links, then every address), whatever the number
// of interfaces: it runs at every rescan, and a host may have hundreds of
// container interfaces.
func interfaceAddresses() ([]netip.Addr, error) {
	up, err := upInterfaces()
	if err != nil {
		return nil, err
	}
	rib, err := syscall.NetlinkRIB(syscall.RTM_GETADDR, syscall.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("netlink address dump: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, fmt.Errorf("netlink address dump: %w", err)
	}
	var out []netip.Addr
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Type == syscall.NLMSG_DONE {
			break
		}
		if m.Header.Type != syscall.RTM_NEWADDR || len(m.Data) < syscall.SizeofIfAddrmsg {
			continue
		}
		// struct ifaddrmsg: family, prefix length, flags, scope (one byte
		// each), then the interface index.
		if !up[int(binary.NativeEndian.Uint32(m.Data[4:8]))] {
			continue
		}
		if a, ok := netlinkAddress(m); ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// netlinkAddress is one RTM_NEWADDR message's local address: IFA_LOCAL
// when present (IPv4; on point-to-point links IFA_ADDRESS is the peer's),
// else IFA_ADDRESS.
func netlinkAddress(m *syscall.NetlinkMessage) (netip.Addr, bool) {
	attrs, err := syscall.ParseNetlinkRouteAttr(m)
	if err != nil {
		return netip.Addr{}, false
	}
	var local, address netip.Addr
	for _, a := range attrs {
		ip, ok := netip.AddrFromSlice(a.Value)
		if !ok {
			continue
		}
		switch a.Attr.Type {
		case syscall.IFA_LOCAL:
			local = ip.Unmap()
		case syscall.IFA_ADDRESS:
			address = ip.Unmap()
		}
	}
	if local.IsValid() {
		return local, true
	}
	return address, address.IsValid()
}
