package sfu

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

func TestValidDataChannel(t *testing.T) {
	u := uint16(1)
	for _, tc := range []struct {
		name string
		dc   DataChannel
		ok   bool
	}{
		{"sendrecv", DataChannel{Label: "#chat", Direction: "sendrecv"}, true},
		{"recvonly", DataChannel{Label: "#x", Direction: "recvonly"}, true},
		{"no hash", DataChannel{Label: "chat", Direction: "sendrecv"}, false},
		{"system label", DataChannel{Label: "signaling", Direction: "sendrecv"}, false},
		{"long label", DataChannel{Label: "#" + strings.Repeat("x", 255), Direction: "sendrecv"}, false},
		{"bad direction", DataChannel{Label: "#chat", Direction: "both"}, false},
		{"both limits", DataChannel{Label: "#chat", Direction: "sendrecv", MaxRetransmits: &u, MaxPacketLifeTime: &u}, false},
	} {
		if err := ValidDataChannel(tc.dc); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// dcClient is a pion client of a messaging connection.
type dcClient struct {
	conn *Connection
	pc   *webrtc.PeerConnection
	got  chan string
	open chan *webrtc.DataChannel
}

func joinMessaging(t *testing.T, s *SFU, dc DataChannel) *dcClient {
	t.Helper()
	c := &dcClient{pc: newClientPC(t), got: make(chan string, 8), open: make(chan *webrtc.DataChannel, 1)}
	var err error
	c.conn, err = s.Join(JoinRequest{ChannelID: "m", ConnectionID: NewID(), Role: SendOnly, Peer: newFakePeer(),
		DataChannels: []DataChannel{dc}})
	if err != nil {
		t.Fatal(err)
	}
	c.pc.OnDataChannel(func(d *webrtc.DataChannel) {
		d.OnOpen(func() { c.open <- d })
		d.OnMessage(func(m webrtc.DataChannelMessage) { c.got <- d.Label() + ":" + string(m.Data) })
	})
	connect(t, c.conn, c.pc, nil)
	return c
}

func (c *dcClient) channel(t *testing.T) *webrtc.DataChannel {
	t.Helper()
	select {
	case d := <-c.open:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("data channel never opened")
	}
	return nil
}

// expectOnly checks that c receives exactly want (nothing if empty).
func (c *dcClient) expectOnly(t *testing.T, name string, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case m := <-c.got:
			if m != w {
				t.Fatalf("%s got %q, want %q", name, m, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s got nothing, want %q", name, w)
		}
	}
	select {
	case m := <-c.got:
		t.Fatalf("%s got unexpected %q", name, m)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestMessagingRelay relays within a channel by the clients' directions:
// a sendrecv client with the header gets the sender's connection_id
// first, a recvonly client only receives, a sendonly one only sends.
func TestMessagingRelay(t *testing.T) {
	s := newTestSFU(t, nil)
	defer s.Close()
	a := joinMessaging(t, s, DataChannel{Label: "#chat", Direction: "sendrecv", SenderHeader: true})
	b := joinMessaging(t, s, DataChannel{Label: "#chat", Direction: "recvonly"})
	c := joinMessaging(t, s, DataChannel{Label: "#chat", Direction: "sendonly"})
	da, db, dc := a.channel(t), b.channel(t), c.channel(t)

	for _, send := range []struct {
		d    *webrtc.DataChannel
		text string
	}{{db, "from-b"}, {dc, "from-c"}, {da, "from-a"}} {
		if err := send.d.SendText(send.text); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // keep the order across channels
	}
	a.expectOnly(t, "a", "#chat:"+c.conn.ID()+"from-c")
	b.expectOnly(t, "b", "#chat:from-c", "#chat:from-a")
	c.expectOnly(t, "c")
	for _, x := range []*dcClient{a, b, c} {
		_ = x.pc.Close()
	}
}
