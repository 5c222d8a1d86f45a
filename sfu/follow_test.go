package sfu

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// player is a pion client that offers to receive audio and video, as a
// WHEP player does, and notes what arrives on its video track.
type player struct {
	pc   *webrtc.PeerConnection
	conn *Connection
	peer *fakePeer

	mu      sync.Mutex
	ssrcs   map[uint32]bool
	packets []rtp.Header // video headers in arrival order
	wg      sync.WaitGroup
}

func startPlayer(t *testing.T, s *SFU, want string) *player {
	t.Helper()
	p := &player{pc: newClientPC(t), peer: newFakePeer(), ssrcs: map[uint32]bool{}}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := p.pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	p.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() != webrtc.RTPCodecTypeVideo {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for {
				pkt, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				p.mu.Lock()
				p.ssrcs[pkt.SSRC] = true
				p.packets = append(p.packets, pkt.Header)
				p.mu.Unlock()
			}
		}()
	})
	var err error
	p.conn, err = s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: RecvOnly, Peer: p.peer,
		ClientOffer: gatheredOffer(t, p.pc), Follow: true, FollowConnectionID: want})
	if err != nil {
		t.Fatal(err)
	}
	applyAnswer(t, p.conn, p.pc)
	t.Cleanup(func() { _ = p.conn.Close(); _ = p.pc.Close(); p.wg.Wait() })
	return p
}

func (p *player) received() (int, map[uint32]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ssrcs := map[uint32]bool{}
	for k := range p.ssrcs {
		ssrcs[k] = true
	}
	return len(p.packets), ssrcs
}

// checkContinuous fails unless the video's sequence numbers after the
// first packet go up by one (nothing is lost on loopback) and its
// timestamps never go back.
func (p *player) checkContinuous(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 1; i < len(p.packets); i++ {
		a, b := p.packets[i-1], p.packets[i]
		if b.SequenceNumber != a.SequenceNumber+1 || int32(b.Timestamp-a.Timestamp) <= 0 {
			t.Fatalf("packet %d: seq %d ts %d after seq %d ts %d", i, b.SequenceNumber, b.Timestamp, a.SequenceNumber, a.Timestamp)
		}
	}
}

func joinPublisher(t *testing.T, s *SFU) (*Connection, *publisher) {
	t.Helper()
	c, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true, Peer: newFakePeer()})
	if err != nil {
		t.Fatal(err)
	}
	return c, startPublisher(t, c)
}

// TestFollowMovesToTheNextPublisher plays a channel's publisher, which
// leaves; the next publisher arrives on the same track (one SSRC) with
// sequence numbers and timestamps running on.
func TestFollowMovesToTheNextPublisher(t *testing.T) {
	before := runtime.NumGoroutine()
	s := newTestSFU(t, nil)
	firstConn, first := joinPublisher(t, s)
	p := startPlayer(t, s, "")
	eventually(t, "the first publisher's video", 10*time.Second, func() bool { n, _ := p.received(); return n >= 20 })
	first.close()
	if err := firstConn.Close(); err != nil {
		t.Logf("close publisher: %v", err)
	}
	n0, _ := p.received()
	secondConn, second := joinPublisher(t, s)
	eventually(t, "the next publisher's video", 10*time.Second, func() bool { n, _ := p.received(); return n >= n0+20 })
	_, ssrcs := p.received()
	if len(ssrcs) != 1 {
		t.Fatalf("video arrived on %d SSRCs, want one", len(ssrcs))
	}
	p.checkContinuous(t)
	select {
	case sdp := <-p.peer.reOffers:
		t.Fatalf("a following connection was re-offered:\n%s", sdp)
	default:
	}
	if got := s.Stats().ForwardedRTPPackets; got == 0 {
		t.Fatal("packets to a following connection are not counted as forwarded")
	}
	second.close()
	_ = secondConn.Close()
	_ = p.conn.Close()
	_ = p.pc.Close()
	p.wg.Wait()
	_ = s.Close()
	checkGoroutines(t, before)
}

// TestFollowAskedPublisher plays the publisher asked for, not the most
// recent one.
func TestFollowAskedPublisher(t *testing.T) {
	s := newTestSFU(t, nil)
	wantedConn, _ := joinPublisher(t, s)
	joinPublisher(t, s) // more recent
	p := startPlayer(t, s, wantedConn.ID())
	eventually(t, "video", 10*time.Second, func() bool { n, _ := p.received(); return n >= 10 })
	if got := p.conn.follow.video.current(); !strings.Contains(got, "cam") {
		t.Fatalf("following track %q", got)
	}
	if f := s.followed(p.conn); f != wantedConn {
		t.Fatalf("following %s, want %s", f.ID(), wantedConn.ID())
	}
}

// TestAnswerOnlyOnce refuses a second offer and an offer on a connection
// that did not join to offer.
func TestAnswerOnlyOnce(t *testing.T) {
	s := newTestSFU(t, nil)
	p := startPlayer(t, s, "")
	if _, err := p.conn.Answer(context.Background()); err == nil {
		t.Fatal("a second offer was answered")
	}
	v := startViewer(t, s, "")
	if _, err := v.conn.Answer(context.Background()); err == nil {
		t.Fatal("a server-offer connection answered an offer")
	}
	if _, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true,
		Peer: newFakePeer(), Follow: true, ClientOffer: p.pc.LocalDescription().SDP}); err == nil {
		t.Fatal("a sendonly following connection joined")
	}
}

// TestFollowKeepsItsPublisher keeps playing the publisher it plays when a
// newer one arrives.
func TestFollowKeepsItsPublisher(t *testing.T) {
	s := newTestSFU(t, nil)
	first, _ := joinPublisher(t, s)
	p := startPlayer(t, s, "")
	eventually(t, "video", 10*time.Second, func() bool { n, _ := p.received(); return n >= 10 })
	newer, _ := joinPublisher(t, s)
	eventually(t, "the newer publisher's track", 10*time.Second, func() bool { return len(newer.publishedTracks()) == 1 })
	time.Sleep(100 * time.Millisecond)
	if f := p.conn.follow.playing.Load(); f != first {
		t.Fatalf("playing %v after a newer publisher arrived, want the first", f.ID())
	}
}
