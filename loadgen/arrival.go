package loadgen

import (
	"encoding/binary"
	"net"
	"sync"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// arrivalSlots is how many recent packets per SSRC a subscriber remembers
// the socket arrival of: far more than its SRTP stack holds back.
const arrivalSlots = 1024

// arrivals remembers when RTP packets passed a client's UDP socket (in or
// out), by SSRC and sequence number, both readable in SRTP packets (SRTP
// encrypts the payload only). The forwarding delay measured from the
// publisher's socket to the subscriber's leaves out both clients' own
// SRTP and pion stacks, which are the load generator's cost, not the
// SFU's.
type arrivals struct {
	mu     sync.Mutex
	bySSRC map[uint32]*[arrivalSlots]arrival
}

type arrival struct {
	at  int64 // unix nanoseconds; 0 for none
	seq uint16
}

// note records an incoming datagram's arrival if it is RTP.
func (a *arrivals) note(b []byte, at time.Time) {
	// RTP version 2 (a first byte of 128-191: not STUN, DTLS or TURN), and
	// not RTCP (payload type byte 192-223, RFC 5761).
	if len(b) < 12 || b[0]>>6 != 2 || (b[1] >= 192 && b[1] <= 223) {
		return
	}
	ssrc, seq := binary.BigEndian.Uint32(b[8:12]), binary.BigEndian.Uint16(b[2:4])
	a.mu.Lock()
	if a.bySSRC == nil {
		a.bySSRC = make(map[uint32]*[arrivalSlots]arrival)
	}
	ring := a.bySSRC[ssrc]
	if ring == nil {
		ring = new([arrivalSlots]arrival)
		a.bySSRC[ssrc] = ring
	}
	ring[seq%arrivalSlots] = arrival{at: at.UnixNano(), seq: seq}
	a.mu.Unlock()
}

// lookup returns when the packet ssrc/seq reached the socket; a nil
// arrivals knows nothing.
func (a *arrivals) lookup(ssrc uint32, seq uint16) (time.Time, bool) {
	if a == nil {
		return time.Time{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ring := a.bySSRC[ssrc]
	if ring == nil {
		return time.Time{}, false
	}
	r := ring[seq%arrivalSlots]
	if r.at == 0 || r.seq != seq {
		return time.Time{}, false
	}
	return time.Unix(0, r.at), true
}

// arrivalNet is the network a client's ICE gathers on: the host's, with
// every UDP socket noting the RTP it receives (in) and sends (out); a nil
// log notes nothing.
type arrivalNet struct {
	*stdnet.Net
	in, out *arrivals
	now     func() time.Time
}

// ListenUDP implements transport.Net.
func (n *arrivalNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	ac := &arrivalConn{UDPConn: c, in: n.in, out: n.out, now: n.now}
	if udp, ok := c.(*net.UDPConn); ok && n.in != nil && EnableRxTimestamps(udp) == nil {
		ac.kernel, ac.oob = udp, make([]byte, OOBBytes)
	}
	return ac, nil
}

// arrivalConn is a UDP socket that notes the RTP passing it. ICE reads
// and writes it through ReadFrom and WriteTo (it has no allocation-free
// methods of its own).
type arrivalConn struct {
	transport.UDPConn
	in, out *arrivals
	now     func() time.Time
	// kernel is the socket when it gives kernel receive timestamps: the
	// arrival is then when the datagram reached the socket, not when this
	// process got around to reading it. oob is its scratch space (ICE
	// reads a socket from one goroutine).
	kernel *net.UDPConn
	oob    []byte
}

// ReadFrom implements net.PacketConn.
func (c *arrivalConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if c.kernel != nil {
		n, addr, at, err := ReadWithTimestamp(c.kernel, b, c.oob, c.now)
		if err != nil {
			return n, nil, err
		}
		c.in.note(b[:n], at)
		return n, addr, nil
	}
	n, addr, err := c.UDPConn.ReadFrom(b)
	if n > 0 && c.in != nil {
		c.in.note(b[:n], c.now())
	}
	return n, addr, err
}

// WriteTo implements net.PacketConn. The time noted is taken before the
// send: a time taken after it could be late by however long this
// goroutine waited for a CPU, which would flatter the SFU.
func (c *arrivalConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	at := c.now()
	n, err := c.UDPConn.WriteTo(b, addr)
	if err == nil && c.out != nil {
		c.out.note(b, at)
	}
	return n, err
}
