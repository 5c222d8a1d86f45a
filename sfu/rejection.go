package sfu

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
)

// Rejected slots.
//
// When a publisher leaves, Sora sends its viewers a re-offer in which the
// publisher's m-lines have port 0: the browser stops those transceivers,
// so the remote tracks end (readyState "ended") besides leaving their
// stream. A later publisher reuses the slot with the same mid; the browser
// then makes a fresh transceiver and track for it.
//
// pion cannot produce or keep a rejected m-line, so the rejection exists
// only on the wire: pion's offer shows a freed slot as inactive, and the
// offer sent to the client turns it into port 0 (rejectSlots); the client's
// answer rejects it back, and before pion sees that answer the section is
// replaced by the client's previous answer for the slot, made inactive
// (restoreRejected). pion thus keeps seeing an inactive m-line that it may
// later reuse, and the client sees what Sora's clients see.

// directionAttributes are the SDP media direction attributes.
var directionAttributes = []string{"sendrecv", "sendonly", "recvonly", "inactive"}

// rejectSlots rewrites pion's offer for the client: every media section
// whose mid is in free (a slot no track is bound to) and that the client
// has answered before (answered) gets port 0, loses its SSRCs, msid and
// candidates and leaves the BUNDLE group. The BUNDLE tag (the group's first
// mid) is never rejected: it carries the transport. It returns the offer
// to send and the mids it rejected; with nothing to reject the offer comes
// back unchanged.
func rejectSlots(offer string, free map[string]bool, answered map[string]*sdp.MediaDescription) (string, map[string]bool, error) {
	if len(free) == 0 {
		return offer, nil, nil
	}
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(offer); err != nil {
		return "", nil, fmt.Errorf("parse offer: %w", err)
	}
	group := bundleMids(&desc)
	rejected := map[string]bool{}
	for _, m := range desc.MediaDescriptions {
		mid := mediaMid(m)
		if mid == "" || !free[mid] || answered[mid] == nil || (len(group) > 0 && group[0] == mid) {
			continue
		}
		m.MediaName.Port = sdp.RangedPort{Value: 0}
		m.Attributes = withoutAttributes(m.Attributes, "ssrc", "ssrc-group", "msid", "candidate",
			"end-of-candidates", "bundle-only")
		m.Attributes = withDirection(m.Attributes, "inactive")
		rejected[mid] = true
	}
	if len(rejected) == 0 {
		return offer, nil, nil
	}
	setBundleMids(&desc, slices.DeleteFunc(group, func(mid string) bool { return rejected[mid] }))
	out, err := desc.Marshal()
	if err != nil {
		return "", nil, fmt.Errorf("write offer: %w", err)
	}
	return string(out), rejected, nil
}

// restoreRejected prepares the client's answer for pion. Each media
// section whose mid the last offer rejected is replaced by the client's
// previous answer for that mid (from answered), made inactive, and its mid
// goes back into the BUNDLE group; every other audio or video section the
// client accepted is stored into answered for a later rejection. With
// nothing rejected the answer comes back unchanged.
func restoreRejected(answer string, rejected map[string]bool, answered map[string]*sdp.MediaDescription) (string, error) {
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(answer); err != nil {
		return "", fmt.Errorf("parse answer: %w", err)
	}
	group := bundleMids(&desc)
	restored := false
	accepted := map[string]*sdp.MediaDescription{}
	for i, m := range desc.MediaDescriptions {
		mid := mediaMid(m)
		if mid == "" || m.MediaName.Media == "application" {
			continue
		}
		if rejected[mid] {
			prev := answered[mid]
			if prev == nil || prev.MediaName.Media != m.MediaName.Media {
				return "", fmt.Errorf("answer: m-line %d (mid %q) was rejected without an earlier answer", i, mid)
			}
			desc.MediaDescriptions[i] = inactiveCopy(prev)
			if !slices.Contains(group, mid) {
				group = append(group, mid)
			}
			restored = true
			continue
		}
		if m.MediaName.Port.Value != 0 {
			accepted[mid] = inactiveCopy(m)
		}
	}
	maps.Copy(answered, accepted)
	if !restored {
		return answer, nil
	}
	return rebundled(&desc, group)
}

// rebundled writes an answer whose BUNDLE group is group, ordered as the
// media sections are.
func rebundled(desc *sdp.SessionDescription, group []string) (string, error) {
	order := map[string]int{}
	for i, m := range desc.MediaDescriptions {
		order[mediaMid(m)] = i
	}
	slices.SortStableFunc(group, func(a, b string) int { return order[a] - order[b] })
	setBundleMids(desc, group)
	out, err := desc.Marshal()
	if err != nil {
		return "", fmt.Errorf("write answer: %w", err)
	}
	return string(out), nil
}

// inactiveCopy returns a copy of an answer's media section as the client
// would have answered an inactive offer: direction inactive, no SSRCs,
// msid or candidates.
func inactiveCopy(m *sdp.MediaDescription) *sdp.MediaDescription {
	c := *m
	c.MediaName.Formats = slices.Clone(m.MediaName.Formats)
	c.MediaName.Protos = slices.Clone(m.MediaName.Protos)
	c.Bandwidth = slices.Clone(m.Bandwidth)
	c.Attributes = withoutAttributes(slices.Clone(m.Attributes), "ssrc", "ssrc-group", "msid", "candidate",
		"end-of-candidates")
	c.Attributes = withDirection(c.Attributes, "inactive")
	return &c
}

// mediaMid is a media section's a=mid value, or "".
func mediaMid(m *sdp.MediaDescription) string {
	mid, _ := m.Attribute("mid")
	return mid
}

// bundleMids returns the mids of the session's BUNDLE group in order.
func bundleMids(desc *sdp.SessionDescription) []string {
	for _, a := range desc.Attributes {
		if a.Key != "group" {
			continue
		}
		if f := strings.Fields(a.Value); len(f) > 0 && f[0] == "BUNDLE" {
			return f[1:]
		}
	}
	return nil
}

// setBundleMids replaces the mids of the session's BUNDLE group; an empty
// list removes the group.
func setBundleMids(desc *sdp.SessionDescription, mids []string) {
	for i, a := range desc.Attributes {
		if a.Key != "group" {
			continue
		}
		if f := strings.Fields(a.Value); len(f) == 0 || f[0] != "BUNDLE" {
			continue
		}
		if len(mids) == 0 {
			desc.Attributes = slices.Delete(desc.Attributes, i, i+1)
			return
		}
		desc.Attributes[i].Value = strings.Join(append([]string{"BUNDLE"}, mids...), " ")
		return
	}
}

// withoutAttributes drops every attribute with one of the keys.
func withoutAttributes(attrs []sdp.Attribute, keys ...string) []sdp.Attribute {
	return slices.DeleteFunc(attrs, func(a sdp.Attribute) bool { return slices.Contains(keys, a.Key) })
}

// withDirection replaces the media direction attribute with dir.
func withDirection(attrs []sdp.Attribute, dir string) []sdp.Attribute {
	return append(withoutAttributes(attrs, directionAttributes...), sdp.Attribute{Key: dir})
}
