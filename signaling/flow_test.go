package signaling

import (
	"encoding/json"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// client is a Go stand-in for the SDK: a WebSocket plus a pion peer. A
// reader goroutine answers offers and pings and queues everything else.
type client struct {
	t       *testing.T
	ws      *websocket.Conn
	pc      *webrtc.PeerConnection
	id      string
	msgs    chan map[string]any
	closeCh chan *websocket.CloseError
	pong    atomic.Bool
	closing atomic.Bool // the test is over: a re-offer being answered meets a closed pc
	packets sync.Map    // stream id -> *atomic.Int64
	wg      sync.WaitGroup
	wmu     sync.Mutex // serialises writes to ws
}

func newClient(t *testing.T, url, channel, role string, publish bool) *client {
	t.Helper()
	return newClientWith(t, url, clientOptions{channel: channel, role: role, publish: publish})
}

// clientOptions describe a test client: what it publishes and decodes.
type clientOptions struct {
	channel, role string
	publish       bool
	// codec is the video codec_type it publishes; empty means VP8,
	// without asking.
	codec string
	// decodes, if not empty, are the only video codecs its
	// PeerConnection knows, and its connect carries a capability sdp
	// listing them, as sora-js-sdk's does.
	decodes []string
}

func newClientWith(t *testing.T, url string, o clientOptions) *client {
	t.Helper()
	c := &client{t: t, ws: dial(t, url), pc: newPCFor(t, o.decodes), msgs: make(chan map[string]any, 64),
		closeCh: make(chan *websocket.CloseError, 1)}
	c.pong.Store(true)
	c.pc.OnTrack(c.onTrack)
	var video any = true
	if o.codec != "" {
		video = map[string]any{"codec_type": o.codec}
	}
	capability := "v=0\r\n"
	if len(o.decodes) > 0 {
		capability = capabilityOffer(t, o.decodes)
	}
	role, channel, publish := o.role, o.channel, o.publish
	msg := map[string]any{"type": "connect", "role": role, "channel_id": channel, "audio": false, "video": video,
		"metadata": map[string]any{"name": role + "-" + channel}, "sora_client": "test", "sdp": capability}
	if err := c.ws.WriteJSON(msg); err != nil {
		t.Fatal(err)
	}
	offer := readType(t, c.ws, "offer")
	c.id, _ = offer["connection_id"].(string)
	for _, k := range []string{"connection_id", "client_id", "bundle_id", "session_id", "config", "mid", "data_channels"} {
		if _, ok := offer[k]; !ok {
			t.Fatalf("offer lacks %q: %v", k, offer)
		}
	}
	if !strings.Contains(offer["sdp"].(string), "a=candidate:") {
		t.Fatalf("offer SDP has no candidates")
	}
	var track *webrtc.TrackLocalStaticRTP
	if publish {
		track, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: "video/" + orDefault(o.codec, "VP8"), ClockRate: 90000}, "v", "s")
	}
	c.answer("answer", offer["sdp"].(string), track)
	c.wg.Add(1)
	go c.read()
	if publish {
		c.wg.Add(1)
		go c.send(track)
	}
	t.Cleanup(c.close)
	return c
}

func (c *client) answer(typ, sdp string, track *webrtc.TrackLocalStaticRTP) {
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		if !c.closing.Load() {
			c.t.Errorf("set offer: %v", err)
		}
		return
	}
	if track != nil {
		if _, err := c.pc.AddTrack(track); err != nil {
			c.t.Errorf("add track: %v", err)
		}
	}
	ans, err := c.pc.CreateAnswer(nil)
	if err != nil {
		c.t.Errorf("create answer: %v", err)
		return
	}
	done := webrtc.GatheringCompletePromise(c.pc)
	_ = c.pc.SetLocalDescription(ans)
	<-done
	_ = c.write(map[string]any{"type": typ, "sdp": c.pc.LocalDescription().SDP})
}

// write sends one message; the reader (pongs, re-answers) and the test
// both write.
func (c *client) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteJSON(v)
}

func (c *client) read() {
	defer c.wg.Done()
	for {
		var m map[string]any
		err := c.ws.ReadJSON(&m)
		if ce, ok := err.(*websocket.CloseError); ok {
			c.closeCh <- ce
			return
		}
		if err != nil {
			return
		}
		switch m["type"] {
		case "re-offer":
			c.answer("re-answer", m["sdp"].(string), nil)
		case "ping":
			if c.pong.Load() {
				_ = c.write(map[string]any{"type": "pong"})
			}
		default:
			c.msgs <- m
		}
	}
}

