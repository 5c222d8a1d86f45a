package depack

import (
	"errors"
	"fmt"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// errEmptyFrame reports a depacketizer that produced no bytes for a frame.
var errEmptyFrame = errors.New("depack: depacketizer produced an empty frame")

// frameState is the video frame being collected. The payloads of a frame
// of several packets are copied into data, so ring slots (and the caller's
// packets on the in-order path) can be reused at once, even for frames
// bigger than the ring; a frame of one packet is decoded from it directly
// (see wholeFrame).
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
		if s.marker {
			a.wholeFrame(s)
			return
		}
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
	a.decodeFrame(len(f.data))
}

// wholeFrame decodes a frame that packet s, its first packet, also ends
// (most frames of a low bit rate stream): its payload goes to the
// depacketizer as it is, without a copy into the frame buffer.
func (a *Assembler) wholeFrame(s *slot) {
	f := &a.frame
	f.active = false
	if !f.ok {
		a.dropFrame(f.ts, mux.GapLoss)
		return
	}
	f.payloads = append(f.payloads, s.payload)
	a.decodeFrame(len(s.payload))
	f.payloads[0] = nil // s's buffer is not ours to keep
}

// decodeFrame turns the payloads of the finished frame, dataLen bytes in
// all, into container bytes and emits the frame or drops it.
func (a *Assembler) decodeFrame(dataLen int) {
	f := &a.frame
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
	a.shrinkBuffers(dataLen, len(out))
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
	a.frame.payloads[0] = nil // s's buffer is not ours to keep
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
