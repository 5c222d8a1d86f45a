package sfu

import (
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"
)

// onTrack starts reading a track the client publishes and forwards it to
// every viewer of the channel.
func (c *Connection) onTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	t, err := newPublishedTrack(c, remote, receiver)
	if err != nil {
		c.log.Warn("publish track", "err", err)
		return
	}
	first := true
	if rid := remote.RID(); rid != "" {
		// A simulcast layer: viewers get the source once, its first layer
		// starts it.
		layer, err := ParseRID(rid)
		if err != nil || c.simulcast == nil || remote.Kind() != webrtc.RTPCodecTypeVideo {
			c.log.Warn("publish track: unexpected rid", "rid", rid, "kind", remote.Kind().String())
			return
		}
		t.source, t.layer = c.simulcast, layer
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.tracks[t.info.TrackID] = t
	if t.source != nil {
		first = t.source.addLayer(t)
	}
	c.tapSpotlight(t)
	c.wg.Add(4)
	c.mu.Unlock()
	go func() { defer c.wg.Done(); t.readRTP() }()
	go func() { defer c.wg.Done(); t.writeSecond() }()
	go func() { defer c.wg.Done(); t.forwardQueued() }()
	go func() { defer c.wg.Done(); t.readRTCP() }()
	c.takeDirect(t)
	c.log.Info("track published", "track", t.info.TrackID, "mime", t.info.MimeType)
	if first {
		for _, v := range c.sfu.trackPublished(c, t) {
			v.addForward(t)
		}
	}
	for _, f := range c.sfu.followers(c.info.ChannelID) {
		f.refollow()
	}
	t.requestKeyframe()
}

// addForward binds a published track to this viewer and renegotiates. A
// slot freed by a departed publisher is reused before a new m-line is
// added, as Sora does; the client's own upstream slots never are.
func (c *Connection) addForward(t *publishedTrack) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.source != nil {
		c.addLayered(t)
		return
	}
	if c.closed || t.ended.Load() || c.forwards[t] != nil || !c.decodes(t.info) {
		return
	}
	local := t.halfFor()
	tr, err := c.bindSlot(local, t.info)
	if err != nil {
		// Typically a codec this viewer's engine does not have.
		c.log.Warn("forward track", "track", t.info.TrackID, "from", t.info.ConnectionID, "err", err)
		return
	}
	c.forwards[t] = tr
	t.bound(local, 1)
	sender := tr.Sender()
	ssrc := senderSSRC(sender)
	if t.history != nil {
		c.nack.link(ssrc, t.history)
	}
	t.reports.addViewer(c, ssrc)
	c.wg.Add(1)
	go func() { defer c.wg.Done(); c.readViewerRTCP(sender, t.requestKeyframe) }()
	c.dirty = true
	c.wake()
}

// senderSSRC is the media SSRC a sender was given when it was created.
func senderSSRC(s *webrtc.RTPSender) uint32 {
	if enc := s.GetParameters().Encodings; len(enc) > 0 {
		return uint32(enc[0].SSRC)
	}
	return 0
}

// bindSlot puts local, a track of the publisher's info, on a free
// transceiver of its kind or on a new one, offering the publisher's codec
// there.
func (c *Connection) bindSlot(local webrtc.TrackLocal, info TrackInfo) (*webrtc.RTPTransceiver, error) {
	for i, tr := range c.free {
		if tr.Kind() != local.Kind() {
			continue
		}
		if err := c.offerCodec(tr, info); err != nil {
			return nil, err
		}
		sender, err := c.api.NewRTPSender(local, c.pc.SCTP().Transport())
		if err != nil {
			return nil, err
		}
		if err := tr.SetSender(sender, local); err != nil {
			return nil, errors.Join(err, sender.Stop())
		}
		c.free = append(c.free[:i], c.free[i+1:]...)
		return tr, nil
	}
	tr, err := c.pc.AddTransceiverFromTrack(local,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return nil, err
	}
	if err := c.offerCodec(tr, info); err != nil {
		// The transceiver stays, unbound, as a free slot.
		if rmErr := c.pc.RemoveTrack(tr.Sender()); rmErr != nil {
			return nil, errors.Join(err, rmErr)
		}
		c.free = append(c.free, tr)
		return nil, err
	}
	return tr, nil
}

