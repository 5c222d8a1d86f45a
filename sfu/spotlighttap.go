package sfu

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// spotTap is what a published track of a spotlight channel adds to its
// read loop: an audio track's voice activity, a video track's gate.
type spotTap struct {
	spot    *spotlight
	voice   *voice // audio: the publisher's voice; nil for video
	levelID uint8  // audio: the negotiated audio level extension id; 0: none
	gate    *videoGate
}

// tapSpotlight prepares t, a new track of c, for c's spotlight channel.
func (c *Connection) tapSpotlight(t *publishedTrack) {
	sp := c.spot.Load()
	if sp == nil {
		return
	}
	m := sp.member(c.info.ConnectionID)
	if m == nil {
		return
	}
	tap := &spotTap{spot: sp}
	switch {
	case t.info.Kind == KindAudio:
		tap.voice, tap.levelID = &m.voice, audioLevelID(t.receiver)
	case t.source == nil:
		// Video without layers: viewers get it only while it is focused.
		tap.gate = &videoGate{mimeType: t.info.MimeType}
		tap.gate.paused.Store(!sp.isFocused(c.info.ConnectionID))
	default:
		return // the layers' viewers follow the focus (spotlightview.go)
	}
	t.spot = tap
}

// audioLevelID is the id the audio level extension was negotiated with
// on receiver, 0 when it was not.
func audioLevelID(r *webrtc.RTPReceiver) uint8 {
	if r == nil {
		return 0
	}
	for _, e := range r.GetParameters().HeaderExtensions {
		if e.URI == AudioLevelURI {
			return uint8(e.ID)
		}
	}
	return 0
}

// observe takes an audio packet's level, before the read loop drops its
// extensions, and decides the focus when due.
func (tap *spotTap) observe(c *Connection, p *rtp.Packet, now time.Time) {
	if level, ok := audioLevel(p, tap.levelID); ok {
		tap.voice.observe(level, now)
	}
	c.spotlightTick(tap.spot, now)
}

// videoGate pauses a publisher's video (without layers) for every
// viewer while it is unfocused; it resumes at a keyframe.
type videoGate struct {
	mimeType string
	paused   atomic.Bool
	waiting  bool // owned by the read loop: resumed, no keyframe seen yet
}

// pass reports whether a video packet goes to the viewers.
func (g *videoGate) pass(payload []byte) bool {
	if g == nil {
		return true
	}
	if g.paused.Load() {
		g.waiting = true
		return false
	}
	if g.waiting && !keyframeStart(g.mimeType, payload) {
		return false
	}
	g.waiting = false
	return true
}

// gateVideo pauses or resumes c's video without layers for its viewers;
// a resume asks for a keyframe.
func (c *Connection) gateVideo(paused bool) {
	for _, t := range c.publishedTracks() {
		if t.spot == nil || t.spot.gate == nil {
			continue
		}
		if t.spot.gate.paused.Swap(paused) && !paused {
			t.requestKeyframe()
		}
	}
}
