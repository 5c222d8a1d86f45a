package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// testServer runs the signaling server on 127.0.0.1 over a loopback SFU.
type testServer struct {
	sfu  *sfu.SFU
	srv  *Server
	http *httptest.Server
	url  string
}

func startServer(t *testing.T, mutate func(*Config)) *testServer {
	t.Helper()
	return startServerWith(t, nil, mutate)
}

// startServerWith also lets the test set the SFU's observer.
func startServerWith(t *testing.T, obs sfu.Observer, mutate func(*Config)) *testServer {
	t.Helper()
	sc := sfu.DefaultConfig()
	sc.UDPPort = 0 // a port per connection: test servers run side by side
	sc.ICEAddress, sc.ICELoopback, sc.DefaultVideoCodec, sc.Observer = "127.0.0.1", true, sfu.VP8, obs
	s, err := sfu.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.ConnectTimeout = 2 * time.Second
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	ts := &testServer{sfu: s, srv: srv, http: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http") + Path}
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ts.srv.Shutdown(ctx)
	ts.http.Close()
	_ = ts.sfu.Close()
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

// readUntilClose reads messages until the server closes and returns the
// close frame, plus the types of the messages before it.
func readUntilClose(t *testing.T, ws *websocket.Conn) (*websocket.CloseError, []string) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var types []string
	for {
		_, data, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce, types
		}
		if err != nil {
			t.Fatalf("read: %v (after %v)", err, types)
		}
		var env envelope
		_ = json.Unmarshal(data, &env)
		types = append(types, env.Type)
	}
}

// readType reads until a message of the given type arrives.
func readType(t *testing.T, ws *websocket.Conn, typ string) map[string]any {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %q: %v", typ, err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("server sent invalid JSON: %v", err)
		}
		if m["type"] == typ {
			return m
		}
	}
}

func connectMsg(channel, role string) string {
	b, _ := json.Marshal(map[string]any{"type": "connect", "role": role, "channel_id": channel,
		"metadata": nil, "sora_client": "test", "audio": true, "video": true})
	return string(b)
}

// denyAuth rejects or fails every connect.
type denyAuth struct{ err error }

func (d denyAuth) Authenticate(context.Context, AuthRequest) (AuthResult, error) {
	return AuthResult{Allowed: false, Reason: "NOT-ON-THE-LIST"}, d.err
}

// switchAuth lets a test change the authenticator of a running server.
type switchAuth struct{ cur atomic.Value } // holds an Authenticator

func (s *switchAuth) set(a Authenticator) { s.cur.Store(&a) }

func (s *switchAuth) Authenticate(ctx context.Context, r AuthRequest) (AuthResult, error) {
	return (*s.cur.Load().(*Authenticator)).Authenticate(ctx, r)
}

