package rtpmux

import (
	"fmt"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/depack"
)

// onFrame queues a frame from a track's assembler.
func (m *Muxer) onFrame(t *track, f *depack.Frame) {
	if !t.anchored {
		t.anchor(f, m.other(t))
	}
	ref := t.ref(f.Timestamp)
	t.fifo.push(queued{ref: ref, keyframe: f.Keyframe, data: m.pool.copyOf(f.Data), config: f.Config})
	m.queued++
	if !m.hasLatest || ref > m.latestRef {
		m.latestRef, m.hasLatest = ref, true
	}
	if m.keyAtSet && m.started && ref-m.fileStart >= m.keyAt {
		m.keyAtSet = false
		m.requestKeyframe()
	}
}

// release hands queued frames to the writer in time order: the earliest
// queued frame goes once every track has a frame queued (nothing earlier
// can come), once it has waited the interleave window, or when the queue
// is full. With force, everything goes.
func (m *Muxer) release(force bool) {
	for m.err == nil {
		t := m.earliest()
		if t == nil {
			return
		}
		forcedCut := false
		if !force {
			var ok bool
			if ok, forcedCut = m.ready(t); !ok {
				return
			}
		}
		it := t.fifo.pop()
		m.queued--
		m.deliver(t, &it, forcedCut)
		m.pool.put(it.data)
	}
}

// earliest returns the track whose queued head is earliest, or nil.
func (m *Muxer) earliest() *track {
	var best *track
	for _, t := range m.tracks {
		if t != nil && t.fifo.len() > 0 && (best == nil || t.headTime() < best.headTime()) {
			best = t
		}
	}
	return best
}

// ready reports whether t's head may be written now, and whether writing it
// must force a pending split to cut at it.
func (m *Muxer) ready(t *track) (ok, forcedCut bool) {
	head := t.fifo.peek()
	age := m.latestRef - head.ref
	if m.holdsForSplit(t, head) {
		switch {
		case m.tracks[0].fifo.len() > 0:
			// Video's next frame is later, so is any keyframe that cuts:
			// this frame belongs to the current file.
			return true, false
		case age >= m.cfg.SplitHold || m.queued >= maxQueued:
			return true, true // video stalled: cut here
		}
		return false, false
	}
	all := true
	for _, o := range m.tracks {
		if o != nil && o.err == nil && o.fifo.len() == 0 {
			all = false
		}
	}
	return all || age >= m.cfg.InterleaveWindow || m.queued >= maxQueued, false
}

// deliver writes one frame, after a cut if it is where a split falls.
func (m *Muxer) deliver(t *track, it *queued, forcedCut bool) {
	if !m.started {
		m.started, m.fileStart = true, it.ref
		if !m.openWriter() {
			return
		}
	}
	pts := m.trackPTS(t, it.ref)
	m.maybeCut(t, it, pts, forcedCut)
	if m.err != nil {
		return
	}
	if pts < m.base {
		// Late for a file already finished: the new file cannot take it,
		// and video after it needs a keyframe.
		t.dropped++
		t.needKey = t.kind == mux.Video
		return
	}
	if t.needKey && !it.keyframe {
		t.dropped++
		return
	}
	t.needKey = false
	f := mux.Frame{PTS: pts - m.base, Keyframe: it.keyframe, Data: it.data, Config: it.config}
	if err := m.w.WriteFrame(t.kind, f); err != nil {
		m.err = fmt.Errorf("rtpmux: write %s frame at %v: %w", t.kind, f.PTS, err)
	}
}

// trackPTS maps a reference time to the recording timeline, never before
// the track's previous frame. A track whose first frame falls before the
// recording's start (it arrived after the first frames were written) is
// shifted to start at 0 rather than having frames piled up there.
func (m *Muxer) trackPTS(t *track, ref time.Duration) time.Duration {
	if !t.hasPTS && ref < m.fileStart {
		t.shift = m.fileStart - ref
		m.cfg.Logger.Info("track starts before the recording; shifted", "kind", t.kind.String(), "shift", t.shift)
	}
	pts := ref + t.shift - m.fileStart
	if t.hasPTS && pts < t.lastPTS {
		pts = t.lastPTS
		t.clamped++
	}
	t.lastPTS, t.hasPTS = pts, true
	return pts
}

// openWriter creates the current file's writer.
func (m *Muxer) openWriter() bool {
	w, err := m.cfg.NewWriter(m.cfg.Video, m.cfg.Audio)
	if err != nil {
		m.err = fmt.Errorf("rtpmux: new writer: %w", err)
		return false
	}
	m.w = w
	return true
}
