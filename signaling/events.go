package signaling

import (
	"github.com/kiroku-sfu/kiroku/sfu"
)

// established runs once a connection's first answer is applied: the joiner
// gets its own connection.created with the others' metadata, the others
// get the joiner's, and the event sink hears of it.
func (srv *Server) established(s *session) {
	self := s.conn.Info()
	members := srv.sfu.ChannelConnections(self.ChannelID)
	now := srv.now()
	own := newNotify("connection.created", self, members, now)
	own.Data = participantList(self, members)
	s.deliver("notify", own)
	srv.notifyOthers(newNotify("connection.created", self, members, now), self, members)
	srv.counters.established.Add(1)
	srv.events.HandleEvent(Event{Type: "connection.created", Time: now, Connection: self})
}

// departed tells the channel and the event sink that s left, if it was
// ever established.
func (srv *Server) departed(s *session, reason string) {
	self := s.conn.Info()
	members := srv.sfu.ChannelConnections(self.ChannelID)
	now := srv.now()
	if !s.answered.Load() {
		return // never established: nobody heard of it
	}
	srv.notifyOthers(newNotify("connection.destroyed", self, members, now), self, members)
	srv.events.HandleEvent(Event{Type: "connection.destroyed", Time: now, Connection: self, Reason: reason})
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
