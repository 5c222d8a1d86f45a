package mp4

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// TestLastFrameAfterGap checks that a video frame written after a long gap
// (video lost until a keyframe) and never followed lasts one frame, not
// the gap's length, when Close's end is unknown, whether it was flushed in
// an earlier fragment or is in the last one.
func TestLastFrameAfterGap(t *testing.T) {
	for _, flush := range []bool{false, true} {
		var frames []mux.Frame
		for _, f := range synthFrames(rand.New(rand.NewPCG(7, 8)), 6) { // every 40 ms to 200 ms
			if f.kind == mux.Video {
				frames = append(frames, f.frame)
			}
		}
		last := frames[0]
		last.PTS = 2200 * time.Millisecond
		frames = append(frames, last)
		w, err := NewWriter(&memFile{}, &synthVideo, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range frames {
			if err := w.WriteFrame(mux.Video, f); err != nil {
				t.Fatal(err)
			}
		}
		if flush {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		stats, err := w.Close(0)
		if want := 2240 * time.Millisecond; err != nil || stats.Duration != want {
			t.Errorf("flushed %v: duration %v (%v), want %v", flush, stats.Duration, err, want)
		}
	}
}
