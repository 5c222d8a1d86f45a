package sfu

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Refused streams.
//
// A client may answer an m-line that forwards a publisher's video without
// accepting it: rejected (port 0), as browsers and pion do when they
// cannot decode the codec, or with other payload types only. pion would
// then fail the whole answer ("codec is not supported by remote") and the
// connection with it. Instead, before pion sees the answer, each such
// section is replaced by an inactive one that lists the offered codec and
// the track is unbound. If the answer lacks the codec, the codec is
// remembered as refused: later publishers in it are not offered to the
// client. If it lists the codec and still rejects the m-line, or lists
// codecs the offer did not have there (clients that cannot recycle an
// m-line they rejected before, or answer it with its old codec), the
// track is offered once more on a new m-line. Either way the slot is never used again (a
// dead slot: every offer rejects it, as rejection.go rejects freed ones),
// and everything else flows.

// slotRefusal is one forwarding slot the client's answer refused.
type slotRefusal struct {
	tr   *webrtc.RTPTransceiver
	info TrackInfo
	// codec is true when the answer lacks the codec, not just the slot.
	codec bool
	track *publishedTrack // what to offer again; nil: nothing
}

// refusedSlots finds the forwarding slots whose codec the client's answer
// to offer does not take. Only slots that offer carried their present
// track in are judged: one bound since (a slot reused while the offer was
// out) waits for the next answer. c.mu is held.
func (c *Connection) refusedSlots(answer, offer *sdp.SessionDescription, recycled map[string]bool) []slotRefusal {
	sections, offered := sectionsByMid(answer), sectionsByMid(offer)
	var out []slotRefusal
	check := func(tr *webrtc.RTPTransceiver, t *publishedTrack, info TrackInfo) {
		m, o := sections[tr.Mid()], offered[tr.Mid()]
		if m == nil || o == nil || !offersTrack(o, info) || answerTakes(m, info.MimeType, info.SDPFmtpLine) {
			return
		}
		// A live answer to a recycled m-line naming codecs the offer did
		// not have there is stale (pion clients answer it with its old
		// codec): the m-line is refused, not the codec.
		stale := recycled[tr.Mid()] && m.MediaName.Port.Value != 0 && listsForeign(m, o)
		r := slotRefusal{tr: tr, info: info, codec: !listsCodec(m, info.MimeType, info.SDPFmtpLine) && !stale}
		if !r.codec && !c.retried[t] {
			c.retried[t] = true
			r.track = t
		}
		out = append(out, r)
	}
	for t, tr := range c.forwards {
		check(tr, t, t.info)
	}
	for src, f := range c.layered {
		check(f.tr, src.recordedTrack(), src.trackInfo())
	}
	return out
}

// acceptRefusals rewrites the answer so that pion accepts it, unbinds
// every refused slot's track and kills the slot; offer is pion's offer
// being answered, recycled the mids the client had answered before it.
// It returns the answer for pion and the tracks to offer again once pion
// has it. c.mu is held.
func (c *Connection) acceptRefusals(answer, offer string, recycled map[string]bool) (string, []*publishedTrack, error) {
	var desc, local sdp.SessionDescription
	if err := desc.UnmarshalString(answer); err != nil {
		return "", nil, fmt.Errorf("parse answer: %w", err)
	}
	if err := local.UnmarshalString(offer); err != nil {
		return "", nil, fmt.Errorf("parse offer: %w", err)
	}
	refusals := c.refusedSlots(&desc, &local, recycled)
	if len(refusals) == 0 {
		return answer, nil, nil
	}
	var again []*publishedTrack
	group := bundleMids(&desc)
	for _, r := range refusals {
		mid := r.tr.Mid()
		i := slices.IndexFunc(desc.MediaDescriptions, func(m *sdp.MediaDescription) bool { return mediaMid(m) == mid })
		j := slices.IndexFunc(local.MediaDescriptions, func(m *sdp.MediaDescription) bool { return mediaMid(m) == mid })
		if j < 0 {
			return "", nil, fmt.Errorf("answer: mid %q is not in the offer", mid)
		}
		desc.MediaDescriptions[i] = inactiveWithCodecs(desc.MediaDescriptions[i], local.MediaDescriptions[j])
		c.slotAnswers[mid] = desc.MediaDescriptions[i]
		if !slices.Contains(group, mid) {
			group = append(group, mid)
		}
		switch {
		case r.codec:
			c.caps.refuse(r.info.MimeType, r.info.SDPFmtpLine)
			c.refused(r.info, "the answer lacks the codec")
		case r.track != nil:
			c.log.Info("m-line rejected by the client: offering the track again", "mid", mid,
				"track", r.info.TrackID, "from", r.info.ConnectionID)
			again = append(again, r.track)
		default:
			c.refused(r.info, "the answer rejected the m-line twice")
		}
		c.unbindRefused(r.tr)
	}
	out, err := rebundled(&desc, group)
	return out, again, err
}

