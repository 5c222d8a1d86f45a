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
// layer only, with sequence numbers, timestamps and picture numbers
// (picRewriter) rewritten so that they run on without a jump when the
// layer changes. It changes layers only at a keyframe of the new one: to
// its target as soon as the target has one, to any flowing layer at the
// start or when the current one went stale. Every change is a clean cut:
// the current layer's frame in progress is finished first (layerpending.go),
// sequence numbers go on contiguously and timestamps strictly increase.
// It is not safe for concurrent use; its owner serialises calls.
type layerSelector struct {
	mimeType string
	clock    uint32       // RTP clock rate
	clocks   *layerClocks // the layers' sender reports; nil: none known
	target   int
	current  int
	changes  int // layer changes after the first layer

	seqOffset uint16 // added to the current layer's sequence numbers
	tsOffset  uint32 // added to its timestamps
	switchSeq uint16 // first rewritten sequence number of the current layer
	// guarding: packets numbered before switchSeq are from before the
	// switch. Only near it: 16-bit numbers compare within half a cycle.
	guarding bool
	pic      picRewriter

	sent       bool // something was written
	lastSeq    uint16
	lastTS     uint32
	lastAt     time.Time
	lastOrigTS uint32 // the newest packet's own timestamp
	lastMarker bool   // the newest packet with a payload ended its frame

	began    time.Time                  // the first packet offered
	seen     [simulcastLayers]time.Time // last packet of each layer
	askedFor int                        // the layer a keyframe was asked for in this wait; noLayer: none
	askedAt  time.Time

	pending pendingSwitch

	// paused: nothing is sent (a spotlight viewer's "none" layer);
	// resuming: the next keyframe of the target goes on from the last
	// packet sent, as a layer move does (spotlightpause.go).
	paused, resuming bool

	// out is what the last next call sends, in order; valid until the
	// next call. fresh makes every rewritten payload a new slice (a sink
	// may keep it); else each is written into bufs, one per out entry.
	out   []selected
	fresh bool
	bufs  [][]byte
}

// selected is one packet to send: its rewritten header and payload.
type selected struct {
	h       rtp.Header
	payload []byte
}

// guardSpan is how far past a switch packets from before it are still
// told apart: a quarter of the sequence number cycle, far more than any
// reordering or retransmission delay.
const guardSpan = 1 << 14

// keyframeRetry is how often a switch still waiting asks again for a
// keyframe (a PLI may be lost).
const keyframeRetry = time.Second

func newLayerSelector(mimeType string, clock uint32, target int) *layerSelector {
	return &layerSelector{mimeType: mimeType, clock: clock, target: target, current: noLayer, askedFor: noLayer,
		pic: picRewriter{codec: picCodecOf(mimeType)}}
}

// setTarget makes layer the one to move to at its next keyframe.
func (s *layerSelector) setTarget(layer int) {
	s.target, s.askedFor = layer, noLayer
	if s.pending.active() && s.pending.layer != layer {
		s.pending.reset()
	}
}

// Current returns the layer being forwarded, or noLayer.
func (s *layerSelector) Current() int { return s.current }

// next decides about one packet of layer arriving at now. The packets to
// send, rewritten, are then in s.out (none: the packet is dropped or
// held). It returns the layer a keyframe should be asked for (noLayer:
// none).
func (s *layerSelector) next(layer int, p *rtp.Packet, now time.Time) int {
	s.out = s.out[:0]
	if layer < 0 || layer >= simulcastLayers {
		return noLayer
	}
	if s.began.IsZero() {
		s.began = now
	}
	s.seen[layer] = now
	if s.paused {
		return noLayer
	}
	if s.pending.active() {
		s.hold(layer, p, now)
		return noLayer
	}
	if layer != s.current || s.resuming {
		if !s.wantsSwitch(layer, now) {
			return noLayer
		}
		if !keyframeStart(s.mimeType, p.Payload) {
			return s.askFor(layer, now)
		}
		if s.midFrame(now) {
			s.pending.begin(layer, p, now)
			return noLayer
		}
		s.switchTo(layer, p, now, !s.frameEnded())
	}
	s.emit(p, now)
	return noLayer
}

