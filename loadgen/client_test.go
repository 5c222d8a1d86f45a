package loadgen

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// refusingServer accepts one WebSocket, hands the first message to check
// and closes with a 4xxx code, as a Sora server refuses a connect.
func refusingServer(t *testing.T, check func(map[string]any)) string {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		var m map[string]any
		if err := ws.ReadJSON(&m); err == nil {
			check(m)
		}
		msg := websocket.FormatCloseMessage(4020, "AUTH-DENIED")
		_ = ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		_, _, _ = ws.ReadMessage() // wait for the client's close
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/signaling"
}

func TestDialRefused(t *testing.T) {
	var got map[string]any
	url := refusingServer(t, func(m map[string]any) { got = m })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, ClientConfig{URL: url, Channel: "room", Role: RoleSendonly, Label: "p", LocalAddress: "127.0.0.1"})
	if err == nil {
		_ = c.Close()
		t.Fatal("Dial succeeded against a refusing server")
	}
	if !strings.Contains(err.Error(), "4020") || !strings.Contains(err.Error(), "AUTH-DENIED") {
		t.Fatalf("error %q does not carry the close code and reason", err)
	}
	want := map[string]any{"type": "connect", "role": "sendonly", "channel_id": "room",
		"audio": false, "video": map[string]any{"codec_type": "VP8"}, "metadata": map[string]any{"loadgen": "p"}}
	for k, v := range want {
		a, _ := json.Marshal(got[k])
		b, _ := json.Marshal(v)
		if string(a) != string(b) {
			t.Errorf("connect %s = %s, want %s", k, a, b)
		}
	}
}

func TestDialInvalidRole(t *testing.T) {
	if _, err := Dial(context.Background(), ClientConfig{URL: "ws://127.0.0.1:1/signaling", Role: "publisher"}); err == nil ||
		!strings.Contains(err.Error(), "invalid role") {
		t.Fatalf("err = %v, want invalid role", err)
	}
}
