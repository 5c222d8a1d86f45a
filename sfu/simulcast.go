package sfu

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// simulcastLayers is how many video layers a simulcast publisher is asked
// for, as Sora asks: rids r0 (the lowest resolution), r1 and r2 (full).
const simulcastLayers = 3

// simulcastRIDs are the layers' rids, lowest first.
var simulcastRIDs = [simulcastLayers]string{"r0", "r1", "r2"}

// recordedLayer is the layer the recorder follows: the highest, as
// Sora's recording takes the best quality.
const recordedLayer = simulcastLayers - 1

// ParseRID returns the layer of a simulcast rid ("r0", "r1", "r2").
func ParseRID(rid string) (int, error) {
	for i, r := range simulcastRIDs {
		if r == rid {
			return i, nil
		}
	}
	return noLayer, fmt.Errorf("simulcast rid %q is not one of r0, r1, r2: %w", rid, ErrInvalid)
}

// addSimulcastRecv asks, in the offer sent to the client, for the
// simulcast layers on the upstream video m-line mid: one receive rid per
// layer and the simulcast attribute listing them. pion offers none; it
// reads the client's rids from the answer and receives each layer as a
// track of its own. Rid and simulcast lines already there (pion's, in a
// re-offer) are replaced.
func addSimulcastRecv(offer, mid string) (string, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return "", fmt.Errorf("parse offer: %w", err)
	}
	found := false
	for _, m := range d.MediaDescriptions {
		if v, _ := m.Attribute(sdp.AttrKeyMID); v != mid || m.MediaName.Port.Value == 0 {
			continue
		}
		// pion repeats the layers in its re-offers once it has read them
		// from an answer; one set only: Chromium rejects a section with
		// two simulcast attributes.
		m.Attributes = withoutAttributes(m.Attributes, "rid", "simulcast")
		for _, rid := range simulcastRIDs {
			m.WithValueAttribute("rid", rid+" recv")
		}
		m.WithValueAttribute("simulcast", "recv "+simulcastRIDs[0]+";"+simulcastRIDs[1]+";"+simulcastRIDs[2])
		found = true
	}
	if !found {
		return "", fmt.Errorf("offer has no m-line with mid %q for simulcast", mid)
	}
	out, err := d.Marshal()
	if err != nil {
		return "", fmt.Errorf("write offer: %w", err)
	}
	return string(out), nil
}

// simulcastSource is a simulcast publisher's video: up to three layer
// tracks, seen by every viewer (and the recorder) as one track whose
// layer is chosen per receiver (layerSelector).
type simulcastSource struct {
	owner *Connection

	mu     sync.Mutex
	info   TrackInfo // the video as one track; set with the first layer
	layers [simulcastLayers]*publishedTrack

	viewers atomic.Pointer[[]*layeredTrack] // copy on write, under mu
	clocks  layerClocks                     // each layer's latest sender report

	// pic is the video's payload descriptor format, set with the first
	// layer; badDescriptors counts packets whose descriptor could not be
	// read (forwarded unchanged, picture numbers not renumbered).
	pic            picCodec
	badDescriptors atomic.Uint64

	recordMu sync.Mutex
	record   *layerSelector // the recorder's layer (recordedLayer); nil before the first layer
}

// addLayer takes a layer track as it is published; it reports whether it
// is the source's first, after which viewers get the source forwarded.
func (s *simulcastSource) addLayer(t *publishedTrack) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.info.TrackID == ""
	if first {
		s.info = t.info
		s.info.TrackID = s.trackID(t)
		s.pic = picCodecOf(t.info.MimeType)
		s.recordMu.Lock()
		s.record = newLayerSelector(t.info.MimeType, t.info.ClockRate, recordedLayer)
		s.record.clocks, s.record.fresh = &s.clocks, true // a sink may keep what it gets
		s.recordMu.Unlock()
	}
	s.layers[t.layer] = t
	return first
}

// trackID is the source's track id: the layers' id without the rid.
func (s *simulcastSource) trackID(t *publishedTrack) string {
	return t.info.TrackID[:len(t.info.TrackID)-len(simulcastRIDs[t.layer])-1]
}

