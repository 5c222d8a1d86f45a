package srtpout

import (
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// Sockets is the network pion's UDP mux is built on (ice's
// UDPMuxFromPortWithNet): the standard network, with every UDP socket the
// mux listens on noted, so that a Path can send from the very socket (so
// the address and port) ICE agreed on with the remote side.
type Sockets struct {
	transport.Net

	mu    sync.Mutex
	conns []*net.UDPConn
}

// NewSockets returns a Sockets on the standard network.
func NewSockets() (*Sockets, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, fmt.Errorf("standard network: %w", err)
	}
	return &Sockets{Net: n}, nil
}

// ListenUDP listens like the standard network and notes the socket.
func (s *Sockets) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := s.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	if uc, ok := c.(*net.UDPConn); ok {
		s.mu.Lock()
		s.conns = append(s.conns, uc)
		s.mu.Unlock()
	}
	return c, nil
}

// lookup returns the socket a local ICE candidate with address local
// sends from: the one bound to that address or, when the candidate
// announces another address (1:1 NAT), the only socket of its family.
// It returns nil when neither exists.
func (s *Sockets) lookup(local netip.Addr) *net.UDPConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	local = local.Unmap()
	var family *net.UDPConn
	sameFamily := 0
	for _, c := range s.conns {
		bound := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
		if bound == local {
			return c
		}
		if bound.Is4() == local.Is4() {
			family = c
			sameFamily++
		}
	}
	if sameFamily == 1 {
		return family
	}
	return nil
}
