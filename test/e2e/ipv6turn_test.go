package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestIPv6OnlyClientOverTURN: with the built-in TURN server on (which
// tells clients to relay only), a browser whose namespace has only an
// IPv6 address relays through the TURN server's IPv6 side (ipv6_address),
// publishes, receives and is recorded.
func TestIPv6OnlyClientOverTURN(t *testing.T) {
	ns := newClientNS(t)
	ns.link(t, "k9s", "k9c", []string{"fd00:9::1/64"}, []string{"fd00:9::2/64"})

	hooks := &hookLog{}
	turnPort := freeUDPPort(t)
	srv, port := startOpenServer(t, hooks, freeUDPPort(t), fmt.Sprintf(
		"ipv4_address = %s\nipv6 = true\nipv6_address = fd00:9::1\nturn = true\nturn_port = %d\nturn_tcp = true\n",
		mediaAddress, turnPort))
	b := ns.startBrowser(t)
	base, ws := ns.servePages(t), fmt.Sprintf("ws://[fd00:9::1]:%s/signaling", port)
	const channel = "ipv6-turn"
	a := joinIn(t, b, base, ws, "a", channel, "sendrecv")
	c := joinIn(t, b, base, ws, "c", channel, "sendrecv")
	expectFlow(t, a, c, "VP8")
	expectFlow(t, c, a, "VP8")
	for _, m := range []*member{a, c} {
		var tr transportInfo
		if err := m.p.call("transport", nil, &tr); err != nil {
			t.Fatal(err)
		}
		urls := strings.Join(tr.ICEServers[0].URLs, " ")
		if tr.ICETransportPolicy != "relay" || !strings.Contains(urls, fmt.Sprintf("turn:[fd00:9::1]:%d?transport=udp", turnPort)) {
			t.Errorf("%s: configuration %+v, want relay only with the TURN server's IPv6 URL", m.name, tr)
		}
		if tr.LocalType != "relay" {
			t.Errorf("%s: selected pair %+v, want a relay candidate", m.name, tr)
		}
	}
	var rec recordingInfo
	srv.api(t, "Sora_20231220.StartRecording", map[string]any{"channel_id": channel, "format": "webm"}, &rec)
	const length = 5 * time.Second
	time.Sleep(length)
	srv.api(t, "Sora_20231220.StopRecording", map[string]any{"channel_id": channel}, nil)
	for _, m := range []*member{a, c} {
		hooks.waitHook(t, "archive.available", 30*time.Second, func(w webhook) bool {
			return w.data("recording_id") == rec.RecordingID && w.Body["connection_id"] == m.id
		})
	}
	for _, m := range []*member{a, c} {
		checkCodecFile(t, fmt.Sprintf("%s/%s/archive-%s.webm", srv.archive, rec.RecordingID, m.id), "VP8", length)
	}
}