// sectionsByMid indexes a description's media sections by mid.
func sectionsByMid(d *sdp.SessionDescription) map[string]*sdp.MediaDescription {
	out := make(map[string]*sdp.MediaDescription, len(d.MediaDescriptions))
	for _, m := range d.MediaDescriptions {
		out[mediaMid(m)] = m
	}
	return out
}

// offersTrack reports whether an offer's section sends the publisher's
// track of info: its msid names the publisher's connection and it lists
// the track's codec.
func offersTrack(o *sdp.MediaDescription, info TrackInfo) bool {
	msid, _ := o.Attribute("msid")
	stream, _, _ := strings.Cut(msid, " ")
	return o.MediaName.Port.Value != 0 && stream == info.ConnectionID && listsCodec(o, info.MimeType, info.SDPFmtpLine)
}

// listsForeign reports whether an answer's section lists a media codec
// (not RTX) that the offer's section did not.
func listsForeign(answered, offered *sdp.MediaDescription) bool {
	have := sectionCodecs(offered)
	for _, f := range sectionCodecs(answered) {
		if strings.HasSuffix(strings.ToLower(f.mime), "/rtx") {
			continue
		}
		if !slices.ContainsFunc(have, func(o codecFormat) bool { return o.matches(f.mime, f.fmtp) }) {
			return true
		}
	}
	return false
}

// listsCodec reports whether a media section lists a codec that decodes
// mime with fmtp, whatever its port.
func listsCodec(m *sdp.MediaDescription, mime, fmtp string) bool {
	for _, f := range sectionCodecs(m) {
		if f.matches(mime, fmtp) {
			return true
		}
	}
	return false
}

// inactiveWithCodecs is the client's refused answer section made into
// one pion takes: a live port, direction inactive, no SSRCs, msid or
// candidates, and the codecs of the offered section.
func inactiveWithCodecs(answered, offered *sdp.MediaDescription) *sdp.MediaDescription {
	m := inactiveCopy(answered)
	if m.MediaName.Port.Value == 0 {
		m.MediaName.Port = sdp.RangedPort{Value: 9}
	}
	if m.ConnectionInformation == nil {
		m.ConnectionInformation = &sdp.ConnectionInformation{NetworkType: "IN", AddressType: "IP4",
			Address: &sdp.Address{Address: "0.0.0.0"}}
	}
	m.MediaName.Formats = slices.Clone(offered.MediaName.Formats)
	m.Attributes = withoutAttributes(m.Attributes, "rtpmap", "fmtp", "rtcp-fb", "extmap", "rid", "simulcast")
	for _, a := range offered.Attributes {
		if a.Key == "rtpmap" || a.Key == "fmtp" || a.Key == "rtcp-fb" {
			m.Attributes = append(m.Attributes, a)
		}
	}
	return m
}

// unbindRefused takes a refused slot's track off and makes the slot dead:
// every later offer rejects it. c.mu is held.
func (c *Connection) unbindRefused(tr *webrtc.RTPTransceiver) {
	for t, x := range c.forwards {
		if x == tr {
			delete(c.forwards, t)
			t.bound(tr.Sender().Track(), -1)
			t.reports.removeViewer(c)
		}
	}
	for src, f := range c.layered {
		if f.tr == tr {
			delete(c.layered, src)
			src.removeViewer(f.track)
		}
	}
	c.nack.unlink(senderSSRC(tr.Sender()))
	if err := c.pc.RemoveTrack(tr.Sender()); err != nil {
		c.log.Debug("unbind refused track", "mid", tr.Mid(), "err", err)
		return
	}
	c.dead = append(c.dead, tr)
	c.dirty = true
}
