//go:build !linux

package memudp

import (
	"net"
	"net/netip"
)

// socketIO reads and writes a Conn's socket; elsewhere than on Linux it
// is the socket's own methods.
type socketIO struct{ udp *net.UDPConn }

func newSocketIO(conn *net.UDPConn) (*socketIO, error) { return &socketIO{udp: conn}, nil }

func (s *socketIO) read(b []byte) (int, netip.AddrPort, error) { return s.udp.ReadFromUDPAddrPort(b) }

func (s *socketIO) write(b []byte, addr netip.AddrPort) (int, error) {
	return s.udp.WriteToUDPAddrPort(b, addr)
}
