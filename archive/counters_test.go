package archive

import (
	"testing"
	"time"
)

// TestCounters records captures and checks the running totals metrics
// read: one delivered file each, gaps by kind and cause, the video
// failure's cause, keyframe requests and the finish histogram.
func TestCounters(t *testing.T) {
	for _, tc := range []struct {
		fixture, failure string
		gap              GapKey
	}{
		{"vp8_opus_loss3", "", GapKey{Kind: "video", Cause: "loss"}},
		{"h264_sprop_opus_nosprop", "no_parameter_sets", GapKey{Kind: "video", Cause: "wait_keyframe"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil, 1<<15)
			if c := e.m.Counters(); c.Recordings != 0 || len(c.VideoFailures) != 4 || c.ArchivesOK != 0 {
				t.Fatalf("before: %+v", c)
			}
			fx := loadFixture(t, tc.fixture, "C1", 12*time.Second)
			recordFixture(t, e, fx, Options{Format: FormatWebM})
			c := e.m.Counters()
			if c.Recordings != 0 || c.ArchivesOK != 1 || c.ArchivesFailed != 0 {
				t.Errorf("recordings %d, archives %d ok %d failed; want 0, 1, 0", c.Recordings, c.ArchivesOK, c.ArchivesFailed)
			}
			for cause, n := range c.VideoFailures {
				if want := b2u(cause == tc.failure); n != want {
					t.Errorf("video failures %q = %d, want %d", cause, n, want)
				}
			}
			if c.Gaps[tc.gap] == 0 {
				t.Errorf("gaps %v, want some %v", c.Gaps, tc.gap)
			}
			if c.KeyframeRecord == 0 || c.KeyframeSplit != 0 {
				t.Errorf("keyframe requests %d, split %d; want > 0 and 0", c.KeyframeRecord, c.KeyframeSplit)
			}
			h := c.Finish
			if h.Count != 1 || h.Buckets[len(h.Buckets)-1] != 1 || len(h.Bounds) != len(h.Buckets) {
				t.Errorf("finish histogram %+v, want one observation", h)
			}
		})
	}
}

// TestCountersSplitKeyframes records with splits: requests made for the
// split boundaries are counted apart.
func TestCountersSplitKeyframes(t *testing.T) {
	e := newEnv(t, nil, 1<<15)
	fx := loadFixture(t, "vp8_opus_loss3", "C1", 12*time.Second)
	recordFixture(t, e, fx, Options{SplitOnly: true, SplitDuration: 4})
	c := e.m.Counters()
	if c.KeyframeSplit == 0 || c.ArchivesOK < 2 {
		t.Errorf("split keyframe requests %d, archives %d; want > 0 and >= 2", c.KeyframeSplit, c.ArchivesOK)
	}
}

// TestCountersRunning sees a running recording as one.
func TestCountersRunning(t *testing.T) {
	e := newEnv(t, nil, 16)
	if _, err := e.m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.StartRecording("ch", Options{}); err != nil {
		t.Fatal(err)
	}
	if got := e.m.Counters().Recordings; got != 1 {
		t.Errorf("recordings %d, want 1", got)
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
