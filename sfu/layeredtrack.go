package sfu

import (
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// layeredTrack is a simulcast publisher's video as one viewer gets it: a
// local track of that viewer's PeerConnection alone, written with the
// layer its layerSelector chooses. It implements webrtc.TrackLocal.
type layeredTrack struct {
	src    *simulcastSource
	viewer *Connection
	info   TrackInfo // the source's
	// quiet: the viewer gets no sender reports of this track (a follow
	// track renumbers what it sends; see followtrack.go).
	quiet bool

	mu      sync.Mutex
	sel     *layerSelector
	binding *layerBinding // nil while unbound
}

// layerBinding is where the track's packets go once pion bound it.
type layerBinding struct {
	ssrc            uint32
	pt              uint8
	writer          webrtc.TrackLocalWriter
	packets, octets uint32 // sent, for sender reports
}

func newLayeredTrack(src *simulcastSource, viewer *Connection, target int) *layeredTrack {
	info := src.trackInfo()
	sel := newLayerSelector(info.MimeType, info.ClockRate, target)
	sel.clocks = &src.clocks
	return &layeredTrack{src: src, viewer: viewer, info: info, sel: sel}
}

// ID implements webrtc.TrackLocal: the source's track id.
func (vt *layeredTrack) ID() string { return vt.info.TrackID }

// RID implements webrtc.TrackLocal: the viewer gets one stream.
func (vt *layeredTrack) RID() string { return "" }

// StreamID implements webrtc.TrackLocal: the publisher's connection_id.
func (vt *layeredTrack) StreamID() string { return vt.info.ConnectionID }

// Kind implements webrtc.TrackLocal.
func (vt *layeredTrack) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeVideo }

// Bind implements webrtc.TrackLocal: the viewer's engine has exactly the
// publisher's codec (same codec_type), matched by MIME type.
func (vt *layeredTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, vt.info.MimeType) {
			vt.mu.Lock()
			vt.binding = &layerBinding{ssrc: uint32(ctx.SSRC()), pt: uint8(c.PayloadType), writer: ctx.WriteStream()}
			vt.mu.Unlock()
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind implements webrtc.TrackLocal.
func (vt *layeredTrack) Unbind(webrtc.TrackLocalContext) error {
	vt.mu.Lock()
	vt.binding = nil
	vt.mu.Unlock()
	return nil
}

// write offers the viewer a packet of layer; it reports whether it was
// sent. A keyframe the selector waits for is asked of the publisher.
func (vt *layeredTrack) write(layer int, p *rtp.Packet, now time.Time) bool {
	vt.mu.Lock()
	b := vt.binding
	if b == nil {
		vt.mu.Unlock()
		return false
	}
	previous := vt.sel.Current()
	ask := vt.sel.next(layer, p, now)
	current, target := vt.sel.Current(), vt.sel.target
	sent := len(vt.sel.out) > 0
	for i := range vt.sel.out {
		o := &vt.sel.out[i]
		o.h.SSRC, o.h.PayloadType = b.ssrc, b.pt
		// A failed write is a viewer going away; its connection notices.
		// The write is done with the payload when it returns: the
		// selector's buffer may be reused.
		_, _ = b.writer.WriteRTP(&o.h, o.payload)
		b.packets++
		b.octets += uint32(len(o.payload))
	}
	vt.mu.Unlock()
	if ask != noLayer {
		vt.src.requestKeyframe(ask)
	}
	if current != previous && previous != noLayer {
		vt.switched(previous, current, target)
	}
	return sent
}

// switched tells the viewer's client that its layer changed.
func (vt *layeredTrack) switched(previous, current, target int) {
	p, ok := vt.viewer.peer.(SimulcastPeer)
	if !ok {
		return
	}
	p.SimulcastSwitched(SimulcastSwitch{SenderConnectionID: vt.info.ConnectionID,
		RequestRID: simulcastRIDs[target], CurrentRID: simulcastRIDs[current], PreviousRID: simulcastRIDs[previous],
		ByReceiver: current == target})
}

// setTarget moves the viewer to layer at its next keyframe, asked for
// now; layerOff pauses the viewer's video (spotlightpause.go).
func (vt *layeredTrack) setTarget(layer int) {
	vt.mu.Lock()
	wasPaused := vt.sel.paused
	vt.sel.setLayer(layer)
	current := vt.sel.Current()
	vt.mu.Unlock()
	if layer != layerOff && (current != layer || wasPaused) {
		vt.src.requestKeyframe(layer)
	}
}

// requestKeyframe asks for a keyframe of the layer the viewer gets (the
// viewer sent a PLI or FIR).
func (vt *layeredTrack) requestKeyframe() {
	vt.mu.Lock()
	layer := vt.sel.Current()
	if layer == noLayer {
		layer = vt.sel.target
	}
	paused := vt.sel.paused
	vt.mu.Unlock()
	if paused {
		return
	}
	vt.src.requestKeyframe(layer)
}

// senderReport sends the viewer a publisher's report of layer when that
// is the layer it gets, in its SSRC, timestamps and counts.
func (vt *layeredTrack) senderReport(layer int, sr *rtcp.SenderReport) {
	vt.mu.Lock()
	b := vt.binding
	if b == nil || vt.quiet || vt.sel.Current() != layer {
		vt.mu.Unlock()
		return
	}
	out := &rtcp.SenderReport{SSRC: b.ssrc, NTPTime: sr.NTPTime, RTPTime: sr.RTPTime + vt.sel.tsOffset,
		PacketCount: b.packets, OctetCount: b.octets}
	vt.mu.Unlock()
	// A failed write is a viewer going away; its connection notices.
	_ = vt.viewer.pc.WriteRTCP([]rtcp.Packet{out})
}

// lookup implements packetHistory for the viewer's NACKs: a rewritten
// sequence number of the current layer maps to that layer's history, and
// the packet found is rewritten as it was sent (picture numbers included).
func (vt *layeredTrack) lookup(seq uint16) (sentPacket, bool) {
	vt.mu.Lock()
	defer vt.mu.Unlock()
	orig, ok := vt.sel.original(seq)
	if !ok {
		return sentPacket{}, false // sent before the switch, or never
	}
	t := vt.src.layer(vt.sel.Current())
	if t == nil || t.history == nil {
		return sentPacket{}, false
	}
	p, ok := t.history.lookup(orig)
	if !ok {
		return sentPacket{}, false
	}
	p.seq, p.ts, p.payload = seq, p.ts+vt.sel.tsOffset, vt.sel.resent(p.payload)
	return p, true
}
