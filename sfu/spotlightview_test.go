package sfu

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/remux"
)

// startSpotViewer joins a pion viewer of channel "ch" with the spotlight
// rids given, its frames logged.
func startSpotViewer(t *testing.T, s *SFU, focusRID, unfocusRID string) (*viewer, *frameLog) {
	t.Helper()
	v := &viewer{pc: newClientPC(t), peer: newFakePeer()}
	var err error
	v.conn, err = s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: RecvOnly, Spotlight: true,
		SpotlightFocusRID: focusRID, SpotlightUnfocusRID: unfocusRID, Peer: v.peer})
	if err != nil {
		t.Fatal(err)
	}
	log := &frameLog{}
	v.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				log.add(p)
			}
		}()
	})
	connect(t, v.conn, v.pc, nil)
	t.Cleanup(func() { _ = v.pc.Close(); v.wg.Wait() })
	return v, log
}

// spotlightRoom is a spotlight channel with a replayed VP8 simulcast
// publisher and the viewers given by their (focus, unfocus) rids.
func spotlightRoom(t *testing.T, frames int, rids ...[2]string) (*SFU, string, *simulcastReplay, []*viewer, []*frameLog) {
	t.Helper()
	s := newTestSFUWith(t, func(c *Config) { c.SinkQueue = 1 << 14 })
	pubID := NewID()
	pub, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: pubID, Role: SendOnly, Video: true, Audio: true,
		Simulcast: true, Spotlight: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	var vs []*viewer
	var logs []*frameLog
	for _, r := range rids {
		v, l := startSpotViewer(t, s, r[0], r[1])
		vs, logs = append(vs, v), append(logs, l)
	}
	rep := newSimulcastReplay(t, pub, "vp8", frames)
	for _, v := range vs {
		v.reAnswer(t, 5*time.Second)
		eventually(t, "the viewer connected", 10*time.Second, func() bool {
			return v.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
		})
	}
	return s, pubID, rep, vs, logs
}

// pacedPlay plays frames [from, to) of r, every layer flowing.
func pacedPlay(r *simulcastReplay, from, to int) {
	for i := from; i < to; i++ {
		r.play(i, i+1, func(int, int) bool { return false })
		time.Sleep(2 * time.Millisecond)
	}
}

// TestSpotlightFocusMovesLayers: in a spotlight channel a viewer gets an
// unfocused simulcast publisher at r0, moves to r2 when the publisher is
// focused (FocusSpotlight) and back to r0 when it is unfocused, each move
// seamless (sequence numbers, timestamps, picture ids run on); a second
// viewer that asked for r1 when focused (RequestSpotlightRid) gets r1
// meanwhile, the first one's layers unchanged by it.
func TestSpotlightFocusMovesLayers(t *testing.T) {
	const frames = 6 * replayFPS
	s, pubID, r, vs, logs := spotlightRoom(t, frames, [2]string{"", ""}, [2]string{"", ""})
	if err := s.RequestSpotlightRID("ch", vs[1].conn.ID(), "", "r1", ""); err != nil {
		t.Fatal(err)
	}
	pacedPlay(r, 0, 2*replayFPS)
	if err := s.FocusSpotlight("ch", pubID, false); err != nil {
		t.Fatal(err)
	}
	pacedPlay(r, 2*replayFPS, 4*replayFPS)
	if err := s.UnfocusSpotlight("ch", pubID); err != nil {
		t.Fatal(err)
	}
	pacedPlay(r, 4*replayFPS, frames)
	checkViewedFrames(t, logs[0].settled(t), 5*replayFPS)
	if got := keyframeWidths(logs[1].settled(t)); len(got) != 3 || got[1] != 320 {
		t.Fatalf("the viewer asking r1 when focused saw keyframe widths %v, want [160 320 160]", got)
	}
	st := s.Stats()
	if st.SpotlightFocused != 1 || st.SpotlightUnfocused != 1 {
		t.Fatalf("focus counters %d, %d, want 1, 1", st.SpotlightFocused, st.SpotlightUnfocused)
	}
}

// keyframeWidths lists the widths of the keyframes received, repeats
// folded.
func keyframeWidths(frames []viewedFrame) []int {
	var widths []int
	for _, f := range frames {
		if f.width != 0 && (len(widths) == 0 || widths[len(widths)-1] != f.width) {
			widths = append(widths, f.width)
		}
	}
	return widths
}

// TestSpotlightUnfocusNonePauses: a viewer whose unfocus rid is "none"
// gets nothing of an unfocused publisher; focused, it gets r2 from a
// keyframe on; unfocused, nothing again; focused again, the stream goes
// on where it stopped: picture ids one up, timestamps increasing,
// sequence numbers on (one lost number at most, where the pause cut a
// frame).
func TestSpotlightUnfocusNonePauses(t *testing.T) {
	const frames = 8 * replayFPS
	s, pubID, r, _, logs := spotlightRoom(t, frames, [2]string{"r2", "none"})
	pacedPlay(r, 0, replayFPS)
	if n := len(logs[0].snapshot()); n != 0 {
		t.Fatalf("%d frames of an unfocused publisher with unfocus rid none", n)
	}
	steps := []struct {
		focus bool
		until int
	}{{true, 3 * replayFPS}, {false, 5 * replayFPS}, {true, frames}}
	from := replayFPS
	var during int
	for _, st := range steps {
		var err error
		if st.focus {
			err = s.FocusSpotlight("ch", pubID, false)
		} else {
			err = s.UnfocusSpotlight("ch", pubID)
			time.Sleep(200 * time.Millisecond)
			during = len(logs[0].snapshot())
		}
		if err != nil {
			t.Fatal(err)
		}
		pacedPlay(r, from, st.until)
		from = st.until
		if !st.focus {
			time.Sleep(200 * time.Millisecond)
			if n := len(logs[0].snapshot()); n != during {
				t.Fatalf("%d frames arrived while unfocused", n-during)
			}
		}
	}
	got := logs[0].settled(t)
	if len(got) == 0 || got[0].width != 640 {
		t.Fatalf("first frame %+v, want a 640 wide keyframe", got)
	}
	for i := 1; i < len(got); i++ {
		f, p := got[i], got[i-1]
		if f.pid != (p.pid+1)&0x7fff || int32(f.ts-p.ts) <= 0 || uint16(f.seq-p.lastSeq) > 2 || f.seq == p.lastSeq {
			t.Fatalf("frame %d %+v after %+v: numbering does not run on", i, f, p)
		}
	}
	if len(got) < 4*replayFPS {
		t.Fatalf("%d frames, want at least %d", len(got), 4*replayFPS)
	}
}

