package signaling

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// registerCodecs registers the video codecs named (pion's defaults when
// none are) and Opus.
func registerCodecs(m *webrtc.MediaEngine, decodes []string) error {
	if len(decodes) == 0 {
		return m.RegisterDefaultCodecs()
	}
	fmtps := map[string]string{
		"H264": "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		"VP9":  "profile-id=0",
		"AV1":  "level-idx=5;profile=0;tier=0",
		"H265": "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST",
	}
	for i, name := range decodes {
		c := webrtc.RTPCodecParameters{PayloadType: webrtc.PayloadType(100 + 2*i), RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: "video/" + name, ClockRate: 90000, SDPFmtpLine: fmtps[name],
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}}}
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return err
		}
	}
	return m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}}, webrtc.RTPCodecTypeAudio)
}

// capabilityOffer is the throwaway offer sora-js-sdk puts in connect's
// sdp, from a PeerConnection that knows the video codecs named.
func capabilityOffer(t *testing.T, decodes []string) string {
	t.Helper()
	pc := newPCFor(t, decodes)
	defer pc.Close()
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return offer.SDP
}

// TestCapabilityRefusesCodec joins an H.264 and a VP9 publisher and then
// a receiver whose connect sdp lists VP8 and VP9 only: it gets the VP9
// publisher and not the H.264 one, which is counted as refused, and its
// connection lives on; a receiver that decodes both gets both, each in
// its own codec.
func TestCapabilityRefusesCodec(t *testing.T) {
	ts := startServer(t, nil)
	h264 := newClientWith(t, ts.url, clientOptions{channel: "mixed", role: "sendonly", publish: true, codec: "H264"})
	vp9 := newClientWith(t, ts.url, clientOptions{channel: "mixed", role: "sendonly", publish: true, codec: "VP9"})
	narrow := newClientWith(t, ts.url, clientOptions{channel: "mixed", role: "recvonly", decodes: []string{"VP8", "VP9"}})
	wide := newClientWith(t, ts.url, clientOptions{channel: "mixed", role: "recvonly",
		decodes: []string{"VP8", "VP9", "H264"}})
	eventually(t, "VP9 at both receivers, H.264 at the wide one", func() bool {
		return narrow.received(vp9.id) > 20 && wide.received(vp9.id) > 20 && wide.received(h264.id) > 20
	})
	time.Sleep(200 * time.Millisecond)
	if n := narrow.received(h264.id); n != 0 {
		t.Fatalf("H.264 reached a receiver without it: %d packets", n)
	}
	if n := ts.sfu.Stats().RefusedStreams; n != 1 {
		t.Fatalf("refused streams = %d, want 1", n)
	}
	for _, c := range []*client{h264, vp9, narrow, wide} {
		select {
		case ce := <-c.closeCh:
			t.Fatalf("%s closed: %d %s", c.id, ce.Code, ce.Text)
		default:
		}
	}
	for _, tr := range wide.pc.GetTransceivers() {
		r := tr.Receiver()
		if r == nil || r.Track() == nil || r.Track().Kind() != webrtc.RTPCodecTypeVideo {
			continue
		}
		want := map[string]string{h264.id: webrtc.MimeTypeH264, vp9.id: webrtc.MimeTypeVP9}[r.Track().StreamID()]
		if got := r.Track().Codec().MimeType; want != "" && !strings.EqualFold(got, want) {
			t.Fatalf("stream %s came as %s, want %s", r.Track().StreamID(), got, want)
		}
	}
}
