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

// TestVideoFmtpSeedsRecording records an sprop-only capture of a
// connection announced without an fmtp, as a live publisher is before its
// tracks exist: the fmtp handed over by VideoFmtp before the first video
// packet seeds the depacketizer, and the video is recorded whole.
func TestVideoFmtpSeedsRecording(t *testing.T) {
	e := newEnv(t, nil, 1<<15)
	fx := loadFixture(t, "h264_sprop_opus", "C1", 12*time.Second)
	fmtp := fx.conn.Video.Fmtp
	fx.conn.Video.Fmtp = ""
	if _, err := e.m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{}
	e.m.ConnectionJoined("ch", fx.conn, src)
	in, err := e.m.StartRecording("ch", Options{Format: FormatMP4})
	if err != nil {
		t.Fatal(err)
	}
	sink, ok := src.subscribed().(FmtpSink)
	if !ok {
		t.Fatalf("the recorder (%T) is not an FmtpSink", src.subscribed())
	}
	sink.VideoFmtp(fmtp, e.clock.Now())
	fx.play(sink, e.clock.Now())
	e.clock.Advance(fx.packets[len(fx.packets)-1].offset)
	if _, err := e.m.StopRecording("ch"); err != nil {
		t.Fatal(err)
	}
	e.n.waitFor(t, "recording.report", 30*time.Second)
	meta := readJSON(t, filepath.Join(e.cfg.ArchiveDir, in.RecordingID, ArchiveMeta("C1")))
	st := meta["stats"].(map[string]any)
	if st["video_frames"] != float64(300) || st["video_failure"] != nil || meta["video_width"] != float64(640) {
		t.Errorf("video %v frames at width %v, failure %v; want 300 at 640", st["video_frames"], meta["video_width"], st["video_failure"])
	}
}
