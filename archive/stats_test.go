package archive

import (
	"path/filepath"
	"testing"
	"time"
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
