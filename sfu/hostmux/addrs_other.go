//go:build !linux

package hostmux

import "net/netip"

// interfaceAddresses lists the addresses of every interface that is up.
func interfaceAddresses() ([]netip.Addr, error) { return interfaceAddressesEach() }
