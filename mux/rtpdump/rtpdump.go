// Package rtpdump reads and writes captures in rtptools' rtpdump format
// together with kiroku's JSON sidecar, which says what each stream in a
// capture is.
//
// A capture file starts with the text line "#!rtpplay1.0 ADDRESS/PORT\n",
// then a 16-byte binary header (start seconds, start microseconds, source
// IPv4 address, port, padding), then one record per packet: an 8-byte header
// (u16 length = 8 + stored bytes, u16 plen = packet length for RTP or 0 for
// RTCP, u32 milliseconds since the start) followed by the packet bytes. All
// integers are big-endian.
//
// Reader streams a capture with one bounded buffer and no allocation per
// packet; Writer produces the same format. Sidecar and Open pair a capture
// NAME.rtpdump with its description NAME.json.
package rtpdump

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/pion/rtp"
)

const (
	// magic opens the text line of every rtpdump file.
	magic = "#!rtpplay1.0 "
	// maxLineLen bounds the text line so that a file without a newline
	// cannot make the reader buffer without limit.
	maxLineLen = 512
	// fileHeaderLen is the size of the binary file header.
	fileHeaderLen = 16
	// recordHeaderLen is the size of each packet record's header.
	recordHeaderLen = 8
	// MaxPacketSize is the largest packet a record can hold: its u16 length
	// field counts the 8-byte record header too.
	MaxPacketSize = math.MaxUint16 - recordHeaderLen
	// maxOffset is the largest offset the u32 millisecond field can hold.
	maxOffset = time.Duration(math.MaxUint32) * time.Millisecond
)

// ErrFormat reports bytes that do not follow the rtpdump format.
var ErrFormat = errors.New("rtpdump: malformed file")

// Header describes where and when a capture was made.
type Header struct {
	// Start is the wall-clock time of the capture's start, to the microsecond.
	Start time.Time
	// Source is the IPv4 source address from the binary header.
	Source netip.Addr
	// Port is the UDP port from the binary header.
	Port uint16
}

// Packet is one captured RTP or RTCP packet.
type Packet struct {
	// Offset is the arrival time since Header.Start, in whole milliseconds.
	Offset time.Duration
	// Data holds the packet's bytes as stored. When returned by
	// Reader.Next it aliases the reader's buffer and is valid only until
	// the next call to Next.
	Data []byte
	// RTCP marks an RTCP packet (a record whose plen field is 0).
	RTCP bool
}

// UnmarshalRTP parses an RTP packet's bytes into dst. dst's payload and
// extension slices alias p.Data, so they share its lifetime.
func (p Packet) UnmarshalRTP(dst *rtp.Packet) error {
	if p.RTCP {
		return fmt.Errorf("rtpdump: unmarshal RTP: packet at %v is RTCP", p.Offset)
	}
	if err := dst.Unmarshal(p.Data); err != nil {
		return fmt.Errorf("rtpdump: unmarshal RTP at %v: %w", p.Offset, err)
	}
	return nil
}
