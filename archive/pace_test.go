package archive

import (
	"path/filepath"
	"testing"
	"time"
)

// TestFillingQueueHurriesTheRecorder paces the recorder so slowly that
// it would never write before the stop: a stream arriving at about a
// packet per millisecond must still lose nothing through a queue of 64,
// because a quarter-full queue wakes the recorder at once.
func TestFillingQueueHurriesTheRecorder(t *testing.T) {
	e := newEnvDeps(t, nil, Deps{QueueSize: 64, WritePace: time.Hour})
	fx := loadFixture(t, "vp8_opus", "C1", 2*time.Second)
	if _, err := e.m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{}
	e.m.ConnectionJoined("ch", fx.conn, src)
	in, err := e.m.StartRecording("ch", Options{})
	if err != nil {
		t.Fatal(err)
	}
	sink := src.subscribed()
	base := e.clock.Now()
	for i, p := range fx.packets {
		fixture{packets: fx.packets[i : i+1]}.play(sink, base)
		if p.rtp != nil {
			time.Sleep(time.Millisecond)
		}
	}
	if d := sink.(*Recorder).Dropped(); d != 0 {
		t.Errorf("%d of %d packets dropped: the filling queue did not wake the recorder", d, len(fx.packets))
	}
	e.clock.Advance(fx.packets[len(fx.packets)-1].offset)
	if _, err := e.m.StopRecording("ch"); err != nil {
		t.Fatal(err)
	}
	e.n.waitFor(t, "recording.report", 10*time.Second)
	meta := readJSON(t, filepath.Join(e.cfg.ArchiveDir, in.RecordingID, ArchiveMeta("C1")))
	if got := meta["stats"].(map[string]any)["packets_dropped"]; got != float64(0) {
		t.Errorf("packets_dropped %v, want 0", got)
	}
}
