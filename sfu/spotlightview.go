package sfu

import "fmt"

// spotLayers are the layers a spotlight viewer gets of a focused and of
// an unfocused simulcast publisher (layerOff: none).
type spotLayers struct{ focus, unfocus int }

// of returns the layer for a publisher's focus.
func (l spotLayers) of(focused bool) int {
	if focused {
		return l.focus
	}
	return l.unfocus
}

// spotlightRIDs parses a join's spotlight rids; empty ones are the
// defaults (r2 focused, r0 unfocused).
func spotlightRIDs(req JoinRequest) (spotLayers, error) {
	l := spotLayers{focus: defaultFocusLayer, unfocus: defaultUnfocusLayer}
	var err error
	if req.SpotlightFocusRID != "" {
		if l.focus, err = parseSpotlightRID(req.SpotlightFocusRID); err != nil {
			return l, fmt.Errorf("spotlight_focus_rid: %w", err)
		}
	}
	if req.SpotlightUnfocusRID != "" {
		if l.unfocus, err = parseSpotlightRID(req.SpotlightUnfocusRID); err != nil {
			return l, fmt.Errorf("spotlight_unfocus_rid: %w", err)
		}
	}
	return l, nil
}

// joinSpotlight makes c a member of the channel's spotlight sp: a
// publisher may be focused. Called by admit under the SFU's lock.
func (c *Connection) joinSpotlight(sp *spotlight) {
	c.spot.Store(sp)
	c.info.Spotlight = true
	if c.info.Role.Sends() && (c.info.Audio || c.info.Video) {
		sp.add(c.info.ConnectionID, c.sfu.now())
	}
}

// spotLayerFor is the layer c gets of the publisher sender's video;
// c.mu is held.
func (c *Connection) spotLayerFor(sender string, focused bool) int {
	if l, ok := c.spotSenders[sender]; ok {
		return l.of(focused)
	}
	return c.spotRIDs.of(focused)
}

// spotlightRetarget moves c's view of the simulcast publisher pub to the
// layer of its focus.
func (c *Connection) spotlightRetarget(pub *Connection, focused bool) {
	c.mu.Lock()
	f := c.layered[pub.simulcast]
	layer := c.spotLayerFor(pub.info.ConnectionID, focused)
	c.mu.Unlock()
	if f != nil && pub.simulcast != nil {
		f.track.setTarget(layer)
	}
}

// spotlightRetargetAll moves every simulcast publisher c views to the
// layer of its focus, after c's rids changed.
func (c *Connection) spotlightRetargetAll(sp *spotlight) {
	c.mu.Lock()
	type move struct {
		vt    *layeredTrack
		layer int
	}
	moves := make([]move, 0, len(c.layered))
	for src, f := range c.layered {
		id := src.owner.info.ConnectionID
		moves = append(moves, move{f.track, c.spotLayerFor(id, sp.isFocused(id))})
	}
	c.mu.Unlock()
	for _, m := range moves {
		m.vt.setTarget(m.layer)
	}
}
