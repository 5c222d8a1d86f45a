package sfu

import (
	"strings"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// followTrack is one kind of media of a following connection (WHEP
// playback): a local track of that connection alone whose source is the
// same kind of track of whichever publisher the connection follows. A
// change of publisher never renegotiates: the sender keeps its SSRC, and
// sequence numbers and timestamps run on from where the previous source
// stopped; video moves at the new source's next keyframe. It implements
// webrtc.TrackLocal.
type followTrack struct {
	viewer *Connection
	kind   webrtc.RTPCodecType
	id     string

	mu    sync.Mutex
	outer webrtc.TrackLocalContext // pion's binding; nil while unbound
	// codecs are every codec negotiated for the track, as Bind saw them
	// (pion narrows the binding's list to the one Bind returns).
	codecs []webrtc.RTPCodecParameters
	// sending is the codec pion's sender was set up with: its NACK
	// answers (RTX) only fit packets of that codec.
	sending string
	source  *followSource // nil while following nothing
	gen     uint64        // counts sources; a write of an older one is dropped
	rw      rewrite
	// pic renumbers VP8/VP9 picture IDs across sources (a receiver drops
	// pictures whose IDs go back); picBuf holds a rewritten payload while
	// it is written.
	pic    picRewriter
	picBuf []byte
}

// followSource is a publisher's track as a following connection gets it.
type followSource struct {
	info     TrackInfo
	local    webrtc.TrackLocal // what the source writes through: a shared half or a layered track
	history  packetHistory     // for the viewer's NACKs; nil for audio
	keyframe func()            // asks the publisher for a keyframe
	release  func()            // undoes what choosing the source did
	ctx      *innerContext     // its binding, once bound
}

// rewrite carries a followTrack's numbering across sources.
type rewrite struct {
	started   bool   // the current source's first packet was written
	sent      bool   // anything was ever written
	seqOffset uint16 // added to the source's sequence numbers
	tsOffset  uint32 // added to its timestamps
	firstSeq  uint16 // the first sequence number written from the current source
	lastSeq   uint16
	lastTS    uint32
	lastAt    time.Time
}

func newFollowTrack(viewer *Connection, kind webrtc.RTPCodecType) *followTrack {
	return &followTrack{viewer: viewer, kind: kind, id: kind.String()}
}

// ID implements webrtc.TrackLocal.
func (ft *followTrack) ID() string { return ft.id }

// RID implements webrtc.TrackLocal.
func (ft *followTrack) RID() string { return "" }

// StreamID implements webrtc.TrackLocal: one stream for both kinds, so a
// player plays them together.
func (ft *followTrack) StreamID() string { return "kiroku" }

// Kind implements webrtc.TrackLocal.
func (ft *followTrack) Kind() webrtc.RTPCodecType { return ft.kind }

// Bind implements webrtc.TrackLocal: the negotiated codecs are those of
// the client's offer that the SFU has; the current source is bound to
// them.
func (ft *followTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codecs := ctx.CodecParameters()
	if len(codecs) == 0 {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	ft.mu.Lock()
	ft.outer, ft.codecs = ctx, append([]webrtc.RTPCodecParameters(nil), codecs...)
	src := ft.source
	ft.mu.Unlock()
	chosen := codecs[0]
	if src != nil {
		for _, c := range codecs {
			if strings.EqualFold(c.MimeType, src.info.MimeType) {
				chosen = c
				break
			}
		}
		ft.bindSource(src)
	}
	ft.mu.Lock()
	ft.sending = chosen.MimeType
	ft.mu.Unlock()
	return chosen, nil
}

// Unbind implements webrtc.TrackLocal.
func (ft *followTrack) Unbind(webrtc.TrackLocalContext) error {
	ft.mu.Lock()
	ft.outer = nil
	src := ft.source
	ft.mu.Unlock()
	if src != nil {
		ft.unbindSource(src)
	}
	return nil
}

// follow makes src the track's source (nil: none). The previous source
// is unbound first, so no packet of it arrives afterwards.
func (ft *followTrack) follow(src *followSource) {
	ft.mu.Lock()
	old := ft.source
	ft.source = src
	ft.gen++
	ft.rw.started = false
	bound := ft.outer != nil
	ft.mu.Unlock()
	if old != nil {
		ft.unbindSource(old)
		old.release()
	}
	if src != nil && bound {
		ft.bindSource(src)
	}
}

// current returns the id of the publisher's track followed, or "".
func (ft *followTrack) current() string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if ft.source == nil {
		return ""
	}
	return ft.source.info.TrackID
}

func (ft *followTrack) bindSource(src *followSource) {
	ft.mu.Lock()
	if ft.outer == nil || ft.source != src || src.ctx != nil {
		ft.mu.Unlock()
		return
	}
	src.ctx = &innerContext{outer: ft.outer, codecs: ft.codecs, writer: &followWriter{ft: ft, gen: ft.gen}, id: NewID()}
	ctx := src.ctx
	ft.mu.Unlock()
	if _, err := src.local.Bind(ctx); err != nil {
		// The client's offer has no codec of this publisher's.
		ft.viewer.log.Info("followed track not forwarded: codec not negotiated", "track", src.info.TrackID,
			"mime", src.info.MimeType, "err", err)
		return
	}
	ft.mu.Lock()
	stale := src.ctx != ctx // a concurrent follow unbound src before this Bind took
	ft.mu.Unlock()
	if stale {
		_ = src.local.Unbind(ctx)
		return
	}
	src.keyframe()
}

func (ft *followTrack) unbindSource(src *followSource) {
	ft.mu.Lock()
	ctx := src.ctx
	src.ctx = nil
	ft.mu.Unlock()
	if ctx != nil {
		_ = src.local.Unbind(ctx) // fails only when Bind had failed
	}
}

// requestKeyframe asks the source for a keyframe (the viewer sent PLI).
func (ft *followTrack) requestKeyframe() {
	ft.mu.Lock()
	src := ft.source
	ft.mu.Unlock()
	if src != nil {
		src.keyframe()
	}
}

// write rewrites a packet of source generation gen into the track's
// numbering and sends it. Writes are serialised: a source's last packet
// and the next source's first never interleave.
func (ft *followTrack) write(gen uint64, h *rtp.Header, payload []byte) (int, error) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	src, outer := ft.source, ft.outer
	if gen != ft.gen || src == nil || outer == nil {
		return 0, nil
	}
	now := ft.viewer.sfu.now()
	if !ft.rw.started {
		if ft.kind == webrtc.RTPCodecTypeVideo && !keyframeStart(src.info.MimeType, payload) {
			return 0, nil // the keyframe was asked for when the source was bound
		}
		ft.rw.start(h, src.info.ClockRate, now)
		if c := picCodecOf(src.info.MimeType); c != ft.pic.codec {
			ft.pic = picRewriter{codec: c}
		}
		ft.pic.start(payload)
	}
	out := *h
	out.SequenceNumber += ft.rw.seqOffset
	out.Timestamp += ft.rw.tsOffset
	newest := !ft.rw.sent || int16(out.SequenceNumber-ft.rw.lastSeq) > 0
	payload = ft.pic.rewrite(payload, &ft.picBuf, newest)
	ft.rw.advance(out.SequenceNumber, out.Timestamp, now)
	return outer.WriteStream().WriteRTP(&out, payload)
}

