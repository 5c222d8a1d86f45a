package rtpmux

import (
	"slices"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// partWant is what one file of a split recording must hold.
type partWant struct {
	video, audio   []int // frame numbers
	firstVideoPTS  time.Duration
	end            time.Duration // Close(end) of the writer; 0 for the last
	start, stopped time.Duration // Part bounds (not checked for the last)
}

func TestSplit(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		video    *mux.TrackInfo
		events   func() []event
		boundary time.Duration
		parts    []partWant
	}{
		{
			name:     "cut at the first keyframe after the boundary",
			video:    vp8,
			events:   func() []event { return merged(videoEvents(0, 300, 30, 0, 1, 0), audioEvents(500, 0, 2, 0)) },
			boundary: 4500 * ms,
			parts: []partWant{
				{video: seqOf(0, 150), audio: seqOf(0, 250), end: 5 * time.Second, stopped: 5 * time.Second},
				{video: seqOf(150, 300), audio: seqOf(250, 500)},
			},
		},
		{
			name:     "audio only cuts at the first frame after the boundary",
			events:   func() []event { return audioEvents(100, 0, 2, 0) },
			boundary: 1010 * ms,
			parts: []partWant{
				{audio: seqOf(0, 51), end: 1020 * ms, stopped: 1020 * ms},
				{audio: seqOf(51, 100)},
			},
		},
		{
			name:  "stalled video: the cut falls on audio, video resumes at a keyframe",
			video: vp8,
			events: func() []event {
				return merged(videoEvents(0, 30, 30, 0, 1, 0), videoEvents(330, 30, 30, 0, 1, 0), audioEvents(600, 0, 2, 0))
			},
			boundary: 2010 * ms,
			parts: []partWant{
				{video: seqOf(0, 30), audio: seqOf(0, 101), end: 2020 * ms, stopped: 2020 * ms},
				{video: seqOf(330, 360), audio: seqOf(101, 600), firstVideoPTS: 11*time.Second - 2020*ms},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.video, opus, nil)
			h.m.SplitAt(tc.boundary)
			evs := tc.events()
			h.feed(t, evs)
			last := h.close(t)
			if len(h.writers) != len(tc.parts) || len(h.parts) != len(tc.parts)-1 {
				t.Fatalf("%d writers, %d parts, want %d", len(h.writers), len(h.parts), len(tc.parts))
			}
			received := last.PacketsReceived
			for i, want := range tc.parts {
				checkPart(t, i, h.writers[i], want)
				if i < len(h.parts) {
					p := h.parts[i]
					received += p.PacketsReceived
					if p.End != want.stopped || p.VideoFrames != len(want.video) || p.AudioFrames != len(want.audio) {
						t.Errorf("part %d: %+v", i, p)
					}
				}
			}
			if received != len(evs) {
				t.Errorf("parts count %d packets, fed %d", received, len(evs))
			}
		})
	}
}

func checkPart(t *testing.T, i int, w *fakeWriter, want partWant) {
	t.Helper()
	vs, as := w.of(mux.Video), w.of(mux.Audio)
	if !slices.Equal(ids(vs), want.video) || !slices.Equal(ids(as), want.audio) {
		t.Errorf("part %d: video %v audio %v; want %v %v", i, ids(vs), ids(as), want.video, want.audio)
		return
	}
	if len(vs) > 0 && (vs[0].pts != want.firstVideoPTS || !vs[0].key) {
		t.Errorf("part %d: first video at %v (key %v), want %v", i, vs[0].pts, vs[0].key, want.firstVideoPTS)
	}
	if len(as) > 0 && as[0].pts != 0 && want.firstVideoPTS == 0 {
		t.Errorf("part %d: first audio at %v", i, as[0].pts)
	}
	if !w.closed || w.end != want.end {
		t.Errorf("part %d: closed %v at %v, want %v", i, w.closed, w.end, want.end)
	}
}

func TestNeedKeyframeAt(t *testing.T) {
	h := newHarness(t, vp8, opus, nil)
	h.m.NeedKeyframeAt(3 * time.Second)
	evs := merged(videoEvents(0, 120, 30, 0, 1, 0), audioEvents(200, 0, 2, 0))
	split := slices.IndexFunc(evs, func(ev event) bool { return ev.arrival >= 2900*time.Millisecond })
	h.feed(t, evs[:split])
	if h.requests != 0 {
		t.Fatalf("%d requests before 3 s", h.requests)
	}
	h.feed(t, evs[split:])
	if sum := h.close(t); h.requests != 1 || sum.KeyframeRequests != 1 {
		t.Errorf("%d requests, summary says %d; want 1", h.requests, sum.KeyframeRequests)
	}
	if pos, ok := h.m.Position(); !ok || pos < 3900*time.Millisecond {
		t.Errorf("Position %v %v", pos, ok)
	}
}
