package archive

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/webhooks"
)

func TestWebhookNotifierEnvelopes(t *testing.T) {
	var mu sync.Mutex
	got := map[string]map[string]any{}
	headers := map[string]http.Header{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		got[r.URL.Path], headers[r.URL.Path] = m, r.Header
		mu.Unlock()
	}))
	defer srv.Close()
	cfg := webhooks.DefaultConfig()
	cfg.EventURL, cfg.SessionURL, cfg.Label, cfg.NodeName = srv.URL+"/event", srv.URL+"/session", "L", "N"
	c, err := webhooks.New(cfg, nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	n := WebhookNotifier{Client: c}
	conn := Connection{ClientID: "cl", BundleID: "b", ConnectionID: "C1", Role: "sendrecv", EventMetadata: json.RawMessage(`{"x":1}`)}
	n.Event("archive.available", conn, "ch", "S1", map[string]any{"size": 3})
	n.Session("recording.report", "ch", "S1", map[string]any{"recording_id": "R"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	ev, se := got["/event"], got["/session"]
	if ev["type"] != "archive.available" || ev["connection_id"] != "C1" || ev["channel_id"] != "ch" || ev["session_id"] != "S1" ||
		ev["role"] != "sendrecv" || ev["label"] != "L" || ev["data"].(map[string]any)["size"] != float64(3) ||
		ev["event_metadata"].(map[string]any)["x"] != float64(1) {
		t.Errorf("event webhook %v", ev)
	}
	if headers["/event"].Get("sora-event-webhook-type") != "archive.available" || headers["/event"].Get("sora-connection-id") != "C1" {
		t.Errorf("event headers %v", headers["/event"])
	}
	if se["type"] != "recording.report" || se["session_id"] != "S1" || se["data"].(map[string]any)["recording_id"] != "R" {
		t.Errorf("session webhook %v", se)
	}
}

func TestOptionsFromReply(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	yes, mp4 := true, "mp4"
	if OptionsFromReply(webhooks.SessionCreatedReply{RecordingExpireTime: i64(5)}) != nil {
		t.Error("options without recording: true")
	}
	o := OptionsFromReply(webhooks.SessionCreatedReply{Recording: true, RecordingExpireTime: i64(60),
		RecordingSplitOnly: &yes, RecordingSplitDuration: i64(10), RecordingFormat: &mp4, RecordingMetadata: []byte(`{}`)})
	if o == nil || o.ExpireTime != 60 || !o.SplitOnly || o.SplitDuration != 10 || o.Format != FormatMP4 || string(o.Metadata) != "{}" {
		t.Errorf("OptionsFromReply = %+v", o)
	}
}
