package sfu

import (
	"sync"
	"time"
)

// layerClocks is the latest RTCP sender report of each layer of a
// simulcast source: how the layer's RTP timestamps map to the
// publisher's wall clock. The layers of one publisher share that clock,
// so at a layer move the new layer's timestamps can be put on the
// receiver's timeline where the old layer's would have been: the sender
// reports passed on after the move (RTP time plus the new offset) then
// keep mapping the receiver's timeline to the same wall clock, and a
// recorder's audio/video alignment does not jump.
type layerClocks struct {
	mu  sync.Mutex
	srs [simulcastLayers]layerSR
}

// layerSR is one layer's sender report: RTP time rtp was wall clock ntp.
type layerSR struct {
	valid bool
	ntp   uint64 // NTP 32.32
	rtp   uint32
}

// set keeps layer's latest report.
func (c *layerClocks) set(layer int, ntp uint64, rtp uint32) {
	if layer < 0 || layer >= simulcastLayers {
		return
	}
	c.mu.Lock()
	c.srs[layer] = layerSR{valid: true, ntp: ntp, rtp: rtp}
	c.mu.Unlock()
}

// translate maps timestamp ts of layer to the timeline of layer from,
// whose timestamps were sent with fromOffset added; false when either
// layer has no report yet.
func (c *layerClocks) translate(from int, fromOffset uint32, layer int, ts uint32, clock uint32) (uint32, bool) {
	if c == nil || from < 0 || from >= simulcastLayers || layer < 0 || layer >= simulcastLayers || clock == 0 {
		return 0, false
	}
	c.mu.Lock()
	old, cur := c.srs[from], c.srs[layer]
	c.mu.Unlock()
	if !old.valid || !cur.valid {
		return 0, false
	}
	// The wall clock of ts, relative to the old layer's report, in ticks.
	wall := ntpTicks(int64(cur.ntp)-int64(old.ntp), clock) + int64(int32(ts-cur.rtp))
	return old.rtp + fromOffset + uint32(wall), true
}

// ntpTicks converts a difference of NTP 32.32 timestamps to clock ticks.
func ntpTicks(d int64, clock uint32) int64 {
	secs, frac := d>>32, d&0xffffffff
	return secs*int64(clock) + frac*int64(clock)>>32
}

// timestampAfter is the timestamp on the receiver's timeline of ts, the
// first of layer after a move from previous at now: by the layers'
// sender reports when both have one and that lands after the last
// timestamp sent and not more than a second past the wall time since
// then; else by the wall time since the last packet sent. Either way
// strictly after the last timestamp sent, by at least minStep.
func (s *layerSelector) timestampAfter(previous, layer int, ts uint32, now time.Time) uint32 {
	elapsed := uint32(now.Sub(s.lastAt).Seconds() * float64(s.clock))
	if mapped, ok := s.clocks.translate(previous, s.tsOffset, layer, ts, s.clock); ok {
		ahead := int32(mapped - s.lastTS)
		switch {
		case ahead >= int32(s.minStep()) && int64(ahead) <= int64(elapsed)+int64(s.clock):
			return mapped
		case ahead < int32(s.minStep()) && ahead > -int32(s.clock):
			// The new layer's keyframe shows the moment of a frame of the
			// old one sent already (simulcast layers encode the same
			// pictures): it follows that frame closely.
			return s.lastTS + s.minStep()
		}
	}
	return s.lastTS + max(elapsed, s.clock/30)
}

// minStep is the least timestamp step at a layer move placed by sender
// reports: 1 ms, which even a millisecond timescale (WebM) keeps apart.
// It is all the receiver's timeline drifts from the reports' at a move
// whose keyframe shows a moment already sent, so it is kept that small.
func (s *layerSelector) minStep() uint32 { return max(s.clock/1000, 1) }
