package node

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
	"github.com/kiroku-sfu/kiroku/sfu"
)

// spropFixture is a capture whose H.264 parameter sets are only in the
// fmtp's sprop-parameter-sets; spropSeconds of it are sent.
const (
	spropFixture = "../fixtures/rtpdumps/h264_sprop_opus"
	spropSeconds = 4 * time.Second
)

// quietPeer is the signaling side of the publisher: nothing to deliver.
type quietPeer struct{}

func (quietPeer) ReOffer(string)           {}
func (quietPeer) Push(json.RawMessage)     {}
func (quietPeer) Disconnect(reason string) {}

// TestRecordSpropPublisher records a pion publisher whose SDP answer
// carries sprop-parameter-sets and whose H.264 stream has no SPS or PPS
// in-band: the SFU keeps the publisher's fmtp, the recorder seeds its
// depacketizer from it and the video is recorded whole at its size.
func TestRecordSpropPublisher(t *testing.T) {
	capt, err := rtpdump.Open(spropFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer capt.Close()
	core := newLoopbackSFU(t)
	dir := t.TempDir()
	m := newManagerIn(t, dir)
	if _, err := m.SessionCreated("ch", "S1", nil); err != nil {
		t.Fatal(err)
	}
	conn, err := core.Join(sfu.JoinRequest{ChannelID: "ch", ConnectionID: sfu.NewID(), Role: sfu.SendOnly,
		Audio: true, Video: true, VideoCodec: sfu.H264, Peer: quietPeer{}})
	if err != nil {
		t.Fatal(err)
	}
	m.ConnectionJoined("ch", recordedConnection(conn.Info()), connSource{core: core, channel: "ch", id: conn.ID(), video: mux.H264})
	video, audio := publish(t, conn, capt.Sidecar.Streams[0].Fmtp)
	if _, err := m.StartRecording("ch", archive.Options{Format: archive.FormatMP4}); err != nil {
		t.Fatal(err)
	}
	sendCapture(t, capt, video, audio)
	if _, err := m.StopRecording("ch"); err != nil {
		t.Fatal(err)
	}
	meta := waitArchiveJSON(t, filepath.Join(dir, "archive"))
	st := meta["stats"].(map[string]any)
	want := int(spropSeconds / (time.Second / 30))
	if n := int(st["video_frames"].(float64)); n < want*9/10 || st["video_failure"] != nil {
		t.Errorf("video frames %d of ~%d sent, failure %v", n, want, st["video_failure"])
	}
	if meta["video_width"] != float64(640) || meta["video_height"] != float64(480) {
		t.Errorf("size %vx%v, want 640x480 from the sprop SPS", meta["video_width"], meta["video_height"])
	}
}

// newLoopbackSFU starts an SFU whose media stays on 127.0.0.1.
func newLoopbackSFU(t *testing.T) *sfu.SFU {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(c.LocalAddr().(*net.UDPAddr).Port)
	c.Close()
	cfg := sfu.DefaultConfig()
	cfg.UDPPort, cfg.ICEAddress, cfg.ICELoopback, cfg.DefaultVideoCodec = port, "127.0.0.1", true, sfu.H264
	s, err := sfu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newManagerIn is newManager with its directories under dir.
func newManagerIn(t *testing.T, dir string) *archive.Manager {
	t.Helper()
	cfg := archive.DefaultConfig()
	cfg.ArchiveDir, cfg.TmpDir = filepath.Join(dir, "archive"), filepath.Join(dir, "tmp")
	m, err := archive.NewManager(cfg, archive.Deps{Notifier: nopNotifier{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// publish connects a pion publisher of H.264 and Opus to conn. Its answer
// to the SFU carries spropFmtp's parameter sets in the H.264 fmtp, as a
// sender that signals them only in its SDP writes.
func publish(t *testing.T, conn *sfu.Connection, spropFmtp string) (video, audio *webrtc.TrackLocalStaticRTP) {
	t.Helper()
	pc := newLoopbackPC(t)
	var err error
	video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, "cam", "client")
	if err != nil {
		t.Fatal(err)
	}
	audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		"mic", "client")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, _, _, err := conn.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []*webrtc.TrackLocalStaticRTP{video, audio} {
		if _, err := pc.AddTrack(tr); err != nil {
			t.Fatal(err)
		}
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := conn.SetAnswer(withSprop(t, pc.LocalDescription().SDP, spropFmtp)); err != nil {
		t.Fatal(err)
	}
	connected := make(chan struct{})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			close(connected)
		}
	})
	if pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		select {
		case <-connected:
		case <-time.After(10 * time.Second):
			t.Fatal("publisher not connected")
		}
	}
	return video, audio
}

// withSprop appends the sprop-parameter-sets of fmtp to the H.264 fmtp
// lines of sdp.
func withSprop(t *testing.T, sdp, fmtp string) string {
	t.Helper()
	sprop := regexp.MustCompile(`sprop-parameter-sets=[^;]*`).FindString(fmtp)
	h264 := regexp.MustCompile(`a=rtpmap:(\d+) H264/90000`).FindAllStringSubmatch(sdp, -1)
	if sprop == "" || len(h264) == 0 {
		t.Fatalf("no sprop in %q or no H.264 in the answer", fmtp)
	}
	for _, m := range h264 {
		line := regexp.MustCompile(`(a=fmtp:` + m[1] + ` [^\r\n]*)`)
		sdp = line.ReplaceAllString(sdp, "${1};"+sprop)
	}
	return sdp
}

// newLoopbackPC is a pion client on 127.0.0.1 with pion's default codecs.
func newLoopbackPC(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

// sendCapture sends the capture's first spropSeconds of video and audio at
// their capture pace.
func sendCapture(t *testing.T, c *rtpdump.Capture, video, audio *webrtc.TrackLocalStaticRTP) {
	t.Helper()
	vs, as := c.Sidecar.Streams[0].SSRC, c.Sidecar.Streams[1].SSRC
	start := time.Now()
	for {
		p, err := c.Next()
		if errors.Is(err, io.EOF) || (err == nil && p.Offset > spropSeconds) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		var pkt rtp.Packet
		if p.RTCP || pkt.Unmarshal(p.Data) != nil {
			continue
		}
		time.Sleep(time.Until(start.Add(p.Offset)))
		switch pkt.SSRC {
		case vs:
			err = video.WriteRTP(&pkt)
		case as:
			err = audio.WriteRTP(&pkt)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// waitArchiveJSON waits for the recording's archive-*.json and reads it.
func waitArchiveJSON(t *testing.T, dir string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		paths, _ := filepath.Glob(filepath.Join(dir, "*", "archive-*.json"))
		if len(paths) == 1 {
			data, err := os.ReadFile(paths[0])
			if err != nil {
				t.Fatal(err)
			}
			var meta map[string]any
			if err := json.Unmarshal(data, &meta); err != nil {
				t.Fatal(err)
			}
			return meta
		}
		if time.Now().After(deadline) {
			t.Fatalf("no archive JSON in %s: %v", dir, paths)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
