package rtpmux

import (
	"fmt"
	"time"
)

// splitState is a requested split that has not happened yet.
type splitState struct {
	pending  bool
	boundary time.Duration // on the recording timeline
}

// SplitAt asks for the recording to continue in a new file from the first
// video keyframe at or after boundary on the recording timeline (for an
// audio-only recording, or a video track that has sent nothing, from the
// first audio frame at or after boundary). Audio frames before the cut stay
// in the old file, the rest go to the new one. The old writer is closed
// with the cut as its end, its summary goes to Config.OnPartClosed and
// Config.NewWriter makes the next one. A later call replaces a pending
// split. Call NeedKeyframeAt a little before boundary so the cut is close
// to it.
func (m *Muxer) SplitAt(boundary time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.split = splitState{pending: true, boundary: boundary}
}

// NeedKeyframeAt asks the Muxer to request a video keyframe once the
// newest frame received reaches recording time at. A later call replaces
// the pending one.
func (m *Muxer) NeedKeyframeAt(at time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keyAt, m.keyAtSet = at, true
}

// videoActive reports whether the cut of a split must wait for video.
func (m *Muxer) videoActive() bool {
	v := m.tracks[0]
	return v != nil && v.anchored && v.err == nil
}

// holdsForSplit reports whether an audio frame must wait for the video
// keyframe that decides on which side of a pending cut it falls.
func (m *Muxer) holdsForSplit(t *track, it *queued) bool {
	if !m.split.pending || t == m.tracks[0] || !m.videoActive() || !m.started {
		return false
	}
	return it.ref+t.shift-m.fileStart >= m.split.boundary
}

// maybeCut makes a pending split happen at the frame about to be written
// at pts, if that frame is where it falls.
func (m *Muxer) maybeCut(t *track, it *queued, pts time.Duration, forced bool) {
	if !m.split.pending || pts < m.split.boundary {
		return
	}
	switch {
	case forced:
		if v := m.tracks[0]; v != nil {
			v.needKey = true
		}
	case m.videoActive() && (t != m.tracks[0] || !it.keyframe):
		return
	}
	m.cut(pts)
}

// cut finishes the current file at recording time at and opens the next.
func (m *Muxer) cut(at time.Duration) {
	m.split.pending = false
	stats, err := m.w.Close(at - m.base)
	m.w = nil
	if err != nil {
		m.err = fmt.Errorf("rtpmux: split at %v: close writer: %w", at, err)
		return
	}
	part := Part{Summary: m.summary(stats, at), Start: m.base, End: at}
	m.cfg.Logger.Info("recording split", "start", part.Start, "end", at, "bytes", stats.Bytes)
	m.base = at
	if m.cfg.OnPartClosed != nil {
		m.cfg.OnPartClosed(part)
	}
	m.openWriter()
}