func (c *client) send(track *webrtc.TrackLocalStaticRTP) {
	defer c.wg.Done()
	for seq := uint16(0); ; seq++ {
		if c.pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
			return
		}
		_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 3000},
			Payload: []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}})
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *client) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	n, _ := c.packets.LoadOrStore(tr.StreamID(), new(atomic.Int64))
	for {
		if _, _, err := tr.ReadRTP(); err != nil {
			return
		}
		n.(*atomic.Int64).Add(1)
	}
}

func (c *client) received(stream string) int64 {
	if n, ok := c.packets.Load(stream); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

// next waits for the next message of type typ.
func (c *client) next(typ string) map[string]any {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-c.msgs:
			if m["type"] == typ {
				return m
			}
		case <-timeout:
			c.t.Fatalf("no %s message", typ)
		}
	}
}

// notify waits for a notify of event about connection id.
func (c *client) notify(event, about string) map[string]any {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-c.msgs:
			if m["type"] == "notify" && m["event_type"] == event && m["connection_id"] == about {
				return m
			}
		case <-timeout:
			c.t.Fatalf("no %s notify about %s", event, about)
		}
	}
}

func (c *client) closed() *websocket.CloseError {
	c.t.Helper()
	select {
	case ce := <-c.closeCh:
		return ce
	case <-time.After(10 * time.Second):
		c.t.Fatal("server did not close")
	}
	return nil
}

func (c *client) close() {
	c.closing.Store(true)
	_ = c.ws.Close()
	_ = c.pc.Close()
	c.wg.Wait()
}

func newPC(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	return newPCFor(t, nil)
}

// newPCFor builds a client PeerConnection that knows the video codecs
// named (all of pion's defaults when none are) and Opus.
func newPCFor(t *testing.T, decodes []string) *webrtc.PeerConnection {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m, decodes); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

// TestSignalingFlow runs two clients through connect, notify, re-offer,
// forwarding, ping/pong, API disconnect and client disconnect.
func TestSignalingFlow(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.PingInterval, c.PongTimeout = 100*time.Millisecond, 400*time.Millisecond
	})
	a := newClient(t, ts.url, "room", "sendrecv", true)
	own := a.notify("connection.created", a.id)
	if data, ok := own["data"].([]any); !ok || len(data) != 0 {
		t.Fatalf("first joiner's data = %v, want []", own["data"])
	}

	b := newClient(t, ts.url, "room", "recvonly", false)
	own = b.notify("connection.created", b.id)
	data, _ := own["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("joiner's data = %v, want the one existing participant", own["data"])
	}
	first, _ := data[0].(map[string]any)
	if first["connection_id"] != a.id || !strings.Contains(mustJSON(first["authn_metadata"]), "sendrecv-room") {
		t.Fatalf("joiner's data[0] = %v", first)
	}
	if n := a.notify("connection.created", b.id); n["channel_connections"] != float64(2) {
		t.Fatalf("channel_connections = %v, want 2", n["channel_connections"])
	}
	eventually(t, "forwarded packets at b", func() bool { return b.received(a.id) > 20 })
	if err := ts.sfu.PushChannel("room", json.RawMessage(`{"hello":"room"}`)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{a, b} {
		if m := c.next("push"); mustJSON(m["data"]) != `{"hello":"room"}` {
			t.Fatalf("push = %v", m)
		}
	}

	// An idle client that never answers ping is dropped; the others,
	// answering, outlive several pong timeouts.
	idle := newClient(t, ts.url, "other", "recvonly", false)
	idle.pong.Store(false)
	if ce := idle.closed(); ce.Code != codePongTimeout || ce.Text != "PONG-TIMEOUT" {
		t.Fatalf("idle close = %d %q", ce.Code, ce.Text)
	}

	if err := ts.sfu.DisconnectConnection("room", b.id, "DISCONNECTED-API"); err != nil {
		t.Fatal(err)
	}
	if ce := b.closed(); ce.Code != websocket.CloseNormalClosure || ce.Text != "DISCONNECTED-API" {
		t.Fatalf("api close = %d %q", ce.Code, ce.Text)
	}
	a.notify("connection.destroyed", b.id)

	if err := a.write(map[string]any{"type": "disconnect", "reason": "NO-ERROR"}); err != nil {
		t.Fatal(err)
	}
	if ce := a.closed(); ce.Code != websocket.CloseNormalClosure || ce.Text != "TYPE-DISCONNECT" {
		t.Fatalf("disconnect close = %d %q", ce.Code, ce.Text)
	}
	eventually(t, "empty SFU", func() bool { return len(ts.sfu.Connections()) == 0 })

	c := newClient(t, ts.url, "room", "recvonly", false)
	ts.stop()
	if ce := c.closed(); ce.Code != websocket.CloseNormalClosure || ce.Text != "SHUTDOWN" {
		t.Fatalf("shutdown close = %d %q", ce.Code, ce.Text)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