// TestSpotlightAPIErrors: unknown channels, publishers and receivers are
// ErrNotFound; bad rids and numbers, and a channel without spotlight,
// ErrInvalid.
func TestSpotlightAPIErrors(t *testing.T) {
	s := newTestSFU(t, nil)
	pub, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendRecv, Audio: true, Spotlight: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	plain, err := s.Join(JoinRequest{ChannelID: "plain", ConnectionID: NewID(), Role: SendRecv, Audio: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plain.Close() })
	if !pub.Info().Spotlight || plain.Info().Spotlight {
		t.Fatal("spotlight flags of the connections wrong")
	}
	if ss, _ := s.Session("ch"); !ss.Spotlight || ss.SpotlightNumber != DefaultSpotlightNumber {
		t.Fatalf("session %+v, want spotlight with the default number", ss)
	}
	notFound := []error{
		s.FocusSpotlight("nochannel", pub.ID(), true),
		s.FocusSpotlight("ch", "nobody", false),
		s.UnfocusSpotlight("ch", "nobody"),
		s.RequestSpotlightRID("ch", "nobody", "", "r1", "r0"),
		s.RequestSpotlightRID("ch", pub.ID(), "nobody", "r1", "r0"),
		s.ResetSpotlightRID("ch", "nobody"),
		s.ChangeSpotlightNumber("nochannel", 2),
	}
	for i, err := range notFound {
		if !errorIs(err, ErrNotFound) {
			t.Errorf("case %d: %v, want ErrNotFound", i, err)
		}
	}
	invalid := []error{
		s.FocusSpotlight("plain", plain.ID(), false),
		s.RequestSpotlightRID("ch", pub.ID(), "", "r3", ""),
		s.RequestSpotlightRID("ch", pub.ID(), "", "", ""),
		s.ChangeSpotlightNumber("ch", 0),
		s.ChangeSpotlightNumber("ch", MaxSpotlightNumber+1),
	}
	for i, err := range invalid {
		if !errorIs(err, ErrInvalid) {
			t.Errorf("case %d: %v, want ErrInvalid", i, err)
		}
	}
	if err := s.ChangeSpotlightNumber("ch", 3); err != nil {
		t.Fatal(err)
	}
	if ss, _ := s.Session("ch"); ss.SpotlightNumber != 3 {
		t.Fatalf("spotlight number %d after the change, want 3", ss.SpotlightNumber)
	}
}

func errorIs(err, target error) bool { return errors.Is(err, target) }

// TestSpotlightRecordsHighestLayer: the recorder of a spotlight
// publisher gets r2 from start to end while the publisher is focused and
// unfocused every second (its viewer moving between r0 and r2): no layer
// change, every frame written, the file decodes.
func TestSpotlightRecordsHighestLayer(t *testing.T) {
	const frames = 6 * replayFPS
	s, pubID, r, _, logs := spotlightRoom(t, frames, [2]string{"", ""})
	path := filepath.Join(t.TempDir(), "rec.webm")
	sink := newMuxSink(t, path, mux.VP8, remux.WebM, r.base)
	sub, err := s.Subscribe(pubID, sink)
	if err != nil {
		t.Fatal(err)
	}
	for sec := 0; sec < 6; sec++ {
		var err error
		if sec%2 == 1 {
			err = s.FocusSpotlight("ch", pubID, false)
		} else {
			err = s.UnfocusSpotlight("ch", pubID)
		}
		if err != nil {
			t.Fatal(err)
		}
		pacedPlay(r, sec*replayFPS, (sec+1)*replayFPS)
	}
	eventually(t, "the sink's queue drained", 5*time.Second, func() bool { return len(sub.queue) == 0 })
	time.Sleep(50 * time.Millisecond)
	_ = sub.Close()
	sum, err := sink.m.Close()
	if err != nil || sink.writeErr != nil {
		t.Fatalf("mux: %v, %v", err, sink.writeErr)
	}
	if sink.changes != 0 || sink.rid != "r2" {
		t.Errorf("recorder at %s after %d layer changes, want r2 throughout", sink.rid, sink.changes)
	}
	if n, _ := judgeCuts(t, path, "vp8", sum); n != frames {
		t.Errorf("%d frames recorded, want %d", n, frames)
	}
	if w := keyframeWidths(logs[0].settled(t)); len(w) < 4 {
		t.Errorf("the viewer's keyframe widths %v, want it moved with the focus", w)
	}
}