// emit appends p, a packet of the current layer, to s.out, rewritten.
func (s *layerSelector) emit(p *rtp.Packet, now time.Time) {
	if s.guarding && int16(p.SequenceNumber+s.seqOffset-s.switchSeq) < 0 {
		// A packet of the current layer from before the switch to it (a
		// late retransmission, or a repeat the client sends to probe
		// bandwidth): in the receiver's numbering it would land among the
		// previous layer's packets.
		return
	}
	h := p.Header
	h.SequenceNumber += s.seqOffset
	h.Timestamp += s.tsOffset
	// The newest packet sent is where the next layer goes on from; a
	// late one (a retransmission, a repeat) must not move it back, or the
	// next layer's first packets would reuse sequence numbers already
	// sent.
	newest := !s.sent || int16(h.SequenceNumber-s.lastSeq) > 0
	payload := s.pic.rewrite(p.Payload, s.buffer(len(s.out)), newest)
	if newest {
		s.sent, s.lastSeq, s.lastTS, s.lastAt, s.lastOrigTS = true, h.SequenceNumber, h.Timestamp, now, p.Timestamp
		if len(p.Payload) > 0 {
			s.lastMarker = p.Marker
		}
		if h.SequenceNumber-s.switchSeq >= guardSpan {
			s.guarding = false
		}
	}
	s.out = append(s.out, selected{h: h, payload: payload})
}

// buffer is where the i-th packet of s.out is rewritten: nil (a new
// slice) for a fresh selector.
func (s *layerSelector) buffer(i int) *[]byte {
	if s.fresh {
		return nil
	}
	for len(s.bufs) <= i {
		s.bufs = append(s.bufs, nil)
	}
	return &s.bufs[i]
}

// wantsSwitch reports whether a packet of layer (not the current one)
// may start a switch: it is the target; or the current layer stopped;
// or, at the start, the target has not flowed for layerStale. In the
// last two cases the layer must be the best stand-in that flows.
func (s *layerSelector) wantsSwitch(layer int, now time.Time) bool {
	switch {
	case layer == s.target:
		return true
	case s.current == noLayer || s.resuming:
		return !s.flowing(s.target, now) && now.Sub(s.began) >= layerStale && s.standIn(now) == layer
	default:
		// A layer that flows is better than one that stopped, until the
		// target has a keyframe.
		return !s.flowing(s.current, now) && s.standIn(now) == layer
	}
}

// standIn is the layer to receive while the target does not flow: the
// highest flowing one below it, else the lowest flowing one above it;
// noLayer when none flows.
func (s *layerSelector) standIn(now time.Time) int {
	for l := s.target; l >= 0; l-- {
		if s.flowing(l, now) {
			return l
		}
	}
	for l := s.target + 1; l < simulcastLayers; l++ {
		if s.flowing(l, now) {
			return l
		}
	}
	return noLayer
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

// frameEnded reports whether the last packet sent ended its frame (or
// nothing was sent).
func (s *layerSelector) frameEnded() bool { return !s.sent || s.lastMarker }

// midFrame reports whether a switch now would cut the current layer's
// frame in progress while that layer still flows: the switch then waits
// for the frame's end.
func (s *layerSelector) midFrame(now time.Time) bool {
	return s.current != noLayer && !s.resuming && !s.frameEnded() && s.flowing(s.current, now)
}

// switchTo makes layer current at its keyframe p: sequence numbers go on
// from the last one sent (after a hole of one when the previous layer's
// last frame is unfinished, so that a receiver drops it rather than
// decode it cut short), timestamps strictly after the last one sent.
func (s *layerSelector) switchTo(layer int, p *rtp.Packet, now time.Time, hole bool) {
	previous := s.current
	s.current, s.askedFor, s.resuming = layer, noLayer, false
	if !s.sent {
		s.seqOffset, s.tsOffset = 0, 0
	} else {
		s.seqOffset = s.lastSeq + 1 - p.SequenceNumber
		if hole {
			s.seqOffset++
		}
		s.tsOffset = s.timestampAfter(previous, layer, p.Timestamp, now) - p.Timestamp
	}
	s.switchSeq, s.guarding = p.SequenceNumber+s.seqOffset, true
	s.pic.start(p.Payload)
	if previous != noLayer {
		s.changes++
	}
}

// original maps a rewritten sequence number back to the current layer's
// own, for answering a NACK; false when it was sent before the switch.
func (s *layerSelector) original(seq uint16) (uint16, bool) {
	if s.current == noLayer || (s.guarding && int16(seq-s.switchSeq) < 0) {
		return 0, false
	}
	return seq - s.seqOffset, true
}

// resent rewrites the payload of a packet of the current layer sent
// before, for a retransmission: the same picture numbers as when it was
// first sent, in a new slice when they differ from the layer's own.
func (s *layerSelector) resent(payload []byte) []byte {
	return s.pic.rewrite(payload, nil, false)
}
