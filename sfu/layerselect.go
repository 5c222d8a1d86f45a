package sfu

import (
	"time"

	"github.com/pion/rtp"
)

// layerStale is how long a simulcast layer may go without packets
// before a receiver on it is moved to one that still flows (the client
// stopped sending it, e.g. for lack of bandwidth).
const layerStale = 500 * time.Millisecond

// noLayer is a layerSelector's current layer before its first packet.
const noLayer = -1

// layerSelector turns a publisher's simulcast layers into the one stream
// a receiver (a viewer, or the recorder) gets: packets of its current
// layer only, with sequence numbers and timestamps rewritten so that they
// run on without a jump when the layer changes. It changes layers only at
// a keyframe of the new one: to its target as soon as the target has one,
// to any flowing layer at the start or when the current one went stale.
// It is not safe for concurrent use; its owner serialises calls.
type layerSelector struct {
	mimeType string
	clock    uint32 // RTP clock rate
	target   int
	current  int

	seqOffset uint16 // added to the current layer's sequence numbers
	tsOffset  uint32 // added to its timestamps
	switchSeq uint16 // first rewritten sequence number of the current layer

	sent    bool // something was written
	lastSeq uint16
	lastTS  uint32
	lastAt  time.Time

	began    time.Time                  // the first packet offered
	seen     [simulcastLayers]time.Time // last packet of each layer
	askedFor int                        // the layer a keyframe was asked for in this wait; noLayer: none
	askedAt  time.Time
}

// keyframeRetry is how often a switch still waiting asks again for a
// keyframe (a PLI may be lost).
const keyframeRetry = time.Second

func newLayerSelector(mimeType string, clock uint32, target int) *layerSelector {
	return &layerSelector{mimeType: mimeType, clock: clock, target: target, current: noLayer, askedFor: noLayer}
}

// setTarget makes layer the one to move to at its next keyframe.
func (s *layerSelector) setTarget(layer int) { s.target, s.askedFor = layer, noLayer }

// Current returns the layer being forwarded, or noLayer.
func (s *layerSelector) Current() int { return s.current }

// next decides about one packet of layer arriving at now. It returns the
// header and payload to send (rewritten copies where they change) or a
// nil header to drop the packet, and the layer a keyframe should be
// asked for (noLayer: none).
func (s *layerSelector) next(layer int, p *rtp.Packet, now time.Time) (*rtp.Header, []byte, int) {
	if layer < 0 || layer >= simulcastLayers {
		return nil, nil, noLayer
	}
	if s.began.IsZero() {
		s.began = now
	}
	s.seen[layer] = now
	if layer != s.current {
		if !s.wantsSwitch(layer, now) {
			return nil, nil, noLayer
		}
		if !keyframeStart(s.mimeType, p.Payload) {
			return nil, nil, s.askFor(layer, now)
		}
		s.switchTo(layer, p, now)
	}
	if int16(p.SequenceNumber+s.seqOffset-s.switchSeq) < 0 {
		// A packet of the current layer from before the switch to it (a
		// late retransmission, or a repeat the client sends to probe
		// bandwidth): in the receiver's numbering it would land among the
		// previous layer's packets.
		return nil, nil, noLayer
	}
	h := p.Header
	h.SequenceNumber += s.seqOffset
	h.Timestamp += s.tsOffset
	// The newest packet sent is where the next layer goes on from; a
	// late one (a retransmission, a repeat) must not move it back, or the
	// next layer's first packets would reuse sequence numbers already
	// sent.
	if !s.sent || int16(h.SequenceNumber-s.lastSeq) > 0 {
		s.sent, s.lastSeq, s.lastTS, s.lastAt = true, h.SequenceNumber, h.Timestamp, now
	}
	return &h, p.Payload, noLayer
}

// wantsSwitch reports whether a packet of layer (not the current one)
// may start a switch: it is the target; or the current layer stopped;
// or, at the start, the target has not flowed for layerStale.
func (s *layerSelector) wantsSwitch(layer int, now time.Time) bool {
	switch {
	case layer == s.target:
		return true
	case s.current == noLayer:
		return !s.flowing(s.target, now) && now.Sub(s.began) >= layerStale
	default:
		// Any layer that flows is better than one that stopped, until
		// the target has a keyframe.
		return !s.flowing(s.current, now)
	}
}

// flowing reports whether layer had a packet within layerStale.
func (s *layerSelector) flowing(layer int, now time.Time) bool {
	return layer != noLayer && !s.seen[layer].IsZero() && now.Sub(s.seen[layer]) <= layerStale
}

// askFor returns the layer to ask a keyframe of while a switch to layer
// waits for one: the target, or layer itself when the target does not
// flow; once per keyframeRetry.
func (s *layerSelector) askFor(layer int, now time.Time) int {
	if layer != s.target && s.flowing(s.target, now) {
		return noLayer // the target's own keyframe is asked for
	}
	if s.askedFor == layer && now.Sub(s.askedAt) < keyframeRetry {
		return noLayer
	}
	s.askedFor, s.askedAt = layer, now
	return layer
}

// switchTo makes layer current at its keyframe p: sequence numbers go on
// from the last one sent, timestamps by the wall time since then.
func (s *layerSelector) switchTo(layer int, p *rtp.Packet, now time.Time) {
	s.current, s.askedFor = layer, noLayer
	if !s.sent {
		s.seqOffset, s.tsOffset = 0, 0
	} else {
		gap := uint32(now.Sub(s.lastAt).Seconds() * float64(s.clock))
		if min := s.clock / 30; gap < min {
			gap = min
		}
		s.seqOffset = s.lastSeq + 1 - p.SequenceNumber
		s.tsOffset = s.lastTS + gap - p.Timestamp
	}
	s.switchSeq = p.SequenceNumber + s.seqOffset
}

// original maps a rewritten sequence number back to the current layer's
// own, for answering a NACK; false when it was sent before the switch.
func (s *layerSelector) original(seq uint16) (uint16, bool) {
	if s.current == noLayer || int16(seq-s.switchSeq) < 0 {
		return 0, false
	}
	return seq - s.seqOffset, true
}
