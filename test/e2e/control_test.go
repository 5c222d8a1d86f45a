package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// findNotify returns the first notify of event about connection id.
func findNotify(s pageState, event, id string) map[string]any {
	for _, n := range s.Notifies {
		if n["event_type"] == event && n["connection_id"] == id {
			return n
		}
	}
	return nil
}

// TestNotify checks connection.created: each page gets its own with the
// others' metadata in data, and the others get the joiner's.
func TestNotify(t *testing.T) {
	a := join(t, "a", "notify", "sendrecv", "VP8")
	b := join(t, "b", "notify", "recvonly", "VP8")
	waitFor(t, "b's own notify", 10*time.Second, func() string {
		n := findNotify(b.state(), "connection.created", b.id)
		if n == nil {
			return "none"
		}
		data, _ := n["data"].([]any)
		if len(data) != 1 {
			return fmt.Sprintf("data %v", n["data"])
		}
		first, _ := data[0].(map[string]any)
		meta, _ := first["authn_metadata"].(map[string]any)
		if first["connection_id"] != a.id || meta["name"] != "a" {
			return fmt.Sprintf("data[0] %v", first)
		}
		return ""
	})
	waitFor(t, "a told of b", 10*time.Second, func() string {
		n := findNotify(a.state(), "connection.created", b.id)
		if n == nil {
			return "none"
		}
		meta, _ := n["authn_metadata"].(map[string]any)
		if meta["name"] != "b" || n["channel_connections"] != float64(2) {
			return fmt.Sprintf("notify %v", n)
		}
		return ""
	})
	if findNotify(a.state(), "connection.created", a.id) == nil {
		t.Fatal("a never got its own connection.created")
	}
	b.disconnect()
	waitFor(t, "a told b left", 10*time.Second, func() string {
		if findNotify(a.state(), "connection.destroyed", b.id) == nil {
			return "none"
		}
		return ""
	})
}

// connectFails connects a page expecting rejection and returns the error.
func connectFails(t *testing.T, channel string, metadata any) connectResult {
	t.Helper()
	p := openPage(t)
	var res connectResult
	args := connectArgs{SignalingURL: shared.ws, ChannelID: channel, Role: "recvonly", Metadata: metadata, Audio: true, Video: true}
	if err := p.call("connect", args, &res); err != nil {
		t.Fatalf("connect: %v", err)
	}
	if res.ConnectionID != "" {
		t.Fatalf("connect to %s succeeded, want rejection", channel)
	}
	return res
}

// TestRejectedConnect checks auth denial and the blocking modes as the
// SDK sees them: connect() rejects with the close code and reason.
func TestRejectedConnect(t *testing.T) {
	res := connectFails(t, "auth", map[string]string{"deny": "INVALID-ACCESS-TOKEN"})
	if res.Code == nil || *res.Code != 4020 || res.Reason != "INVALID-ACCESS-TOKEN" {
		t.Fatalf("auth deny: %+v", res)
	}

	join(t, "live", "modes-live", "recvonly", "VP8")
	defer func() { _ = shared.sfu.SetMode(sfu.ModeNormal) }()
	if err := shared.sfu.SetMode(sfu.ModeBlockNewConnection); err != nil {
		t.Fatal(err)
	}
	res = connectFails(t, "modes-live", nil)
	if res.Code == nil || *res.Code != 4030 || !strings.Contains(res.Reason, "BLOCKED-NEW-CONNECTION") {
		t.Fatalf("block_new_connection: %+v", res)
	}
	if err := shared.sfu.SetMode(sfu.ModeBlockNewSession); err != nil {
		t.Fatal(err)
	}
	res = connectFails(t, "modes-new", nil)
	if res.Code == nil || *res.Code != 4031 {
		t.Fatalf("block_new_session, new channel: %+v", res)
	}
	join(t, "second", "modes-live", "recvonly", "VP8") // the live session still admits

	// The last sessions going away in a blocking mode vanish them all.
	before := shared.events.vanishedCount()
	for _, info := range shared.sfu.Connections() {
		if err := shared.sfu.DisconnectConnection(info.ChannelID, info.ConnectionID, "DISCONNECTED-API"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "sessions vanished", 10*time.Second, func() string {
		if shared.events.vanishedCount() == before {
			return "no session.vanished"
		}
		return ""
	})
}

// TestDisconnectAPI checks that an API disconnect reaches the page as a
// normal close 1000 with DISCONNECTED-API.
func TestDisconnectAPI(t *testing.T) {
	m := join(t, "m", "api-disconnect", "sendrecv", "VP8")
	if err := shared.sfu.DisconnectConnection("api-disconnect", m.id, "DISCONNECTED-API"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "disconnect event", 10*time.Second, func() string {
		d := m.state().Disconnect
		if d == nil || d.Code == nil || *d.Code != 1000 || d.Reason != "DISCONNECTED-API" {
			return fmt.Sprintf("%+v", d)
		}
		return ""
	})
}

// TestPingPong keeps an idle page connected for several pong timeouts:
// only its pongs keep it alive.
func TestPingPong(t *testing.T) {
	m := join(t, "idle", "ping", "recvonly", "VP8")
	time.Sleep(8 * time.Second) // the pong timeout is 3 s
	if d := m.state().Disconnect; d != nil {
		t.Fatalf("idle page was disconnected: %+v", d)
	}
	if len(shared.sfu.ChannelConnections("ping")) != 1 {
		t.Fatal("idle connection left the SFU")
	}
}
