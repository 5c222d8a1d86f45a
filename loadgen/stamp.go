package loadgen

import (
	"encoding/binary"
	"errors"
	"time"
)

// StampBytes is the size of a [Stamp] in a payload.
const StampBytes = 1 + len(stampMagic) + 4 + 8 + 8

// stampMagic tells a stamped payload from any other.
const stampMagic = "KLG1"

// vp8Descriptor is a minimal VP8 payload descriptor: start of partition 0,
// no extensions. It keeps the payload a plausible VP8 packet.
const vp8Descriptor = 0x10

// Stamp is what a publisher writes at the start of each RTP payload.
type Stamp struct {
	// Publisher is the index of the sending publisher in its [Load].
	Publisher uint32
	// Seq counts the publisher's packets from 0.
	Seq uint64
	// Sent is the send time.
	Sent time.Time
}

// ErrNoStamp is returned by [ParseStamp] for a payload without a stamp.
var ErrNoStamp = errors.New("payload carries no stamp")

// PutStamp writes s to the start of payload, which must hold at least
// [StampBytes] bytes.
func PutStamp(payload []byte, s Stamp) {
	_ = payload[StampBytes-1] // one bounds check
	payload[0] = vp8Descriptor
	copy(payload[1:], stampMagic)
	o := 1 + len(stampMagic)
	binary.BigEndian.PutUint32(payload[o:], s.Publisher)
	binary.BigEndian.PutUint64(payload[o+4:], s.Seq)
	binary.BigEndian.PutUint64(payload[o+12:], uint64(s.Sent.UnixNano()))
}

// ParseStamp reads the stamp at the start of payload.
func ParseStamp(payload []byte) (Stamp, error) {
	if len(payload) < StampBytes || payload[0] != vp8Descriptor || string(payload[1:1+len(stampMagic)]) != stampMagic {
		return Stamp{}, ErrNoStamp
	}
	o := 1 + len(stampMagic)
	return Stamp{
		Publisher: binary.BigEndian.Uint32(payload[o:]),
		Seq:       binary.BigEndian.Uint64(payload[o+4:]),
		Sent:      time.Unix(0, int64(binary.BigEndian.Uint64(payload[o+12:]))),
	}, nil
}
