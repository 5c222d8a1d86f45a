package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// fakePlacement answers from a table by channel and records the requests.
type fakePlacement struct {
	mu      sync.Mutex
	answers map[string]func(PlaceRequest) (string, error)
	asked   []PlaceRequest
}

func (f *fakePlacement) Place(_ context.Context, req PlaceRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, req)
	if a := f.answers[req.ChannelID]; a != nil {
		return a(req)
	}
	return "", nil
}

func (f *fakePlacement) last() PlaceRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked[len(f.asked)-1]
}

// TestPlacement checks each answer of the Placement as the client sees
// it: a redirect before any offer, then 1000 REDIRECT; the two refusals
// with their codes; and that "redirect": true and the mode reach it.
func TestPlacement(t *testing.T) {
	p := &fakePlacement{answers: map[string]func(PlaceRequest) (string, error){
		"elsewhere": func(PlaceRequest) (string, error) { return "wss://node1.test/signaling", nil },
		"down":      func(PlaceRequest) (string, error) { return "", errors.New("nats: timeout") },
		"taken": func(r PlaceRequest) (string, error) {
			if r.Redirected {
				return "", ErrChannelElsewhere
			}
			return "wss://node3.test/signaling", nil
		},
	}}
	auth := &countingAuth{}
	ts := startServer(t, func(c *Config) { c.Placement, c.Authenticator = p, auth })
	connect := func(channel string, redirected bool) (*websocket.CloseError, []string, map[string]any) {
		ws := dial(t, ts.url)
		msg := map[string]any{}
		_ = json.Unmarshal([]byte(connectMsg(channel, "recvonly")), &msg)
		if redirected {
			msg["redirect"] = true
		}
		if err := ws.WriteJSON(msg); err != nil {
			t.Fatal(err)
		}
		if channel != "elsewhere" {
			ce, types := readUntilClose(t, ws)
			return ce, types, nil
		}
		first := readType(t, ws, "redirect")
		ce, types := readUntilClose(t, ws)
		return ce, types, first
	}
	ce, types, redirect := connect("elsewhere", false)
	if redirect["location"] != "wss://node1.test/signaling" || ce.Code != 1000 || ce.Text != "REDIRECT" || len(types) != 0 {
		t.Fatalf("redirect %v, then %v and close %d %q", redirect, types, ce.Code, ce.Text)
	}
	for _, tc := range []struct {
		channel    string
		redirected bool
		code       int
		reason     string
	}{
		{"down", false, 4050, "CLUSTER-UNAVAILABLE"},
		{"taken", true, 4051, "CLUSTER-CHANNEL-ELSEWHERE"},
	} {
		ce, types, _ := connect(tc.channel, tc.redirected)
		if ce.Code != tc.code || ce.Text != tc.reason || len(types) != 0 {
			t.Fatalf("%s: %v then close %d %q; want %d %q", tc.channel, types, ce.Code, ce.Text, tc.code, tc.reason)
		}
		if last := p.last(); last.Redirected != tc.redirected {
			t.Fatalf("%s: Placement saw %+v", tc.channel, last)
		}
	}
	if n := auth.calls.Load(); n != 0 {
		t.Fatalf("the authenticator was asked %d times for connects placed elsewhere", n)
	}
	// A channel placed here is served; a blocked mode reaches the Placement.
	if err := ts.sfu.SetMode(sfu.ModeBlockNewSession); err != nil {
		t.Fatal(err)
	}
	ws := dial(t, ts.url)
	if err := ws.WriteMessage(websocket.TextMessage, []byte(connectMsg("here", "recvonly"))); err != nil {
		t.Fatal(err)
	}
	ce, _ = readUntilClose(t, ws)
	if ce.Code != 4031 || !p.last().NoNewChannel {
		t.Fatalf("blocked node, placed here: close %d, Placement saw %+v", ce.Code, p.last())
	}
}
