package hostmux

import (
	"fmt"
	"net"
	"net/netip"
)

// upInterfaces returns the indexes of the interfaces that are up.
func upInterfaces() (map[int]bool, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	up := make(map[int]bool, len(ifaces))
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp != 0 {
			up[ifc.Index] = true
		}
	}
	return up, nil
}

// interfaceAddressesEach lists the addresses of every interface that is
// up, one interface at a time (on Linux each asks the kernel for every
// address of the host).
func interfaceAddressesEach() ([]netip.Addr, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			return nil, fmt.Errorf("addresses of %s: %w", ifc.Name, err)
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok {
					out = append(out, ip.Unmap())
				}
			}
		}
	}
	return out, nil
}
