package rtpmux

import (
	"math"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/depack"
)

// maxDuration stands for "no end": the last file takes every gap left.
const maxDuration = time.Duration(math.MaxInt64)

// summary builds the summary of the file spanning [m.base, end) on the
// recording timeline and starts the counters of the next file.
func (m *Muxer) summary(stats mux.FileStats, end time.Duration) mux.Summary {
	sum := mux.Summary{FileStats: stats, KeyframeRequests: m.requests}
	m.requests = 0
	for _, t := range m.tracks {
		if t == nil {
			continue
		}
		s := t.asm.Stats()
		sum.PacketsReceived += s.PacketsReceived - t.snap.PacketsReceived
		sum.PacketsLost += s.PacketsLost - t.snap.PacketsLost
		sum.PacketsDuplicate += s.PacketsDuplicate - t.snap.PacketsDuplicate
		sum.FramesDropped += s.FramesDropped - t.snap.FramesDropped + t.dropped - t.droppedSnap
		t.snap, t.droppedSnap = s, t.dropped
		sum.Gaps = append(sum.Gaps, m.takeGaps(t, end)...)
	}
	return sum
}

// takeGaps returns t's gaps that start before end, placed on the current
// file's timeline and clipped to it, and keeps those that reach past end
// for the next file. A gap's dropped frames are counted in the first file
// it appears in.
func (m *Muxer) takeGaps(t *track, end time.Duration) []mux.Gap {
	var out []mux.Gap
	keep := t.gaps[:0]
	for _, g := range t.gaps {
		start, stop := m.gapSpan(t, g)
		if start < end {
			from, to := max(start, m.base), min(stop, end)
			mg := mux.Gap{Kind: t.kind, Offset: from - m.base, Duration: max(to-from, 0), Cause: g.Cause}
			if !g.counted {
				mg.DroppedFrames, g.counted = g.DroppedFrames, true
			}
			out = append(out, mg)
		}
		if stop > end {
			keep = append(keep, g)
		}
	}
	clear(t.gaps[len(keep):])
	t.gaps = keep
	return out
}

// gapSpan places a gap on the recording timeline; a track that never
// produced a frame has no mapping, so its gaps sit at 0.
func (m *Muxer) gapSpan(t *track, g trackGap) (start, stop time.Duration) {
	if !t.anchored || !m.started {
		return 0, 0
	}
	return t.ref(g.Start) + t.shift - m.fileStart, t.ref(g.End) + t.shift - m.fileStart
}

// TrackStats is what a Muxer counted for one track since it started.
type TrackStats struct {
	depack.Stats
	// PTSClamped counts frames whose time was raised so that it would not
	// go back.
	PTSClamped int
	// MuxDropped counts frames the assembler delivered but the muxer could
	// not write: late for a finished file, or waiting for a keyframe after
	// a cut that video missed.
	MuxDropped int
}

// Stats returns the counters of the track of kind k (zero if there is no
// such track).
func (m *Muxer) Stats(k mux.Kind) TrackStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.track(k)
	if t == nil {
		return TrackStats{}
	}
	return TrackStats{Stats: t.asm.Stats(), PTSClamped: t.clamped, MuxDropped: t.dropped}
}
