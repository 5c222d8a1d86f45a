package signaling

import (
	"encoding/json"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// DataChannel signaling: with data_channel_signaling the connection gets
// the system DataChannels (sfu.SystemLabels). Once they are open the
// server sends "switched" on the WebSocket; from then on re-offers, notify
// and push go over the "signaling", "notify" and "push" channels and the
// client sends re-answer, candidate and disconnect on "signaling". With
// ignore_disconnect_websocket the client closes its WebSocket and the
// connection lives on until it disconnects, its PeerConnection fails or
// the server closes it with a "close" message.

var _ sfu.SystemPeer = (*session)(nil)

// SystemChannelsOpen implements sfu.SystemPeer: it switches signaling to
// the DataChannels.
func (s *session) SystemChannelsOpen() {
	s.send(switchedMessage{Type: "switched", IgnoreWS: s.ignoreWS})
	s.switched.Store(true)
}

// SystemMessage implements sfu.SystemPeer: it handles what the client
// sends on the "signaling" channel; other channels are ignored.
func (s *session) SystemMessage(label string, data []byte) {
	if s.closing.Load() {
		return
	}
	if label == "rpc" {
		s.onRPC(data)
		return
	}
	if label != "signaling" {
		return
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		s.log.Debug("bad DataChannel signaling message", "err", err)
		return
	}
	switch env.Type {
	case "re-answer":
		if rej := s.onReAnswer(data); rej != nil {
			s.closeWith(rej.code, rej.reason)
		}
	case "candidate":
		s.onCandidate(data)
	case "disconnect":
		s.closeWith(websocket.CloseNormalClosure, "TYPE-DISCONNECT")
	}
}

// deliver sends v on the system channel label once switched, else on
// the WebSocket.
func (s *session) deliver(label string, v any) {
	if !s.switched.Load() {
		s.send(v)
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode message", "err", err)
		return
	}
	if err := s.conn.SendSystem(label, data); err != nil {
		s.log.Debug("send on data channel", "label", label, "err", err)
	}
}

// dcCloseGrace is how long a connection that was sent a "close" message
// over its signaling DataChannel is kept before the PeerConnection closes.
const dcCloseGrace = time.Second

// closeDataChannelSignaling tells a switched client why it is closed and
// ends the wait in awaitDataChannels. The PeerConnection (and with it the
// DataChannels) closes in teardown.
func (s *session) closeDataChannelSignaling(code int, reason string) {
	if s.switched.Load() && reason != "TYPE-DISCONNECT" {
		s.deliver("signaling", closeMessage{Type: "close", Code: code, Reason: reason})
		s.closeSent.Store(true)
	}
	s.dcOnce.Do(func() { close(s.dcDone) })
}

// awaitDataChannels keeps a switched connection with
// ignore_disconnect_websocket alive after its WebSocket closed, until
// closeWith ends it.
func (s *session) awaitDataChannels() {
	if !s.ignoreWS || !s.switched.Load() {
		return
	}
	<-s.dcDone
	if !s.closeSent.Load() {
		return
	}
	// Give the client dcCloseGrace to read the close message before its
	// DataChannels go away with the PeerConnection: torn down at once, a
	// busy browser may report the channel's error (sora-js-sdk's
	// DATA-CHANNEL-ONERROR) instead of the reason it was sent.
	t := time.NewTimer(dcCloseGrace)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.srv.ctx.Done():
	}
}
