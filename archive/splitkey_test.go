package archive

import (
	"testing"
	"time"
)

// TestSplitAsksAgainAtTheBoundary checks that a recorder asks for a
// keyframe when the media reaches a pending split boundary, not only
// ahead of it: a live encoder answers the early request at once, before
// the boundary, and sends no other keyframe on its own. The capture has a
// keyframe every 2 s; with 5 s parts the requests are the first keyframe's,
// 1.25 s ahead of 5 s, at 5 s (the cut waits for the keyframe at 6 s) and
// 1.25 s ahead of 10 s.
func TestSplitAsksAgainAtTheBoundary(t *testing.T) {
	e := newEnv(t, nil, 1<<15)
	fx := loadFixture(t, "vp8_opus", "C1", 10*time.Second)
	if _, err := e.m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.StartRecording("ch", Options{SplitOnly: true, SplitDuration: 5}); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{}
	e.m.ConnectionJoined("ch", fx.conn, src)
	fx.play(src.subscribed(), e.clock.Now())
	if _, err := e.m.StopRecording("ch"); err != nil {
		t.Fatal(err)
	}
	e.n.waitFor(t, "recording.report", 10*time.Second)
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.keyframes != 4 {
		t.Errorf("keyframe requests %d, want 4: start, ahead of 5 s, at 5 s, ahead of 10 s", src.keyframes)
	}
}
