package sfu

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/pion/webrtc/v4"
)

// Mode returns the admission mode.
func (s *SFU) Mode() Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

// SetMode changes the admission mode; existing connections stay.
func (s *SFU) SetMode(m Mode) error {
	if !m.Valid() {
		return fmt.Errorf("set mode %q: invalid mode", m)
	}
	s.mu.Lock()
	s.mode = m
	s.mu.Unlock()
	return nil
}

// Connection returns a live connection by connection_id.
func (s *SFU) Connection(connectionID string) (*Connection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.conns[connectionID]; c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("connection %q: %w", connectionID, ErrNotFound)
}

// Connections lists every connection, ordered by creation time.
func (s *SFU) Connections() []ConnectionInfo {
	s.mu.Lock()
	out := make([]ConnectionInfo, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, c.info)
	}
	s.mu.Unlock()
	sortConnections(out)
	return out
}

// ChannelConnections lists a channel's connections, ordered by creation
// time; an unknown channel has none.
func (s *SFU) ChannelConnections(channelID string) []ConnectionInfo {
	var out []ConnectionInfo
	for _, c := range s.channelMembers(channelID) {
		out = append(out, c.info)
	}
	sortConnections(out)
	return out
}

// Sessions lists every live session with its connections.
func (s *SFU) Sessions() []SessionInfo {
	s.mu.Lock()
	out := make([]SessionInfo, 0, len(s.channels))
	for _, ch := range s.channels {
		out = append(out, ch.session)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// Session returns a channel's live session.
func (s *SFU) Session(channelID string) (SessionInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.channels[channelID]; ch != nil {
		return ch.session, nil
	}
	return SessionInfo{}, fmt.Errorf("session of channel %q: %w", channelID, ErrNotFound)
}

// SetSessionMetadata stores metadata (opaque JSON) with the channel's
// live session if its session_id is sessionID; it is then part of every
// SessionInfo of the session, including the one given to
// Observer.SessionDestroyed.
func (s *SFU) SetSessionMetadata(channelID, sessionID string, metadata json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	if ch == nil || ch.session.SessionID != sessionID {
		return fmt.Errorf("session %q of channel %q: %w", sessionID, channelID, ErrNotFound)
	}
	ch.session.Metadata = append(json.RawMessage(nil), metadata...)
	return nil
}

// Traffic is a connection's transport totals, for Sora's event webhooks.
type Traffic struct {
	ReceivedBytes, SentBytes uint64
}

// Traffic returns the bytes the connection's transport has received and
// sent (RTP, RTCP, DataChannels), as the PeerConnection counts them; zero
// once the connection is closing. It gathers the PeerConnection's stats:
// call it now and then, not per packet. It holds the connection's lock,
// so that Close cannot close the PeerConnection meanwhile (pion's
// GetStats must not run alongside its Close).
func (c *Connection) Traffic() Traffic {
	var t Traffic
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return t
	}
	for _, st := range c.pc.GetStats() {
		if ts, ok := st.(webrtc.TransportStats); ok {
			t.ReceivedBytes += ts.BytesReceived
			t.SentBytes += ts.BytesSent
		}
	}
	return t
}

// DisconnectConnection ends one connection with reason (Sora uses
// "DISCONNECTED-API").
func (s *SFU) DisconnectConnection(channelID, connectionID, reason string) error {
	return s.disconnect(channelID, reason, func(c *Connection) bool { return c.info.ConnectionID == connectionID })
}

// DisconnectClient ends every connection of a channel with client_id.
func (s *SFU) DisconnectClient(channelID, clientID, reason string) error {
	return s.disconnect(channelID, reason, func(c *Connection) bool { return c.info.ClientID == clientID })
}

// DisconnectChannel ends every connection of a channel.
func (s *SFU) DisconnectChannel(channelID, reason string) error {
	return s.disconnect(channelID, reason, func(*Connection) bool { return true })
}

// TerminateSession ends every connection of the channel's session if its
// session_id matches.
func (s *SFU) TerminateSession(channelID, sessionID, reason string) error {
	if cur, err := s.Session(channelID); err != nil || cur.SessionID != sessionID {
		return fmt.Errorf("terminate session %q: %w", sessionID, ErrNotFound)
	}
	return s.DisconnectChannel(channelID, reason)
}

func (s *SFU) disconnect(channelID, reason string, match func(*Connection) bool) error {
	n := 0
	for _, c := range s.channelMembers(channelID) {
		if match(c) {
			c.peer.Disconnect(reason)
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("disconnect in channel %q: %w", channelID, ErrNotFound)
	}
	return nil
}

// PushChannel sends a push message to every connection of a channel.
func (s *SFU) PushChannel(channelID string, data json.RawMessage) error {
	members := s.channelMembers(channelID)
	if len(members) == 0 {
		return fmt.Errorf("push to channel %q: %w", channelID, ErrNotFound)
	}
	for _, c := range members {
		c.push(data)
	}
	return nil
}

// PushConnection sends a push message to one connection.
func (s *SFU) PushConnection(channelID, connectionID string, data json.RawMessage) error {
	c, err := s.member(channelID, connectionID)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	c.push(data)
	return nil
}

// RequestKeyFrame asks a publisher for a keyframe on each of its video
// tracks (subject to the PLI interval).
func (s *SFU) RequestKeyFrame(channelID, connectionID string) error {
	c, err := s.member(channelID, connectionID)
	if err != nil {
		return fmt.Errorf("request keyframe: %w", err)
	}
	c.requestKeyFrames()
	return nil
}

// RequestSimulcastRID moves the receiver receiverID to the simulcast
// layer rid ("r0", "r1", "r2") of the publisher senderID's video, or of
// every simulcast publisher's (and those to come) when senderID is
// empty. The move happens at the layer's next keyframe, asked for now.
// Errors: ErrInvalid for another rid, ErrNotFound for an unknown
// receiver or a sender it does not receive simulcast from.
func (s *SFU) RequestSimulcastRID(channelID, receiverID, senderID, rid string) error {
	layer, err := ParseRID(rid)
	if err != nil {
		return fmt.Errorf("request simulcast rid: %w", err)
	}
	c, err := s.member(channelID, receiverID)
	if err != nil {
		return fmt.Errorf("request simulcast rid: %w", err)
	}
	if !c.requestLayer(senderID, layer) {
		return fmt.Errorf("request simulcast rid: %s receives no simulcast video from %q: %w", receiverID, senderID, ErrNotFound)
	}
	return nil
}

// Subscribe attaches sink to a publisher connection: it receives every
// track's RTP and sender reports from now on, through a bounded queue
// (Config.SinkQueue) that drops rather than stall forwarding; a
// QueueingSink, which queues on its own, is called directly.
func (s *SFU) Subscribe(connectionID string, sink Sink) (*Subscription, error) {
	c, err := s.Connection(connectionID)
	if err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	sub := newSubscription(c, sink, s.cfg.SinkQueue)
	if !c.addSubscription(sub) {
		_ = sub.Close()
		return nil, fmt.Errorf("subscribe %q: %w", connectionID, ErrNotFound)
	}
	return sub, nil
}

// Close stops admitting connections and closes every connection, waiting
// for their goroutines. The signaling layer should disconnect its clients
// first so that they see a reason.
func (s *SFU) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*Connection, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var errs []error
	for _, c := range conns {
		errs = append(errs, c.Close())
	}
	s.closeOnce.Do(func() {
		if s.udpMux != nil {
			errs = append(errs, s.udpMux.Close())
		}
	})
	return errors.Join(errs...)
}

func (s *SFU) channelMembers(channelID string) []*Connection {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	if ch == nil {
		return nil
	}
	out := make([]*Connection, 0, len(ch.conns))
	for _, c := range ch.conns {
		out = append(out, c)
	}
	return out
}

func (s *SFU) member(channelID, connectionID string) (*Connection, error) {
	for _, c := range s.channelMembers(channelID) {
		if c.info.ConnectionID == connectionID {
			return c, nil
		}
	}
	return nil, fmt.Errorf("connection %q in channel %q: %w", connectionID, channelID, ErrNotFound)
}

func sortConnections(cs []ConnectionInfo) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].CreatedAt.Before(cs[j].CreatedAt) })
}
