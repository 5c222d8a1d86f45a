package sfu

import (
	"time"

	"github.com/pion/rtp"
)

// A switch that finds the current layer in the middle of a frame waits
// for that frame's end, holding the new layer's packets from its
// keyframe on, at most pendingPackets of them for pendingWait. Cutting
// the frame short would hand the receiver a frame whose end never comes
// with nothing missing in the sequence numbers: a recorder's depacketizer
// would take it for whole and write a broken frame.
const (
	pendingPackets = 64
	pendingWait    = 100 * time.Millisecond
)

// pendingSwitch is a switch to layer waiting for the current frame's
// end. The packets held are shared, read-only ones, kept by reference.
type pendingSwitch struct {
	layer   int // noLayer: no switch waits
	since   time.Time
	packets []*rtp.Packet
}

func (w *pendingSwitch) active() bool { return len(w.packets) > 0 }

// begin holds p, the first packet of layer's keyframe.
func (w *pendingSwitch) begin(layer int, p *rtp.Packet, now time.Time) {
	w.layer, w.since = layer, now
	w.packets = append(w.packets[:0], p)
}

func (w *pendingSwitch) reset() {
	clear(w.packets)
	w.packets = w.packets[:0]
	w.layer = noLayer
}

// hold handles a packet while a switch waits: the current layer's go on
// until its frame ends, the new layer's are held, others dropped. The
// switch happens at the current frame's last packet, when the current
// layer starts another frame (its end was lost: the cut leaves a hole),
// or when the wait is too long.
func (s *layerSelector) hold(layer int, p *rtp.Packet, now time.Time) {
	w := &s.pending
	switch {
	case now.Sub(w.since) > pendingWait || len(w.packets) >= pendingPackets:
		s.flush(now, !s.frameEnded())
		if layer == s.current {
			s.emit(p, now)
		}
	case layer == w.layer:
		if int16(p.SequenceNumber-w.packets[0].SequenceNumber) > 0 {
			w.packets = append(w.packets, p)
		}
	case layer != s.current:
		// Neither the layer left nor the one joined.
	case p.Timestamp != s.lastOrigTS && int32(p.Timestamp-s.lastOrigTS) > 0:
		s.flush(now, true)
	default:
		s.emit(p, now)
		if s.frameEnded() {
			s.flush(now, false)
		}
	}
}

// flush makes the waiting switch and sends the packets held.
func (s *layerSelector) flush(now time.Time, hole bool) {
	w := &s.pending
	s.switchTo(w.layer, w.packets[0], now, hole)
	for _, q := range w.packets {
		s.emit(q, now)
	}
	w.reset()
}
