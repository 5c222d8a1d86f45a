package media

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux/remux"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
	"github.com/kiroku-sfu/kiroku/test/judge"
)

// splitBoundaries are where TestSplitConcat asks for new files; each cut
// falls on the next keyframe (every 2 s in the fixtures).
var splitBoundaries = []time.Duration{3 * time.Second, 7 * time.Second}

// TestSplitConcat splits each clean capture into parts with the muxer's
// SplitAt, joins the parts with ffmpeg's concat demuxer and checks that
// they decode to as many video frames as the same capture in one file.
func TestSplitConcat(t *testing.T) {
	needTools(t, "ffmpeg")
	for _, name := range []string{"vp8_opus", "vp9_opus", "av1_opus", "h264_cb_opus", "h264_high_opus", "h265_opus",
		"h265_cra_opus", "h264_sprop_opus", "h265_sprop_opus"} {
		for _, format := range []remux.Format{remux.MP4, remux.WebM} {
			if strings.HasPrefix(name, "h265_") && format == remux.WebM {
				continue // refused: TestFixtures checks the refusal
			}
			t.Run(name+"/"+string(format), func(t *testing.T) {
				t.Parallel()
				vp9 := strings.HasPrefix(name, "vp9")
				whole := record(t, name, format, nil)
				parts := record(t, name, format, splitBoundaries)
				if len(whole) != 1 || len(parts) != len(splitBoundaries)+1 {
					t.Fatalf("%d files unsplit, %d split, want 1 and %d", len(whole), len(parts), len(splitBoundaries)+1)
				}
				want, err := decodeVideo([]string{"-i", whole[0]}, vp9)
				if err != nil {
					t.Fatal(err)
				}
				got, err := decodeVideo([]string{"-f", "concat", "-safe", "0", "-i", concatList(t, parts)}, vp9)
				if err != nil {
					t.Fatal(err)
				}
				facts, err := analyzeCapture(name)
				if err != nil {
					t.Fatal(err)
				}
				if len(want) != facts.VideoFrames {
					t.Errorf("the single file decodes to %d video frames, the capture has %d", len(want), facts.VideoFrames)
				}
				if len(got) != len(want) {
					t.Errorf("the %d parts decode to %d video frames, the single file to %d", len(parts), len(got), len(want))
				}
				checkPartsAlone(t, name, parts, format, vp9)
			})
		}
	}
}

// checkPartsAlone decodes every part on its own: each starts at a keyframe
// (an H.265 CRA picture for the open-GOP captures) that needs nothing from
// the part before it. MP4 parts must also mark every random access
// picture, and only those, as sync samples, CRA pictures included.
func checkPartsAlone(t *testing.T, name string, parts []string, format remux.Format, vp9 bool) {
	t.Helper()
	codec := map[bool]string{true: "vp9", false: ""}[vp9]
	for i, p := range parts {
		if msg, err := judge.DecodeErrors(p, codec); err != nil || msg != "" {
			t.Errorf("part %d decodes with errors: %v %s", i, err, msg)
		}
		probe, err := judge.ProbeFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if vs, ok := probe.Stream("video"); ok && format == remux.MP4 && (vs.CodecName == "h264" || vs.CodecName == "hevc") {
			checkSyncSamples(t, fmt.Sprintf("%s part %d", name, i), p, vs.CodecName)
		}
	}
}

// record replays a capture into a recording of format, splitting at each
// boundary in turn, and returns the finished files.
func record(t *testing.T, name string, format remux.Format, boundaries []time.Duration) []string {
	t.Helper()
	c, err := rtpdump.Open(capturePath(name))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := &recorder{format: format, dir: t.TempDir()}
	m, err := newMuxer(c.Sidecar, r)
	if err != nil {
		t.Fatal(err)
	}
	requested := 0
	err = replay(c, m, func(time.Duration) {
		if requested < len(boundaries) && requested == len(r.parts) {
			m.SplitAt(boundaries[requested])
			requested++
		}
	})
	if _, cerr := m.Close(); err == nil {
		err = cerr
	}
	if cerr := r.close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("record %s as %s: %v", name, format, err)
	}
	return r.paths()
}

// concatList writes a concat demuxer list naming files in order.
func concatList(t *testing.T, files []string) string {
	t.Helper()
	var b strings.Builder
	for _, f := range files {
		fmt.Fprintf(&b, "file '%s'\n", f)
	}
	path := filepath.Join(t.TempDir(), "list.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
