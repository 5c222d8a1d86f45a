package signaling

import (
	"fmt"

	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// SpotlightOptions are a connect's spotlight fields.
type SpotlightOptions struct {
	On                   bool
	Number               int    // 0: the default
	FocusRID, UnfocusRID string // "" for the defaults
}

// SpotlightOverride is what an auth webhook reply sets of a connect's
// spotlight fields: nil and "" keep the connect's.
type SpotlightOverride struct {
	On                   *bool
	Number               *int
	FocusRID, UnfocusRID string
}

// spotlightOverride reads and checks the reply's spotlight fields.
func spotlightOverride(reply webhooks.AuthReply) (SpotlightOverride, error) {
	o := SpotlightOverride{On: reply.Spotlight, Number: reply.SpotlightNumber,
		FocusRID: deref(reply.SpotlightFocusRID), UnfocusRID: deref(reply.SpotlightUnfocusRID)}
	switch {
	case o.Number != nil && (*o.Number < 1 || !sfu.ValidSpotlightNumber(*o.Number)):
		return o, fmt.Errorf("spotlight_number %d is not within 1..%d", *o.Number, sfu.MaxSpotlightNumber)
	case !validSpotlightRID(o.FocusRID) || !validSpotlightRID(o.UnfocusRID):
		return o, fmt.Errorf("spotlight rids %q, %q are not none, r0, r1 or r2", o.FocusRID, o.UnfocusRID)
	}
	return o, nil
}

// apply writes the override into the connect.
func (o SpotlightOverride) apply(m *connectMessage) {
	if o.On != nil {
		m.Spotlight = *o.On
	}
	if o.Number != nil {
		m.SpotlightNumber = *o.Number
	}
	if o.FocusRID != "" {
		m.SpotlightFocusRID = o.FocusRID
	}
	if o.UnfocusRID != "" {
		m.SpotlightUnfocusRID = o.UnfocusRID
	}
}

// validSpotlightRID accepts a spotlight rid ("none", "r0", "r1", "r2"),
// or none given.
func validSpotlightRID(rid string) bool { return rid == "none" || validRID(rid) }

var _ sfu.SpotlightPeer = (*session)(nil)

// SpotlightChanged implements sfu.SpotlightPeer: the client gets
// spotlight.unfocused for a publisher that lost the focus, and
// spotlight.focused followed by spotlight.changed for one that gained it
// (spotlight_id is the focused publisher's connection_id); see
// docs/spotlight.md.
func (s *session) SpotlightChanged(ch sfu.SpotlightChange) {
	if !s.answered.Load() {
		return
	}
	ts := s.srv.now().UTC().Format("2006-01-02T15:04:05.000000Z")
	n := map[string]any{"type": "notify", "timestamp": ts, "client_id": ch.ClientID,
		"connection_id": ch.ConnectionID, "audio": ch.Audio, "video": ch.Video, "fixed": ch.Fixed}
	if !ch.Focused {
		n["event_type"] = "spotlight.unfocused"
		s.deliver("notify", n)
		return
	}
	n["event_type"] = "spotlight.focused"
	s.deliver("notify", n)
	changed := make(map[string]any, len(n)+1)
	for k, v := range n {
		changed[k] = v
	}
	changed["event_type"], changed["spotlight_id"] = "spotlight.changed", ch.ConnectionID
	s.deliver("notify", changed)
}
