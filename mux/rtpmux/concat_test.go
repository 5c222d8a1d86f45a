package rtpmux_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux/rtpmux"
)

// TestSplitConcatenates splits a recording and checks that the parts,
// joined by ffmpeg's concat demuxer, hold exactly the packets of the
// unsplit recording and decode to the same frames at the same times.
func TestSplitConcatenates(t *testing.T) {
	tests := []struct {
		name     string
		c        container
		boundary time.Duration
		cut      time.Duration // the keyframe the cut must fall on
	}{
		{"vp8_opus", webmFiles, 4500 * time.Millisecond, 6 * time.Second},
		{"h264_cb_opus", mp4Files, 3 * time.Second, 4 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			whole := replay(t, tc.name, tc.c, nil)
			split := replay(t, tc.name, tc.c, func(m *rtpmux.Muxer) { m.SplitAt(tc.boundary) })
			if len(split.files) != 2 || len(split.parts) != 1 {
				t.Fatalf("%d files, %d parts", len(split.files), len(split.parts))
			}
			if p := split.parts[0]; p.End != tc.cut || p.VideoFrames+split.last.VideoFrames != whole.last.VideoFrames ||
				p.AudioFrames+split.last.AudioFrames != whole.last.AudioFrames {
				t.Errorf("part %+v + last %+v, whole %+v", p, split.last, whole.last)
			}
			list := concatList(t, split.files)
			// auto_convert would rewrite H.264 packets to Annex B.
			in := []string{"-f", "concat", "-safe", "0", "-auto_convert", "0", "-i", list}
			sameLines(t, "packets", frameCRCs(t, []string{"-i", whole.files[0]}, whole.video, true), frameCRCs(t, in, whole.video, true), false)
			sameLines(t, "decoded frames", frameCRCs(t, []string{"-i", whole.files[0]}, whole.video, false), frameCRCs(t, in, whole.video, false), true)
		})
	}
}

// concatList writes a concat demuxer script naming files.
func concatList(t *testing.T, files []string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("ffconcat version 1.0\n")
	for _, f := range files {
		fmt.Fprintf(&b, "file '%s'\n", f)
	}
	path := filepath.Join(t.TempDir(), "parts.ffconcat")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sameLines compares two framecrc outputs stream by stream: same contents
// in the same order, and (for video) the same times within a tick.
func sameLines(t *testing.T, what string, want, got []crcLine, videoOnly bool) {
	t.Helper()
	ws, gs := perStream(want), perStream(got)
	for stream, w := range ws {
		if videoOnly && stream != 0 {
			continue
		}
		g := gs[stream]
		crc := func(ls []crcLine) []string {
			var out []string
			for _, l := range ls {
				out = append(out, l.crc)
			}
			return out
		}
		if !slices.Equal(crc(w), crc(g)) {
			t.Errorf("%s of stream %d: concatenated parts differ from the whole (%d vs %d)", what, stream, len(g), len(w))
			continue
		}
		for i := range w {
			if d := w[i].pts - g[i].pts; stream == 0 && (d > 1 || d < -1) {
				t.Errorf("%s of stream %d: #%d at %d in the parts, %d in the whole", what, stream, i, g[i].pts, w[i].pts)
				break
			}
		}
	}
}
