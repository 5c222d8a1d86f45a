package sfu

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// TestClientOfferPublisher joins a publisher that offers (WHIP), in H.264
// high profile and H.265 as OBS sends them: the answer takes the codec
// with the client's parameters, the track is published with them, and a
// sink gets its packets.
func TestClientOfferPublisher(t *testing.T) {
	for _, tc := range []struct {
		codec Codec
		cap   webrtc.RTPCodecCapability
	}{
		{H264, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f"}},
		{H265, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH265, ClockRate: 90000,
			SDPFmtpLine: "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST"}},
		{VP8, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}},
	} {
		t.Run(string(tc.codec), func(t *testing.T) { testClientOfferPublisher(t, tc.codec, tc.cap) })
	}
}

func testClientOfferPublisher(t *testing.T, codec Codec, capability webrtc.RTPCodecCapability) {
	s := newTestSFU(t, nil)
	pc := newOBSLikePC(t, capability)
	video, err := webrtc.NewTrackLocalStaticRTP(capability, "video", "obs")
	if err != nil {
		t.Fatal(err)
	}
	audio, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "obs")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []webrtc.TrackLocal{audio, video} {
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := s.Join(JoinRequest{ChannelID: "ch", ConnectionID: NewID(), Role: SendOnly, Video: true, Audio: true,
		VideoCodec: codec, Peer: newFakePeer(), ClientOffer: gatheredOffer(t, pc)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	sink := newFakeSink()
	if _, err := s.Subscribe(conn.ID(), sink); err != nil {
		t.Fatal(err)
	}
	ans := applyAnswer(t, conn, pc)
	if !strings.Contains(ans, "a=recvonly") || !strings.Contains(ans, "a=candidate:") {
		t.Fatalf("answer is not recvonly with candidates:\n%s", ans)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for seq := uint16(0); ; seq++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			_ = video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 900}, Payload: []byte{0x01}})
			_ = audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 480}, Payload: []byte{0x01}})
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for p, _ := sink.snapshot(); len(p) != 2; p, _ = sink.snapshot() {
		if time.Now().After(deadline) {
			t.Fatalf("tracks at the sink: %v\nanswer:\n%s", p, ans)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, infos := sink.snapshot()
	for _, info := range infos {
		if info.Kind != KindVideo {
			continue
		}
		if !strings.EqualFold(info.MimeType, capability.MimeType) {
			t.Fatalf("published %s, want %s", info.MimeType, capability.MimeType)
		}
		if capability.SDPFmtpLine != "" && !sameCodec(info.MimeType, info.SDPFmtpLine, capability.SDPFmtpLine) {
			t.Fatalf("published fmtp %q, client offered %q", info.SDPFmtpLine, capability.SDPFmtpLine)
		}
	}
}

// newOBSLikePC is a pion client on 127.0.0.1 that, like OBS, offers its
// encoder's one video format and Opus.
func newOBSLikePC(t *testing.T, video webrtc.RTPCodecCapability) *webrtc.PeerConnection {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: video, PayloadType: 107}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	opus := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opus, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

// gatheredOffer makes pc's offer, with every candidate inside, as a WHIP
// or WHEP client sends it.
func gatheredOffer(t *testing.T, pc *webrtc.PeerConnection) string {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-done
	return pc.LocalDescription().SDP
}

// applyAnswer answers the offer conn joined with and applies the answer
// to pc; it returns the answer.
func applyAnswer(t *testing.T, conn *Connection, pc *webrtc.PeerConnection) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ans, err := conn.Answer(ctx)
	if err != nil {
		t.Fatalf("answer: %v", err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans}); err != nil {
		t.Fatalf("client set answer: %v\n%s", err, ans)
	}
	return ans
}
