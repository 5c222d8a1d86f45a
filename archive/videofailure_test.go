package archive

import (
	"path/filepath"
	"testing"
	"time"
)

// TestSpropAndVideoFailure records captures whose parameter sets are only
// in the fmtp (the Track's Fmtp, as sfu.TrackInfo.SDPFmtpLine hands it
// over): the video is recorded whole. The same captures without the sprop
// keep their audio and report the video that never started in stats.
func TestSpropAndVideoFailure(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		format  Format
		failure string
	}{
		{"h264_sprop_opus", FormatMP4, ""},
		{"h264_sprop_opus", FormatWebM, ""},
		{"h265_sprop_opus", FormatMP4, ""},
		{"h264_sprop_opus_nosprop", FormatWebM, "no_parameter_sets"},
		{"h265_sprop_opus_nosprop", FormatMP4, "no_parameter_sets"},
	} {
		t.Run(tc.fixture+"_"+string(tc.format), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil, 1<<15)
			fx := loadFixture(t, tc.fixture, "C1", 12*time.Second)
			dir, _ := recordFixture(t, e, fx, Options{Format: tc.format})
			meta := readJSON(t, filepath.Join(dir, ArchiveMeta("C1")))
			validateAgainst(t, "archive", meta)
			st := meta["stats"].(map[string]any)
			got, _ := st["video_failure"].(string)
			if got != tc.failure {
				t.Errorf("video_failure %q, want %q", got, tc.failure)
			}
			if tc.failure != "" {
				if st["video_frames"] != float64(0) || st["audio_frames"].(float64) < 450 {
					t.Errorf("video %v and audio %v frames, want the audio alone", st["video_frames"], st["audio_frames"])
				}
				return
			}
			if st["video_frames"] != float64(300) || meta["video_width"] != float64(640) || meta["video_height"] != float64(480) {
				t.Errorf("video %v frames at %vx%v, want 300 at 640x480", st["video_frames"], meta["video_width"], meta["video_height"])
			}
		})
	}
}
