package webm

import (
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// TestResolutionChange feeds two clips of different sizes one after the
// other into one track; the file must decode cleanly with every frame.
func TestResolutionChange(t *testing.T) {
	for _, codec := range []mux.Codec{mux.VP8, mux.H264} {
		t.Run(string(codec), func(t *testing.T) {
			first := clipFrames(t, codec, 320, 240, 1)
			second := shift(clipFrames(t, codec, 480, 360, 1), time.Second)
			video := append(first, second...)
			audio := clipFrames(t, mux.Opus, 1, 0, 2)
			path, st := writeFile(t, &mux.TrackInfo{Codec: codec},
				&mux.TrackInfo{Codec: mux.Opus, Channels: 1}, video, audio, Options{})
			if st.ConfigChanges != 1 || st.Width != 480 || st.Height != 360 {
				t.Errorf("stats: %d config changes, largest %dx%d; want 1 and 480x360",
					st.ConfigChanges, st.Width, st.Height)
			}
			p := ffprobe(t, path)
			if len(p.Streams) == 0 || p.Streams[0].Width != 320 {
				t.Errorf("track header should carry the first size 320x240: %+v", p.Streams)
			}
			counts := decodeCounts(t, path, false)
			if counts["video"] != len(video) || counts["audio"] != len(audio) {
				t.Errorf("decoded %v, wrote %d video and %d audio frames", counts, len(video), len(audio))
			}
			mkvCheck(t, path)
		})
	}
}

// TestLongGOP writes synthetic frames with a keyframe only every 40 s: the
// writer must ask for a keyframe before 32 s into a cluster and keep every
// cluster under the 32.767 s block limit, starting one on a non-keyframe
// as a last resort.
func TestLongGOP(t *testing.T) {
	const total = 100 * time.Second
	var video, audio []mux.Frame
	for pts := time.Duration(0); pts < total; pts += 40 * time.Millisecond {
		f := mux.Frame{PTS: pts, Data: []byte{0x01, 0x02, 0x03}}
		if pts%(40*time.Second) == 0 {
			f.Keyframe, f.Config = true, &mux.VideoConfig{Width: 64, Height: 48}
		}
		video = append(video, f)
	}
	for pts := time.Duration(0); pts < total; pts += 20 * time.Millisecond {
		audio = append(audio, mux.Frame{PTS: pts + 3*time.Millisecond, Keyframe: true, Data: []byte{0xFC}})
	}
	var lastPTS time.Duration
	var requests []time.Duration
	var w *Writer
	opts := Options{RequestKeyframe: func() { requests = append(requests, lastPTS) }}
	path, _ := writeFileWith(t, &mux.TrackInfo{Codec: mux.VP8}, &mux.TrackInfo{Codec: mux.Opus, Channels: 1},
		opts, func(nw *Writer) { w = nw }, func(k mux.Kind, f mux.Frame) { lastPTS = f.PTS }, video, audio)

	// Clusters open at the keyframes at 0, 40 s and 80 s and are forced
	// near 32.8 s and 72.8 s; a request comes 30 s into each cluster that
	// runs that long (the forced ones end at the next keyframe).
	want := []time.Duration{30 * time.Second, 70 * time.Second}
	if len(requests) != len(want) {
		t.Fatalf("keyframe requests at %v, want about %v", requests, want)
	}
	for i, at := range want {
		if d := requests[i] - at; d < -50*time.Millisecond || d > 50*time.Millisecond {
			t.Errorf("request %d at %v, want about %v", i, requests[i], at)
		}
	}
	if w.ForcedClusters() != 2 {
		t.Errorf("%d forced clusters, want 2", w.ForcedClusters())
	}
	rep := mkvCheck(t, path)
	if rep.forced != 2 || rep.blocks[1] != len(video) || rep.blocks[2] != len(audio) {
		t.Errorf("mkvinfo: %d forced clusters, blocks %v; want 2, %d video, %d audio",
			rep.forced, rep.blocks, len(video), len(audio))
	}
}
