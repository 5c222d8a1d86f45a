package srtpout

import "github.com/pion/rtp"

// Sizes of a packetSlab's allocations.
const (
	// slabBytes is one allocation of packet bytes: about 25 video
	// packets, or a dozen seconds of one Opus stream.
	slabBytes = 32 << 10
	// slabPackets is one allocation of packet structs.
	slabPackets = 32
	// slabExtensions is the room each packet gets for header extensions
	// before parsing allocates; browsers send four to seven.
	slabExtensions = 8
)

// packetSlab hands out one stream's received packets, their bytes and
// their header extensions, carved from allocations shared by many
// consecutive packets: the receive path then allocates about once per
// twenty packets instead of several times per packet. A slab is one
// stream's, so whatever keeps a packet (the NACK history, a recorder)
// keeps at most its neighbours in that same stream alive with it, never
// another stream's. Every slice handed out has its capacity cut to its
// length, so that appending to one never writes into the next.
type packetSlab struct {
	bytes   []byte
	packets []rtp.Packet
	exts    []rtp.Extension
}

// buffer returns n bytes of its own.
func (s *packetSlab) buffer(n int) []byte {
	if n > len(s.bytes) {
		if n > slabBytes/4 {
			return make([]byte, n)
		}
		s.bytes = make([]byte, slabBytes)
	}
	b := s.bytes[:n:n]
	s.bytes = s.bytes[n:]
	return b
}

// packet returns a zero packet whose Extensions has room for
// slabExtensions before Unmarshal must allocate.
func (s *packetSlab) packet() *rtp.Packet {
	if len(s.packets) == 0 {
		s.packets = make([]rtp.Packet, slabPackets)
	}
	if len(s.exts) < slabExtensions {
		s.exts = make([]rtp.Extension, slabPackets*slabExtensions)
	}
	p := &s.packets[0]
	s.packets = s.packets[1:]
	p.Extensions = s.exts[:0:slabExtensions]
	s.exts = s.exts[slabExtensions:]
	return p
}
