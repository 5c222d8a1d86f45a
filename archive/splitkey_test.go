package archive

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
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

// TestSplitKeepsAskingWhileTheCutWaits: a sender that ignores keyframe
// requests (here: no keyframe after 4.5 s) is asked again every
// boundaryReask of media while the reached boundary waits for its cut.
func TestSplitKeepsAskingWhileTheCutWaits(t *testing.T) {
	e := newEnv(t, nil, 1<<15)
	fx := loadFixture(t, "vp8_opus", "C1", 10*time.Second)
	for _, p := range fx.packets {
		if p.rtp != nil && p.kind == mux.Video && p.offset > 4500*time.Millisecond {
			unmarkVP8Keyframe(p.rtp)
		}
	}
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
	// start, ahead of 5 s, at 5 s, then again at about 7 s and 9 s.
	if src.keyframes < 5 {
		t.Errorf("keyframe requests %d, want at least 5: the pending cut must keep asking", src.keyframes)
	}
}

// unmarkVP8Keyframe makes a VP8 packet that starts a keyframe look like the
// start of an interframe (the P bit of the frame tag set).
func unmarkVP8Keyframe(p *rtp.Packet) {
	b := p.Payload
	if len(b) < 1 || b[0]&0x10 == 0 { // S bit: start of a partition
		return
	}
	i := 1
	if b[0]&0x80 != 0 { // X: extension byte(s)
		if len(b) < 2 {
			return
		}
		x := b[1]
		i = 2
		if x&0x80 != 0 { // I: picture id, 1 or 2 bytes
			if len(b) <= i {
				return
			}
			if b[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K
			i++
		}
	}
	if len(b) > i {
		b[i] |= 0x01
	}
}
