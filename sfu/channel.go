package sfu

import (
	"fmt"
)

// admit registers c in its channel under the mode rules and returns the
// tracks already published there that c should receive, and whether the
// channel's session was created by this join.
func (s *SFU) admit(c *Connection) ([]*publishedTrack, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := c.info.ChannelID
	ch := s.channels[id]
	defer func() {
		if c.info.SessionID == "" {
			s.counters.connRejected.Add(1)
		}
	}()
	switch {
	case s.closed:
		return nil, false, ErrClosed
	case s.mode == ModeBlockNewConnection:
		return nil, false, ErrBlockedConnection
	case s.mode == ModeBlockNewSession && ch == nil:
		return nil, false, ErrBlockedSession
	case s.conns[c.info.ConnectionID] != nil:
		return nil, false, fmt.Errorf("join %s: %w", c.info.ConnectionID, ErrDuplicate)
	}
	created := ch == nil
	s.counters.connCreated.Add(1)
	if created {
		s.counters.sessCreated.Add(1)
		ch = &channel{conns: make(map[string]*Connection),
			session: SessionInfo{ChannelID: id, SessionID: NewID(), CreatedAt: s.now()}}
		if c.spotAsked {
			ch.spot = newSpotlight(c.spotNumber)
			ch.session.Spotlight, ch.session.SpotlightNumber = true, ch.spot.Number()
		}
		s.channels[id] = ch
	}
	c.info.SessionID = ch.session.SessionID
	if ch.spot != nil {
		c.joinSpotlight(ch.spot)
	}
	ch.conns[c.info.ConnectionID] = c
	ch.session.TotalConnections++
	ch.session.MaxConnections = max(ch.session.MaxConnections, len(ch.conns))
	s.conns[c.info.ConnectionID] = c
	var existing []*publishedTrack
	for _, other := range ch.conns {
		if forwards(other, c) {
			existing = append(existing, other.publishedTracks()...)
		}
	}
	return existing, created, nil
}

// forwards reports whether media published by from goes to to.
func forwards(from, to *Connection) bool {
	return from != to && to.info.Role.Receives() && from.info.BundleID != to.info.BundleID && to.follow == nil
}

// trackPublished returns the viewers a new track of c must reach.
func (s *SFU) trackPublished(c *Connection, _ *publishedTrack) []*Connection {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[c.info.ChannelID]
	if ch == nil || ch.conns[c.info.ConnectionID] != c {
		return nil
	}
	var viewers []*Connection
	for _, v := range ch.conns {
		if forwards(c, v) {
			viewers = append(viewers, v)
		}
	}
	return viewers
}

// leave removes c from its channel, destroys the session when c was the
// last member, and returns the viewers that received c's media.
func (s *SFU) leave(c *Connection) []*Connection {
	s.mu.Lock()
	ch := s.channels[c.info.ChannelID]
	if ch == nil || ch.conns[c.info.ConnectionID] != c {
		s.mu.Unlock()
		return nil
	}
	delete(ch.conns, c.info.ConnectionID)
	delete(s.conns, c.info.ConnectionID)
	if ch.spot != nil {
		ch.spot.remove(c.info.ConnectionID)
	}
	s.counters.connDestroyed.Add(1)
	var viewers []*Connection
	for _, v := range ch.conns {
		if forwards(c, v) {
			viewers = append(viewers, v)
		}
	}
	var destroyed *SessionInfo
	vanished := false
	if len(ch.conns) == 0 {
		delete(s.channels, c.info.ChannelID)
		s.counters.sessDestroyed.Add(1)
		ch.session.DestroyedAt = s.now()
		destroyed = &ch.session
		vanished = len(s.channels) == 0 && s.mode != ModeNormal
	}
	mode := s.mode
	s.mu.Unlock()
	if destroyed != nil {
		s.observer.SessionDestroyed(*destroyed)
	}
	if vanished {
		s.observer.SessionsVanished(mode)
	}
	return viewers
}

// sessionSnapshot returns the session c belongs to.
func (c *Connection) sessionSnapshot() SessionInfo {
	s := c.sfu
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.channels[c.info.ChannelID]; ch != nil {
		return ch.session
	}
	return SessionInfo{ChannelID: c.info.ChannelID, SessionID: c.info.SessionID}
}
