package e2e

import (
	"fmt"
	"testing"
	"time"
)

// joinWithChannels connects a sendrecv page that asks for messaging
// channels.
func joinWithChannels(t *testing.T, name, channel string, dcs []any) *member {
	t.Helper()
	p := openPage(t)
	var res connectResult
	args := connectArgs{SignalingURL: shared.ws, ChannelID: channel, Role: "sendrecv", Codec: "VP8",
		Metadata: map[string]string{"name": name}, Audio: false, Video: true, DataChannels: dcs}
	if err := p.call("connect", args, &res); err != nil || res.ConnectionID == "" {
		t.Fatalf("%s connect: %v %+v", name, err, res)
	}
	return &member{t: t, name: name, p: p, id: res.ConnectionID, role: "sendrecv"}
}

// TestMessaging relays a "#chat" message between two pages, with the
// sender_connection_id header the receiver asked for.
func TestMessaging(t *testing.T) {
	withHeader := []any{map[string]any{"label": "#chat", "direction": "sendrecv",
		"header": []any{map[string]any{"type": "sender_connection_id"}}}}
	plain := []any{map[string]any{"label": "#chat", "direction": "sendrecv"}}
	a := joinWithChannels(t, "a", "messaging", withHeader)
	b := joinWithChannels(t, "b", "messaging", plain)

	if err := b.p.call("sendMessage", map[string]string{"label": "#chat", "text": "hello from b"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.p.call("sendMessage", map[string]string{"label": "#chat", "text": "hello from a"}, nil); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, a, "#chat", b.id+"hello from b")
	expectMessage(t, b, "#chat", "hello from a")
}

func expectMessage(t *testing.T, m *member, label, text string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s receiving %q", m.name, text), 15*time.Second, func() string {
		for _, got := range m.state().Messages {
			if got.Label == label && got.Text == text {
				return ""
			}
		}
		return fmt.Sprintf("messages %+v", m.state().Messages)
	})
}
