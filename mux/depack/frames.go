package depack

import (
	"errors"
	"fmt"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// errEmptyFrame reports a depacketizer that produced no bytes for a frame.
var errEmptyFrame = errors.New("depack: depacketizer produced an empty frame")

// frameState is the video frame being collected. Payloads are copied into
// data so ring slots can be reused at once, even for frames bigger than
// the ring.
type frameState struct {
	active   bool
	ok       bool // started with a frame start and nothing missing so far
	ts       int64
	rtpTS    uint32
	arrival  time.Duration
	data     []byte
	ends     []int // end offset of each payload in data
	payloads [][]byte
}

// gapState is an open video gap: frames are dropped until a keyframe.
type gapState struct {
	isOpen     bool
	cause      mux.GapCause
	start      int64
	startKnown bool
	dropped    int
	requested  bool // a keyframe was requested for this gap
}

func (g *gapState) open(cause mux.GapCause) {
	if !g.isOpen {
		*g = gapState{isOpen: true, cause: cause}
	}
}

// packet handles one consumed, non-padding packet.
func (a *Assembler) packet(s *slot) {
	if !a.video {
		a.audioPacket(s)
		return
	}
	f := &a.frame
	if f.active && s.ts != f.ts {
		a.finishFrame() // contiguous but no marker: the frame ended anyway
	}
	if !f.active {
		a.noteFrame(s.ts)
		*f = frameState{active: true, ts: s.ts, rtpTS: s.rtpTS, arrival: s.arrival,
			data: f.data[:0], ends: f.ends[:0], payloads: f.payloads[:0],
			ok: a.cfg.Depacketizer.IsFrameStart(s.payload)}
	}
	if f.ok && len(f.data)+len(s.payload) > maxFrameBytes {
		f.ok = false
	}
	if f.ok {
		f.data = append(f.data, s.payload...)
		f.ends = append(f.ends, len(f.data))
	}
	if s.marker {
		a.finishFrame()
	}
}

// lost handles n sequence numbers given up on.
func (a *Assembler) lost(n int) {
	cause := mux.GapLoss
	if a.callerDropped {
		cause, a.callerDropped = mux.GapBackpressure, false
	}
	if !a.video {
		if a.audioLost == 0 {
			a.audioLostCause = cause
		}
		a.audioLost += n
		return
	}
	g := &a.gap
	if !g.isOpen {
		g.open(cause)
		switch {
		case a.frame.active:
			g.start, g.startKnown = a.frame.ts, true
		case a.emittedAny:
			g.start, g.startKnown = a.lastEmitted+a.frameTicks, true
		}
	}
	a.frame.ok = false // a frame in progress has a hole
	a.requestKeyframe()
}

// finishFrame decodes the collected frame and emits or drops it.
func (a *Assembler) finishFrame() {
	f := &a.frame
	f.active = false
	if !f.ok {
		a.dropFrame(f.ts, mux.GapLoss)
		return
	}
	start := 0
	for _, end := range f.ends {
		f.payloads = append(f.payloads, f.data[start:end])
		start = end
	}
	out, info, err := a.cfg.Depacketizer.AppendFrame(a.out[:0], f.payloads)
	if err == nil && len(out) == 0 {
		err = errEmptyFrame
	}
	if err != nil {
		a.codecError(err, f.ts)
		return
	}
	a.out = out
	if a.gap.isOpen {
		if !info.Keyframe {
			a.dropFrame(f.ts, a.gap.cause)
			return
		}
		a.closeGap(f.ts)
		a.randomAccess = true
	} else if info.Keyframe {
		a.randomAccess = false
	}
	if info.SkipAtRandomAccess && a.randomAccess {
		a.stats.FramesDropped++
		a.stats.FramesLeadingSkipped++
		return
	}
	a.emit(f.ts, f.rtpTS, f.arrival, info, out)
	a.shrinkBuffers(len(f.data), len(out))
}

// shrinkBuffers lets go of the frame buffers when they are much larger
// than the frame just finished (whose payload and output sizes are given),
// so that a keyframe's size is not kept for the rest of the stream. The
// new buffers have room for frames twice this size.
func (a *Assembler) shrinkBuffers(dataLen, outLen int) {
	f := &a.frame
	if oversized(cap(f.data), dataLen) {
		clear(f.payloads[:cap(f.payloads)]) // they point into the old data
		f.data = make([]byte, 0, 2*dataLen)
	}
	if oversized(cap(a.out), outLen) {
		a.out = make([]byte, 0, 2*outLen)
	}
}

// oversized reports whether a buffer of capacity c is worth replacing
// after holding n bytes: it is above shrinkAbove and more than four times n.
func oversized(c, n int) bool {
	return c > shrinkAbove && c > 4*n
}

// dropPartialFrame drops a video frame that will never get its end.
func (a *Assembler) dropPartialFrame() {
	if a.frame.active {
		a.frame.active = false
		a.dropFrame(a.frame.ts, mux.GapLoss)
	}
}

// codecError handles a depacketizer error for the frame at ts.
func (a *Assembler) codecError(err error, ts int64) {
	if errors.Is(err, mux.ErrReordering) {
		a.err = fmt.Errorf("depack: %s frame: %w", a.cfg.Track.Codec, err)
		a.stats.FramesCodecError++
		a.stats.FramesUnsupported++
		return
	}
	a.stats.FramesCodecError++
	a.undecodable = true
	switch {
	case errors.Is(err, mux.ErrMissingParameterSets):
		a.stats.KeyframesNoParams++
	case errors.Is(err, mux.ErrUnsupported):
		a.stats.FramesUnsupported++
	}
	if !a.video {
		a.stats.FramesDropped++
		a.gapOut(Gap{Start: ts, End: ts + a.frameTicks, Cause: mux.GapCodecError, DroppedFrames: 1})
		return
	}
	a.dropFrame(ts, mux.GapCodecError)
}

// dropFrame drops the video frame at ts, opening a gap if none is open.
func (a *Assembler) dropFrame(ts int64, cause mux.GapCause) {
	g := &a.gap
	g.open(cause)
	if !g.startKnown {
		g.start, g.startKnown = ts, true
	}
	g.dropped++
	a.stats.FramesDropped++
	if a.undecodable {
		a.stats.FramesUndecodable++
	}
	a.requestKeyframe()
}

// closeGap reports the open video gap as ending at end.
func (a *Assembler) closeGap(end int64) {
	g := a.gap
	a.gap = gapState{}
	if !g.startKnown || g.start > end {
		g.start = end
	}
	if g.dropped > 0 || g.start < end {
		a.gapOut(Gap{Start: g.start, End: end, Cause: g.cause, DroppedFrames: g.dropped})
	}
}

// flushGap reports the open video gap up to the last packet seen; the
// stream keeps waiting for a keyframe.
func (a *Assembler) flushGap() {
	g := a.gap
	if !g.isOpen || !(g.startKnown || g.dropped > 0) {
		return
	}
	a.closeGap(max(a.lastTS+a.frameTicks, g.start))
	a.gap = gapState{isOpen: true, cause: g.cause, requested: g.requested}
}

// streamChanged records a restart: the old stream ended around gapStart and
// the new one starts at newStart.
func (a *Assembler) streamChanged(gapStart, newStart int64) {
	if !a.video {
		a.audioLost = 0
		if newStart > gapStart && a.emittedAny {
			a.gapOut(Gap{Start: gapStart, End: newStart, Cause: mux.GapSSRCChange})
		}
		return
	}
	a.dropPartialFrame()
	a.gap.open(mux.GapSSRCChange)
	if !a.gap.startKnown && a.emittedAny {
		a.gap.start, a.gap.startKnown = gapStart, true
	}
}

// audioPacket turns one audio packet into a frame, reporting the frames
// lost just before it. A timestamp jump without lost packets is DTX, not
// a gap.
func (a *Assembler) audioPacket(s *slot) {
	if n := a.audioLost; n > 0 && a.emittedAny && s.ts > a.lastEmitted {
		step := (s.ts - a.lastEmitted) / int64(n+1)
		a.gapOut(Gap{Start: a.lastEmitted + step, End: s.ts, Cause: a.audioLostCause, DroppedFrames: n})
	}
	a.audioLost = 0
	a.noteFrame(s.ts)
	a.frame.payloads = append(a.frame.payloads[:0], s.payload)
	out, info, err := a.cfg.Depacketizer.AppendFrame(a.out[:0], a.frame.payloads)
	if err == nil && len(out) == 0 {
		err = errEmptyFrame
	}
	if err != nil {
		a.codecError(err, s.ts)
		return
	}
	a.out = out
	info.Keyframe = true
	a.emit(s.ts, s.rtpTS, s.arrival, info, out)
}

// noteFrame measures the usual timestamp step between frames from a frame
// starting at ts: the shortest recent step, or a longer one seen twice in
// a row (the frame rate dropped). The step estimates where gaps start and
// end.
func (a *Assembler) noteFrame(ts int64) {
	if d := ts - a.lastFrameTS; a.framesSeen && d > 0 && d <= int64(a.cfg.Track.ClockRate)/4 {
		// A step spanning a frame lost whole is longer than the frame
		// rate's: after the first, take a longer step only once it repeats.
		if a.lastStep == 0 || d < a.frameTicks || d == a.lastStep {
			a.frameTicks = d
		}
		a.lastStep = d
	}
	a.lastFrameTS, a.framesSeen = ts, true
}

// emit hands a frame to OnFrame.
func (a *Assembler) emit(ts int64, rtpTS uint32, arrival time.Duration, info mux.FrameInfo, data []byte) {
	a.lastEmitted, a.emittedAny = ts, true
	a.undecodable = a.undecodable && !info.Keyframe
	a.stats.FramesEmitted++
	a.cfg.OnFrame(Frame{Timestamp: ts, RTPTimestamp: rtpTS, SSRC: a.ssrc, Arrival: arrival,
		Keyframe: info.Keyframe, Data: data, Config: info.Config})
}

func (a *Assembler) gapOut(g Gap) {
	if a.cfg.OnGap != nil {
		a.cfg.OnGap(g)
	}
}

// requestKeyframe asks for a keyframe once per video gap.
func (a *Assembler) requestKeyframe() {
	if !a.video || a.gap.requested {
		return
	}
	a.gap.requested = true
	a.stats.KeyframeRequests++
	if a.cfg.RequestKeyframe != nil {
		a.cfg.RequestKeyframe()
	}
}
