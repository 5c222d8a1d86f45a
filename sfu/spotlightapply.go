package sfu

import (
	"fmt"
	"time"
)

// SpotlightPeer is implemented by a Peer whose client is told of focus
// changes in its spotlight channel (Sora's spotlight.focused,
// spotlight.unfocused and spotlight.changed notifies). Called outside the
// SFU's locks; must not block.
type SpotlightPeer interface {
	Peer
	SpotlightChanged(ch SpotlightChange)
}

// SpotlightChange is one publisher of a spotlight channel focused or
// unfocused.
type SpotlightChange struct {
	ConnectionID, ClientID string
	Audio, Video           bool // what the publisher sends
	Focused                bool
	Fixed                  bool // focused by FocusSpotlightFixed
}

// spotlightTick decides the focus of c's spotlight channel when due (at
// most every focusEval), from an audio packet's read loop.
func (c *Connection) spotlightTick(sp *spotlight, now time.Time) {
	if sp.due(now) {
		c.sfu.applySpotlight(c.info.ChannelID, sp.decide(now))
	}
}

// applySpotlight carries focus changes out: each viewer's layer of a
// simulcast publisher follows its focus, other publishers' video pauses
// while unfocused, and every connection of the channel is told,
// unfocused before focused.
func (s *SFU) applySpotlight(channelID string, changes []focusChange) {
	if len(changes) == 0 {
		return
	}
	members := s.channelMembers(channelID)
	byID := make(map[string]*Connection, len(members))
	for _, m := range members {
		byID[m.info.ConnectionID] = m
	}
	var notes []SpotlightChange
	for _, ch := range ordered(changes) {
		pub := byID[ch.id]
		if pub == nil {
			continue
		}
		if ch.focused {
			s.counters.spotFocused.Add(1)
		} else {
			s.counters.spotUnfocused.Add(1)
		}
		for _, v := range members {
			if v != pub {
				v.spotlightRetarget(pub, ch.focused)
			}
		}
		pub.gateVideo(!ch.focused)
		notes = append(notes, SpotlightChange{ConnectionID: pub.info.ConnectionID, ClientID: pub.info.ClientID,
			Audio: pub.info.Audio, Video: pub.info.Video, Focused: ch.focused, Fixed: ch.fixed})
	}
	for _, m := range members {
		if p, ok := m.peer.(SpotlightPeer); ok {
			for _, n := range notes {
				p.SpotlightChanged(n)
			}
		}
	}
}

// ordered puts unfocusing changes first; a publisher unfocused and
// focused again in one decision keeps its last change only.
func ordered(changes []focusChange) []focusChange {
	last := make(map[string]int, len(changes))
	for i, ch := range changes {
		last[ch.id] = i
	}
	var un, foc []focusChange
	for i, ch := range changes {
		switch {
		case last[ch.id] != i:
		case ch.focused:
			foc = append(foc, ch)
		default:
			un = append(un, ch)
		}
	}
	return append(un, foc...)
}

// spotlightOf returns the spotlight of a channel, ErrNotFound when the
// channel has no session, ErrInvalid when it is not a spotlight channel.
func (s *SFU) spotlightOf(channelID string) (*spotlight, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	switch {
	case ch == nil:
		return nil, fmt.Errorf("channel %q: %w", channelID, ErrNotFound)
	case ch.spot == nil:
		return nil, fmt.Errorf("channel %q is not a spotlight channel: %w", channelID, ErrInvalid)
	}
	return ch.spot, nil
}

// FocusSpotlight focuses the publisher connectionID of a spotlight
// channel now, taking the slot of the least active focused publisher if
// all are taken; with fixed it stays focused until UnfocusSpotlight,
// whatever anyone says. Errors: ErrNotFound (no such channel or
// publisher), ErrInvalid (not a spotlight channel).
func (s *SFU) FocusSpotlight(channelID, connectionID string, fixed bool) error {
	sp, err := s.spotlightOf(channelID)
	if err != nil {
		return fmt.Errorf("focus spotlight: %w", err)
	}
	changes, err := sp.focus(connectionID, fixed, s.now())
	if err != nil {
		return fmt.Errorf("focus spotlight: %w", err)
	}
	s.applySpotlight(channelID, changes)
	return nil
}

