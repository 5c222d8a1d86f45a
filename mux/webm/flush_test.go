package webm

import (
	"bytes"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// TestAutoFlush checks that, without any Flush call, every frame older
// than FlushInterval is already in the file and recoverable.
func TestAutoFlush(t *testing.T) {
	for _, interval := range []time.Duration{0, 500 * time.Millisecond, MaxFlushInterval} {
		t.Run(interval.String(), func(t *testing.T) {
			ws := &memWriteSeeker{f: memFile{limit: 1 << 30}}
			w, err := NewWriter(ws, &mux.TrackInfo{Codec: mux.VP8}, &mux.TrackInfo{Codec: mux.Opus, Channels: 1},
				Options{FlushInterval: interval})
			if err != nil {
				t.Fatal(err)
			}
			want := interval
			if want == 0 {
				want = DefaultFlushInterval
			}
			var written []time.Duration
			buffered := false
			for pts := time.Duration(0); pts < 5*time.Second; pts += 20 * time.Millisecond {
				k, f := mux.Audio, mux.Frame{PTS: pts, Keyframe: true, Data: []byte{1}}
				if pts%(100*time.Millisecond) == 0 {
					k, f.Keyframe = mux.Video, pts%(3*time.Second) == 0
					if f.Keyframe {
						f.Config = &mux.VideoConfig{Width: 8, Height: 8}
					}
				}
				if err := w.WriteFrame(k, f); err != nil {
					t.Fatal(err)
				}
				written = append(written, pts)
				st, err := Recover(&memFile{b: bytes.Clone(ws.f.b), limit: 1 << 30})
				if err != nil && pts >= want {
					t.Fatalf("at %v: %v", pts, err)
				}
				old := 0
				for _, p := range written {
					if p <= pts-want {
						old++
					}
				}
				got := st.VideoFrames + st.AudioFrames
				if got < old {
					t.Fatalf("at %v: %d frames in the file, %d are older than %v", pts, got, old, want)
				}
				buffered = buffered || got < len(written)
			}
			if !buffered {
				t.Error("every frame reached the file at once: nothing is buffered")
			}
		})
	}
}
