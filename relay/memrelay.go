package relay

import (
	"errors"
	"fmt"
	"net"

	"github.com/pion/turn/v5"

	"github.com/kiroku-sfu/kiroku/memudp"
)

// switchedRelays allocates relays as RelayAddressGeneratorStatic does and
// attaches each to a memudp.Switch, so that what a relay exchanges with
// the SFU's media sockets on the same switch stays in memory. Packets to
// or from anyone else (none: permit allows only the SFU) use the socket.
type switchedRelays struct {
	*turn.RelayAddressGeneratorStatic
	sw *memudp.Switch
}

// AllocatePacketConn implements turn.RelayAddressGenerator.
func (g *switchedRelays) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	conn, addr, err := g.RelayAddressGeneratorStatic.AllocatePacketConn(conf)
	if err != nil {
		return nil, nil, err
	}
	udp, ok := conn.(*net.UDPConn)
	if !ok {
		return nil, nil, errors.Join(fmt.Errorf("relay: allocation socket is a %T, not UDP", conn), conn.Close())
	}
	attached, err := g.sw.Attach(udp)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("relay: allocation: %w", err), udp.Close())
	}
	return attached, addr, nil
}
