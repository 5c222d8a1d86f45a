package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// scriptedHooks is a webhook endpoint whose auth reply is the connect
// metadata's "reply" (allowed when absent); it keeps every request.
type scriptedHooks struct {
	mu    sync.Mutex
	calls []map[string]any
}

func (h *scriptedHooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m)
	if r.URL.Path == "/auth" {
		m["type"] = "auth"
	}
	h.mu.Lock()
	h.calls = append(h.calls, m)
	h.mu.Unlock()
	meta, _ := m["metadata"].(map[string]any)
	if reply, ok := meta["reply"].(string); ok && r.URL.Path == "/auth" {
		_, _ = io.WriteString(w, reply)
		return
	}
	_, _ = io.WriteString(w, `{"allowed":true}`)
}

// find returns the requests of type typ about connection id ("" for
// any), in arrival order.
func (h *scriptedHooks) find(typ, id string) []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]any
	for _, c := range h.calls {
		if c["type"] == typ && (id == "" || c["connection_id"] == id) {
			out = append(out, c)
		}
	}
	return out
}

// startHookedServer runs a server whose auth and event webhooks go to h,
// with connection.updated 300 ms after a connection and every 400 ms.
func startHookedServer(t *testing.T, h *scriptedHooks) *testServer {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	wc := webhooks.DefaultConfig()
	wc.AuthURL, wc.EventURL, wc.Timeout = hs.URL+"/auth", hs.URL+"/event", 2*time.Second
	client, err := webhooks.New(wc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close(context.Background()) })
	hooks := NewWebhooks(client, WebhookOptions{})
	return startServer(t, func(c *Config) {
		c.Authenticator, c.Events = hooks, hooks
		c.UpdateFirst, c.UpdateEvery = 300*time.Millisecond, 400*time.Millisecond
	})
}

// field reads a dotted path of a decoded JSON object as JSON text.
func field(m map[string]any, keys ...string) string {
	var v any = m
	for _, k := range keys {
		obj, _ := v.(map[string]any)
		v = obj[k]
	}
	return mustJSON(v)
}

// TestAuthRequestAndOverrides checks the auth webhook request's Sora
// fields (channel counts, sora_client, media settings, data channel
// options) and that the reply's audio, video_bit_rate and
// video_vp9_params overrides are applied; a connection that never
// answers ends in connection.failed.
func TestAuthRequestAndOverrides(t *testing.T) {
	h := &scriptedHooks{}
	ts := startHookedServer(t, h)
	newClient(t, ts.url, "f", "recvonly", false)

	ws := dial(t, ts.url)
	_ = ws.WriteJSON(map[string]any{"type": "connect", "role": "sendonly", "channel_id": "f",
		"audio":       map[string]any{"codec_type": "OPUS", "bit_rate": 64},
		"video":       map[string]any{"codec_type": "VP9", "bit_rate": 800, "vp9_params": map[string]any{"profile_id": 0}},
		"sora_client": "Sora JavaScript SDK 2026.1.0", "environment": "Mozilla/5.0", "data_channel_signaling": true,
		"metadata": map[string]any{"reply": `{"allowed":true,"audio":false,"video_bit_rate":1500,"video_vp9_params":{"profile_id":2}}`}})
	offer := readType(t, ws, "offer")
	id, _ := offer["connection_id"].(string)
	if offer["audio"] != false || offer["video_bit_rate"] != float64(1500) {
		t.Errorf("offer after overrides: audio %v, video_bit_rate %v", offer["audio"], offer["video_bit_rate"])
	}
	auth := h.find("auth", id)
	if len(auth) != 1 {
		t.Fatalf("auth requests for %s: %d", id, len(auth))
	}
	for _, tc := range []struct{ path, want string }{
		{"channel_connections", "1"}, {"channel_recvonly_connections", "1"}, {"channel_sendonly_connections", "0"},
		{"channel_sendrecv_connections", "0"}, {"multistream", "true"}, {"e2ee", "false"},
		{"sora_client.type", `"Sora JavaScript SDK"`}, {"sora_client.version", `"2026.1.0"`},
		{"sora_client.raw", `"Sora JavaScript SDK 2026.1.0"`}, {"sora_client.environment", `"Mozilla/5.0"`},
		{"audio", "true"}, {"audio_codec_type", `"OPUS"`}, {"audio_bit_rate", "64"},
		{"video", "true"}, {"video_codec_type", `"VP9"`}, {"video_bit_rate", "800"},
		{"video_vp9_params.profile_id", "0"}, {"data_channel_signaling", "true"}, {"ignore_disconnect_websocket", "false"},
	} {
		if got := field(auth[0], strings.Split(tc.path, ".")...); got != tc.want {
			t.Errorf("auth request %s = %s, want %s", tc.path, got, tc.want)
		}
	}
	conn, err := ts.sfu.Connection(id)
	if err != nil {
		t.Fatal(err)
	}
	info := conn.Info()
	if m := ExtrasOf(info).Media; info.Audio || m.VideoBitRate != 1500 || string(m.VideoVP9Params) != `{"profile_id":2}` {
		t.Errorf("connection after overrides: audio %t, media %+v", info.Audio, m)
	}
	_ = ws.Close()
	eventually(t, "connection.failed", func() bool { return len(h.find("connection.failed", id)) == 1 })
	failed := h.find("connection.failed", id)[0]
	if field(failed, "data", "channel_connections") != "1" || field(failed, "data", "message") == "null" ||
		field(failed, "data", "total_received_bytes") == "null" {
		t.Errorf("connection.failed data: %s", field(failed, "data"))
	}
}

