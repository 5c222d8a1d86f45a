package depack

import (
	"time"

	"github.com/pion/rtp"
)

// The in-order path. Most packets arrive exactly in sequence: the one
// numbered next, with nothing held in the ring. Storing such a packet in
// the ring would copy its payload only to consume it at once, so it is
// consumed straight from the caller's packet instead. Only the ring slot's
// number and state are written, as deliver leaves them, so a later copy
// of the packet still counts as a duplicate; everything else (counters,
// timestamps, frames, gaps) is what store and consume would have done.
// Packets around a hole, a stream's first packets (held for MaxLatency)
// and restarts take the ring.

// inOrder reports whether the packet numbered ext can skip the ring: the
// stream is past its first packets, ext is next, and no packet beyond it
// has arrived (so none is held).
func (a *Assembler) inOrder(ext int64) bool {
	return a.streamConsumed && ext == a.next && ext == a.seq.highest && !a.ringOnly
}

// direct consumes the packet numbered ext, which inOrder accepted, without
// copying its payload. The payload is only read during this call, as Push
// promises.
func (a *Assembler) direct(ext int64, pkt *rtp.Packet, arrival time.Duration) {
	r := a.ring.at(ext)
	r.ext, r.state = ext, slotDone
	s := &a.inPlace
	*s = slot{ext: ext, state: slotDone, arrival: arrival,
		ts: a.ts.extend(pkt.Timestamp), rtpTS: pkt.Timestamp, marker: pkt.Marker,
		padding: len(pkt.Payload) == 0, payload: pkt.Payload}
	a.use(s)
	s.payload = nil // the caller's buffer
}
