package signaling

import (
	"github.com/kiroku-sfu/kiroku/sfu"
)

// established runs once a connection's first answer is applied: the joiner
// gets its own connection.created with the others' metadata, the others
// get the joiner's, and the event sink hears of it.
func (srv *Server) established(s *session) {
	srv.created(s.conn.Info(), func(own notifyMessage) { s.deliver("notify", own) })
}

// created announces a connection: own, when not nil, gets the joiner's
// own notify (with the others' metadata), the others get the joiner's,
// and the event sink hears of it.
func (srv *Server) created(self sfu.ConnectionInfo, own func(notifyMessage)) {
	members := srv.sfu.ChannelConnections(self.ChannelID)
	now := srv.now()
	if own != nil {
		n := newNotify("connection.created", self, members, now)
		n.Data = participantList(self, members)
		own(n)
	}
	srv.notifyOthers(newNotify("connection.created", self, members, now), self, members)
	srv.counters.established.Add(1)
	srv.track(self)
	srv.events.HandleEvent(Event{Type: "connection.created", Time: now, Connection: self,
		Channel: countChannel(members)})
}

// updated tells the event sink an established connection is still there
// (connection.updated).
func (srv *Server) updated(self sfu.ConnectionInfo, traffic sfu.Traffic) {
	srv.events.HandleEvent(Event{Type: "connection.updated", Time: srv.now(), Connection: self,
		Channel: countChannel(srv.sfu.ChannelConnections(self.ChannelID)), Traffic: traffic})
}

// failed tells the event sink a connection joined the SFU but was never
// established (connection.failed); message is why.
func (srv *Server) failed(self sfu.ConnectionInfo, message string) {
	srv.events.HandleEvent(Event{Type: "connection.failed", Time: srv.now(), Connection: self, Reason: message,
		Channel: countChannel(srv.sfu.ChannelConnections(self.ChannelID))})
}

// departed tells the channel and the event sink that s left, if it was
// ever established.
func (srv *Server) departed(s *session, reason string) {
	if !s.answered.Load() {
		srv.failed(s.conn.Info(), reason) // never established: only the event sink hears of it
		return
	}
	apiReason, _ := s.apiReason.Load().(string)
	srv.destroyed(s.conn.Info(), reason, apiReason)
}

// destroyed tells the channel and the event sink that an established
// connection left.
func (srv *Server) destroyed(self sfu.ConnectionInfo, reason, apiReason string) {
	members := srv.sfu.ChannelConnections(self.ChannelID)
	now := srv.now()
	traffic := srv.untrack(self, now)
	srv.notifyOthers(newNotify("connection.destroyed", self, members, now), self, members)
	srv.events.HandleEvent(Event{Type: "connection.destroyed", Time: now, Connection: self, Reason: reason,
		APIReason: apiReason, Channel: countChannel(members), Traffic: traffic})
}

// NoteDisconnectReason keeps the reason a disconnect API call gave for a
// connection of the channel, for its connection.destroyed event; call it
// before disconnecting.
func (srv *Server) NoteDisconnectReason(channelID, connectionID, reason string) {
	if s := srv.lookup(connectionID); s != nil && s.conn.Info().ChannelID == channelID {
		s.apiReason.Store(reason)
	}
	if r := srv.resourceOf(connectionID); r != nil && r.conn.Info().ChannelID == channelID {
		r.apiReason.Store(reason)
	}
}

// notifyOthers sends n to every member except the subject and those
// sharing its bundle_id.
func (srv *Server) notifyOthers(n notifyMessage, subject sfu.ConnectionInfo, members []sfu.ConnectionInfo) {
	for _, m := range members {
		if m.ConnectionID == subject.ConnectionID || m.BundleID == subject.BundleID {
			continue
		}
		if other := srv.lookup(m.ConnectionID); other != nil && other.answered.Load() {
			other.deliver("notify", n)
		}
	}
}

var _ sfu.SimulcastPeer = (*session)(nil)

// SimulcastSwitched implements sfu.SimulcastPeer: the client gets a
// simulcast.switched notify. Sora's rpc_rids and auto_rids (which rids
// its RPC and its automatic choice asked for) are null: kiroku moves a
// viewer only on request or when a layer stops.
func (s *session) SimulcastSwitched(sw sfu.SimulcastSwitch) {
	if !s.answered.Load() {
		return
	}
	priority, trigger := "lower", "sender"
	if sw.CurrentRID > sw.PreviousRID {
		priority = "higher"
	}
	if sw.ByReceiver {
		trigger = "receiver"
	}
	s.deliver("notify", map[string]any{"type": "notify", "event_type": "simulcast.switched",
		"timestamp": s.srv.now().UTC().Format("2006-01-02T15:04:05.000000Z"), "sender_connection_id": sw.SenderConnectionID,
		"priority": priority, "trigger": trigger, "rpc_rids": nil, "auto_rids": nil,
		"request_rid": sw.RequestRID, "current_rid": sw.CurrentRID, "previous_rid": sw.PreviousRID})
}

// NotifyChannel sends a notify with eventType and the fields of data to
// every established connection of a channel, e.g. recording.started. It
// queues and never waits on a client.
func (srv *Server) NotifyChannel(channelID, eventType string, data map[string]any) {
	msg := make(map[string]any, len(data)+3)
	for k, v := range data {
		msg[k] = v
	}
	msg["type"], msg["event_type"] = "notify", eventType
	msg["timestamp"] = srv.now().UTC().Format("2006-01-02T15:04:05.000000Z")
	for _, m := range srv.sfu.ChannelConnections(channelID) {
		if s := srv.lookup(m.ConnectionID); s != nil && s.answered.Load() {
			s.deliver("notify", msg)
		}
	}
}
