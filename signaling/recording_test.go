package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// recordingReceiver answers auth with event_metadata and
// recording_block, session.created with recording settings, and keeps
// the last body of each event type.
type recordingReceiver struct {
	mu     sync.Mutex
	events map[string]map[string]any
}

func (rc *recordingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m)
	switch {
	case r.URL.Path == "/auth":
		_, _ = io.WriteString(w, `{"allowed":true,"event_metadata":{"e":1},"recording_block":true}`)
	case m["type"] == "session.created":
		_, _ = io.WriteString(w, `{"recording":true,"recording_split_only":true,"recording_split_duration":5,"recording_format":"mp4"}`)
	case r.URL.Path == "/event":
		rc.mu.Lock()
		if rc.events == nil {
			rc.events = map[string]map[string]any{}
		}
		rc.events[fmt.Sprint(m["type"])] = m
		rc.mu.Unlock()
	}
}

func (rc *recordingReceiver) event(typ string) map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.events[typ]
}

func newHookClient(t *testing.T, url string, session bool) *webhooks.Client {
	t.Helper()
	wc := webhooks.DefaultConfig()
	wc.AuthURL, wc.EventURL, wc.Timeout = url+"/auth", url+"/event", 2*time.Second
	if session {
		wc.SessionURL = url + "/session"
	}
	client, err := webhooks.New(wc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Close(ctx)
	})
	return client
}

// TestRecordingSignals checks what recording needs from signaling: the
// auth reply's event_metadata and recording_block reach the connection
// and the event webhook, NotifyChannel reaches an established client,
// and CallSessionCreated returns the session.created reply.
func TestRecordingSignals(t *testing.T) {
	rc := &recordingReceiver{}
	hs := httptest.NewServer(rc)
	t.Cleanup(hs.Close) // after the clients have flushed
	hooks := NewWebhooks(newHookClient(t, hs.URL, true), WebhookOptions{})
	ts := startServerWith(t, nil, func(c *Config) { c.Authenticator, c.Events = hooks, hooks })

	c := newClient(t, ts.url, "rec", "recvonly", false)
	c.notify("connection.created", c.id)
	conn, err := ts.sfu.Connection(c.id)
	if err != nil {
		t.Fatal(err)
	}
	if ex := ExtrasOf(conn.Info()); string(ex.EventMetadata) != `{"e":1}` || !ex.RecordingBlock {
		t.Errorf("ExtrasOf = %+v, want the auth reply's event_metadata and recording_block", ex)
	}
	if ex := ExtrasOf(sfu.ConnectionInfo{}); ex.RecordingBlock || ex.EventMetadata != nil {
		t.Errorf("ExtrasOf(foreign) = %+v, want zero", ex)
	}
	eventually(t, "connection.created webhook with event_metadata", func() bool {
		return mustJSON(rc.event("connection.created")["event_metadata"]) == `{"e":1}`
	})

	ts.srv.NotifyChannel("other", "recording.started", map[string]any{"recording_id": "R0"})
	ts.srv.NotifyChannel("rec", "recording.started", map[string]any{"recording_id": "R1"})
	n := c.next("notify")
	if n["event_type"] != "recording.started" || n["recording_id"] != "R1" || n["timestamp"] == nil {
		t.Errorf("notify %v, want recording.started of R1 (and none of another channel)", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s := sfu.SessionInfo{ChannelID: "rec", SessionID: "S1", CreatedAt: time.Now()}
	reply, err := hooks.CallSessionCreated(ctx, s, nil)
	if err != nil || !reply.Recording || reply.RecordingSplitDuration == nil || *reply.RecordingSplitDuration != 5 ||
		reply.RecordingFormat == nil || *reply.RecordingFormat != "mp4" {
		t.Errorf("CallSessionCreated = %+v, %v", reply, err)
	}
	none := NewWebhooks(newHookClient(t, hs.URL, false), WebhookOptions{})
	if reply, err := none.CallSessionCreated(ctx, s, nil); err != nil || reply.Recording {
		t.Errorf("without a session URL: %+v, %v; want an empty reply", reply, err)
	}
}

// TestDisconnectAPIReason checks that the reason a disconnect API call
// gave reaches connection.destroyed beside the close reason.
func TestDisconnectAPIReason(t *testing.T) {
	rc := &recordingReceiver{}
	hs := httptest.NewServer(rc)
	t.Cleanup(hs.Close)
	hooks := NewWebhooks(newHookClient(t, hs.URL, false), WebhookOptions{})
	ts := startServerWith(t, nil, func(c *Config) { c.Authenticator, c.Events = hooks, hooks })
	c := newClient(t, ts.url, "bye", "recvonly", false)
	c.notify("connection.created", c.id)
	ts.srv.NoteDisconnectReason("other", c.id, "wrong channel")
	ts.srv.NoteDisconnectReason("bye", c.id, "maintenance")
	if err := ts.sfu.DisconnectConnection("bye", c.id, "DISCONNECTED-API"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "connection.destroyed", func() bool { return rc.event("connection.destroyed") != nil })
	data, _ := rc.event("connection.destroyed")["data"].(map[string]any)
	if data["reason"] != "DISCONNECTED-API" || data["disconnect_api_reason"] != "maintenance" {
		t.Errorf("connection.destroyed data %v, want reason DISCONNECTED-API and disconnect_api_reason maintenance", data)
	}
}
