package sfu

import "github.com/pion/webrtc/v4"

// layeredForward is a simulcast source forwarded to this viewer.
type layeredForward struct {
	track *layeredTrack
	tr    *webrtc.RTPTransceiver
}

// addLayered binds the simulcast source of the layer t to this viewer,
// at the layer the viewer asked for, and renegotiates; c.mu is held.
func (c *Connection) addLayered(t *publishedTrack) {
	src := t.source
	if c.closed || t.ended.Load() || c.layered[src] != nil || !c.decodes(t.info) {
		return
	}
	target := c.simulcastTarget
	if sp := c.spot.Load(); sp != nil {
		target = c.spotLayerFor(src.owner.info.ConnectionID, sp.isFocused(src.owner.info.ConnectionID))
	}
	vt := newLayeredTrack(src, c, max(target, 0))
	if target == layerOff {
		vt.sel.setLayer(layerOff)
	}
	tr, err := c.bindSlot(vt, t.info)
	if err != nil {
		c.log.Warn("forward simulcast track", "track", vt.info.TrackID, "from", vt.info.ConnectionID, "err", err)
		return
	}
	c.layered[src] = &layeredForward{track: vt, tr: tr}
	sender := tr.Sender()
	c.nack.link(senderSSRC(sender), vt)
	src.addViewer(vt)
	c.wg.Add(1)
	go func() { defer c.wg.Done(); c.readViewerRTCP(sender, vt.requestKeyframe) }()
	c.dirty = true
	c.wake()
}

// removeLayered unbinds a simulcast source whose publisher left and
// renegotiates, as removeForward does; c.mu is held.
func (c *Connection) removeLayered(src *simulcastSource) {
	f := c.layered[src]
	if f == nil {
		return
	}
	delete(c.layered, src)
	src.removeViewer(f.track)
	c.nack.unlink(senderSSRC(f.tr.Sender()))
	if c.closed {
		return
	}
	if err := c.pc.RemoveTrack(f.tr.Sender()); err != nil {
		c.log.Debug("remove forwarded simulcast track", "track", f.track.info.TrackID, "err", err)
		return
	}
	c.free = append(c.free, f.tr)
	c.dirty = true
	c.wake()
}

// requestLayer moves this viewer to layer for the simulcast sources of
// the publisher sender (every publisher when empty), and makes it the
// layer of sources forwarded later; it reports whether any source was
// moved or sender is empty.
func (c *Connection) requestLayer(sender string, layer int) bool {
	c.mu.Lock()
	if sender == "" {
		c.simulcastTarget = layer
	}
	var moved []*layeredTrack
	for src, f := range c.layered {
		if sender == "" || src.owner.info.ConnectionID == sender {
			moved = append(moved, f.track)
		}
	}
	c.mu.Unlock()
	for _, vt := range moved {
		vt.setTarget(layer)
	}
	return sender == "" || len(moved) > 0
}
