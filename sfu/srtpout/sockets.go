package srtpout

import (
	"net/netip"

	"github.com/kiroku-sfu/kiroku/memudp"
)

// Sockets finds the UDP socket a local ICE candidate's packets leave
// from, so that a Path sends from the very socket (so the address and
// port) ICE agreed on with the remote side. The SFU's shared media port
// (sfu/hostmux) is one.
type Sockets interface {
	// Socket returns the socket of a host candidate with address local,
	// or nil when there is none. Datagrams it writes to the built-in
	// TURN server's relays stay in memory.
	Socket(local netip.Addr) *memudp.Conn
}