// start places a new source's first packet h one packet after the last
// one written, its timestamp advanced by the wall time in between.
func (rw *rewrite) start(h *rtp.Header, clockRate uint32, now time.Time) {
	rw.started = true
	if !rw.sent {
		rw.seqOffset, rw.tsOffset = 0, 0
		rw.firstSeq = h.SequenceNumber
		return
	}
	seq := rw.lastSeq + 1
	ticks := uint32(1)
	if gap := now.Sub(rw.lastAt); gap > 0 && clockRate > 0 {
		ticks = max(ticks, uint32(gap.Seconds()*float64(clockRate)))
	}
	rw.seqOffset = seq - h.SequenceNumber
	rw.tsOffset = rw.lastTS + ticks - h.Timestamp
	rw.firstSeq = seq
}

// advance notes a written packet; older ones (reordered) change nothing.
func (rw *rewrite) advance(seq uint16, ts uint32, now time.Time) {
	if !rw.sent || int16(seq-rw.lastSeq) > 0 {
		rw.lastSeq, rw.lastTS, rw.lastAt = seq, ts, now
	}
	rw.sent = true
}

// lookup implements packetHistory for the viewer's NACKs: a packet of the
// current source, in the track's numbering.
func (ft *followTrack) lookup(seq uint16) (sentPacket, bool) {
	ft.mu.Lock()
	src, rw, sending := ft.source, ft.rw, ft.sending
	ft.mu.Unlock()
	if src == nil || src.history == nil || !rw.started || int16(seq-rw.firstSeq) < 0 ||
		!strings.EqualFold(src.info.MimeType, sending) {
		return sentPacket{}, false
	}
	p, ok := src.history.lookup(seq - rw.seqOffset)
	if !ok {
		return sentPacket{}, false
	}
	p.seq, p.ts = seq, p.ts+rw.tsOffset
	ft.mu.Lock()
	p.payload = ft.pic.rewrite(p.payload, nil, false)
	ft.mu.Unlock()
	return p, true
}

// followWriter is where a source bound to a followTrack writes.
type followWriter struct {
	ft  *followTrack
	gen uint64
}

// WriteRTP implements webrtc.TrackLocalWriter.
func (w *followWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	return w.ft.write(w.gen, h, payload)
}

// Write implements webrtc.TrackLocalWriter.
func (w *followWriter) Write(b []byte) (int, error) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return 0, err
	}
	return w.ft.write(w.gen, &p.Header, p.Payload)
}

// innerContext binds a source to a followTrack: pion's binding of the
// followTrack, with the followTrack as the stream written to.
type innerContext struct {
	outer  webrtc.TrackLocalContext
	codecs []webrtc.RTPCodecParameters // every codec negotiated
	writer *followWriter
	id     string
}

// CodecParameters implements webrtc.TrackLocalContext.
func (c *innerContext) CodecParameters() []webrtc.RTPCodecParameters { return c.codecs }

// HeaderExtensions implements webrtc.TrackLocalContext.
func (c *innerContext) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter {
	return c.outer.HeaderExtensions()
}

// SSRC implements webrtc.TrackLocalContext.
func (c *innerContext) SSRC() webrtc.SSRC { return c.outer.SSRC() }

// SSRCRetransmission implements webrtc.TrackLocalContext.
func (c *innerContext) SSRCRetransmission() webrtc.SSRC { return c.outer.SSRCRetransmission() }

// SSRCForwardErrorCorrection implements webrtc.TrackLocalContext.
func (c *innerContext) SSRCForwardErrorCorrection() webrtc.SSRC {
	return c.outer.SSRCForwardErrorCorrection()
}

// WriteStream implements webrtc.TrackLocalContext.
func (c *innerContext) WriteStream() webrtc.TrackLocalWriter { return c.writer }

// ID implements webrtc.TrackLocalContext.
func (c *innerContext) ID() string { return c.id }

// RTCPReader implements webrtc.TrackLocalContext.
func (c *innerContext) RTCPReader() interceptor.RTCPReader { return c.outer.RTCPReader() }
