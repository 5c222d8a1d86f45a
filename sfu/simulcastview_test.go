package sfu

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// viewedFrame is a frame as a pion viewer received it: its first
// packet's numbers and, for a keyframe, the picture width.
type viewedFrame struct {
	seq, lastSeq uint16
	ts           uint32
	pid          uint16
	tl0          uint8
	width        int // VP8 keyframes only
}

// frameLog collects a viewer's frames from its RTP.
type frameLog struct {
	mu     sync.Mutex
	frames []viewedFrame
}

func (l *frameLog) add(p *rtp.Packet) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, err := parseDescriptor(picVP8, p.Payload)
	if err != nil || d.picLen == 0 {
		return
	}
	if n := len(l.frames); n > 0 && l.frames[n-1].ts == p.Timestamp {
		l.frames[n-1].lastSeq = p.SequenceNumber
		return
	}
	f := viewedFrame{seq: p.SequenceNumber, lastSeq: p.SequenceNumber, ts: p.Timestamp, pid: d.picture(p.Payload)}
	if d.tl0At >= 0 {
		f.tl0 = p.Payload[d.tl0At]
	}
	if vp8KeyframeStart(p.Payload) {
		// The VP8 payload header: frame tag (3), start code (3), width.
		h := p.Payload[d.picAt+d.picLen:]
		if d.tl0At >= 0 || d.keyAt >= 0 {
			h = h[1:]
		}
		if len(h) >= 8 {
			f.width = int(h[6]) | int(h[7]&0x3f)<<8
		}
	}
	l.frames = append(l.frames, f)
}

func (l *frameLog) snapshot() []viewedFrame {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]viewedFrame(nil), l.frames...)
}

// startFrameViewer joins a pion viewer at layer r0 whose frames are
// logged.
func startFrameViewer(t *testing.T, s *SFU) (*viewer, *frameLog) {
	t.Helper()
	v := &viewer{pc: newClientPC(t), peer: newFakePeer()}
	var err error
	if v.conn, err = s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: RecvOnly, SimulcastRID: "r0", Peer: v.peer}); err != nil {
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

// settled waits until the log stops growing.
func (l *frameLog) settled(t *testing.T) []viewedFrame {
	t.Helper()
	last := -1
	eventually(t, "the frames received", 5*time.Second, func() bool {
		n := len(l.snapshot())
		done := n > 0 && n == last
		last = n
		time.Sleep(100 * time.Millisecond)
		return done
	})
	return l.snapshot()
}

// TestSimulcastViewerMovesContinuously: a pion viewer of a replayed VP8
// simulcast publisher is moved r0 → r2 → r0. It receives one stream in
// which sequence numbers, timestamps, picture IDs and TL0PICIDX run on
// across both moves (each frame one picture ID after the last, as a
// decoder expects to go on without a keyframe request), and the moves
// show as keyframes of the other layer's size.
func TestSimulcastViewerMovesContinuously(t *testing.T) {
	s := newTestSFU(t, nil)
	pubID := NewID()
	pub, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: pubID, Role: SendOnly, Video: true, Simulcast: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	v, log := startFrameViewer(t, s)
	const frames = 6 * replayFPS
	r := newSimulcastReplay(t, pub, "vp8", frames)
	v.reAnswer(t, 5*time.Second)
	eventually(t, "the viewer connected", 10*time.Second, func() bool {
		return v.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	flowing := func(int, int) bool { return false }
	paced := func(from, to int) {
		for i := from; i < to; i++ {
			r.play(i, i+1, flowing)
			time.Sleep(2 * time.Millisecond)
		}
	}
	paced(0, 2*replayFPS)
	if err := s.RequestSimulcastRID("ch", v.conn.ID(), pubID, "r2"); err != nil {
		t.Fatal(err)
	}
	paced(2*replayFPS, 4*replayFPS)
	if err := s.RequestSimulcastRID("ch", v.conn.ID(), pubID, "r0"); err != nil {
		t.Fatal(err)
	}
	paced(4*replayFPS, frames)
	checkViewedFrames(t, log.settled(t), 5*replayFPS)
}

// checkViewedFrames: every frame one picture ID after the last, sequence
// numbers contiguous, timestamps increasing, TL0PICIDX one up at most;
// the keyframe widths 160, then 640, then 160.
func checkViewedFrames(t *testing.T, frames []viewedFrame, least int) {
	t.Helper()
	var widths []int
	for i, f := range frames {
		if f.width != 0 && (len(widths) == 0 || widths[len(widths)-1] != f.width) {
			widths = append(widths, f.width)
		}
		if i == 0 {
			continue
		}
		p := frames[i-1]
		if f.pid != (p.pid+1)&0x7fff || f.seq != p.lastSeq+1 || int32(f.ts-p.ts) <= 0 || f.tl0-p.tl0 > 1 {
			t.Fatalf("frame %d %+v after %+v: numbering does not run on", i, f, p)
		}
	}
	if len(widths) != 3 || widths[0] != 160 || widths[1] != 640 || widths[2] != 160 {
		t.Fatalf("keyframe widths %v, want [160 640 160]", widths)
	}
	if len(frames) < least {
		t.Fatalf("%d frames received, want at least %d", len(frames), least)
	}
}
