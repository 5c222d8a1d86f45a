package sfu

import (
	"fmt"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
)

// Following: a connection that plays one publisher of its channel (WHEP
// playback) instead of receiving every one. It has one audio and one
// video track for the whole connection, fed by the publisher it follows:
// the one it asked for while that one is there, otherwise the channel's
// most recent publisher. When that publisher leaves, the next one is
// followed on the same tracks, without renegotiation (followtrack.go).

// follower is a following connection's state; its fields are fixed after
// Join.
type follower struct {
	want  string // the publisher asked for; empty: the most recent
	audio *followTrack
	video *followTrack
	// playing is the publisher followed now; nil before the first.
	playing atomic.Pointer[Connection]
}

// addFollowTracks adds the following connection's two send-only
// transceivers, matched by kind to the client's offer.
func (c *Connection) addFollowTracks(want string) error {
	f := &follower{want: want, audio: newFollowTrack(c, webrtc.RTPCodecTypeAudio),
		video: newFollowTrack(c, webrtc.RTPCodecTypeVideo)}
	for _, ft := range []*followTrack{f.audio, f.video} {
		if _, err := c.pc.AddTransceiverFromTrack(ft,
			webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			return fmt.Errorf("add %s follow transceiver: %w", ft.kind, err)
		}
	}
	c.follow = f
	return nil
}

// startFollowing links the video sender to the viewer's NACKs and PLIs,
// once the answer bound the senders.
func (c *Connection) startFollowing() {
	for _, tr := range c.pc.GetTransceivers() {
		sender := tr.Sender()
		if sender == nil || sender.Track() != webrtc.TrackLocal(c.follow.video) {
			continue
		}
		c.nack.link(senderSSRC(sender), c.follow.video)
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.readViewerRTCP(sender, c.follow.video.requestKeyframe) }()
	}
	c.refollow()
}

// followed picks the publisher a following connection plays: the one it
// asked for when present, else the one it plays while present, else the
// member that published last.
func (s *SFU) followed(c *Connection) *Connection {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[c.info.ChannelID]
	if ch == nil {
		return nil
	}
	var pick, keep *Connection
	current := c.follow.playing.Load()
	for _, p := range ch.conns {
		if p == c || p.follow != nil || !p.info.Role.Sends() || (!p.info.Audio && !p.info.Video) {
			continue
		}
		if p.info.ConnectionID == c.follow.want {
			return p
		}
		if p == current {
			keep = p
		}
		if pick == nil || p.info.CreatedAt.After(pick.info.CreatedAt) ||
			(p.info.CreatedAt.Equal(pick.info.CreatedAt) && p.info.ConnectionID > pick.info.ConnectionID) {
			pick = p
		}
	}
	if keep != nil {
		return keep
	}
	return pick
}

// followers returns the following connections of a channel.
func (s *SFU) followers(channelID string) []*Connection {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	if ch == nil {
		return nil
	}
	var out []*Connection
	for _, c := range ch.conns {
		if c.follow != nil {
			out = append(out, c)
		}
	}
	return out
}

// refollow points both tracks at the publisher the connection should
// follow now; tracks already on the right source are left alone.
func (c *Connection) refollow() {
	c.mu.Lock()
	ready := c.answered && !c.closed
	c.mu.Unlock()
	if !ready {
		return
	}
	p := c.sfu.followed(c)
	c.follow.playing.Store(p)
	var tracks []*publishedTrack
	if p != nil {
		tracks = p.publishedTracks()
	}
	for _, ft := range []*followTrack{c.follow.audio, c.follow.video} {
		t := pickKind(tracks, ft.kind)
		id := ""
		if t != nil {
			id = c.sourceInfo(t).TrackID
		}
		if ft.current() == id {
			continue
		}
		if t == nil {
			ft.follow(nil)
			continue
		}
		ft.follow(c.followSourceOf(t))
	}
}

// pickKind returns a track of kind: for simulcast video, any layer (the
// source is followed, not the layer).
func pickKind(tracks []*publishedTrack, kind webrtc.RTPCodecType) *publishedTrack {
	want := KindAudio
	if kind == webrtc.RTPCodecTypeVideo {
		want = KindVideo
	}
	for _, t := range tracks {
		if t.info.Kind == want && !t.ended.Load() {
			return t
		}
	}
	return nil
}

// sourceInfo is what a follower sees of t: the simulcast source for a
// layer, the track itself otherwise.
func (c *Connection) sourceInfo(t *publishedTrack) TrackInfo {
	if t.source != nil {
		return t.source.trackInfo()
	}
	return t.info
}

// followSourceOf makes t (or its simulcast source, at the layer the
// connection asked for) a source of c's follow tracks.
func (c *Connection) followSourceOf(t *publishedTrack) *followSource {
	if src := t.source; src != nil {
		vt := newLayeredTrack(src, c, c.simulcastTarget)
		vt.quiet = true // its sender reports would not carry the follow track's timestamps
		src.addViewer(vt)
		return &followSource{info: src.trackInfo(), local: vt, history: vt, keyframe: vt.requestKeyframe,
			release: func() { src.removeViewer(vt) }}
	}
	t.bound(t.local, 1)
	src := &followSource{info: t.info, local: t.local, keyframe: t.requestKeyframe,
		release: func() { t.bound(t.local, -1) }}
	if t.history != nil {
		src.history = t.history
	}
	return src
}

// stopFollowing releases the sources at close.
func (c *Connection) stopFollowing() {
	if c.follow == nil {
		return
	}
	c.follow.audio.follow(nil)
	c.follow.video.follow(nil)
}