// TestRejections drives every rejection path against one server: each
// ends in a 4xxx close with a reason, the server keeps serving, and no
// goroutine is left when it stops.
func TestRejections(t *testing.T) {
	before := runtime.NumGoroutine()
	auth := &switchAuth{}
	auth.set(AllowAll{})
	ts := startServer(t, func(c *Config) {
		c.ConnectTimeout, c.AnswerTimeout, c.Authenticator = 300*time.Millisecond, 300*time.Millisecond, auth
	})
	type frame struct {
		binary bool
		text   string
	}
	for _, tc := range []struct {
		name   string
		setup  func()
		frames []frame
		code   int
		reason string
	}{
		{name: "malformed JSON", frames: []frame{{text: `{"type":`}}, code: 4001, reason: "MALFORMED-MESSAGE"},
		{name: "JSON without type", frames: []frame{{text: `{"role":"sendrecv"}`}}, code: 4001, reason: "MALFORMED-MESSAGE"},
		{name: "JSON array", frames: []frame{{text: `[1,2]`}}, code: 4001, reason: "MALFORMED-MESSAGE"},
		{name: "binary frame", frames: []frame{{binary: true, text: connectMsg("c", "sendrecv")}}, code: 4001, reason: "MALFORMED-MESSAGE"},
		{name: "wrong first message", frames: []frame{{text: `{"type":"pong"}`}}, code: 4002, reason: "CONNECT-EXPECTED"},
		{name: "answer before offer", frames: []frame{{text: `{"type":"answer","sdp":"v=0\r\n"}`}}, code: 4002, reason: "ANSWER-BEFORE-OFFER"},
		{name: "oversized message", frames: []frame{{text: `{"type":"connect","pad":"` + strings.Repeat("x", 64<<10) + `"}`}}, code: 4003, reason: "MESSAGE-TOO-LARGE"},
		{name: "invalid role", frames: []frame{{text: connectMsg("c", "publisher")}}, code: 4010, reason: "INVALID-ROLE"},
		{name: "missing role", frames: []frame{{text: `{"type":"connect","channel_id":"c"}`}}, code: 4010, reason: "INVALID-ROLE"},
		{name: "empty channel_id", frames: []frame{{text: connectMsg("", "sendrecv")}}, code: 4011, reason: "INVALID-CHANNEL-ID"},
		{name: "over-long channel_id", frames: []frame{{text: connectMsg(strings.Repeat("c", 256), "sendrecv")}}, code: 4011, reason: "INVALID-CHANNEL-ID"},
		{name: "control character in channel_id", frames: []frame{{text: connectMsg("a\nb", "sendrecv")}}, code: 4011, reason: "INVALID-CHANNEL-ID"},
		{name: "unknown codec", frames: []frame{{text: `{"type":"connect","role":"sendrecv","channel_id":"c","video":{"codec_type":"MPEG2"}}`}}, code: 4012, reason: "INVALID-VIDEO-CODEC-TYPE"},
		{name: "legacy multistream false", frames: []frame{{text: `{"type":"connect","role":"sendrecv","channel_id":"c","multistream":false}`}}, code: 4012, reason: "LEGACY-STREAM-UNSUPPORTED"},
		{name: "no connect in time", frames: nil, code: 4004, reason: "CONNECT-TIMEOUT"},
		{name: "no answer in time", frames: []frame{{text: connectMsg("c", "recvonly")}}, code: 4006, reason: "ANSWER-TIMEOUT"},
		{name: "second connect", frames: []frame{{text: connectMsg("c", "recvonly")}, {text: connectMsg("c", "recvonly")}}, code: 4002, reason: "DUPLICATE-CONNECT"},
		{name: "blocked new connection", setup: func() { _ = ts.sfu.SetMode(sfu.ModeBlockNewConnection) },
			frames: []frame{{text: connectMsg("c", "recvonly")}}, code: 4030, reason: "BLOCKED-NEW-CONNECTION"},
		{name: "blocked new session", setup: func() { _ = ts.sfu.SetMode(sfu.ModeBlockNewSession) },
			frames: []frame{{text: connectMsg("fresh", "recvonly")}}, code: 4031, reason: "BLOCKED-NEW-SESSION"},
		{name: "auth denied", setup: func() { _ = ts.sfu.SetMode(sfu.ModeNormal); auth.set(denyAuth{}) },
			frames: []frame{{text: connectMsg("c", "recvonly")}}, code: 4020, reason: "NOT-ON-THE-LIST"},
		{name: "auth error", setup: func() { auth.set(denyAuth{err: errors.New("webhook down")}) },
			frames: []frame{{text: connectMsg("c", "recvonly")}}, code: 4021, reason: "AUTH-WEBHOOK-ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			ws := dial(t, ts.url)
			for _, f := range tc.frames {
				typ := websocket.TextMessage
				if f.binary {
					typ = websocket.BinaryMessage
				}
				if err := ws.WriteMessage(typ, []byte(f.text)); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			ce, _ := readUntilClose(t, ws)
			if ce.Code != tc.code || ce.Text != tc.reason {
				t.Fatalf("close = %d %q, want %d %q", ce.Code, ce.Text, tc.code, tc.reason)
			}
		})
	}
	if st := ts.srv.Stats(); st.Rejected != 21 || st.Established != 0 {
		t.Errorf("stats %+v, want 21 rejected", st)
	}
	ts.stop()
	checkGoroutines(t, before)
}

// checkGoroutines waits for the goroutine count to fall back to before.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:n])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
