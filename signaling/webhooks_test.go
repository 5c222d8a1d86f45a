package signaling

import (
	"context"
	"encoding/json"
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

// receiver is a webhook endpoint on 127.0.0.1 that records every call
// and answers auth requests by their metadata.
type receiver struct {
	mu    sync.Mutex
	calls []map[string]any
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	rc.mu.Lock()
	rc.calls = append(rc.calls, m)
	rc.mu.Unlock()
	if r.URL.Path != "/auth" {
		w.WriteHeader(http.StatusOK)
		return
	}
	meta, _ := m["metadata"].(map[string]any)
	switch meta["auth"] {
	case "deny":
		_, _ = io.WriteString(w, `{"allowed":false,"reason":"TOKEN-EXPIRED"}`)
	case "fail":
		w.WriteHeader(http.StatusInternalServerError)
	case "short":
		_, _ = io.WriteString(w, `{"allowed":true,"connection_lifetime":1}`)
	case "h264":
		_, _ = io.WriteString(w, `{"allowed":true,"video_codec_type":"H264"}`)
	case "bad-codec":
		_, _ = io.WriteString(w, `{"allowed":true,"video_codec_type":"MPEG2"}`)
	default:
		_, _ = io.WriteString(w, `{"allowed":true,"client_id":"from-webhook","metadata":{"role":"admin"}}`)
	}
}

// authCall returns the auth webhook request whose metadata.auth is
// the marker, or nil.
func (rc *receiver) authCall(marker string) map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, c := range rc.calls {
		if meta, _ := c["metadata"].(map[string]any); c["type"] == nil && meta["auth"] == marker {
			return c
		}
	}
	return nil
}

// types returns the webhook types received so far ("auth" for auth).
func (rc *receiver) types() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, c := range rc.calls {
		typ, _ := c["type"].(string)
		if typ == "" {
			typ = "auth"
		}
		out = append(out, typ)
	}
	return out
}

// TestWebhooks runs signaling with a real webhook client against a test
// receiver: auth allows, overrides and denies; a failing auth webhook
// denies; event and session webhooks, session.vanished included, arrive.
func TestWebhooks(t *testing.T) {
	rc := &receiver{}
	hs := httptest.NewServer(rc)
	defer hs.Close()
	wc := webhooks.DefaultConfig()
	wc.AuthURL, wc.SessionURL, wc.EventURL = hs.URL+"/auth", hs.URL+"/session", hs.URL+"/event"
	wc.Timeout = 2 * time.Second
	client, err := webhooks.New(wc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	hooks := NewWebhooks(client, WebhookOptions{})
	ts := startServerWith(t, hooks, func(c *Config) { c.Authenticator, c.Events = hooks, hooks })

	for _, tc := range []struct {
		auth   string
		code   int
		reason string
	}{{"deny", codeAuthDenied, "TOKEN-EXPIRED"}, {"fail", codeAuthError, "AUTH-WEBHOOK-ERROR"}} {
		ws := dial(t, ts.url)
		_ = ws.WriteJSON(map[string]any{"type": "connect", "role": "recvonly", "channel_id": "w", "metadata": map[string]string{"auth": tc.auth}})
		if ce, _ := readUntilClose(t, ws); ce.Code != tc.code || ce.Text != tc.reason {
			t.Fatalf("auth %s: close %d %q", tc.auth, ce.Code, ce.Text)
		}
	}

	short := dial(t, ts.url)
	_ = short.WriteJSON(map[string]any{"type": "connect", "role": "recvonly", "channel_id": "short", "metadata": map[string]string{"auth": "short"}})
	ce, seen := readUntilClose(t, short)
	if ce.Code != 1000 || ce.Text != "LIFETIME-EXPIRED" || len(seen) == 0 || seen[0] != "offer" {
		t.Fatalf("connection_lifetime: close %d %q after %v", ce.Code, ce.Text, seen)
	}

	// simulcast: the auth webhook sees what the client asked; the offer
	// asks for three layers, r0 to r2, in its encodings and its SDP.
	sim := dial(t, ts.url)
	_ = sim.WriteJSON(map[string]any{"type": "connect", "role": "sendrecv", "channel_id": "sim", "simulcast": true,
		"metadata": map[string]string{"auth": "simulcast"}})
	offer := readType(t, sim, "offer")
	if got := mustJSON(offer["encodings"]); offer["simulcast"] != true || got != `[{"active":true,"rid":"r0","scaleResolutionDownBy":4},{"active":true,"rid":"r1","scaleResolutionDownBy":2},{"active":true,"rid":"r2","scaleResolutionDownBy":1}]` {
		t.Fatalf("offer to a simulcast connect: simulcast %v, encodings %s", offer["simulcast"], got)
	}
	if sdp, _ := offer["sdp"].(string); !strings.Contains(sdp, "a=simulcast:recv r0;r1;r2") || !strings.Contains(sdp, "a=rid:r2 recv") {
		t.Fatalf("simulcast offer SDP asks for no layers:\n%s", sdp)
	}
	if call := rc.authCall("simulcast"); call == nil || call["simulcast"] != true {
		t.Fatalf("auth webhook request for a simulcast connect: %v", call)
	}
	_ = sim.Close()

	// video_codec_type in the reply replaces the client's codec: the
	// offer says so and the upstream m-line offers that codec only; a
	// codec the SFU does not know is an auth webhook error.
	vp9 := dial(t, ts.url)
	_ = vp9.WriteJSON(map[string]any{"type": "connect", "role": "sendonly", "channel_id": "codec",
		"video": map[string]any{"codec_type": "VP9"}, "metadata": map[string]string{"auth": "h264"}})
	offer = readType(t, vp9, "offer")
	if sdp, _ := offer["sdp"].(string); offer["video_codec_type"] != "H264" || !strings.Contains(sdp, "H264/90000") ||
		strings.Contains(sdp, "VP9/90000") {
		t.Fatalf("offer after the auth webhook chose H264: video_codec_type %v\n%s", offer["video_codec_type"], sdp)
	}
	_ = vp9.Close()
	bad := dial(t, ts.url)
	_ = bad.WriteJSON(map[string]any{"type": "connect", "role": "sendonly", "channel_id": "codec",
		"metadata": map[string]string{"auth": "bad-codec"}})
	if ce, _ := readUntilClose(t, bad); ce.Code != codeAuthError || ce.Text != "AUTH-WEBHOOK-ERROR" {
		t.Fatalf("auth reply with an unknown codec: close %d %q", ce.Code, ce.Text)
	}

	c := newClient(t, ts.url, "w", "recvonly", false)
	own := c.notify("connection.created", c.id)
	if own["client_id"] != "from-webhook" || !strings.Contains(mustJSON(own["authz_metadata"]), "admin") {
		t.Fatalf("webhook overrides not applied: %v", own)
	}
	if err := ts.sfu.SetMode(sfu.ModeBlockNewConnection); err != nil {
		t.Fatal(err)
	}
	if err := ts.sfu.DisconnectConnection("w", c.id, "DISCONNECTED-API"); err != nil {
		t.Fatal(err)
	}
	want := []string{"session.created", "connection.created", "connection.destroyed", "session.destroyed", "session.vanished"}
	eventually(t, "webhooks", func() bool {
		got := strings.Join(rc.types(), ",")
		for _, w := range want {
			if !strings.Contains(got, w) {
				return false
			}
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