// layer returns the track of layer i, or nil.
func (s *simulcastSource) layer(i int) *publishedTrack {
	if i < 0 || i >= simulcastLayers {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.layers[i]
}

// trackInfo is the source's track as sinks see it.
func (s *simulcastSource) trackInfo() TrackInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// requestKeyframe asks layer i for a keyframe.
func (s *simulcastSource) requestKeyframe(i int) {
	if t := s.layer(i); t != nil {
		t.requestKeyframe()
	}
}

func (s *simulcastSource) viewerList() []*layeredTrack {
	if v := s.viewers.Load(); v != nil {
		return *v
	}
	return nil
}

// addViewer starts forwarding to vt.
func (s *simulcastSource) addViewer(vt *layeredTrack) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := append(append([]*layeredTrack(nil), s.viewerList()...), vt)
	s.viewers.Store(&next)
}

// removeViewer stops forwarding to vt.
func (s *simulcastSource) removeViewer(vt *layeredTrack) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next []*layeredTrack
	for _, x := range s.viewerList() {
		if x != vt {
			next = append(next, x)
		}
	}
	s.viewers.Store(&next)
}

// forward hands a packet of layer t to every viewer and, rewritten as
// the recorded layer, to the publisher's subscriptions, with the layer
// they come from in TrackInfo.RID.
func (s *simulcastSource) forward(t *publishedTrack, p *rtp.Packet, now time.Time) {
	s.checkDescriptor(p.Payload)
	sent := 0
	for _, vt := range s.viewerList() {
		if vt.write(t.layer, p, now) {
			sent++
		}
	}
	c := &t.owner.sfu.counters
	c.forwarded.Add(uint64(sent))
	c.forwardedBytes.Add(uint64(sent * len(p.Payload)))
	subs := t.owner.subscriptions()
	if len(subs) == 0 {
		return
	}
	info := s.trackInfo()
	s.recordMu.Lock()
	ask := s.record.next(t.layer, p, now)
	if current := s.record.Current(); current != noLayer {
		info.RID = simulcastRIDs[current]
	}
	for i := range s.record.out {
		o := &s.record.out[i]
		o.h.SSRC = info.SSRC
		out := &rtp.Packet{Header: o.h, Payload: o.payload}
		for _, sub := range subs {
			sub.offer(sinkEvent{info: &info, rtp: out, arrival: now})
		}
	}
	s.recordMu.Unlock()
	if ask != noLayer {
		s.requestKeyframe(ask)
	}
}

// checkDescriptor counts a payload whose descriptor the receivers'
// selectors cannot read (they forward it unchanged) and logs the first.
func (s *simulcastSource) checkDescriptor(payload []byte) {
	if s.pic == picNone {
		return
	}
	_, err := parseDescriptor(s.pic, payload)
	if err == nil {
		return
	}
	s.owner.sfu.counters.badDescriptors.Add(1)
	if s.badDescriptors.Add(1) == 1 {
		s.owner.log.Warn("simulcast video: unreadable payload descriptor, forwarded without renumbering",
			"track", s.info.TrackID, "err", err)
	}
}

// senderReport passes a layer's RTCP sender report on to the viewers
// and the recorder that receive that layer, with their timestamps. The
// receivers' timestamps after a layer move are placed by these reports
// (layerClocks), so that each receiver's reports stay one mapping.
func (s *simulcastSource) senderReport(t *publishedTrack, sr *rtcp.SenderReport, now time.Time) {
	s.clocks.set(t.layer, sr.NTPTime, sr.RTPTime)
	for _, vt := range s.viewerList() {
		vt.senderReport(t.layer, sr)
	}
	subs := t.owner.subscriptions()
	if len(subs) == 0 {
		return
	}
	info := s.trackInfo()
	s.recordMu.Lock()
	current, offset := s.record.Current(), s.record.tsOffset
	s.recordMu.Unlock()
	if current != t.layer {
		return
	}
	info.RID = simulcastRIDs[current]
	out := *sr
	out.SSRC, out.RTPTime = info.SSRC, sr.RTPTime+offset
	for _, sub := range subs {
		sub.offer(sinkEvent{info: &info, sr: &out, arrival: now})
	}
}

// recordedTrack is the layer the recorder follows now (before its first
// packet: the highest published).
func (s *simulcastSource) recordedTrack() *publishedTrack {
	s.recordMu.Lock()
	current := noLayer
	if s.record != nil {
		current = s.record.Current()
	}
	s.recordMu.Unlock()
	if t := s.layer(current); t != nil {
		return t
	}
	for i := simulcastLayers - 1; i >= 0; i-- {
		if t := s.layer(i); t != nil {
			return t
		}
	}
	return nil
}
