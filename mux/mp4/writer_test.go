package mp4

import (
	"math"
	"os"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

const videoFrameDur = 40 * time.Millisecond // the clips are 25 fps

// writeFrames writes tagged frames to a new Writer on f and closes it at end.
func writeFrames(t testing.TB, f *os.File, video, audio *mux.TrackInfo, frames []taggedFrame, end time.Duration, opts Options) mux.FileStats {
	t.Helper()
	w, err := NewWriter(f, video, audio, opts)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	for _, tf := range frames {
		if err := w.WriteFrame(tf.kind, tf.frame); err != nil {
			t.Fatalf("WriteFrame(%v, %v): %v", tf.kind, tf.frame.PTS, err)
		}
	}
	stats, err := w.Close(end)
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	return stats
}

func keyframes(frames []mux.Frame) int {
	n := 0
	for _, f := range frames {
		if f.Keyframe {
			n++
		}
	}
	return n
}

// clipEnd is where a clip's last sample ends.
func clipEnd(video, audio []mux.Frame) time.Duration {
	return max(video[len(video)-1].PTS+videoFrameDur, audio[len(audio)-1].PTS+20*time.Millisecond)
}

func TestWriterCodecs(t *testing.T) {
	for _, cc := range codecCases() {
		t.Run(string(cc.codec), func(t *testing.T) {
			c := readClip(t, makeClip(t, cc, "320x240", 3), cc.codec)
			f := createFile(t, "out.mp4")
			end := clipEnd(c.videoFrames, c.audioFrames)
			stats := writeFrames(t, f, &c.video, &c.audio, interleave(c.videoFrames, c.audioFrames), end, Options{})

			want := mux.FileStats{Bytes: fileSize(t, f), Duration: end, VideoFrames: len(c.videoFrames),
				AudioFrames: len(c.audioFrames), Keyframes: keyframes(c.videoFrames), Width: 320, Height: 240}
			if stats != want {
				t.Errorf("stats = %+v, want %+v", stats, want)
			}
			if want.Keyframes < 3 {
				t.Errorf("clip has %d keyframes; the test wants several", want.Keyframes)
			}
			checkProgressive(t, readLayout(t, f.Name()), true, 2)
			decodeClean(t, f.Name(), cc.decoder)
			streams := probeFile(t, f.Name())
			v, a := streamOf(t, streams, "video"), streamOf(t, streams, "audio")
			if v.CodecName != cc.probe || v.Width != 320 || v.Height != 240 || a.CodecName != "opus" {
				t.Errorf("streams: video %s %dx%d, audio %s", v.CodecName, v.Width, v.Height, a.CodecName)
			}
			checkFrames(t, f.Name(), cc.decoder, len(c.videoFrames), len(c.audioFrames))
			if d := v.seconds(t, v.Duration); math.Abs(d-c.videoFrames[len(c.videoFrames)-1].PTS.Seconds()-0.04) > 0.04 {
				t.Errorf("video duration %.3f s, want %d frames of 40 ms", d, len(c.videoFrames))
			}
		})
	}
}

// checkFrames fails unless decoding the file (video stream 0, audio
// stream 1) gives exactly the frames written.
func checkFrames(t testing.TB, path string, decoder []string, video, audio int) {
	t.Helper()
	got := decodedFrames(t, path, decoder)
	if got["0"] != video || got["1"] != audio {
		t.Errorf("decoded %d video and %d audio frames, wrote %d and %d", got["0"], got["1"], video, audio)
	}
}

func fileSize(t testing.TB, f *os.File) int64 {
	t.Helper()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
