package signaling

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// whipClient is a pion client that offers over HTTP, as a WHIP encoder
// or a WHEP player does.
type whipClient struct {
	t        *testing.T
	pc       *webrtc.PeerConnection
	location string
	etag     string
	answer   string
	video    *webrtc.TrackLocalStaticRTP // a publisher's
	audio    *webrtc.TrackLocalStaticRTP
	mu       sync.Mutex
	received int // a player's video packets
	stop     chan struct{}
	wg       sync.WaitGroup
}

// newWHIPPublisher returns a client sending VP8 and Opus.
func newWHIPPublisher(t *testing.T) *whipClient {
	t.Helper()
	c := &whipClient{t: t, pc: newPC(t), stop: make(chan struct{})}
	var err error
	c.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "obs")
	if err != nil {
		t.Fatal(err)
	}
	c.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "obs")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []webrtc.TrackLocal{c.audio, c.video} {
		if _, err := c.pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(c.close)
	return c
}

// newWHEPPlayer returns a client receiving audio and video.
func newWHEPPlayer(t *testing.T) *whipClient {
	t.Helper()
	c := &whipClient{t: t, pc: newPC(t), stop: make(chan struct{})}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := c.pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	c.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() != webrtc.RTPCodecTypeVideo {
			return
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				c.mu.Lock()
				c.received++
				c.mu.Unlock()
			}
		}()
	})
	t.Cleanup(c.close)
	return c
}

// offer makes the client's offer with every candidate inside.
func (c *whipClient) offer() string {
	c.t.Helper()
	o, err := c.pc.CreateOffer(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(o); err != nil {
		c.t.Fatal(err)
	}
	<-done
	return c.pc.LocalDescription().SDP
}

// post offers to url and applies the answer; it returns the response,
// whose body was read.
func (c *whipClient) post(url, token string) *http.Response {
	c.t.Helper()
	resp, body := do(c.t, http.MethodPost, url, sdpType, c.offer(), map[string]string{"Authorization": bearer(token)})
	if resp.StatusCode != http.StatusCreated {
		return resp
	}
	c.location, c.etag, c.answer = resp.Header.Get("Location"), resp.Header.Get("ETag"), body
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		c.t.Fatalf("set answer: %v\n%s", err, body)
	}
	return resp
}

func bearer(token string) string {
	if token == "" {
		return ""
	}
	return "Bearer " + token
}

// send starts sending keyframe-marked VP8 and Opus every 10 ms.
func (c *whipClient) send() {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for seq := uint16(0); ; seq++ {
			select {
			case <-c.stop:
				return
			case <-tick.C:
			}
			_ = c.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 900, Marker: true},
				Payload: []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}})
			_ = c.audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 480}, Payload: []byte{0xfc}})
		}
	}()
}

func (c *whipClient) videoPackets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.received
}

func (c *whipClient) close() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	_ = c.pc.Close()
	c.wg.Wait()
}

// do sends one HTTP request and returns the response and its body.
func do(t *testing.T, method, url, contentType, body string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// recordingAuth allows everything and keeps the requests.
type recordingAuth struct {
	mu   sync.Mutex
	reqs []AuthRequest
}

func (a *recordingAuth) Authenticate(_ context.Context, r AuthRequest) (AuthResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reqs = append(a.reqs, r)
	return AuthResult{Allowed: true}, nil
}

func (a *recordingAuth) last() AuthRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reqs[len(a.reqs)-1]
}

// TestWHIPPublishAndWHEPPlay publishes over WHIP into a channel that a
// WebSocket client views, plays the publisher over WHEP, trickles a
// candidate, and ends the publisher through the disconnect API and the
// player with DELETE.
func TestWHIPPublishAndWHEPPlay(t *testing.T) {
	auth := &recordingAuth{}
	ts := startServer(t, func(c *Config) { c.Authenticator = auth })
	base := ts.http.URL
	viewer := newClient(t, ts.url, "ch", "recvonly", false)

	pub := newWHIPPublisher(t)
	resp := pub.post(base+"/whip/ch", "secret-token")
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(pub.location, "/whip-resource/") || pub.etag == "" ||
		resp.Header.Get("Content-Type") != sdpType || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("POST /whip: %d, headers %v", resp.StatusCode, resp.Header)
	}
	if got := auth.last(); !got.WHIP || got.Role != sfu.SendOnly || !strings.Contains(string(got.Metadata), `"access_token":"secret-token"`) ||
		got.VideoCodec != sfu.VP8 || !got.Audio || !got.Video {
		t.Fatalf("auth request %+v", got)
	}
	pub.send()
	pubID := auth.last().ConnectionID
	if created := viewer.notify("connection.created", pubID); created["role"] != "sendonly" {
		t.Fatalf("viewer's notify of the WHIP publisher: %v", created)
	}
	eventually(t, "the WHIP publisher's media at the viewer", func() bool { return viewer.received(pubID) >= 20 })

	player := newWHEPPlayer(t)
	if resp := player.post(base+"/whep/ch?connection_id="+pubID, ""); resp.StatusCode != http.StatusCreated ||
		!strings.HasPrefix(player.location, "/whep-resource/") {
		t.Fatalf("POST /whep: %d", resp.StatusCode)
	}
	eventually(t, "the WHIP publisher's video at the WHEP player", func() bool { return player.videoPackets() >= 20 })

	frag := "a=ice-ufrag:" + sfuRemoteUfrag(t, ts, pubID) + "\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n"
	if resp, body := do(t, http.MethodPatch, base+pub.location, sdpFragType, frag, map[string]string{"If-Match": pub.etag}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH trickle: %d %s", resp.StatusCode, body)
	}

	ts.srv.NoteDisconnectReason("ch", pubID, "test")
	if err := ts.sfu.DisconnectConnection("ch", pubID, "DISCONNECTED-API"); err != nil {
		t.Fatal(err)
	}
	viewer.notify("connection.destroyed", pubID)
	eventually(t, "the resource gone after the disconnect API", func() bool {
		resp, _ := do(t, http.MethodPatch, base+pub.location, sdpFragType, frag, nil)
		return resp.StatusCode == http.StatusNotFound
	})
	if resp, _ := do(t, http.MethodDelete, base+player.location, "", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE /whep-resource: %d", resp.StatusCode)
	}
	if resp, _ := do(t, http.MethodDelete, base+player.location, "", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("second DELETE: %d", resp.StatusCode)
	}
	eventually(t, "the channel without WHIP and WHEP connections", func() bool {
		return len(ts.sfu.ChannelConnections("ch")) == 1
	})
}

// sfuRemoteUfrag is the ICE ufrag the server knows of a connection.
func sfuRemoteUfrag(t *testing.T, ts *testServer, id string) string {
	t.Helper()
	c, err := ts.sfu.Connection(id)
	if err != nil {
		t.Fatal(err)
	}
	return c.RemoteICE().Ufrag
}
