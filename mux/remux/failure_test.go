package remux

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/depack"
)

// TestCaptureFailures checks which captures report a failed video track:
// loss and a mid-GOP start are gaps, not failures; video whose parameter
// sets are nowhere is one, and the audio is still written.
func TestCaptureFailures(t *testing.T) {
	tests := []struct {
		name string
		want depack.Failure
	}{
		{"h264_sprop_opus", ""},
		{"h265_cra_opus_loss3", ""},
		{"h264_cb_opus_midgop", ""},
		{"h264_sprop_opus_nosprop", depack.FailureNoParameterSets},
		{"h265_sprop_opus_nosprop", depack.FailureNoParameterSets},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.mp4")
			res, err := Capture(filepath.Join("..", "..", "fixtures", "rtpdumps", tt.name), MP4, out, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if len(res.Failures) != 0 || res.VideoFrames == 0 {
					t.Errorf("failures %v with %d video frames, want none", res.Failures, res.VideoFrames)
				}
				return
			}
			if len(res.Failures) != 1 || res.Failures[0].Cause != tt.want || res.Failures[0].Kind != mux.Video {
				t.Fatalf("failures %v, want one video %s", res.Failures, tt.want)
			}
			if msg := res.Failures[0].Error(); !strings.Contains(msg, "video track") || !strings.Contains(msg, string(tt.want)) {
				t.Errorf("message %q does not name the track and cause", msg)
			}
			if res.VideoFrames != 0 || res.AudioFrames < 450 {
				t.Errorf("%d video and %d audio frames, want the audio alone", res.VideoFrames, res.AudioFrames)
			}
		})
	}
}
