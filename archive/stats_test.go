package archive

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// TestStatsFromImpairedCaptures records captures with reordering, loss
// and resolution changes and checks what the stats object says.
func TestStatsFromImpairedCaptures(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		check   func(t *testing.T, st map[string]any, meta map[string]any)
	}{
		{"vp8_opus_reorder", func(t *testing.T, st, _ map[string]any) {
			if st["packets_recovered"].(float64) < 1 || st["packets_lost"] != float64(0) {
				t.Errorf("reordering: recovered %v, lost %v", st["packets_recovered"], st["packets_lost"])
			}
		}},
		{"vp8_opus_loss3", func(t *testing.T, st, _ map[string]any) {
			gaps, _ := st["gaps"].([]any)
			if st["packets_lost"].(float64) < 1 || len(gaps) == 0 || st["frames_dropped"].(float64) < 1 {
				t.Errorf("loss: lost %v, dropped %v, gaps %v", st["packets_lost"], st["frames_dropped"], gaps)
			}
		}},
		{"vp8_opus_ssrc", func(t *testing.T, st, _ map[string]any) {
			found := false
			for _, g := range st["gaps"].([]any) {
				found = found || g.(map[string]any)["cause"] == "ssrc_change"
			}
			if !found || st["video_frames"].(float64) < 200 {
				t.Errorf("a re-added track must continue in the same file: frames %v, gaps %v", st["video_frames"], st["gaps"])
			}
		}},
		{"vp8_opus_resize", func(t *testing.T, st, meta map[string]any) {
			if st["resolution_changes"].(float64) < 2 || meta["video_width"] == nil {
				t.Errorf("resize: changes %v, width %v", st["resolution_changes"], meta["video_width"])
			}
		}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil, 1<<15)
			fx := loadFixture(t, tc.fixture, "C1", 12*time.Second)
			dir, _ := recordFixture(t, e, fx, Options{})
			meta := readJSON(t, filepath.Join(dir, ArchiveMeta("C1")))
			validateAgainst(t, "archive", meta)
			tc.check(t, meta["stats"].(map[string]any), meta)
		})
	}
}

// TestPeriodicKeyframeRequestsOnlyForMP4 records the same capture (a
// keyframe every 2 s) in both formats with a 1 s MP4 interval: MP4 asks
// whenever 1 s passed without a keyframe, WebM only at the start.
func TestPeriodicKeyframeRequestsOnlyForMP4(t *testing.T) {
	for _, tc := range []struct {
		format   Format
		min, max int
	}{{FormatMP4, 3, 8}, {FormatWebM, 1, 1}} {
		t.Run(string(tc.format), func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.MP4PLIInterval = time.Second }, 1<<15)
			fx := loadFixture(t, "h264_cb_opus", "C1", 8*time.Second)
			if _, err := e.m.SessionCreated("ch", "S1", nil); err != nil {
				t.Fatal(err)
			}
			src := &fakeSource{}
			e.m.ConnectionJoined("ch", fx.conn, src)
			if _, err := e.m.StartRecording("ch", Options{Format: tc.format}); err != nil {
				t.Fatal(err)
			}
			fx.play(src.subscribed(), e.clock.Now())
			if _, err := e.m.StopRecording("ch"); err != nil {
				t.Fatal(err)
			}
			e.n.waitFor(t, "recording.report", 10*time.Second)
			src.mu.Lock()
			defer src.mu.Unlock()
			if src.keyframes < tc.min || src.keyframes > tc.max {
				t.Errorf("%d keyframe requests, want %d to %d", src.keyframes, tc.min, tc.max)
			}
		})
	}
}

// TestSimulcastLayerChangesCounted plays a capture whose video changes
// size at keyframes with sequence numbers and timestamps running on, as
// the SFU delivers a simulcast publisher whose recorded layer changes,
// and says so before each change: the file's stats count the changes.
func TestSimulcastLayerChangesCounted(t *testing.T) {
	e := newEnv(t, nil, 1<<15)
	fx := loadFixture(t, "vp8_opus_resize", "C1", 12*time.Second)
	if _, err := e.m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{}
	e.m.ConnectionJoined("ch", fx.conn, src)
	in, err := e.m.StartRecording("ch", Options{Format: FormatMP4})
	if err != nil {
		t.Fatal(err)
	}
	sink, ok := src.subscribed().(LayerSink)
	if !ok {
		t.Fatal("the recorder is no LayerSink")
	}
	base := e.clock.Now()
	next := 4 * time.Second // the capture's segments start at 4 s and 8 s
	for _, p := range fx.packets {
		switch {
		case p.sr != nil:
			sink.WriteSenderReport(p.kind, p.sr, base.Add(p.offset))
			continue
		case p.kind == mux.Video && p.offset >= next:
			sink.VideoLayerChanged(base.Add(p.offset))
			next += 4 * time.Second
		}
		sink.WriteRTP(p.kind, p.rtp, base.Add(p.offset))
	}
	e.clock.Advance(fx.packets[len(fx.packets)-1].offset)
	if _, err := e.m.StopRecording("ch"); err != nil {
		t.Fatal(err)
	}
	e.n.waitFor(t, "recording.report", 30*time.Second)
	meta := readJSON(t, filepath.Join(e.cfg.ArchiveDir, in.RecordingID, ArchiveMeta("C1")))
	validateAgainst(t, "archive", meta)
	st := meta["stats"].(map[string]any)
	if st["simulcast_layer_changes"] != float64(2) || st["resolution_changes"].(float64) < 2 {
		t.Fatalf("simulcast_layer_changes %v, resolution_changes %v; want 2 and at least 2",
			st["simulcast_layer_changes"], st["resolution_changes"])
	}
}