// UnfocusSpotlight removes the focus (fixed or not) of the publisher
// connectionID; its slot goes to the next speaker. Errors as
// FocusSpotlight.
func (s *SFU) UnfocusSpotlight(channelID, connectionID string) error {
	sp, err := s.spotlightOf(channelID)
	if err != nil {
		return fmt.Errorf("unfocus spotlight: %w", err)
	}
	changes, err := sp.unfocus(connectionID, s.now())
	if err != nil {
		return fmt.Errorf("unfocus spotlight: %w", err)
	}
	s.applySpotlight(channelID, changes)
	return nil
}

// ChangeSpotlightNumber sets how many publishers a spotlight channel
// focuses (1 to MaxSpotlightNumber), applied at once.
func (s *SFU) ChangeSpotlightNumber(channelID string, number int) error {
	sp, err := s.spotlightOf(channelID)
	if err == nil {
		err = sp.setNumber(number)
	}
	if err != nil {
		return fmt.Errorf("change spotlight number: %w", err)
	}
	s.mu.Lock()
	if ch := s.channels[channelID]; ch != nil && ch.spot == sp {
		ch.session.SpotlightNumber = number
	}
	s.mu.Unlock()
	s.applySpotlight(channelID, sp.decide(s.now()))
	return nil
}

// RequestSpotlightRID sets the layers the receiver receiverID gets of
// focused and unfocused simulcast publishers ("none", "r0", "r1", "r2";
// empty keeps the current one): of the publisher senderID only, or of
// every publisher when senderID is empty. Errors: ErrInvalid (bad rid,
// none given, not a spotlight channel), ErrNotFound (no such receiver
// or publisher).
func (s *SFU) RequestSpotlightRID(channelID, receiverID, senderID, focusRID, unfocusRID string) error {
	if focusRID == "" && unfocusRID == "" {
		return fmt.Errorf("request spotlight rid: neither rid given: %w", ErrInvalid)
	}
	sp, c, err := s.spotlightViewer(channelID, receiverID)
	if err != nil {
		return fmt.Errorf("request spotlight rid: %w", err)
	}
	if senderID != "" && sp.member(senderID) == nil {
		return fmt.Errorf("request spotlight rid: publisher %q: %w", senderID, ErrNotFound)
	}
	if err := c.setSpotlightRIDs(senderID, focusRID, unfocusRID); err != nil {
		return fmt.Errorf("request spotlight rid: %w", err)
	}
	c.spotlightRetargetAll(sp)
	return nil
}

// ResetSpotlightRID gives the receiver receiverID the layers it asked
// for at connect again, for every publisher.
func (s *SFU) ResetSpotlightRID(channelID, receiverID string) error {
	sp, c, err := s.spotlightViewer(channelID, receiverID)
	if err != nil {
		return fmt.Errorf("reset spotlight rid: %w", err)
	}
	c.mu.Lock()
	c.spotRIDs, c.spotSenders = c.spotConnect, nil
	c.mu.Unlock()
	c.spotlightRetargetAll(sp)
	return nil
}

func (s *SFU) spotlightViewer(channelID, receiverID string) (*spotlight, *Connection, error) {
	sp, err := s.spotlightOf(channelID)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.member(channelID, receiverID)
	if err != nil {
		return nil, nil, err
	}
	return sp, c, nil
}

// setSpotlightRIDs stores new focus and unfocus layers for sender (all
// when empty); an empty rid keeps the layer in force.
func (c *Connection) setSpotlightRIDs(sender, focusRID, unfocusRID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.spotRIDs
	if old, ok := c.spotSenders[sender]; ok && sender != "" {
		l = old
	}
	var err error
	if focusRID != "" {
		if l.focus, err = parseSpotlightRID(focusRID); err != nil {
			return fmt.Errorf("spotlight_focus_rid: %w", err)
		}
	}
	if unfocusRID != "" {
		if l.unfocus, err = parseSpotlightRID(unfocusRID); err != nil {
			return fmt.Errorf("spotlight_unfocus_rid: %w", err)
		}
	}
	if sender == "" {
		c.spotRIDs = l
		return nil
	}
	if c.spotSenders == nil {
		c.spotSenders = make(map[string]spotLayers)
	}
	c.spotSenders[sender] = l
	return nil
}

// SpotlightFocused lists the focused publishers of a spotlight channel.
func (s *SFU) SpotlightFocused(channelID string) ([]string, error) {
	sp, err := s.spotlightOf(channelID)
	if err != nil {
		return nil, err
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	var out []string
	for id, m := range sp.members {
		if m.focused {
			out = append(out, id)
		}
	}
	return out, nil
}
