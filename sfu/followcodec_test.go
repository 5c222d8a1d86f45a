package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// joinOfferingPublisher joins a publisher that offers, in capability,
// and sends keyframes of it every 10 ms until the test ends.
func joinOfferingPublisher(t *testing.T, s *SFU, codec Codec, capability webrtc.RTPCodecCapability, keyframe []byte) *Connection {
	t.Helper()
	pc := newOBSLikePC(t, capability)
	video, err := webrtc.NewTrackLocalStaticRTP(capability, "video", "obs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(video, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	conn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true,
		VideoCodec: codec, Peer: newFakePeer(), ClientOffer: gatheredOffer(t, pc)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	applyAnswer(t, conn, pc)
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for seq := uint16(100); ; seq++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			_ = video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 900, Marker: true}, Payload: keyframe})
		}
	}()
	t.Cleanup(func() { close(stop); <-finished })
	return conn
}

// TestFollowAcrossCodecs moves a player from a VP8 publisher to an H.264
// one: the same track, now with the payload type the player's offer gave
// H.264.
func TestFollowAcrossCodecs(t *testing.T) {
	s := newTestSFU(t, nil)
	firstConn, first := joinPublisher(t, s)
	p := startPlayer(t, s, "")
	eventually(t, "VP8 video", 10*time.Second, func() bool { n, _ := p.received(); return n >= 10 })
	joinOfferingPublisher(t, s, H264, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, []byte{0x65, 0x88, 0x84})
	first.close()
	_ = firstConn.Close()
	n0, _ := p.received()
	eventually(t, "H.264 video", 10*time.Second, func() bool { n, _ := p.received(); return n >= n0+20 })
	p.mu.Lock()
	pts := map[uint8]int{}
	for _, h := range p.packets {
		pts[h.PayloadType]++
	}
	p.mu.Unlock()
	t.Logf("payload types %v", pts)
	if len(pts) != 2 {
		t.Fatalf("payload types %v, want VP8's and H.264's", pts)
	}
	p.checkContinuous(t)
}
