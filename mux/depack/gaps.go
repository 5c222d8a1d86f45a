package depack

import "github.com/kiroku-sfu/kiroku/mux"

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
