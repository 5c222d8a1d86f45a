package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// joinDC connects a page with DataChannel signaling and
// ignore_disconnect_websocket, and waits until it switched.
func joinDC(t *testing.T, name, channel, role string) *member {
	t.Helper()
	p := openPage(t)
	var res connectResult
	args := connectArgs{SignalingURL: shared.ws, ChannelID: channel, Role: role, Codec: "VP8",
		Metadata: map[string]string{"name": name}, Audio: true, Video: true,
		DataChannelSignaling: true, IgnoreWS: true}
	if err := p.call("connect", args, &res); err != nil || res.ConnectionID == "" {
		t.Fatalf("%s connect: %v %+v", name, err, res)
	}
	m := &member{t: t, name: name, p: p, id: res.ConnectionID, role: role}
	waitFor(t, name+" switched", 10*time.Second, func() string {
		if !m.state().Switched {
			return "not switched"
		}
		return ""
	})
	return m
}

// TestDataChannelSignaling runs pages that switch to DataChannels and
// close their WebSockets: media, re-offers, notify and push keep working
// over the DataChannels, and API and client disconnects end them.
func TestDataChannelSignaling(t *testing.T) {
	a := joinDC(t, "a", "dc", "sendrecv")
	b := joinDC(t, "b", "dc", "recvonly")
	expectFlow(t, b, a, "VP8")
	waitFor(t, "a told of b over the notify channel", 10*time.Second, func() string {
		n := findNotify(a.state(), "connection.created", b.id)
		if n == nil || n["transport"] != "datachannel" {
			return fmt.Sprintf("%v", n)
		}
		return ""
	})

	c := joinDC(t, "c", "dc", "sendrecv")
	expectFlow(t, b, c, "VP8") // b's re-offer went over its signaling channel
	expectFlow(t, c, a, "VP8")

	if err := shared.sfu.PushConnection("dc", b.id, json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "push over the push channel", 10*time.Second, func() string {
		for _, p := range b.state().Pushes {
			if p["transport"] == "datachannel" {
				return ""
			}
		}
		return fmt.Sprintf("%v", b.state().Pushes)
	})

	if err := shared.sfu.DisconnectConnection("dc", a.id, "DISCONNECTED-API"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a disconnected by the API", 10*time.Second, func() string {
		d := a.state().Disconnect
		if d == nil || d.Code == nil || *d.Code != 1000 || d.Reason != "DISCONNECTED-API" {
			return fmt.Sprintf("%+v", d)
		}
		return ""
	})
	expectRemoved(t, b, a)

	c.disconnect()
	waitFor(t, "c gone from the SFU", 10*time.Second, func() string {
		if n := len(shared.sfu.ChannelConnections("dc")); n != 1 {
			return fmt.Sprintf("%d connections", n)
		}
		return ""
	})
	if d := c.state().Disconnect; d == nil {
		t.Fatal("c saw no disconnect event")
	}
}
