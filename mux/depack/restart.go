package depack

import (
	"time"

	"github.com/pion/rtp"
)

// restart ends the current stream and prepares for a new one whose
// timestamps continue where this one's stopped.
func (a *Assembler) restart(now time.Duration) {
	a.drain()
	a.stats.Restarts++
	start := a.lastTS + a.frameTicks
	if elapsed := a.ticks(now - a.lastArrival); a.lastTS+elapsed > start {
		start = a.lastTS + elapsed
	}
	if !a.consumed {
		start = a.lastTS
	}
	a.streamChanged(a.lastTS+a.frameTicks, start)
	a.ring.clear()
	a.seq.reset()
	a.ts.reset()
	a.tsBase, a.streamConsumed = start, false
	a.nextSet, a.holeValid = false, false
	a.lastTS = start
}

// ticks converts a duration to clock-rate ticks (0 for a negative one).
func (a *Assembler) ticks(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	clock := int64(a.cfg.Track.ClockRate)
	return int64(d/time.Second)*clock + int64(d%time.Second)*clock/int64(time.Second)
}

// keepProbe remembers a packet dropped by the restart rule.
func (a *Assembler) keepProbe(pkt *rtp.Packet, arrival time.Duration) {
	p := &a.probe
	p.rtpTS, p.marker, p.arrival, a.probeSSRC = pkt.Timestamp, pkt.Marker, arrival, pkt.SSRC
	p.ext = int64(pkt.SequenceNumber)
	p.payload = append(p.payload[:0], pkt.Payload...)
	a.probeValid = true
}

// confirmsProbe reports whether pkt follows the remembered packet in its
// stream.
func (a *Assembler) confirmsProbe(pkt *rtp.Packet) bool {
	return a.probeValid && a.probeSSRC == pkt.SSRC && uint16(a.probe.ext)+1 == pkt.SequenceNumber
}

// replayProbe stores the remembered packet as the first of the new stream
// if it belongs to it.
func (a *Assembler) replayProbe() {
	if !a.probeValid || a.probeSSRC != a.ssrc {
		return
	}
	a.probeValid = false
	p := &a.probe
	pkt := rtp.Packet{
		Header:  rtp.Header{SequenceNumber: uint16(p.ext), Timestamp: p.rtpTS, Marker: p.marker, SSRC: a.ssrc},
		Payload: p.payload,
	}
	ext, _ := a.seq.extend(pkt.SequenceNumber)
	a.store(ext, &pkt, p.arrival)
	a.stats.PacketsInvalid-- // it was counted as invalid; it is used after all
}
