package sfu

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// roomClient is a pion client in a mixed room: it may publish video in
// its own codec (and Opus), answers every re-offer, and counts what it
// receives per stream id (the publisher's connection_id) and codec.
type roomClient struct {
	t     *testing.T
	id    string
	pc    *webrtc.PeerConnection
	peer  *fakePeer
	conn  *Connection
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	mimes map[string]string        // stream id -> video MIME type received
	got   map[string]*atomic.Int64 // stream id + kind -> packets
	errs  chan error
}

// newRoomPC builds a pion client that knows only the given video codecs
// (and Opus).
func newRoomPC(t *testing.T, decodes []Codec) *webrtc.PeerConnection {
	t.Helper()
	m := &webrtc.MediaEngine{}
	for _, c := range decodes {
		vc, err := videoCodec(c)
		if err != nil {
			t.Fatal(err)
		}
		vc.PayloadType += 10 // the client's own numbering
		if err := m.RegisterCodec(vc, webrtc.RTPCodecTypeVideo); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.RegisterCodec(opusCodec(), webrtc.RTPCodecTypeAudio); err != nil {
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

// capabilitySDP is the throwaway offer a client of these codecs sends
// in its connect, as sora-js-sdk does.
func capabilitySDP(t *testing.T, decodes []Codec) string {
	t.Helper()
	pc := newRoomPC(t, decodes)
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

// joinRoom connects a client publishing video in codec (none if empty)
// with audio, knowing the codecs decodes; capability, if not empty, goes
// into the join as the connect's sdp.
func joinRoom(t *testing.T, s *SFU, codec Codec, decodes []Codec, capability string) *roomClient {
	t.Helper()
	c := &roomClient{t: t, id: NewID(), pc: newRoomPC(t, decodes), peer: newFakePeer(), stop: make(chan struct{}),
		mimes: map[string]string{}, got: map[string]*atomic.Int64{}, errs: make(chan error, 4)}
	role := RecvOnly
	if codec != "" {
		role = SendRecv
	}
	var err error
	c.conn, err = s.Join(JoinRequest{ChannelID: "ch", ConnectionID: c.id, Role: role, Audio: codec != "",
		Video: codec != "", VideoCodec: codec, CapabilitySDP: capability, Peer: c.peer})
	if err != nil {
		t.Fatal(err)
	}
	c.pc.OnTrack(c.onTrack)
	var tracks []*webrtc.TrackLocalStaticRTP
	connect(t, c.conn, c.pc, func() {
		if codec == "" {
			return
		}
		vc, _ := videoCodec(codec)
		for _, capability := range []webrtc.RTPCodecCapability{vc.RTPCodecCapability, opusCodec().RTPCodecCapability} {
			tr, err := webrtc.NewTrackLocalStaticRTP(capability, "t", "s")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.pc.AddTrack(tr); err != nil {
				t.Fatalf("client add track: %v", err)
			}
			tracks = append(tracks, tr)
		}
	})
	c.wg.Add(2)
	go c.answerReOffers()
	go c.send(tracks)
	t.Cleanup(c.close)
	return c
}

func (c *roomClient) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	key := tr.StreamID() + "/" + tr.Kind().String()
	c.mu.Lock()
	if tr.Kind() == webrtc.RTPCodecTypeVideo {
		c.mimes[tr.StreamID()] = tr.Codec().MimeType
	}
	n := c.got[key]
	if n == nil {
		n = new(atomic.Int64)
		c.got[key] = n
	}
	c.mu.Unlock()
	for {
		if _, _, err := tr.ReadRTP(); err != nil {
			return
		}
		n.Add(1)
	}
}

// answerReOffers answers the SFU's re-offers until the client closes.
func (c *roomClient) answerReOffers() {
	defer c.wg.Done()
	for {
		select {
		case <-c.stop:
			return
		case offer := <-c.peer.reOffers:
			if err := c.reAnswer(offer); err != nil {
				c.errs <- err
				return
			}
		}
	}
}

func (c *roomClient) reAnswer(offer string) error {
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return err
	}
	ans, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := c.pc.SetLocalDescription(ans); err != nil {
		return err
	}
	return c.conn.SetAnswer(c.pc.LocalDescription().SDP)
}

// send writes a packet on every track every 10 ms.
func (c *roomClient) send(tracks []*webrtc.TrackLocalStaticRTP) {
	defer c.wg.Done()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for seq := uint16(0); ; seq++ {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		for _, tr := range tracks {
			_ = tr.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq,
				Timestamp: uint32(seq) * 900, Marker: true}, Payload: []byte{0x10, 0x01, 0x02, 0x03}})
		}
	}
}

func (c *roomClient) close() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	_ = c.pc.Close()
	c.wg.Wait()
	_ = c.conn.Close()
}

// received returns the packets of a publisher's kind ("audio", "video")
// and the video codec they came in.
func (c *roomClient) received(publisher, kind string) (int64, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	if x := c.got[publisher+"/"+kind]; x != nil {
		n = x.Load()
	}
	return n, c.mimes[publisher]
}