// offerCodec makes a forwarding transceiver offer the codec of the
// publisher's track info (video only: audio is always Opus).
func (c *Connection) offerCodec(tr *webrtc.RTPTransceiver, info TrackInfo) error {
	if info.Kind != KindVideo {
		return nil
	}
	pref, ok := forwardPreference(webrtc.RTPCodecCapability{MimeType: info.MimeType, SDPFmtpLine: info.SDPFmtpLine})
	if !ok {
		return fmt.Errorf("codec %s is not forwarded", info.MimeType)
	}
	if c.noRTX {
		pref = pref[:1] // the client does no RTX: pion would refuse it now
	}
	if err := tr.SetCodecPreferences(pref); err != nil {
		return fmt.Errorf("offer %s: %w", info.MimeType, err)
	}
	return nil
}

// decodes reports whether the client can take a published track; a video
// track in a codec it cannot decode is refused, logged and counted. c.mu
// is held.
func (c *Connection) decodes(info TrackInfo) bool {
	if info.Kind != KindVideo || c.caps.accepts(info.MimeType, info.SDPFmtpLine) {
		return true
	}
	c.refused(info, "not in the client's capability sdp")
	return false
}

// refused logs and counts a stream the client cannot decode.
func (c *Connection) refused(info TrackInfo, why string) {
	c.sfu.counters.refused.Add(1)
	c.log.Info("stream not forwarded: codec refused", "track", info.TrackID, "from", info.ConnectionID,
		"mime", info.MimeType, "fmtp", info.SDPFmtpLine, "why", why)
}

// removeForward unbinds a track whose publisher left and renegotiates;
// the client gets the m-line rejected (port 0, rejection.go), so its
// track ends, and the slot is reused by the next track of its kind.
func (c *Connection) removeForward(t *publishedTrack) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.source != nil {
		c.removeLayered(t.source)
		return
	}
	tr := c.forwards[t]
	if tr == nil {
		return
	}
	delete(c.forwards, t)
	t.bound(tr.Sender().Track(), -1)
	c.nack.unlink(senderSSRC(tr.Sender()))
	t.reports.removeViewer(c)
	if c.closed {
		return
	}
	if err := c.pc.RemoveTrack(tr.Sender()); err != nil {
		c.log.Debug("remove forwarded track", "track", t.info.TrackID, "err", err)
		return
	}
	c.free = append(c.free, tr)
	c.dirty = true
	c.wake()
}

func (c *Connection) addSubscription(s *Subscription) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	next := append(append([]*Subscription(nil), c.subscriptions()...), s)
	c.subs.Store(&next)
	return true
}

func (c *Connection) removeSubscription(s *Subscription) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next []*Subscription
	for _, x := range c.subscriptions() {
		if x != s {
			next = append(next, x)
		}
	}
	c.subs.Store(&next)
}

// Close leaves the channel: viewers lose this connection's tracks, the
// PeerConnection closes, every goroutine of the connection has returned
// and every subscription got PublisherClosed. It is idempotent.
func (c *Connection) Close() error {
	var err error
	c.closeOnce.Do(func() { err = c.close() })
	return err
}

func (c *Connection) close() error {
	viewers := c.sfu.leave(c)
	c.mu.Lock()
	c.closed = true
	tracks := make([]*publishedTrack, 0, len(c.tracks))
	for _, t := range c.tracks {
		t.ended.Store(true)
		tracks = append(tracks, t)
	}
	for t, tr := range c.forwards {
		t.bound(tr.Sender().Track(), -1)
		t.reports.removeViewer(c)
	}
	clear(c.forwards)
	for src, f := range c.layered {
		src.removeViewer(f.track)
	}
	clear(c.layered)
	subs := c.subscriptions()
	c.mu.Unlock()
	for _, v := range viewers {
		for _, t := range tracks {
			v.removeForward(t)
		}
	}
	for _, f := range c.sfu.followers(c.info.ChannelID) {
		f.refollow()
	}
	c.stopFollowing()
	if c.path != nil {
		c.path.StopReceive() // no direct packet reaches a track from here on
	}
	err := c.pc.Close()
	c.cancel()
	c.wg.Wait()
	for _, s := range subs {
		_ = s.Close()
	}
	c.log.Info("connection closed")
	return err
}

// takeDirect hands t's stream (and its RTX stream once pion knows it) to
// the direct receive path, when the connection has one.
func (c *Connection) takeDirect(t *publishedTrack) {
	if c.path == nil || c.path.Receiver() == nil {
		return
	}
	var rtx func() uint32
	if t.info.Kind == KindVideo {
		remote := t.remote
		rtx = func() uint32 { return uint32(remote.RtxSSRC()) }
	}
	c.path.Receiver().Take(t.info.SSRC, t.info.PayloadType, rtx, t.handleDirect)
}