// TestConnectionUpdatedAndDeparted checks connection.updated on its
// schedule with Sora's data fields, connection.destroyed's, and that a
// connection that left stays listed with its session until the session
// ends.
func TestConnectionUpdatedAndDeparted(t *testing.T) {
	h := &scriptedHooks{}
	ts := startHookedServer(t, h)
	a := newClient(t, ts.url, "u", "recvonly", false)
	b := newClient(t, ts.url, "u", "recvonly", false)
	conn, err := ts.sfu.Connection(a.id)
	if err != nil {
		t.Fatal(err)
	}
	created := conn.Info().CreatedAt
	eventually(t, "two connection.updated", func() bool { return len(h.find("connection.updated", a.id)) >= 2 })
	if took := time.Since(created); took < 700*time.Millisecond {
		t.Errorf("two connection.updated %v after the connection, before their schedule (300 ms, then 400 ms)", took)
	}
	up := h.find("connection.updated", a.id)[0]
	for _, key := range []string{"minutes", "audio", "video", "video_codec_type", "channel_connections",
		"channel_sendrecv_connections", "channel_sendonly_connections", "channel_recvonly_connections", "turn_transport_type",
		"created_time", "created_timestamp", "ice_connection_state", "total_received_bytes", "total_sent_bytes"} {
		if field(up, "data", key) == "null" {
			t.Errorf("connection.updated data lacks %s: %s", key, field(up, "data"))
		}
	}
	if field(up, "data", "channel_connections") != "2" || field(up, "data", "channel_recvonly_connections") != "2" {
		t.Errorf("connection.updated counts: %s", field(up, "data"))
	}

	sessionID := ts.sfu.Connections()[0].SessionID
	b.close()
	eventually(t, "connection.destroyed", func() bool { return len(h.find("connection.destroyed", b.id)) == 1 })
	gone := ts.srv.DepartedConnections(sessionID)
	if len(gone) != 1 || gone[0].Info.ConnectionID != b.id || gone[0].DestroyedAt.IsZero() {
		t.Fatalf("departed connections of the live session: %+v", gone)
	}
	destroyed := h.find("connection.destroyed", b.id)[0]
	for _, key := range []string{"destroyed_time", "destroyed_timestamp", "reason", "channel_connections", "total_sent_bytes"} {
		if field(destroyed, "data", key) == "null" {
			t.Errorf("connection.destroyed data lacks %s: %s", key, field(destroyed, "data"))
		}
	}
	a.close()
	eventually(t, "the session's end", func() bool { return len(ts.sfu.Sessions()) == 0 })
	if gone := ts.srv.DepartedConnections(sessionID); len(gone) != 0 {
		t.Errorf("departed connections kept after the session ended: %+v", gone)
	}
}

// TestDepartedBounded checks that a long-lived session keeps only the
// most recent departed connections.
func TestDepartedBounded(t *testing.T) {
	ts := startServer(t, nil)
	c := newClient(t, ts.url, "cap", "recvonly", false)
	sid := ts.sfu.Connections()[0].SessionID
	for i := range maxDeparted + 5 {
		ts.srv.untrack(sfu.ConnectionInfo{ChannelID: "cap", SessionID: sid, ConnectionID: fmt.Sprint(i)}, time.Now())
	}
	gone := ts.srv.DepartedConnections(sid)
	if len(gone) != maxDeparted || gone[0].Info.ConnectionID != "5" {
		t.Fatalf("%d departed kept, first %q; want %d from \"5\"", len(gone), gone[0].Info.ConnectionID, maxDeparted)
	}
	c.close()
}