// healthy fails the test on a client's signaling error or disconnect.
func (c *roomClient) healthy() {
	c.t.Helper()
	select {
	case err := <-c.errs:
		c.t.Fatalf("client %s: re-answer: %v", c.id, err)
	case reason := <-c.peer.disconnects:
		c.t.Fatalf("client %s disconnected: %s", c.id, reason)
	default:
	}
}

// TestMixedCodecChannel puts one sendrecv publisher of each video codec
// in a channel, joining one after another, with a recvonly viewer: every
// client receives every other publisher's video in that publisher's
// codec, and its audio.
func TestMixedCodecChannel(t *testing.T) {
	s := newTestSFU(t, nil)
	defer s.Close()
	all := []Codec{VP8, VP9, AV1, H264, H265}
	clients := []*roomClient{joinRoom(t, s, "", all, "")}
	for _, c := range all {
		clients = append(clients, joinRoom(t, s, c, all, capabilitySDP(t, all)))
	}
	for _, rc := range clients {
		for _, pub := range clients[1:] {
			if pub == rc {
				continue
			}
			want := string(pub.conn.Info().VideoCodec)
			eventually(t, rc.id+" receives "+want, 15*time.Second, func() bool {
				rc.healthy()
				v, mime := rc.received(pub.id, "video")
				a, _ := rc.received(pub.id, "audio")
				return v >= 10 && a >= 10 && strings.EqualFold(mime, "video/"+want)
			})
		}
	}
	if n := s.Stats().RefusedStreams; n != 0 {
		t.Fatalf("refused streams = %d, want 0", n)
	}

	// The VP8 publisher leaves; an H.264 one takes its slots at the
	// viewer, which must now offer H.264 there. (pion answers a recycled
	// m-line with its old codec, so the SFU may move it to a new one; a
	// browser recycles it.)
	viewer, vp8 := clients[0], clients[1]
	vp8.close()
	eventually(t, "the departed publisher's slots rejected", 10*time.Second, func() bool {
		viewer.healthy()
		return rejectedVideoSlots(t, viewer.pc) == 1
	})
	late := joinRoom(t, s, H264, all, capabilitySDP(t, all))
	eventually(t, "the viewer receives the late H.264 publisher", 15*time.Second, func() bool {
		viewer.healthy()
		v, mime := viewer.received(late.id, "video")
		return v >= 10 && strings.EqualFold(mime, webrtc.MimeTypeH264)
	})
	if n := s.Stats().RefusedStreams; n != 0 {
		t.Fatalf("refused streams = %d, want 0", n)
	}
}

// TestRefusedCodec checks a receiver that cannot decode H.265, which it
// says in its capability sdp, or, without one, by rejecting the m-line in
// its answer: the H.265 publisher's video is not forwarded to it (logged
// and counted), its audio and the VP8 publisher's video and audio are,
// and the connection lives on; a rejected m-line is rejected in the next
// offer too.
func TestRefusedCodec(t *testing.T) {
	decodes := []Codec{VP8, VP9}
	for _, tc := range []struct {
		name       string
		capability bool
	}{{"capability sdp", true}, {"answer", false}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSFU(t, nil)
			defer s.Close()
			capability := ""
			if tc.capability {
				capability = capabilitySDP(t, decodes)
			}
			rc := joinRoom(t, s, VP9, decodes, capability)
			all := []Codec{VP8, VP9, AV1, H264, H265}
			h265 := joinRoom(t, s, H265, all, "")
			eventually(t, "H.265 refused", 10*time.Second, func() bool {
				rc.healthy()
				a, _ := rc.received(h265.id, "audio")
				return s.Stats().RefusedStreams == 1 && a >= 10
			})
			if !tc.capability {
				eventually(t, "the refused slot rejected", 10*time.Second, func() bool {
					rc.healthy()
					return rejectedVideoSlots(t, rc.pc) == 1
				})
			}
			vp8 := joinRoom(t, s, VP8, all, "")
			eventually(t, "VP8 forwarded", 15*time.Second, func() bool {
				rc.healthy()
				v, mime := rc.received(vp8.id, "video")
				return v >= 10 && strings.EqualFold(mime, webrtc.MimeTypeVP8)
			})
			if v, _ := rc.received(h265.id, "video"); v != 0 {
				t.Fatalf("H.265 video reached a client that refused it: %d packets", v)
			}
			if n := s.Stats().RefusedStreams; n != 1 {
				t.Fatalf("refused streams = %d, want 1", n)
			}
			if v, mime := h265.received(rc.id, "video"); v < 10 || !strings.EqualFold(mime, webrtc.MimeTypeVP9) {
				t.Fatalf("the refusing client's own video: %d packets of %q", v, mime)
			}
		})
	}
}

// rejectedVideoSlots counts the port-0 video m-lines of a client's
// current remote description.
func rejectedVideoSlots(t *testing.T, pc *webrtc.PeerConnection) int {
	t.Helper()
	d := pc.CurrentRemoteDescription()
	if d == nil {
		return 0
	}
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(d.SDP); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range desc.MediaDescriptions {
		if m.MediaName.Media == "video" && m.MediaName.Port.Value == 0 {
			n++
		}
	}
	return n
}
